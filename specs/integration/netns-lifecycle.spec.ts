// The netns provider for real: labs come up with real namespaces, dockerd and etcd, work with
// the stock docker CLI, refuse to be brought up twice, live side by side, and leave nothing
// behind after `down`, after a killed `up`, and after an interrupted one.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';
import { labRuntimeDir } from '../../harness/state/paths.ts';
import { hostRuntimeDir } from '../../harness/providers/netns/topology.ts';
import { labPrefix, namespacesWithPrefix } from '../../harness/system/namespaces.ts';
import { isAlive, processesNaming, processLabel, procStat } from '../../harness/system/processes.ts';

describe('netns provider (real namespaces, dockerd, etcd)', function () {
  this.timeout(180_000);
  let s: Scratch;
  const labs = ['it-kv', 'it-kv2', 'it-swarm', 'it-kill', 'it-int', 'it-orph', 'it-pid', 'it-churn', 'it-na', 'it-nb'];

  before(() => {
    s = new Scratch();
  });
  after(async () => {
    // Each lab's own names and folders: the downs cannot meet, and run at once.
    await Promise.all(labs.map((lab) => s.run(['down', '--force', lab])));
    s.dispose();
  });

  it('down --force stops daemons whose namespaces lost their names (deleted under them) and its state', async () => {
    const file = s.lab('it-orph', kvLab('it-orph', { third: 146 }));
    const up = await s.run(['up', '--lab', file, '--json']);
    expect(up.exitCode, up.all).to.equal(0);
    // What another tool (or a crashed run sharing the name) can do: the names go, the daemons stay.
    for (const ns of namespacesWithPrefix(labPrefix('it-orph'))) await execa('ip', ['netns', 'delete', ns]);
    rmSync(join(s.home, 'it-orph'), { recursive: true, force: true });
    expect(processesNaming(labRuntimeDir('it-orph')), 'daemons of the lab still running').to.not.be.empty;
    const down = await s.run(['down', '--force', 'it-orph', '--json']);
    expect(down.exitCode, down.all).to.equal(0);
    expect((JSON.parse(down.stdout) as { processes: string[] }).processes.some((p) => p.startsWith('dockerd (pid '))).to.equal(true);
    expect(processesNaming(labRuntimeDir('it-orph'))).to.deep.equal([]);
    expect(await leftovers('it-orph')).to.deep.equal(NOTHING_LEFT);
  });

  it("down of one lab leaves another lab alone when a process of the other's host names the first lab's runtime folder (a tail -f of its file)", async () => {
    const a = s.lab('it-na', kvLab('it-na', { dockers: 1, third: 149 }));
    const b = s.lab('it-nb', kvLab('it-nb', { dockers: 1, third: 150 }));
    // Two labs of their own names and subnets: up at once (as `overlab matrix --jobs` does).
    for (const up of await Promise.all([a, b].map((f) => s.run(['up', '--lab', f, '--quiet'])))) expect(up.exitCode, up.all).to.equal(0);
    const stateB = JSON.parse(readFileSync(join(s.home, 'it-nb', 'state.json'), 'utf8')) as { hosts: Record<string, { resources: { holderPid: number } }> };
    const holderB = stateB.hosts['d0']!.resources.holderPid;
    // Inside lab B's host (its network and mount namespaces): a reader of lab A's hosts file.
    const tail = spawn('nsenter', ['-t', String(holderB), '-n', '-m', '--', 'tail', '-f', join(labRuntimeDir('it-na'), 'hosts')], { stdio: 'ignore' });
    try {
      await sleep(300);
      expect(processesNaming(labRuntimeDir('it-na')).length, 'the reader names lab A\'s folder').to.be.above(0);
      const down = await s.run(['down', '--force', 'it-na', '--quiet']);
      expect(down.exitCode, down.all).to.equal(0);
      expect(await leftovers('it-na')).to.deep.equal(NOTHING_LEFT);
      expect(isAlive(holderB), "lab B's host").to.equal(true);
      expect(tail.exitCode, 'the reader in lab B').to.equal(null);
      const test = await s.run(['test', '--lab', b, '--json']);
      expect(test.exitCode, test.all).to.equal(0);
    } finally {
      tail.kill('SIGKILL');
      await s.run(['down', '--force', 'it-nb', '--quiet']);
    }
    expect(await leftovers('it-nb')).to.deep.equal(NOTHING_LEFT);
  });

  it('down leaves alone a process that the kernel gave the pid of a lab daemon that had died', async () => {
    const file = s.lab('it-pid', kvLab('it-pid', { dockers: 1, third: 148 }));
    const up = await s.run(['up', '--lab', file, '--quiet']);
    expect(up.exitCode, up.all).to.equal(0);
    const state = JSON.parse(readFileSync(join(s.home, 'it-pid', 'state.json'), 'utf8')) as { hosts: Record<string, { resources: { services?: Record<string, { pid: number }> } }> };
    const etcd = state.hosts['kv']!.resources.services!['kv']!.pid;
    process.kill(etcd, 'SIGKILL');
    while (isAlive(etcd)) await sleep(10);
    // The pid goes to the next process (ns_last_pid makes that one of ours; other processes may take it first).
    let other: ChildProcess | undefined;
    for (let attempt = 0; attempt < 50 && other === undefined; attempt++) {
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(etcd - 1));
      const child = spawn('sleep', ['300'], { stdio: 'ignore' });
      if (child.pid === etcd) other = child;
      else child.kill('SIGKILL');
    }
    expect(other, `pid ${etcd} given to a process of the test`).to.not.equal(undefined);
    try {
      const down = await s.run(['down', 'it-pid', '--json']);
      expect(down.exitCode, down.all).to.equal(0);
      expect(other!.exitCode ?? other!.signalCode, `the process now holding pid ${etcd}`).to.equal(null);
      expect(isAlive(etcd)).to.equal(true);
      expect((JSON.parse(down.stdout) as { processes: string[] }).processes.join('\n')).to.not.include(`etcd (pid ${etcd})`);
      expect(await leftovers('it-pid')).to.deep.equal(NOTHING_LEFT);
    } finally {
      other!.kill('SIGKILL');
    }
  });

  it('down kills nothing that another program starts meanwhile in namespaces of its own (the kernel gives them the numbers of the namespaces down frees)', async () => {
    const file = s.lab('it-churn', kvLab('it-churn', { third: 149 }));
    const up = await s.run(['up', '--lab', file, '--quiet']);
    expect(up.exitCode, up.all).to.equal(0);
    // What a neighbouring lab does while this one goes down: `ip -n` and runc init each make a
    // mount namespace. Each exit status is recorded; 137 is a SIGKILL. Before the lab's
    // namespaces were pinned while their processes died, every down killed 4 to 49 of these.
    const codes = join(s.dir, 'churn-codes');
    const stop = join(s.dir, 'churn-stop');
    const churn = execa('bash', ['-c', `: > "$1"; while [ ! -e "$2" ]; do unshare --mount --propagation private sleep 0.01; echo $? >> "$1"; done`, 'churn', codes, stop], { reject: false });
    try {
      await sleep(300);
      const down = await s.run(['down', 'it-churn', '--quiet']);
      expect(down.exitCode, down.all).to.equal(0);
    } finally {
      writeFileSync(stop, '');
      await churn;
    }
    const statuses = readFileSync(codes, 'utf8').trim().split('\n');
    expect(statuses.length, 'namespaces made during down').to.be.above(20);
    expect(statuses.filter((c) => c !== '0'), 'exit statuses other than 0 (137: killed by down)').to.deep.equal([]);
    expect(await leftovers('it-churn')).to.deep.equal(NOTHING_LEFT);
  });

  describe('kv mode with etcd (consul preferred, etcd the declared fallback)', () => {
    let file: string;
    before(async () => {
      file = s.lab('it-kv', kvLab('it-kv', { kv: 'consul', fallback: 'etcd' }));
      const up = await s.run(['up', '--lab', file, '--json']);
      expect(up.exitCode, up.all).to.equal(0);
    });
    after(async () => {
      await s.run(['down', '--lab', file]);
    });

    it('announces and records the fallback KV store', () => {
      const state = JSON.parse(readFileSync(join(s.home, 'it-kv', 'state.json'), 'utf8'));
      expect(state.phase).to.equal('up');
      expect(state.kv).to.include({ type: 'etcd', clusterStore: 'etcd://172.28.140.5:2379' });
    });

    it('reports status with engine versions, the overlay and container addresses (--json)', async () => {
      const r = await s.run(['status', '--lab', file, '--json']);
      expect(r.exitCode, r.all).to.equal(0);
      const st = JSON.parse(r.stdout);
      expect(st.phase).to.equal('up');
      expect(st.hosts.filter((h: { engine?: string }) => h.engine?.startsWith('20.10'))).to.have.length(2);
      expect(st.networks[0]).to.include({ name: 'net', driver: 'overlay', scope: 'global' });
      expect(st.containers.map((c: { addresses: Record<string, string> }) => c.addresses.net)).to.satisfy((a: string[]) => a.every((x) => /^10\.0\.4\.\d+$/.test(x)));
    });

    it("lets the stock docker CLI drive a host's engine through `overlab env`, across hosts by name", async () => {
      const env = await s.run(['env', '--lab', file, 'd1', '--json']);
      expect(env.exitCode, env.all).to.equal(0);
      const { DOCKER_HOST } = JSON.parse(env.stdout);
      const ls = await execa('docker', ['network', 'ls', '--format', '{{.Name}} {{.Driver}}'], { env: { DOCKER_HOST } });
      expect(ls.stdout.split('\n')).to.include('net overlay');
      const ping = await execa('docker', ['run', '--rm', '--net=net', 'overlab/busybox', 'ping', '-c', '1', '-W', '2', 'c0'], { env: { DOCKER_HOST }, reject: false });
      expect(ping.exitCode, ping.stdout + ping.stderr).to.equal(0);
      expect(ping.stdout).to.match(/1 packets received/);
    });

    it('runs commands on a host over its own sshd (`overlab ssh`)', async () => {
      const r = await s.run(['ssh', '--lab', file, 'd0', 'hostname; ip -o -4 addr show eth1']);
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stdout).to.match(/^d0$/m);
      expect(r.stdout).to.include('172.28.140.6/24');
    });

    it('reports a lab that is up and changes nothing', async () => {
      const before = readFileSync(join(s.home, 'it-kv', 'state.json'), 'utf8');
      const r = await s.run(['up', '--lab', file]);
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.stdout).to.include('already up');
      expect(readFileSync(join(s.home, 'it-kv', 'state.json'), 'utf8')).to.equal(before);
    });

    it('runs a second lab with the same addresses side by side', async () => {
      const other = s.lab('it-kv2', kvLab('it-kv2', { kv: 'etcd', third: 140 }));
      const up = await s.run(['up', '--lab', other, '--quiet']);
      try {
        expect(up.exitCode, up.all).to.equal(0);
        const st = JSON.parse((await s.run(['status', '--lab', other, '--json'])).stdout);
        expect(st.containers.every((c: { state: string }) => c.state === 'running')).to.equal(true);
        const first = JSON.parse((await s.run(['status', '--lab', file, '--json'])).stdout);
        expect(first.containers.every((c: { state: string }) => c.state === 'running')).to.equal(true);
      } finally {
        const down = await s.run(['down', '--lab', other]);
        expect(down.exitCode, down.all).to.equal(0);
      }
      expect(await leftovers('it-kv2')).to.deep.equal(NOTHING_LEFT);
    });

    it("keeps the engines' temporary files in the lab's runtime folder: containerd's stack dump (SIGUSR1, as dockerd sends before restarting it) lands there, not in /tmp", async () => {
      const state = JSON.parse(readFileSync(join(s.home, 'it-kv', 'state.json'), 'utf8')) as { hosts: Record<string, { resources: { services: Record<string, { pid: number }> } }> };
      const dockerd = state.hosts['d0']!.resources.services['dockerd']!.pid;
      const containerd = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .find((p) => procStat(Number(p))?.ppid === dockerd && processLabel(Number(p)).startsWith('containerd (pid '));
      expect(containerd, `containerd started by dockerd (pid ${dockerd})`).to.not.equal(undefined);
      const dump = join(hostRuntimeDir('it-kv', 'd0'), 'tmp', `containerd.${containerd}.stacks.log`);
      process.kill(Number(containerd), 'SIGUSR1');
      for (let i = 0; i < 100 && !existsSync(dump); i++) await sleep(50);
      expect(existsSync(dump), dump).to.equal(true);
      expect(existsSync(`/tmp/containerd.${containerd}.stacks.log`)).to.equal(false);
      expect(isAlive(Number(containerd)), 'containerd goes on').to.equal(true);
    });

    it('leaves nothing behind after down, and down is idempotent', async () => {
      const down = await s.run(['down', '--lab', file, '--json']);
      expect(down.exitCode, down.all).to.equal(0);
      // Each service by host and name: the KV store on the kv host, dockerd and sshd on each docker host.
      const stopped: string[] = JSON.parse(down.stdout).processes;
      for (const service of ['kv: kv', 'd0: dockerd', 'd1: dockerd', 'd0: sshd']) expect(stopped.some((p) => p.startsWith(`${service} (pid `)), `${service} in ${stopped.join(', ')}`).to.equal(true);
      expect(await leftovers('it-kv')).to.deep.equal(NOTHING_LEFT);
      const again = await s.run(['down', '--lab', file]);
      expect(again.exitCode, again.all).to.equal(0);
      expect(again.stdout).to.include('not up');
    });
  });

  describe('swarm mode', () => {
    const swarmLab = `name: it-swarm
provider: netns
network:
  subnet: 172.28.141.0/24
hosts:
  - name: m0
  - name: w0
  - name: w1
engine:
  mode: swarm
networks:
  - name: net
    subnet: 10.0.4.0/24
containers:
  - name: ca
    host: m0
    networks: [net]
  - name: cb
    host: w1
    networks: [net]
`;
    it('forms a swarm, runs containers on an attachable overlay, reaches across hosts, and cleans up', async () => {
      const file = s.lab('it-swarm', swarmLab);
      const up = await s.run(['up', '--lab', file, '--quiet']);
      try {
        expect(up.exitCode, up.all).to.equal(0);
        const { DOCKER_HOST } = JSON.parse((await s.run(['env', '--lab', file, 'm0', '--json'])).stdout);
        const nodes = await execa('docker', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'], { env: { DOCKER_HOST } });
        expect(nodes.stdout.split('\n').sort()).to.deep.equal(['m0 Ready', 'w0 Ready', 'w1 Ready']);
        const ping = await execa('docker', ['exec', 'ca', 'ping', '-c', '1', '-W', '2', 'cb'], { env: { DOCKER_HOST }, reject: false });
        expect(ping.exitCode, ping.stdout + ping.stderr).to.equal(0);
      } finally {
        await s.run(['down', '--lab', file]);
      }
      expect(await leftovers('it-swarm')).to.deep.equal(NOTHING_LEFT);
    });
  });

  describe('interrupted up', () => {
    const waitForState = async (lab: string, pred: (st: { hosts: Record<string, { resources: { services?: Record<string, unknown> } }> }) => boolean) => {
      for (let i = 0; i < 400; i++) {
        try {
          const st = JSON.parse(readFileSync(join(s.home, lab, 'state.json'), 'utf8'));
          if (pred(st)) return;
        } catch {
          // Not written yet.
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`the state of ${lab} never reached the expected point`);
    };
    const enginesStarting = (st: { hosts: Record<string, { resources: { services?: Record<string, unknown> } }> }) =>
      Object.values(st.hosts).some((h) => h.resources.services?.['dockerd']);

    it('after `up` is killed (SIGKILL) midway, down leaves nothing behind', async () => {
      const file = s.lab('it-kill', kvLab('it-kill', { third: 142 }));
      const up = s.spawn(['up', '--lab', file, '--quiet']);
      await waitForState('it-kill', enginesStarting);
      up.kill('SIGKILL');
      await up;
      expect((await leftovers('it-kill')).namespaces).to.not.be.empty;
      const down = await s.run(['down', '--lab', file]);
      expect(down.exitCode, down.all).to.equal(0);
      expect(await leftovers('it-kill')).to.deep.equal(NOTHING_LEFT);
    });

    it('after Ctrl-C (SIGINT) during `up`, it stops with exit 130 and down leaves nothing behind', async () => {
      const file = s.lab('it-int', kvLab('it-int', { third: 143 }));
      const up = s.spawn(['up', '--lab', file, '--quiet']);
      await waitForState('it-int', enginesStarting);
      up.kill('SIGINT');
      const r = await up;
      expect(r.exitCode, r.all).to.equal(130);
      expect(r.all).to.include('overlab down');
      const down = await s.run(['down', '--lab', file]);
      expect(down.exitCode, down.all).to.equal(0);
      expect(await leftovers('it-int')).to.deep.equal(NOTHING_LEFT);
    });

    it('down --force finds a lab whose state file is lost', async () => {
      const file = s.lab('it-kill', kvLab('it-kill', { third: 142 }));
      const up = await s.run(['up', '--lab', file, '--quiet']);
      expect(up.exitCode, up.all).to.equal(0);
      const { rmSync } = await import('node:fs');
      rmSync(join(s.home, 'it-kill', 'state.json'));
      const down = await s.run(['down', '--force', 'it-kill']);
      expect(down.exitCode, down.all).to.equal(0);
      expect(await leftovers('it-kill')).to.deep.equal(NOTHING_LEFT);
    });
  });
});
