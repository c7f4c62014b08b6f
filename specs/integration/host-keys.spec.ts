// Host keys against real sshd: a netns lab of this test's own (hk-keys) gives hosts with sshd.
// netns pins the key it generated (the lab's known_hosts, `overlab ssh` with strict checking).
// For the ssh provider, a second sshd of the test's own runs in host d0 on port 2222 with a key
// the test makes, and is restarted with another key to play a machine whose key changed; the
// real CLI's `up` runs inside the lab's switch namespace (where the hosts' addresses are on the
// LAN), so it fails before provisioning with every refusal. Accepted first contacts run
// createHosts in-process (what `up` does, connect only): provisioning a netns host over SSH
// would install packages on this machine, which the hosts share.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { HostKeyError } from '../../harness/errors.ts';
import { EventLog } from '../../harness/events.ts';
import type { HostAccess, SshEndpoint } from '../../harness/host.ts';
import type { LabContext } from '../../harness/state/lab-context.ts';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { recordSshHosts } from '../../harness/providers/ssh-hosts.ts';
import { SshProvider } from '../../harness/providers/ssh/ssh-provider.ts';
import { SshConnection } from '../../harness/remote/connection.ts';
import { fingerprint } from '../../harness/remote/host-keys.ts';
import { StateStore } from '../../harness/state/store.ts';
import { CLI, kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

const LAB = 'hk-keys';
const MACHINES = 'hk-machines';
const KV = '172.28.187.5';
const D0 = '172.28.187.6';
const PORT = 2222;

/** Our proxies to the lab still running. */
async function proxiesLeft(): Promise<string[]> {
  const r = await execa('pgrep', ['-af', 'busybox nc 172\\.28\\.187\\.'], { reject: false });
  return r.stdout.split('\n').filter(Boolean);
}

/** `ssh-keygen` a host key; its public line's two first words and fingerprint. */
async function hostKey(path: string): Promise<{ path: string; line: string; fingerprint: string }> {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hk-test', '-f', path]);
  const line = readFileSync(`${path}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
  const listed = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`])).stdout.split(' ')[1]!;
  return { path, line, fingerprint: listed };
}

