// Host keys without a server: fingerprints as `ssh-keygen -lf` prints them (for keys made by
// ssh-keygen), known_hosts reading (plain, [host]:port, wildcards, hashed |1| entries as
// `ssh-keygen -H` writes them, @revoked), the decision per presented key under each policy, and
// the `ssh` command lines of `overlab ssh` (user with -l, host after --, the lab's known_hosts).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { HostKeyError } from '../../harness/errors.ts';
import type { HostAccess, HostKeyPolicy, SshEndpoint } from '../../harness/host.ts';
import type { LabContext } from '../../harness/state/lab-context.ts';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { NetnsProvider, netnsHostKeys } from '../../harness/providers/netns/netns-provider.ts';
import { laterPolicy, sshCommandArgv } from '../../harness/providers/ssh-hosts.ts';
import { hostKeyPolicy, SshProvider } from '../../harness/providers/ssh/ssh-provider.ts';
import { providerById } from '../../harness/providers/index.ts';
import { providerChoice } from '../../harness/cli/up.ts';
import { vagrantHostKeys } from '../../harness/providers/vagrant/vagrant-provider.ts';
import {
  entryMatches,
  fingerprint,
  FINGERPRINT_PATTERN,
  hashedHostName,
  HostKeyCheck,
  hostKeyAlgorithms,
  keyType,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
} from '../../harness/remote/host-keys.ts';
import { StateStore } from '../../harness/state/store.ts';

