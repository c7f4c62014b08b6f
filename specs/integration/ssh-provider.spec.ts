// SSH for real: a netns lab of this test's own gives hosts with a real sshd (reached through
// the lab's switch namespace, as a ProxyCommand), and everything overlab does over SSH is
// exercised against them: connecting from `vagrant ssh-config`-style text, commands with exit
// codes, stdin, timeouts, uploads, the streamed log, bounded connection retries, a Docker
// engine driven through its unix socket forwarded over SSH, and the ssh provider's hosts.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { engineClient, execInContainer } from '../../harness/engine/client.ts';
import { HostUnreachableError } from '../../harness/errors.ts';
import { EventLog, silentEvents } from '../../harness/events.ts';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { HostAccess, SshEndpoint } from '../../harness/host.ts';
import type { LabContext } from '../../harness/state/lab-context.ts';
import { removeLabContents } from '../../harness/providers/ssh-hosts.ts';
import { netnsHostKeys } from '../../harness/providers/netns/netns-provider.ts';
import { SshProvider } from '../../harness/providers/ssh/ssh-provider.ts';
import { closeSshEngine } from '../../harness/remote/ssh-engine.ts';
import { sshConfigEndpoints } from '../../harness/remote/ssh-config.ts';
import { SshConnection } from '../../harness/remote/connection.ts';
import { SshRunner } from '../../harness/remote/runner.ts';
import { StateStore } from '../../harness/state/store.ts';
import { freePort, kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

const LAB = 'it-ssh';
const KV = '172.28.150.5';
const D0 = '172.28.150.6';
const RUNTIME = `/run/overlab/${LAB}`;

/** Processes of ours still talking to the lab (proxies), found by the lab's addresses. */
async function proxiesLeft(): Promise<string[]> {
  const r = await execa('pgrep', ['-af', 'busybox nc 172\\.28\\.150\\.'], { reject: false });
  return r.stdout.split('\n').filter(Boolean);
}

/** The last lines of every log in a folder, for a failure message. */
function logTails(dir: string): string {
  if (!existsSync(dir)) return '';
  return readdirSync(dir)
    .map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(-8).join('\n')}`)
    .join('\n');
}


describe('SSH to real hosts (a netns lab with sshd): runner, uploads, logs, retries, engine over a forwarded socket, ssh provider', function () {
  this.timeout(120_000);
  let s: Scratch;
  let key: string;
  let switchNs: string;
  let sshConfigText: string;
  let d0: SshEndpoint;
  let runner: SshRunner;
  const logFile = () => join(s.dir, 'logs', 'd0.provision.log');
  const events = new EventLog();
  const opened: { close(): void }[] = [];

  before(async function () {
    this.timeout(180_000);
    s = new Scratch();
    const file = s.lab(LAB, kvLab(LAB, { dockers: 1, third: 150 }));
    // Bounded below the hook's timeout, so a stuck `up` fails with its output.
    const up = await s.run(['up', '--lab', file, '--quiet'], { timeoutMs: 150_000 });
    expect(up.exitCode, `${up.all}\n${logTails(join(s.home, LAB, 'logs'))}`).to.equal(0);
    const state = JSON.parse(readFileSync(join(s.home, LAB, 'state.json'), 'utf8'));
    key = join(s.home, LAB, 'ssh', 'id_ed25519');
    switchNs = state.resources.switch;
    // What `vagrant ssh-config` prints for a machine behind a ProxyCommand (config.erb's fields).
    sshConfigText = ['kv', 'd0']
      .map((h, i) =>
        [
          `Host ${h}`,
          `  HostName ${i === 0 ? KV : D0}`,
          '  User root',
          '  Port 22',
          '  UserKnownHostsFile /dev/null',
          '  StrictHostKeyChecking no',
          '  PasswordAuthentication no',
          `  IdentityFile ${key}`,
          '  IdentitiesOnly yes',
          '  LogLevel FATAL',
          `  ProxyCommand nsenter --net=/run/netns/${switchNs} -- busybox nc %h %p`,
          '',
        ].join('\n'),
      )
      .join('\n');
    // The netns hosts' key is pinned in the lab's known_hosts: connections trust it and no other.
    d0 = { ...sshConfigEndpoints(sshConfigText).get('d0')!, hostKeys: netnsHostKeys(join(s.home, LAB)) };
    runner = await SshRunner.connect(d0, { host: 'd0', logFile: logFile(), events });
    opened.push(runner);
  });

  after(async () => {
    for (const c of opened) c.close();
    const down = await s.run(['down', '--force', LAB]);
    expect(down.exitCode, down.all).to.equal(0);
    expect(await leftovers(LAB)).to.deep.equal(NOTHING_LEFT);
    expect(await proxiesLeft()).to.deep.equal([]);
    s.dispose();
  });

  describe('connecting from vagrant ssh-config-style settings', () => {
    it('parses one endpoint per host: the lab key, root, port 22 and the switch proxy with the address filled in', () => {
      const endpoints = sshConfigEndpoints(sshConfigText);
      expect([...endpoints.keys()]).to.deep.equal(['kv', 'd0']);
      expect(endpoints.get('kv')).to.deep.equal({
        host: KV,
        port: 22,
        username: 'root',
        privateKeyPath: key,
        proxy: ['sh', '-c', `nsenter --net=/run/netns/${switchNs} -- busybox nc ${KV} 22`],
      });
    });

    it('reaches each host over its own sshd (hostname and address are the host\'s)', async () => {
      const kv = await SshRunner.connect({ ...sshConfigEndpoints(sshConfigText).get('kv')!, hostKeys: d0.hostKeys }, { host: 'kv' });
      opened.push(kv);
      expect((await kv.exec(['hostname'])).stdout.trim()).to.equal('kv');
      expect((await runner.exec(['hostname'])).stdout.trim()).to.equal('d0');
      expect((await runner.exec(['ip', '-o', '-4', 'addr', 'show', 'eth1'])).stdout).to.include(`${D0}/24`);
      kv.close();
    });

    it('runs commands as root without sudo', async () => {
      expect(runner.sudo).to.equal(false);
      expect((await runner.exec(['id', '-u'])).stdout.trim()).to.equal('0');
    });
  });

  describe('exec', () => {
    it('returns exit code 0, 3, and 127 for a command that is not found', async () => {
      expect((await runner.exec(['true'])).exitCode).to.equal(0);
      expect((await runner.exec(['sh', '-c', 'exit 3'])).exitCode).to.equal(3);
      const missing = await runner.exec(['overlab-no-such-command', '--flag']);
      expect(missing.exitCode).to.equal(127);
      expect(missing.stderr).to.match(/overlab-no-such-command.*not found/);
    });

    it('keeps stdout and stderr apart', async () => {
      const r = await runner.exec(['sh', '-c', 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; exit 5']);
      expect(r).to.deep.equal({ exitCode: 5, stdout: 'out1\nout2\n', stderr: 'err1\nerr2\n' });
    });

    it('writes input to stdin, including a megabyte', async () => {
      expect((await runner.exec(['cat'], { input: 'hello\nworld\n' })).stdout).to.equal('hello\nworld\n');
      const big = 'x'.repeat(1024 * 1024);
      expect((await runner.exec(['wc', '-c'], { input: big })).stdout.trim()).to.equal(String(big.length));
    });

    it('streams a local file to stdin as it is read (inputFile), and fails with the read error when the file is missing', async () => {
      const file = join(s.dir, 'stream.bin');
      writeFileSync(file, Buffer.alloc(24 * 1024 * 1024, 'overlab'));
      const mine = await execa('sha256sum', [file]);
      const r = await runner.exec(['sha256sum'], { inputFile: file });
      expect(r.exitCode).to.equal(0);
      expect(r.stdout.split(' ')[0]).to.equal(mine.stdout.split(' ')[0]);
      const missing = await runner.exec(['cat'], { inputFile: join(s.dir, 'no-such-file') }).catch((e: unknown) => e);
      expect(String(missing)).to.match(/ENOENT.*no-such-file/);
      expect((await runner.exec(['true'])).exitCode, 'the connection is still usable').to.equal(0);
    });

    it('gives a command without input an empty stdin, so a reader ends at once', async () => {
      const started = Date.now();
      expect(await runner.exec(['cat'])).to.deep.equal({ exitCode: 0, stdout: '', stderr: '' });
      expect(Date.now() - started).to.be.below(3000);
    });

    it('hands every argv word to the program unchanged (quotes, $, backquotes, blanks, empty)', async () => {
      const words = ["it's", 'a  b', '$HOME', '`id`', '"q"', '', '*', 'x;y|z&', 'new\nline'];
      const r = await runner.exec(['printf', '[%s]', ...words]);
      expect(r.stdout).to.equal(words.map((w) => `[${w}]`).join(''));
    });

    it('adds environment variables', async () => {
      expect((await runner.exec(['sh', '-c', 'echo "$A|$B"'], { env: { A: 'one two', B: "it's" } })).stdout).to.equal("one two|it's\n");
    });

    it('stops a command at its timeout with exit 124, and leaves no process behind', async () => {
      const started = Date.now();
      const r = await runner.exec(['sleep', '4343'], { timeoutMs: 500 });
      const elapsed = Date.now() - started;
      expect(r.exitCode).to.equal(124);
      expect(elapsed).to.be.within(450, 4000);
      const left = await execa('pgrep', ['-f', 'sleep 4343'], { reject: false });
      expect(left.stdout, 'the timed-out command still runs').to.equal('');
    });

    it('ends a command whose connection is lost mid-command (its proxy killed) at once, with HostUnreachableError naming why, not an unknown reason', async () => {
      const own = await SshRunner.connect(d0, { host: 'd0' });
      opened.push(own);
      // Its proxy (the newest `busybox nc` to d0) dies mid-command: the connection drops under the command.
      const started = Date.now();
      const running = own.exec(['sleep', '30']).catch((e: unknown) => e);
      await sleep(500);
      await execa('pkill', ['-KILL', '-n', '-f', `^busybox nc ${D0} 22$`]);
      const error = await running;
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.match(/^lost the SSH connection to d0 while running: sleep 30: \S/).and.not.match(/unknown reason/);
      expect(Date.now() - started, 'the command waited out its sleep instead of ending with its connection').to.be.below(10_000);
      expect(own.connection.isOpen).to.equal(false);
    });

    it('keeps the exit status of every command that ends at once (400 of them, 8 at a time; 11 were lost in a run before the fix)', async () => {
      const results = await Promise.all(Array.from({ length: 400 }, (_, i) => runner.exec(['sh', '-c', `exit ${i % 7}`]).catch((e: unknown) => e)));
      const lost = results.filter((r) => r instanceof Error).map(String);
      expect(lost, 'commands whose exit status was lost').to.deep.equal([]);
      expect(results.map((r) => (r as { exitCode: number }).exitCode)).to.deep.equal(Array.from({ length: 400 }, (_, i) => i % 7));
    });

    it('runs more commands at once than sshd allows sessions per connection', async () => {
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => runner.exec(['sh', '-c', `sleep 0.2; echo ${i}`])));
      expect(results.map((r) => r.stdout.trim())).to.deep.equal(Array.from({ length: 24 }, (_, i) => String(i)));
    });
  });

  describe('uploads (SFTP, then install into place)', () => {
    const target = `${RUNTIME}/d0/uploads/deep/config.txt`;

    it('writes content with its mode, creating parent folders, and reads back the same', async () => {
      await runner.upload({ content: 'key=value\n' }, target, 0o640);
      expect((await runner.exec(['cat', target])).stdout).to.equal('key=value\n');
      expect((await runner.exec(['stat', '-c', '%a %U', target])).stdout.trim()).to.equal('640 root');
    });

    it('gives the same result when run twice, and replaces changed content', async () => {
      await runner.upload({ content: 'key=value\n' }, target, 0o640);
      await runner.upload({ content: 'key=value\n' }, target, 0o640);
      expect((await runner.exec(['sh', '-c', `cat ${target}; stat -c %a ${target}`])).stdout).to.equal('key=value\n640\n');
      await runner.upload({ content: Buffer.from('#!/bin/sh\necho new\n') }, target, 0o755);
      expect((await runner.exec([target])).stdout).to.equal('new\n');
    });

    it('uploads a local file', async () => {
      const local = join(s.dir, 'local.bin');
      const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      writeFileSync(local, bytes);
      await runner.upload({ localPath: local }, `${RUNTIME}/d0/uploads/local.bin`, 0o600);
      const sum = await runner.exec(['sha256sum', `${RUNTIME}/d0/uploads/local.bin`]);
      const mine = await execa('sha256sum', [local]);
      expect(sum.stdout.split(' ')[0]).to.equal(mine.stdout.split(' ')[0]);
    });

    it('leaves no temporary upload files behind', async () => {
      expect((await runner.exec(['sh', '-c', 'ls /tmp | grep -c overlab-upload- || true'])).stdout.trim()).to.equal('0');
    });
  });

  describe('the streamed per-host log', () => {
    it('has each command line, its output and its exit code', async () => {
      await runner.exec(['sh', '-c', 'echo logged-out; echo logged-err >&2; exit 4']);
      const log = readFileSync(logFile(), 'utf8');
      expect(log).to.match(/\$ sh -c 'echo logged-out; echo logged-err >&2; exit 4'\n/);
      expect(log).to.include('logged-out\n').and.include('logged-err\n');
      expect(log).to.match(/exit 4 after \d+\.\d+ s/);
    });

    it('holds a running command\'s first output before the command ends', async () => {
      const running = runner.exec(['sh', '-c', 'echo stream-first-line; sleep 1.5; echo stream-second-line']);
      let seenEarly = false;
      for (let i = 0; i < 100 && !seenEarly; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const log = readFileSync(logFile(), 'utf8');
        // Output lines, not the command line that names them.
        if (/^stream-first-line$/m.test(log)) {
          expect(log).not.to.match(/^stream-second-line$/m);
          seenEarly = true;
        }
      }
      expect(seenEarly, 'the first line never reached the log while the command ran').to.equal(true);
      await running;
      expect(readFileSync(logFile(), 'utf8')).to.match(/^stream-second-line$/m);
    });

    it('emits each command as an event for the host', () => {
      expect(events.events).to.deep.include({ type: 'command', host: 'd0', command: 'hostname' });
    });
  });

  describe('connecting: bounded retries, typed errors naming the host', () => {
    it('retries a closed port until the deadline, then fails with HostUnreachableError', async () => {
      const closed: SshEndpoint = { ...d0, port: 2222, proxy: ['nsenter', `--net=/run/netns/${switchNs}`, '--', 'busybox', 'nc', D0, '2222'] };
      const retries: number[] = [];
      const started = Date.now();
      const error = await SshConnection.open(closed, { host: 'd0', deadlineMs: 2000, intervalMs: 200, onRetry: (n) => retries.push(n) }).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.match(/^cannot reach d0 over SSH \(root@172\.28\.150\.6:2222 through `nsenter/);
      expect((error as Error).message).to.match(/\d+ attempts in \d+\.\d s \(deadline 2\.0 s\)/);
      expect((error as Error).message).to.include('Connection refused');
      expect(retries.length).to.be.at.least(2);
      expect(elapsed).to.be.within(1500, 4000);
      expect((error as HostUnreachableError).exitCode).to.equal(68);
    });

    it('stops retrying at once when aborted (Ctrl-C)', async () => {
      const closed: SshEndpoint = { ...d0, port: 2222, proxy: ['nsenter', `--net=/run/netns/${switchNs}`, '--', 'busybox', 'nc', D0, '2222'] };
      const controller = new AbortController();
      setTimeout(() => controller.abort(Object.assign(new Error('interrupted'), { name: 'AbortError' })), 300);
      const started = Date.now();
      const error = await SshConnection.open(closed, { host: 'd0', deadlineMs: 20_000, intervalMs: 200, signal: controller.signal }).catch((e: unknown) => e);
      expect((error as Error).name).to.equal('AbortError');
      expect(Date.now() - started).to.be.below(1500);
    });

    it('fails the same way on a closed TCP port (no proxy)', async () => {
      const port = await freePort();
      const started = Date.now();
      const error = await SshConnection.open({ host: '127.0.0.1', port, username: 'root', privateKeyPath: key, hostKeys: d0.hostKeys }, { host: 'local', deadlineMs: 1000, intervalMs: 100 }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.include('cannot reach local over SSH').and.include('ECONNREFUSED');
      expect(Date.now() - started).to.be.below(3000);
    });

    it('does not retry a key the server refuses', async () => {
      const otherKey = join(s.dir, 'other_key');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
      const retries: number[] = [];
      const error = await SshConnection.open({ ...d0, privateKeyPath: otherKey }, { host: 'd0', deadlineMs: 10_000, onRetry: (n) => retries.push(n) }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.include('cannot log in to d0 over SSH').and.include('refused the key');
      expect(retries).to.deep.equal([]);
    });

    it('fails at once when the key file is missing, naming it', async () => {
      const error = await SshConnection.open({ ...d0, privateKeyPath: join(s.dir, 'nope') }, { host: 'd0' }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.include(`cannot read its key ${join(s.dir, 'nope')}`);
    });

    it('fails at once on a file that is not a usable key (or needs a passphrase), naming it', async () => {
      const notKey = join(s.dir, 'not-a-key');
      writeFileSync(notKey, 'hello\n');
      const started = Date.now();
      const error = await SshConnection.open({ ...d0, privateKeyPath: notKey }, { host: 'd0', deadlineMs: 10_000 }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.include(`cannot use its key ${notKey}`);
      const locked = join(s.dir, 'locked_key');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', locked]);
      const lockedError = await SshConnection.open({ ...d0, privateKeyPath: locked }, { host: 'd0', deadlineMs: 10_000 }).catch((e: unknown) => e);
      expect((lockedError as Error).message).to.include(`cannot use its key ${locked}`).and.match(/passphrase/i);
      expect(Date.now() - started).to.be.below(2000);
    });
  });

  describe('the Docker engine over SSH (dockerode through the forwarded unix socket, no TCP port)', () => {
    let docker: Docker;
    const socketPath = `${RUNTIME}/d0/docker.sock`;
    before(() => {
      docker = engineClient({ kind: 'ssh', ssh: d0, socketPath });
    });
    after(() => closeSshEngine(docker));

    it('pings the engine and reads its version', async () => {
      expect(String(await docker.ping())).to.equal('OK');
      expect(((await docker.version()) as { Version: string }).Version).to.match(/^\d+\.\d+/);
    });

    it("lists the lab's overlay network", async () => {
      const nets = (await docker.listNetworks()) as { Name: string; Driver: string; Scope: string }[];
      expect(nets.find((n) => n.Name === 'net')).to.deep.include({ Driver: 'overlay', Scope: 'global' });
    });

    it('runs docker exec in a container through the hijacked stream, with its exit code', async () => {
      expect(await execInContainer(docker, 'c0', ['hostname'])).to.deep.equal({ exitCode: 0, stdout: 'c0\n', stderr: '' });
      expect((await execInContainer(docker, 'c0', ['sh', '-c', 'echo e >&2; exit 7'])).exitCode).to.equal(7);
    });

    it('ends a docker exec at its time limit, naming the container and the command', async () => {
      const started = Date.now();
      const error = await execInContainer(docker, 'c0', ['sleep', '5'], 500).catch((e: unknown) => e);
      expect(String(error)).to.include('exec in c0 did not finish within 500 ms: sleep 5');
      expect(Date.now() - started).to.be.below(2000);
      // The connection is still good for the next exec.
      expect((await execInContainer(docker, 'c0', ['true'])).exitCode).to.equal(0);
    });

    it('serves several requests at once over one SSH connection', async () => {
      const pings = await Promise.all(Array.from({ length: 20 }, () => docker.ping()));
      expect(pings.map(String)).to.deep.equal(Array(20).fill('OK'));
    });

    it('fails with the socket path when the socket does not exist, rather than hanging', async () => {
      const wrong = engineClient({ kind: 'ssh', ssh: d0, socketPath: `${RUNTIME}/d0/no-such.sock` });
      try {
        const error = await wrong.ping().catch((e: unknown) => e);
        expect((error as Error).message).to.include(`cannot open ${RUNTIME}/d0/no-such.sock on 172.28.150.6 over SSH`);
      } finally {
        closeSshEngine(wrong);
      }
    });

    it('removes only the containers and networks labelled with the given lab', async () => {
      const label = { 'overlab.lab': 'it-ssh-extra' };
      await docker.createNetwork({ Name: 'it-ssh-extra-net', Driver: 'bridge', Labels: label });
      await docker.createContainer({ name: 'zz-extra', Image: 'overlab/busybox:latest', Cmd: ['sleep', '600'], Labels: label });
      const removed = await removeLabContents(docker, 'it-ssh-extra');
      expect(removed).to.deep.equal({ containers: ['zz-extra'], networks: ['it-ssh-extra-net'] });
      const names = ((await docker.listContainers({ all: true })) as { Names: string[] }[]).flatMap((c) => c.Names);
      expect(names).to.include('/c0').and.not.include('/zz-extra');
      expect(((await docker.listNetworks()) as { Name: string }[]).map((n) => n.Name)).to.include('net').and.not.include('it-ssh-extra-net');
    });
  });

  describe('ssh provider against the same machines (connection only: provisioning and systemd cannot run here)', () => {
    let store: StateStore;
    let ctx: LabContext;
    let hosts: HostAccess[] = [];
    // First contact with these machines: accepted (as `up --accept-new-host-keys`), recorded in the lab's known_hosts.
    const userKnownHosts = () => join(s.dir, 'user_known_hosts');
    const provider = () =>
      new SshProvider({ acceptNewHostKeys: true, userKnownHosts: userKnownHosts(), proxy: (h) => ['nsenter', `--net=/run/netns/${switchNs}`, '--', 'busybox', 'nc', h.ssh.address, String(h.ssh.port)] });
    let plan: Awaited<ReturnType<typeof planLab>>;

    before(async () => {
      const file = s.lab('it-ssh-machines', `name: it-ssh-machines
provider: ssh
network:
  subnet: 172.28.150.0/24
hosts:
  - name: kv
    role: kv
    address: ${KV}
    ssh: { key: ${JSON.stringify(key)} }
  - name: d0
    address: ${D0}
    ssh: { key: ${JSON.stringify(key)} }
`);
      plan = planLab(await loadLab(file));
      store = new StateStore(join(s.dir, 'provider-state'));
      const now = new Date().toISOString();
      store.write({ version: 1, lab: plan.lab, provider: 'ssh', mode: plan.mode, file, phase: 'creating', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
      ctx = { store, events: silentEvents, signal: new AbortController().signal };
    });
    after(() => {
      for (const h of hosts) (h.runner as SshRunner).close();
    });

    it('createHosts records every host and how to reach it, then connects to each', async () => {
      hosts = await provider().createHosts(plan, ctx);
      expect(hosts.map((h) => h.name)).to.deep.equal(['kv', 'd0']);
      const state = store.read()!;
      expect(state.hosts['d0']).to.deep.include({ name: 'd0', address: D0, role: 'docker' });
      expect(state.hosts['d0']!.resources['ssh']).to.deep.include({ host: D0, port: 22, username: 'root', privateKeyPath: key });
      for (const h of hosts) expect((await h.runner.exec(['hostname'])).stdout.trim()).to.equal(h.name);
    });

    it('hands back an SSH engine endpoint on the packaged socket for docker hosts, none for the kv host, and no provider flags', () => {
      const [kv, d] = hosts;
      expect(kv!.engine).to.equal(undefined);
      expect(d!.engine).to.deep.equal({ kind: 'ssh', ssh: d!.ssh, socketPath: '/var/run/docker.sock' });
      expect(d!.engineFlags).to.deep.equal([]);
      expect(provider().engineFlagsFor()).to.deep.equal([]);
      expect(d!.services.dataDir('kv')).to.equal('/var/lib/overlab/kv');
    });

    it('connect reaches the hosts as recorded', async () => {
      const again = await new SshProvider().connect(plan, ctx); // no proxy option: the recorded endpoints carry it, and the recorded host key policy
      try {
        expect(await Promise.all(again.map(async (h) => (await h.runner.exec(['hostname'])).stdout.trim()))).to.deep.equal(['kv', 'd0']);
      } finally {
        for (const h of again) (h.runner as SshRunner).close();
      }
    });

    it("gives an ssh command line that the real OpenSSH client runs (with the ProxyCommand)", async () => {
      const argv = provider().sshArgv(hosts[1]!, ctx, ['hostname']);
      expect(argv.slice(0, 7)).to.deep.equal(['ssh', '-i', key, '-p', '22', '-l', 'root']);
      expect(argv).to.include('StrictHostKeyChecking=yes').and.include(`UserKnownHostsFile=${userKnownHosts()} ${join(s.dir, 'provider-state', 'known_hosts')}`);
      // Strict checking against the known_hosts createHosts recorded: the real client trusts the host.
      const [bin, ...args] = argv;
      const r = await execa(bin!, ['-o', 'BatchMode=yes', ...args], { reject: false });
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stdout.trim()).to.equal('d0');
    });

    it('describes the connection and the provisioning of each host for --dry-run', () => {
      const described = provider().describe(plan);
      expect(described.map((d) => d.host)).to.deep.equal(['kv', 'd0']);
      expect(described[1]!.commands[0]).to.match(new RegExp(`^ssh -i ${key.replace(/[.]/g, '\\.')} -p 22 -l root .* -o StrictHostKeyChecking=yes -o 'ProxyCommand=nsenter .* busybox nc ${D0} 22' -- ${D0} true`));
      expect(described[1]!.commands.join('\n')).to.include('provision d0');
    });

    it('connection failures in createHosts close the other connections and name the host', async () => {
      const toD0 = async () => (await proxiesLeft()).filter((l) => l.endsWith(`busybox nc ${D0} 22`)).length;
      const before = await toD0();
      const bad = new SshProvider({ connectDeadlineMs: 800, proxy: (h) => ['nsenter', `--net=/run/netns/${switchNs}`, '--', 'busybox', 'nc', h.ssh.address, h.name === 'kv' ? '2222' : '22'] });
      const error = await bad.createHosts(plan, ctx).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.include('cannot reach kv over SSH');
      // d0's connection succeeded and was closed again: its proxy process is gone.
      for (let i = 0; i < 50 && (await toD0()) > before; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await toD0()).to.equal(before);
    });
  });
});