describe('host keys against real sshd (a netns lab of its own): netns pinning, and the ssh provider meeting unknown, accepted, changed and pinned keys', function () {
  this.timeout(120_000);
  let s: Scratch | undefined;
  let labDir: string;
  let labFile: string;
  let key: string;
  let switchNs: string;
  let holderD0: number;
  let sshd2: ChildProcess | undefined;
  let keyA: Awaited<ReturnType<typeof hostKey>>;
  let keyB: Awaited<ReturnType<typeof hostKey>>;
  let fakeHome: string;
  const opened: HostAccess[] = [];

  const machinesDir = () => join(s!.home, MACHINES);
  const machinesKnownHosts = () => join(machinesDir(), 'known_hosts');
  const userKnownHosts = () => join(fakeHome, '.ssh', 'known_hosts');
  const proxy = (h: { ssh: { address: string; port: number } }) => ['nsenter', `--net=/run/netns/${switchNs}`, '--', 'busybox', 'nc', h.ssh.address, String(h.ssh.port)];

  /** The ssh provider's lab: d0 is the test's sshd on port 2222. */
  function machinesLab(extra = ''): string {
    return s!.lab(
      MACHINES,
      `name: ${MACHINES}\nprovider: ssh\nnetwork:\n  subnet: 172.28.187.0/24\nengine:\n  mode: swarm\nhosts:\n  - name: d0\n    address: ${D0}\n    ssh: { port: ${PORT}, key: ${JSON.stringify(key)}${extra} }\n`,
    );
  }

  /** The real `overlab up` for the ssh lab, run where the hosts are on the LAN (the switch namespace); the user's home is the test's. */
  async function upMachines(file: string, args: string[] = []) {
    // A refused up leaves a failed state; the lab's known_hosts stays, as it would for a user.
    rmSync(join(machinesDir(), 'state.json'), { force: true });
    return execa('nsenter', [`--net=/run/netns/${switchNs}`, '--', process.execPath, CLI, 'up', '--lab', file, '--quiet', ...args], {
      reject: false,
      all: true,
      cwd: s!.dir,
      env: { OVERLAB_HOME: s!.home, HOME: fakeHome, FORCE_COLOR: '0' },
      timeout: 60_000,
    });
  }

  /** A context over the ssh lab's state folder, as `up` prepares it. */
  async function machinesContext(file: string): Promise<{ plan: ReturnType<typeof planLab>; ctx: LabContext & { events: EventLog } }> {
    const plan = planLab(await loadLab(file));
    const store = new StateStore(machinesDir());
    const now = new Date().toISOString();
    store.write({ version: 1, lab: plan.lab, provider: 'ssh', mode: plan.mode, file, phase: 'creating', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
    return { plan, ctx: { store, events: new EventLog(), signal: new AbortController().signal } };
  }

  /** (Re)starts the test's sshd in d0 with a host key, and waits until it presents that key. */
  async function startSshd2(withKey: { path: string; line: string }): Promise<void> {
    await stopSshd2();
    const config = readFileSync(join(labDir, 'ssh', 'sshd_config'), 'utf8').replace(/^HostKey .*$/m, `HostKey ${withKey.path}`);
    const configFile = join(s!.dir, 'sshd2_config');
    writeFileSync(configFile, config);
    sshd2 = spawn('nsenter', ['-t', String(holderD0), '--net', '--uts', '--mount', '--', '/usr/sbin/sshd', '-D', '-e', '-f', configFile, '-o', `ListenAddress=${D0}:${PORT}`], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    for (let i = 0; i < 100; i++) {
      const scan = await execa('nsenter', [`--net=/run/netns/${switchNs}`, '--', 'ssh-keyscan', '-T', '2', '-p', String(PORT), '-t', 'ed25519', D0], { reject: false });
      if (scan.stdout.includes(withKey.line)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the test sshd on ${D0}:${PORT} never presented ${withKey.line}`);
  }

  async function stopSshd2(): Promise<void> {
    const child = sshd2;
    sshd2 = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  before(async function () {
    this.timeout(180_000);
    s = new Scratch();
    labFile = s.lab(LAB, kvLab(LAB, { dockers: 1, third: 187 }));
    const up = await s.run(['up', '--lab', labFile, '--quiet'], { timeoutMs: 150_000 });
    expect(up.exitCode, up.all).to.equal(0);
    labDir = join(s.home, LAB);
    const state = JSON.parse(readFileSync(join(labDir, 'state.json'), 'utf8'));
    key = join(labDir, 'ssh', 'id_ed25519');
    switchNs = state.resources.switch;
    holderD0 = state.hosts.d0.resources.holderPid;
    keyA = await hostKey(join(s.dir, 'host_key_a'));
    keyB = await hostKey(join(s.dir, 'host_key_b'));
    fakeHome = join(s.dir, 'home');
    mkdirSync(join(fakeHome, '.ssh'), { recursive: true });
  });

  after(async () => {
    for (const h of opened) h.close?.();
    await stopSshd2();
    if (!s) return;
    const down = await s.run(['down', '--force', LAB]);
    try {
      expect(down.exitCode, down.all).to.equal(0);
      expect(await leftovers(LAB)).to.deep.equal(NOTHING_LEFT);
      expect(await proxiesLeft()).to.deep.equal([]);
    } finally {
      s.dispose();
    }
  });

  describe('netns: the host key overlab generated, pinned', () => {
    it('is the lab\'s own: the lab known_hosts lists every host with it and nothing else, and the state names its fingerprint', async () => {
      const pub = join(labDir, 'ssh', 'ssh_host_ed25519_key.pub');
      const line = readFileSync(pub, 'utf8').split(' ').slice(0, 2).join(' ');
      expect(readFileSync(join(labDir, 'known_hosts'), 'utf8')).to.equal(`${KV} ${line}\n${D0} ${line}\n`);
      const listed = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', pub])).stdout.split(' ')[1];
      const state = JSON.parse(readFileSync(join(labDir, 'state.json'), 'utf8'));
      expect(state.resources.hostKey).to.equal(listed);
    });

    it('`overlab ssh` runs the real client with strict checking against that file', async () => {
      const r = await s!.run(['ssh', '--lab', labFile, 'd0', 'hostname']);
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stdout.trim()).to.equal('d0');
    });

    it('a host presenting another key than the pinned one is refused, with advice to re-create the lab', async () => {
      await startSshd2(keyA);
      const endpoint: SshEndpoint = {
        host: D0,
        port: PORT,
        username: 'root',
        privateKeyPath: key,
        proxy: proxy({ ssh: { address: D0, port: PORT } }),
        hostKeys: { knownHosts: [], recordIn: join(s!.dir, 'pinned_known_hosts'), vouchedBy: 'overlab' },
      };
      writeFileSync(endpoint.hostKeys.recordIn, `[${D0}]:${PORT} ${keyB.line}\n`);
      const retries: number[] = [];
      const error = await SshConnection.open(endpoint, { host: 'd0', onRetry: (n) => retries.push(n) }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostKeyError);
      expect((error as Error).message).to.equal(
        `the host key of d0 (root@${D0}:${PORT}) does not match: expected ${keyB.fingerprint} (ssh-ed25519, ${endpoint.hostKeys.recordIn}:1), presented ${keyA.fingerprint} (ssh-ed25519)`,
      );
      expect((error as HostKeyError).hint).to.include('overlab down');
      expect(retries, 'a refused host key is never retried').to.deep.equal([]);
    });
  });

  describe('ssh provider: `up` against a machine whose key is unknown, accepted, changed or pinned', () => {
    before(() => rmSync(machinesKnownHosts(), { force: true }));

    it('first contact without --accept-new-host-keys: up exits 76 naming the host, its fingerprint and the flag; nothing is recorded or run', async () => {
      await startSshd2(keyA);
      const r = await upMachines(machinesLab());
      expect(r.exitCode, r.all).to.equal(76);
      expect(r.all).to.include(`the host key of d0 (root@${D0}:${PORT}) is not known: it presented ${keyA.fingerprint} (ssh-ed25519), and no known_hosts lists [${D0}]:${PORT}`);
      expect(r.all).to.include('overlab up --accept-new-host-keys');
      expect(existsSync(machinesKnownHosts())).to.equal(false);
      expect(existsSync(join(machinesDir(), 'logs', 'd0.provision.log')), 'a command ran on an untrusted host').to.equal(false);
    });

    it('accepts the flag (up --accept-new-host-keys --dry-run)', async () => {
      const r = await execa(process.execPath, [CLI, 'up', '--lab', machinesLab(), '--accept-new-host-keys', '--dry-run'], { reject: false, all: true, cwd: s!.dir, env: { OVERLAB_HOME: s!.home, HOME: fakeHome } });
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stdout).to.include('StrictHostKeyChecking=yes');
    });

    it('first contact with --accept-new-host-keys: trusted and recorded in the lab known_hosts; later connections trust it without the flag', async () => {
      const { plan, ctx } = await machinesContext(machinesLab());
      const hosts = await new SshProvider({ acceptNewHostKeys: true, userKnownHosts: userKnownHosts(), proxy }).createHosts(plan, ctx);
      opened.push(...hosts);
      expect((await hosts[0]!.runner.exec(['hostname'])).stdout.trim()).to.equal('d0');
      expect(readFileSync(machinesKnownHosts(), 'utf8')).to.equal(`[${D0}]:${PORT} ${keyA.line}\n`);
      expect(ctx.events.events).to.deep.include({
        type: 'warn',
        host: 'd0',
        message: `first contact with d0 (root@${D0}:${PORT} through \`${proxy({ ssh: { address: D0, port: PORT } }).join(' ')}\`): trusted its host key ${keyA.fingerprint} (ssh-ed25519) and recorded it in ${machinesKnownHosts()}`,
      });
      const again = await new SshProvider({ userKnownHosts: userKnownHosts() }).connect(plan, ctx);
      opened.push(...again);
      expect((await again[0]!.runner.exec(['hostname'])).stdout.trim()).to.equal('d0');
      for (const h of [...hosts, ...again]) h.close?.();
    });

    it('the machine\'s key changes (sshd restarted with a new key): up exits 76 naming both fingerprints and where the expected one is recorded, even with the flag', async () => {
      await startSshd2(keyB);
      const r = await upMachines(machinesLab(), ['--accept-new-host-keys']);
      expect(r.exitCode, r.all).to.equal(76);
      expect(r.all).to.include(
        `the host key of d0 (root@${D0}:${PORT}) does not match: expected ${keyA.fingerprint} (ssh-ed25519, ${machinesKnownHosts()}:1), presented ${keyB.fingerprint} (ssh-ed25519)`,
      );
      expect(r.all).to.include(`ssh-keygen -R '[${D0}]:${PORT}' -f ${machinesKnownHosts()}`);
      expect(readFileSync(machinesKnownHosts(), 'utf8')).to.equal(`[${D0}]:${PORT} ${keyA.line}\n`);
    });

    it('down leaves a machine whose key changed alone, with a warning naming it, and runs nothing there', async () => {
      const { plan, ctx } = await machinesContext(machinesLab());
      // kv mode in the state: were the machine trusted by mistake, down would not even leave a swarm there.
      ctx.store.update((st) => (st.mode = 'kv'));
      const endpoint: SshEndpoint = {
        host: D0,
        port: PORT,
        username: 'root',
        privateKeyPath: key,
        proxy: proxy({ ssh: { address: D0, port: PORT } }),
        hostKeys: { knownHosts: [userKnownHosts()], recordIn: machinesKnownHosts(), vouchedBy: 'user' },
      };
      recordSshHosts(ctx, [{ name: 'd0', address: D0, role: 'docker', ssh: endpoint }], { kind: 'ssh-machines' });
      const log = join(machinesDir(), 'logs', 'd0.provision.log');
      const logged = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
      const before = logged();
      const report = await new SshProvider().destroy(plan.lab, ctx, { force: false });
      expect(report).to.deep.equal({ vms: [], containers: [], processes: [], namespaces: [], paths: [] });
      const warned = ctx.events.events.find((e) => e.type === 'warn');
      expect(warned?.message).to.match(new RegExp(`^d0 was left alone, as its host key is not trusted: the host key of d0 .* does not match: expected ${keyA.fingerprint.replace(/[+/]/g, '\\$&')}`));
      expect(logged(), 'a command ran on the untrusted machine').to.equal(before);
    });

    it("trusts a key in the user's ~/.ssh/known_hosts (hashed), and names that file's line when the machine presents another", async () => {
      rmSync(machinesKnownHosts(), { force: true });
      writeFileSync(userKnownHosts(), `# the user's\n[${D0}]:${PORT} ${keyB.line}\n`);
      await execa('ssh-keygen', ['-H', '-f', userKnownHosts()]);
      expect(readFileSync(userKnownHosts(), 'utf8')).not.to.include(D0);
      const { plan, ctx } = await machinesContext(machinesLab());
      const hosts = await new SshProvider({ userKnownHosts: userKnownHosts(), proxy }).createHosts(plan, ctx);
      opened.push(...hosts);
      expect((await hosts[0]!.runner.exec(['hostname'])).stdout.trim()).to.equal('d0');
      for (const h of hosts) h.close?.();

      await startSshd2(keyA);
      const r = await upMachines(machinesLab());
      expect(r.exitCode, r.all).to.equal(76);
      expect(r.all).to.include(`expected ${keyB.fingerprint} (ssh-ed25519, ~/.ssh/known_hosts:2), presented ${keyA.fingerprint} (ssh-ed25519)`);
      rmSync(userKnownHosts(), { force: true });
    });

    it('a pinned hosts[].ssh.hostKey: another key fails up naming the pin, its place and what was presented; the pinned key is trusted and recorded', async () => {
      rmSync(machinesKnownHosts(), { force: true });
      const wrong = machinesLab(`, hostKey: "${keyB.fingerprint}"`);
      const r = await upMachines(wrong, ['--accept-new-host-keys']);
      expect(r.exitCode, r.all).to.equal(76);
      expect(r.all).to.include(`the host key of d0 (root@${D0}:${PORT}) does not match: expected ${keyB.fingerprint} (hosts[].ssh.hostKey of d0 in ${wrong}), presented ${keyA.fingerprint} (ssh-ed25519)`);
      expect(existsSync(machinesKnownHosts())).to.equal(false);

      const right = machinesLab(`, hostKey: "${keyA.fingerprint}"`);
      const { plan, ctx } = await machinesContext(right);
      const hosts = await new SshProvider({ userKnownHosts: userKnownHosts(), proxy }).createHosts(plan, ctx);
      opened.push(...hosts);
      expect((await hosts[0]!.runner.exec(['hostname'])).stdout.trim()).to.equal('d0');
      for (const h of hosts) h.close?.();
      // Recorded, so `overlab ssh` (OpenSSH, strict) trusts it too.
      expect(readFileSync(machinesKnownHosts(), 'utf8')).to.equal(`[${D0}]:${PORT} ${keyA.line}\n`);
      expect(fingerprint(Buffer.from(keyA.line.split(' ')[1]!, 'base64'))).to.equal(keyA.fingerprint);
    });
  });
});