/** A key pair made by ssh-keygen: the public blob and what `ssh-keygen -lf` says of it. */
async function keygen(dir: string, type: 'ed25519' | 'ecdsa' | 'rsa', name: string): Promise<{ blob: Buffer; type: string; listed: string; pub: string }> {
  const path = join(dir, name);
  await execa('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', path]);
  const pub = readFileSync(`${path}.pub`, 'utf8').trim();
  const [t, b64] = pub.split(' ');
  const listed = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`])).stdout.split(' ')[1]!;
  return { blob: Buffer.from(b64!, 'base64'), type: t!, listed, pub };
}

describe('host keys', function () {
  this.timeout(20_000);
  let dir: string;
  let ed: Awaited<ReturnType<typeof keygen>>;
  let ecdsa: Awaited<ReturnType<typeof keygen>>;
  let rsa: Awaited<ReturnType<typeof keygen>>;
  let other: Awaited<ReturnType<typeof keygen>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-hk-unit-'));
    [ed, ecdsa, rsa, other] = await Promise.all([keygen(dir, 'ed25519', 'ed'), keygen(dir, 'ecdsa', 'ec'), keygen(dir, 'rsa', 'rsa'), keygen(dir, 'ed25519', 'other')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('fingerprints', () => {
    it('are what `ssh-keygen -lf` prints, for ed25519, ecdsa and rsa keys', () => {
      for (const k of [ed, ecdsa, rsa]) {
        expect(fingerprint(k.blob)).to.equal(k.listed);
        expect(fingerprint(k.blob)).to.match(FINGERPRINT_PATTERN);
      }
    });

    it('reads the key type from the blob', () => {
      expect([ed, ecdsa, rsa].map((k) => keyType(k.blob))).to.deep.equal(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa']);
      expect(keyType(Buffer.from('nonsense'))).to.equal(undefined);
    });
  });

  describe('known_hosts', () => {
    it('names a host as ssh does: bare on port 22, [host]:port elsewhere', () => {
      expect(knownHostsName('10.0.0.5', 22)).to.equal('10.0.0.5');
      expect(knownHostsName('10.0.0.5', 2222)).to.equal('[10.0.0.5]:2222');
      expect(knownHostsLine('[h]:2200', ed.blob)).to.equal(`[h]:2200 ${ed.pub.split(' ').slice(0, 2).join(' ')}`);
    });

    it('reads plain entries with several patterns, markers, comments, and skips lines it cannot read', () => {
      const text = [
        '# a comment',
        '',
        `web1,10.0.0.5 ${ed.pub}`,
        `[10.0.0.6]:2222 ${rsa.pub.split(' ').slice(0, 2).join(' ')}`,
        `@revoked * ${other.pub}`,
        `@cert-authority *.lab ${ecdsa.pub}`,
        'broken line',
        `mismatched ssh-rsa ${ed.pub.split(' ')[1]}`,
      ].join('\n');
      const entries = parseKnownHosts(text, '/k');
      expect(entries.map((e) => [e.line, e.marker, e.hosts, e.keyType])).to.deep.equal([
        [3, undefined, 'web1,10.0.0.5', 'ssh-ed25519'],
        [4, undefined, '[10.0.0.6]:2222', 'ssh-rsa'],
        [5, 'revoked', '*', 'ssh-ed25519'],
        [6, 'cert-authority', '*.lab', 'ecdsa-sha2-nistp256'],
      ]);
      expect(entries[0]!.key.equals(ed.blob)).to.equal(true);
    });

    it('matches plain patterns: exact, [host]:port, wildcards and negation', () => {
      expect(entryMatches({ hosts: 'web1,10.0.0.5' }, '10.0.0.5')).to.equal(true);
      expect(entryMatches({ hosts: 'web1,10.0.0.5' }, '10.0.0.50')).to.equal(false);
      expect(entryMatches({ hosts: '10.0.0.5' }, '[10.0.0.5]:2222')).to.equal(false);
      expect(entryMatches({ hosts: '[10.0.0.5]:2222' }, '[10.0.0.5]:2222')).to.equal(true);
      expect(entryMatches({ hosts: '10.0.0.*' }, '10.0.0.7')).to.equal(true);
      expect(entryMatches({ hosts: '10.0.0.?' }, '10.0.0.17')).to.equal(false);
      expect(entryMatches({ hosts: '10.0.0.*,!10.0.0.9' }, '10.0.0.9')).to.equal(false);
    });

    it('matches hashed entries written by `ssh-keygen -H`, for bare and [host]:port names', async () => {
      const file = join(dir, 'hashed_known_hosts');
      writeFileSync(file, `10.9.8.7 ${ed.pub}\n[10.9.8.7]:2200 ${rsa.pub}\n`);
      await execa('ssh-keygen', ['-H', '-f', file]);
      const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
      expect(entries).to.have.length(2);
      expect(entries.every((e) => e.hosts.startsWith('|1|'))).to.equal(true);
      expect(entryMatches(entries[0]!, '10.9.8.7')).to.equal(true);
      expect(entryMatches(entries[0]!, '10.9.8.8')).to.equal(false);
      expect(entryMatches(entries[1]!, '[10.9.8.7]:2200')).to.equal(true);
      expect(entryMatches(entries[1]!, '10.9.8.7')).to.equal(false);
      // Our own hashing agrees with ssh-keygen's, salt for salt.
      const salt = Buffer.from(entries[0]!.hosts.split('|')[2]!, 'base64');
      expect(hashedHostName('10.9.8.7', salt)).to.equal(entries[0]!.hosts);
    });

    it('offers the key types known for the host first, an RSA key as its three algorithms', () => {
      expect(hostKeyAlgorithms(new Set())[0]).to.equal('ssh-ed25519');
      expect(hostKeyAlgorithms(new Set(['ssh-rsa'])).slice(0, 4)).to.deep.equal(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
      expect(hostKeyAlgorithms(new Set(), new Set(['ssh-ed25519']))).not.to.include('ssh-ed25519');
    });
  });

  describe('the decision for a presented key', () => {
    const endpoint = (hostKeys: HostKeyPolicy, port = 22) => ({ host: '10.9.8.7', port, username: 'root', hostKeys });
    let user: string;
    let lab: string;
    const policy = (extra: Partial<HostKeyPolicy> = {}): HostKeyPolicy => ({ knownHosts: [user], recordIn: lab, vouchedBy: 'user', ...extra });

    beforeEach(() => {
      user = join(dir, `user_known_hosts_${Math.random()}`);
      lab = join(dir, `lab_${Math.random()}`, 'known_hosts');
    });

    it('trusts a key the user known_hosts lists for the host, hashed or not', async () => {
      writeFileSync(user, `10.9.8.7 ${ed.pub}\n`);
      expect(new HostKeyCheck('d0', endpoint(policy())).verify(ed.blob)).to.deep.equal({ kind: 'trusted' });
      await execa('ssh-keygen', ['-H', '-f', user]);
      expect(readFileSync(user, 'utf8')).to.match(/^\|1\|/);
      expect(new HostKeyCheck('d0', endpoint(policy())).verify(ed.blob)).to.deep.equal({ kind: 'trusted' });
    });

    it('refuses an unknown host without acceptNew: HostKeyError (exit 76) naming host, fingerprint, files and the flag', () => {
      const v = new HostKeyCheck('d0', endpoint(policy(), 2200)).verify(ed.blob);
      expect(v.kind).to.equal('refused');
      const e = (v as { error: HostKeyError }).error;
      expect(e).to.be.instanceOf(HostKeyError);
      expect(e.exitCode).to.equal(76);
      expect(e.message).to.equal(`the host key of d0 (root@10.9.8.7:2200) is not known: it presented ${ed.listed} (ssh-ed25519), and no known_hosts lists [10.9.8.7]:2200 (read: ${user}, ${lab})`);
      expect(e.hint).to.include('overlab up --accept-new-host-keys').and.include('hosts[].ssh.hostKey');
      expect(e.presented).to.equal(ed.listed);
    });

    it('with acceptNew, trusts a first contact and records its line in the lab known_hosts (once)', () => {
      const check = new HostKeyCheck('d0', endpoint(policy({ acceptNew: true }), 2200));
      const v = check.verify(ed.blob);
      expect(v).to.deep.equal({ kind: 'record', line: knownHostsLine('[10.9.8.7]:2200', ed.blob), reason: 'first contact', presented: `${ed.listed} (ssh-ed25519)` });
      check.record((v as { line: string }).line);
      check.record((v as { line: string }).line);
      expect(readFileSync(lab, 'utf8')).to.equal(`${knownHostsLine('[10.9.8.7]:2200', ed.blob)}\n`);
      // Later connections (acceptNew gone) trust it from there.
      expect(new HostKeyCheck('d0', endpoint(laterPolicy(policy({ acceptNew: true })), 2200)).verify(ed.blob)).to.deep.equal({ kind: 'trusted' });
    });

    it('refuses a changed key even with acceptNew, naming both fingerprints and where the expected one is written', () => {
      writeFileSync(user, `# first line\n10.9.8.7 ${ed.pub}\n`);
      const v = new HostKeyCheck('d0', endpoint(policy({ acceptNew: true }))).verify(other.blob);
      const e = (v as { error: HostKeyError }).error;
      expect(e.message).to.equal(`the host key of d0 (root@10.9.8.7:22) does not match: expected ${ed.listed} (ssh-ed25519, ${user}:2), presented ${other.listed} (ssh-ed25519)`);
      expect(e.expected).to.deep.equal([{ fingerprint: ed.listed, source: `${user}:2` }]);
      expect(e.hint).to.include(`ssh-keygen -R 10.9.8.7 -f ${user}`);
    });

    it('refuses a key marked @revoked', () => {
      writeFileSync(user, `@revoked * ${other.pub}\n`);
      const e = (new HostKeyCheck('d0', endpoint(policy({ acceptNew: true }))).verify(other.blob) as { error: HostKeyError }).error;
      expect(e.message).to.include('is revoked').and.include(`${user}:1`);
    });

    it('with a pinned fingerprint, trusts only that key (recording it once), asks for each other key type before refusing', () => {
      const pinned = { fingerprint: rsa.listed, source: 'hosts[].ssh.hostKey of d0 in lab.yaml' };
      writeFileSync(user, `10.9.8.7 ${ed.pub}\n`); // the user file does not count when the lab file pins a key
      const check = new HostKeyCheck('d0', endpoint(policy({ pinned })));
      expect(check.verify(ed.blob)).to.deep.include({ kind: 'try-other-type', type: 'ssh-ed25519' });
      expect(check.algorithms()).not.to.include('ssh-ed25519');
      expect(check.verify(rsa.blob)).to.deep.include({ kind: 'record', reason: 'pinned' });
      const wrong = new HostKeyCheck('d0', endpoint(policy({ pinned: { ...pinned, fingerprint: other.listed } })));
      wrong.verify(ed.blob);
      wrong.verify(ecdsa.blob);
      // The host offers no other type: the mismatch names the pin, its source and every key seen.
      const e = wrong.pinnedMismatch()!;
      expect(e.message).to.equal(
        `the host key of d0 (root@10.9.8.7:22) does not match: expected ${other.listed} (hosts[].ssh.hostKey of d0 in lab.yaml), presented ${ed.listed} (ssh-ed25519), ${ecdsa.listed} (ecdsa-sha2-nistp256)`,
      );
    });

    it('refuses the host when a known_hosts file cannot be read, naming the file', () => {
      const check = new HostKeyCheck('d0', endpoint(policy({ knownHosts: [dir], acceptNew: true })));
      expect(check.algorithms()[0]).to.equal('ssh-ed25519');
      const e = (check.verify(ed.blob) as { error: HostKeyError }).error;
      expect(e).to.be.instanceOf(HostKeyError);
      expect(e.message).to.match(new RegExp(`^cannot check the host key of d0 \\(it presented ${ed.listed.replace(/[+/]/g, '\\$&')}\\): cannot read the known_hosts file ${dir}: EISDIR`));
    });

    it('for hosts overlab created, advises to re-create the lab rather than to accept', () => {
      const e = (new HostKeyCheck('d0', endpoint({ knownHosts: [], recordIn: lab, vouchedBy: 'overlab' })).verify(ed.blob) as { error: HostKeyError }).error;
      expect(e.hint).to.include('overlab down').and.not.include('accept-new');
    });
  });

  describe('policies per provider', () => {
    it('ssh: the user known_hosts and the lab one, the pin from the lab file, first contact only when asked', async () => {
      const file = join(dir, 'hk-unit.yaml');
      const text = (hostKey: string) => `name: hk-unit\nprovider: ssh\nnetwork: { subnet: 10.9.8.0/24 }\nengine: { mode: swarm }\nhosts:\n  - name: d0\n    address: 10.9.8.7\n    ssh: { hostKey: "${hostKey}" }\n`;
      writeFileSync(file, text('MD5:aa:bb'));
      const error = await loadLab(file).catch((e: unknown) => e);
      expect((error as Error).message).to.include(`${file}:8:21: hosts[0].ssh.hostKey "MD5:aa:bb" is not valid: write the fingerprint as \`ssh-keygen -lf\` prints it`);
      writeFileSync(file, text(ed.listed));
      const plan = planLab(await loadLab(file));
      expect(plan.hosts[0]!.ssh.hostKey).to.equal(ed.listed);
      expect(hostKeyPolicy(plan, plan.hosts[0]!, { stateDir: '/s', userKnownHosts: '/u', acceptNew: true })).to.deep.equal({
        knownHosts: ['/u'],
        recordIn: '/s/known_hosts',
        pinned: { fingerprint: ed.listed, source: `hosts[].ssh.hostKey of d0 in ${file}` },
        acceptNew: true,
        vouchedBy: 'user',
      });
    });

    it('`up --accept-new-host-keys` reaches the ssh provider, and only when given', async () => {
      const given = providerChoice({ provider: 'ssh', acceptNewHostKeys: true }, {});
      expect(given).to.deep.equal({ provider: 'ssh', providerOptions: { acceptNewHostKeys: true } });
      expect(((await providerById('ssh', given.providerOptions)) as SshProvider)['options']).to.deep.equal({ acceptNewHostKeys: true });
      expect(((await providerById('ssh', providerChoice({ provider: 'ssh' }, {}).providerOptions)) as SshProvider)['options']).to.deep.equal({});
    });

    it('vagrant trusts on first use only at the first up; netns never trusts a new key', () => {
      expect(vagrantHostKeys('/s', true)).to.deep.equal({ knownHosts: [], recordIn: '/s/known_hosts', acceptNew: true, vouchedBy: 'overlab' });
      expect(vagrantHostKeys('/s', false)).to.deep.equal({ knownHosts: [], recordIn: '/s/known_hosts', vouchedBy: 'overlab' });
      expect(netnsHostKeys('/s')).to.deep.equal({ knownHosts: [], recordIn: '/s/known_hosts', vouchedBy: 'overlab' });
    });
  });

  describe('`overlab ssh` command lines', () => {
    const hostKeys: HostKeyPolicy = { knownHosts: ['/home/u/.ssh/known_hosts'], recordIn: '/labs/my lab/known_hosts', vouchedBy: 'user' };
    const endpoint: SshEndpoint = { host: '10.9.8.7', port: 2222, username: '-oProxyCommand=evil', privateKeyPath: '/k', hostKeys };

    it('ssh and vagrant: the user after -l, the host after --, the known_hosts files with strict checking', () => {
      expect(sshCommandArgv(endpoint, ['hostname'])).to.deep.equal([
        'ssh', '-i', '/k', '-p', '2222', '-l', '-oProxyCommand=evil',
        '-o', 'IdentitiesOnly=yes',
        '-o', 'UserKnownHostsFile=/home/u/.ssh/known_hosts "/labs/my lab/known_hosts"',
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', 'StrictHostKeyChecking=yes',
        '--', '10.9.8.7', 'hostname',
      ]);
      const shell = sshCommandArgv({ ...endpoint, proxy: ['nc', '10.9.8.7', '2222'] }, []);
      expect(shell.slice(-5)).to.deep.equal(['-o', 'ProxyCommand=nc 10.9.8.7 2222', '-t', '--', '10.9.8.7']);
    });

    it('netns: from the switch namespace, the lab key and the pinned known_hosts, strict', () => {
      const store = new StateStore('/labs/hk-x');
      store.read = () => ({ resources: { switch: 'ovl.hk-x._switch' } }) as never;
      const ctx = { store } as LabContext;
      const host = { ssh: { host: '172.28.1.6', port: 22, username: 'root', privateKeyPath: '/labs/hk-x/ssh/id_ed25519', hostKeys: netnsHostKeys('/labs/hk-x') } } as HostAccess;
      expect(new NetnsProvider().sshArgv(host, ctx, ['id'])).to.deep.equal([
        'nsenter', '--net=/run/netns/ovl.hk-x._switch', '--',
        'ssh', '-i', '/labs/hk-x/ssh/id_ed25519', '-p', '22', '-l', 'root',
        '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR',
        '-o', 'UserKnownHostsFile=/labs/hk-x/known_hosts', '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
        '--', '172.28.1.6', 'id',
      ]);
    });
  });
});
