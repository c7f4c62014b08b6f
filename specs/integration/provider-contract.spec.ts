// The provider contract (specs/support/provider-contract.ts) on the real providers, as root:
// netns (two hosts, namespaces with their sshd, destroyed with nothing left on the machine by the
// lab's names, an abort inside createHosts), vagrant against its stand-in (no VM), and ssh
// against two machines of the test's own (a real sshd each on 127.0.0.1, every path overlab
// changes on a machine private to it; host keys checked against a known_hosts; nothing of the
// lab left in either machine's view nor on this machine after each case).
// The fake runs the same suite in specs/unit/fake-provider.spec.ts.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { providerById } from '../../harness/providers/index.ts';
import { SshProvider } from '../../harness/providers/ssh/ssh-provider.ts';
import { VagrantProvider } from '../../harness/providers/vagrant/vagrant-provider.ts';
import { waitFor } from '../../harness/wait.ts';
import { contractContext, providerContract } from '../support/provider-contract.ts';
import { kvLab, leftovers, NOTHING_LEFT } from './support/labs.ts';
import { startStandinSshd, useStandinVagrant, type StandinSshd } from './support/standin-sshd.ts';

const LAB = 'it-contract';

providerContract('netns (real namespaces, as root)', {
  provider: () => providerById('netns'),
  plan: () => planLab(parseLab(kvLab(LAB, { dockers: 1, third: 158 }), `${LAB}.yaml`)),
  createMs: 20_000,
  abortAfterMs: 150,
  cleanup: async () => {
    expect(await leftovers(LAB), `lab ${LAB} left on the machine`).to.deep.equal(NOTHING_LEFT);
  },
});

// vagrant against its stand-in (specs/fixtures/vagrant-standin, as in vagrant-provider.spec.ts):
// no VM; every machine's "sshd" is one real sshd on 127.0.0.1 in a private mount namespace.
describe('vagrant with the stand-in vagrant, one sshd for every machine', function () {
  let dir: string;
  let sshd: StandinSshd | undefined;
  let restoreEnv: () => void = () => {};

  before(async function () {
    this.timeout(30_000);
    dir = mkdtempSync(join(tmpdir(), 'overlab-it-contract-vagrant-'));
    sshd = await startStandinSshd(dir);
    restoreEnv = useStandinVagrant(sshd, join(dir, 'calls.jsonl'));
  });

  after(async () => {
    restoreEnv();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  providerContract('vagrant (stand-in)', {
    provider: () => new VagrantProvider({ hypervisor: 'libvirt' }),
    plan: () => planLab(parseLab('name: it-contract-vagrant\nprovider: vagrant\nhosts:\n  - name: kv\n    role: kv\n  - name: d0\nkv:\n  type: etcd\n', 'it-contract-vagrant.yaml')),
    createMs: 10_000,
  });
});

// ssh ("existing machines"): its destroy removes what overlab puts on a machine (overlab-*
// units and unit files, the engine's drop-in, /var/lib/overlab, sent folders) and drives the
// machine's systemd and engine, so each machine is an sshd in a mount namespace of its own: an
// empty tmpfs over /run (no systemd, no engine socket of this machine to reach), /var/lib,
// /etc/systemd/system, /tmp and /var/tmp. The machines' host keys are in the user's known_hosts
// given to the provider (strict checking, no first contact accepted).
const SSH_LAB = 'it-contract-ssh';
/** The paths each machine has of its own, besides /run: an empty tmpfs over each in its namespace. */
const MACHINE_PATHS = ['/var/lib', '/etc/systemd/system', '/tmp', '/var/tmp'];
const MOUNT_TAG = 'overlab-it-contract-ssh';
const MACHINES = ['kv', 'd0'];

describe('ssh with two machines of its own (an sshd each on 127.0.0.1, in a mount namespace with private paths)', function () {
  let dir: string;
  let machines: StandinSshd[] = [];
  let knownHosts: string;
  const savedTmp = process.env['TMPDIR'];
  /** TMPDIR while the suite runs: a temporary folder the provider made on this machine would show here. */
  const tmp = () => join(dir, 'tmp');

  /** What a machine's view holds under its private paths, and in its /run beside sshd's own folders. */
  const view = async (m: StandinSshd): Promise<string[]> => {
    const script = 'for p in "$@"; do find "$p" -mindepth 1; done; find /run -mindepth 1 -maxdepth 1 ! -name sshd ! -name overlab-it-sshd';
    const r = await execa('nsenter', ['-t', String(m.pid), '-m', '--', 'sh', '-c', script, 'view', ...MACHINE_PATHS]);
    return r.stdout.split('\n').filter(Boolean);
  };
  /** sshd's children: its sessions (a connection left open). */
  const sessions = async (m: StandinSshd): Promise<string[]> => (await execa('pgrep', ['-a', '-P', String(m.pid)], { reject: false })).stdout.split('\n').filter(Boolean);
  /** This test process's children ("PID command line"). */
  const children = async () => (await execa('pgrep', ['-a', '-P', String(process.pid)], { reject: false })).stdout.split('\n').filter(Boolean);
  /** Its children before the machines start (tsx's esbuild). */
  let earlier: string[] = [];
  const ourMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(MOUNT_TAG) || l.includes('/run/overlab-it-sshd'));

  before(async function () {
    this.timeout(30_000);
    earlier = await children();
    dir = mkdtempSync(join(tmpdir(), 'overlab-it-contract-ssh-'));
    mkdirSync(tmp());
    for (const name of MACHINES) {
      const mdir = join(dir, name);
      mkdirSync(mdir);
      machines.push(await startStandinSshd(mdir, { privatePaths: MACHINE_PATHS, tag: MOUNT_TAG }));
    }
    knownHosts = join(dir, 'user_known_hosts');
    writeFileSync(knownHosts, machines.map((m) => `[127.0.0.1]:${m.port} ${m.hostKey}\n`).join(''));
    process.env['TMPDIR'] = tmp();
  });

  after(async () => {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
    const tmpLeft = dir ? readdirSync(tmp()) : [];
    await Promise.all(machines.map((m) => m.stop()));
    machines = [];
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(tmpLeft, 'temporary folders left in TMPDIR').to.deep.equal([]);
    expect(ourMounts(), 'mounts of the machines seen from this machine').to.deep.equal([]);
  });

  /** The lab: kv and d0 on the two machines, by their ports and keys. */
  const sshPlan = () =>
    planLab(
      parseLab(
        [
          `name: ${SSH_LAB}`,
          'provider: ssh',
          'network:',
          '  subnet: 172.28.163.0/24',
          'hosts:',
          ...MACHINES.flatMap((name, i) => [
            `  - name: ${name}`,
            ...(name === 'kv' ? ['    role: kv'] : []),
            `    address: 172.28.163.${5 + i}`,
            `    ssh: { address: 127.0.0.1, port: ${machines[i]!.port}, user: root, key: ${JSON.stringify(machines[i]!.key)} }`,
          ]),
          'kv:',
          '  type: etcd',
          '',
        ].join('\n'),
        `${SSH_LAB}.yaml`,
      ),
    );

  /** Nothing of the lab in either machine's view, no session open, and nothing of it on this machine. */
  const nothingLeft = async () => {
    for (const [i, m] of machines.entries()) {
      expect(await view(m), `left in the view of machine ${MACHINES[i]}`).to.deep.equal([]);
      // Every connection closed: sshd's session processes end soon after.
      await waitFor(async () => ((await sessions(m)).length === 0 ? true : undefined), { what: `machine ${MACHINES[i]}'s sessions to end`, timeoutMs: 5_000, detail: async () => (await sessions(m)).join('\n') });
    }
    // (Not `links`: interfaces are counted machine-wide, where other runs' labs come and go.)
    const { links: _, ...left } = await leftovers(SSH_LAB);
    const { links: __, ...nothing } = NOTHING_LEFT;
    expect(left, `lab ${SSH_LAB} left on the machine`).to.deep.equal(nothing);
    // No process of this test's but those it had before and the machines' sshd (the provider runs none here: no proxy, no ssh client).
    const started = (await children()).filter((p) => !earlier.includes(p) && !machines.some((m) => p.startsWith(`${m.pid} `)));
    expect(started, 'processes the test process started').to.deep.equal([]);
    expect(ourMounts(), 'mounts of the machines seen from this machine').to.deep.equal([]);
    // Only the contract's own state folder in TMPDIR.
    expect(readdirSync(tmp()).filter((f) => !f.startsWith('overlab-contract-')), 'temporary folders in TMPDIR').to.deep.equal([]);
  };

  it("destroy takes overlab's units, drop-in and data root from a machine's view, and leaves the rest of it", async () => {
    const inView = (m: StandinSshd, script: string) => execa('nsenter', ['-t', String(m.pid), '-m', '--', 'sh', '-c', script]);
    const [kv, d0] = machines as [StandinSshd, StandinSshd];
    const ownDataRoot = existsSync('/var/lib/overlab');
    // What an earlier `up` would have left on d0, and a file of kv's own.
    await inView(d0, 'mkdir -p /var/lib/overlab/kv /etc/systemd/system/docker.service.d && echo x > /var/lib/overlab/kv/data && touch /etc/systemd/system/overlab-kv.service /etc/systemd/system/docker.service.d/overlab.conf');
    await inView(kv, 'echo mine > /var/lib/keep');
    const plan = sshPlan();
    const provider = new SshProvider({ userKnownHosts: knownHosts });
    const ctx = contractContext(join(dir, 'views-lab'), plan, provider);
    try {
      for (const h of await provider.createHosts(plan, ctx)) h.close?.();
      const report = await provider.destroy(plan.lab, ctx, { force: false });
      expect(report.paths.sort()).to.deep.equal(['d0:/etc/systemd/system/docker.service.d/overlab.conf', 'd0:/etc/systemd/system/overlab-kv.service', 'd0:/var/lib/overlab']);
      // The drop-in's folder is the machine's (a packaged engine may keep its own drop-ins there).
      expect(await view(d0), "d0's view").to.deep.equal(['/etc/systemd/system/docker.service.d']);
      expect(await view(kv), "kv's view").to.deep.equal(['/var/lib/keep']);
      expect(existsSync('/var/lib/overlab'), "this machine's /var/lib/overlab").to.equal(ownDataRoot);
    } finally {
      await inView(d0, 'rm -rf /var/lib/overlab /etc/systemd/system/overlab-kv.service /etc/systemd/system/docker.service.d');
      await inView(kv, 'rm -f /var/lib/keep');
      rmSync(join(dir, 'views-lab'), { recursive: true, force: true });
    }
    await nothingLeft();
  });

  providerContract('ssh (two machines of its own)', {
    provider: () => new SshProvider({ userKnownHosts: knownHosts }),
    plan: sshPlan,
    createMs: 10_000,
    // Creating is connecting (the machines exist): the abort clause aborts before createHosts.
    cleanup: nothingLeft,
  });
});
