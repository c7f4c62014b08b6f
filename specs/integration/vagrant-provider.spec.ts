// The vagrant provider's command sequence, against a stand-in `vagrant` (specs/fixtures/
// vagrant-standin) first on PATH: it records each call and prints Vagrant's real output formats.
// No VM is made. The machines' "sshd" is a real sshd on 127.0.0.1 (in a private mount namespace
// of this test, so nothing on the machine changes), so createHosts and connect really connect.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { CommandFailedError, HostKeyError, HostUnreachableError } from '../../harness/errors.ts';
import { EventLog } from '../../harness/events.ts';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { Plan } from '../../harness/lab/types.ts';
import { resolveProvider } from '../../harness/providers/index.ts';
import type { HostAccess } from '../../harness/host.ts';
import type { LabContext } from '../../harness/state/lab-context.ts';
import { machineStates, parseMachineReadable } from '../../harness/providers/vagrant/machine-readable.ts';
import { detectHypervisor, VagrantProvider, vagrantUpArgs } from '../../harness/providers/vagrant/vagrant-provider.ts';
import { SshRunner } from '../../harness/remote/runner.ts';
import { renderVagrantfile } from '../../harness/render/vagrantfile.ts';
import { StateStore } from '../../harness/state/store.ts';
import { STANDIN_DIR, startStandinSshd, useStandinVagrant, type StandinSshd } from './support/standin-sshd.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

interface Call {
  args: string[];
  /** When the stand-in was started (ms since the epoch). */
  at: number;
  cwd: string;
  vagrantfileSha256: string | null;
  checkpointDisabled: boolean;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');


describe('vagrant provider against a stand-in vagrant (no VMs)', function () {
  this.timeout(60_000);
  let dir: string;
  let key: string;
  let port: number;
  let sshd: StandinSshd;
  let restoreEnv: () => void = () => {};
  let plan: Plan;
  let callLog: string;
  const runners: HostAccess[] = [];
  let labCount = 0;

  const calls = (): Call[] => (existsSync(callLog) ? readFileSync(callLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call) : []);
  const resetCalls = () => writeFileSync(callLog, '');

  /** A fresh lab state folder, as `up` prepares it, and a context over it. */
  function freshContext(): LabContext & { events: EventLog } {
    const store = new StateStore(join(dir, 'state', `lab${++labCount}`));
    const now = new Date().toISOString();
    store.write({ version: 1, lab: plan.lab, provider: 'vagrant', mode: plan.mode, file: plan.file, phase: 'creating', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
    return { store, events: new EventLog(), signal: new AbortController().signal };
  }

  async function up(hypervisor: string): Promise<{ ctx: LabContext & { events: EventLog }; hosts: HostAccess[] }> {
    const ctx = freshContext();
    resetCalls();
    const hosts = await new VagrantProvider({ hypervisor }).createHosts(plan, ctx);
    runners.push(...hosts);
    return { ctx, hosts };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-it-vagrant-'));
    sshd = await startStandinSshd(dir);
    ({ key, port } = sshd);
    callLog = join(dir, 'calls.jsonl');
    restoreEnv = useStandinVagrant(sshd, callLog);

    const labFile = join(dir, 'it-vagrant-standin.yaml');
    writeFileSync(labFile, 'name: it-vagrant-standin\nprovider: vagrant\nhosts:\n  - name: kv\n    role: kv\n  - name: d0\n  - name: d1\nkv:\n  type: etcd\n');
    plan = planLab(await loadLab(labFile));
  });

  after(async () => {
    for (const h of runners) (h.runner as SshRunner).close();
    restoreEnv();
    delete process.env['VAGRANT_STANDIN_FAIL'];
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('vagrant status --machine-readable parsing', () => {
    it("reads each machine's state and provider from Vagrant 2.3.4's real output", () => {
      const text = readFileSync(join(FIXTURES, 'vagrant-output', 'status-not-created.machine-readable.txt'), 'utf8');
      expect(Object.fromEntries(machineStates(text))).to.deep.equal({
        'mhs-demo0': { state: 'not_created', provider: 'docker' },
        'mhs-demo1': { state: 'not_created', provider: 'docker' },
      });
    });

    it('unescapes %!(VAGRANT_COMMA) and \\n in data', () => {
      const text = readFileSync(join(FIXTURES, 'vagrant-output', 'status-not-created.machine-readable.txt'), 'utf8');
      const ui = parseMachineReadable(text).find((l) => l.type === 'ui')!;
      expect(ui.target).to.equal('');
      expect(ui.data[0]).to.equal('info');
      expect(ui.data[1]).to.include('Current machine states:\n\nmhs-demo0').and.include('For more information about a specific\nVM, run');
    });

    it('skips lines that are not machine-readable', () => {
      expect(parseMachineReadable('Vagrant warning\n\n1700000000,a,state,running\n')).to.deep.equal([{ timestamp: 1700000000, target: 'a', type: 'state', data: ['running'] }]);
    });
  });

  describe('vagrant up arguments by hypervisor', () => {
    for (const [hypervisor, flag] of [
      ['libvirt', '--parallel'],
      ['docker', '--parallel'],
      ['parallels', '--parallel'],
      ['virtualbox', '--no-parallel'],
      ['hyperv', '--no-parallel'],
      ['vmware_desktop', '--no-parallel'],
    ] as const) {
      it(`${hypervisor}: up --no-provision --provider=${hypervisor} ${flag}`, () => {
        expect(vagrantUpArgs(hypervisor)).to.deep.equal(['up', '--no-provision', `--provider=${hypervisor}`, flag]);
      });
    }
  });

  describe('up', () => {
    it('with libvirt: renders the Vagrantfile, then `vagrant up --no-provision --provider=libvirt --parallel`, then `vagrant ssh-config`, in the lab state folder', async () => {
      const { ctx } = await up('libvirt');
      const seen = calls();
      expect(seen.map((c) => c.args)).to.deep.equal([['up', '--no-provision', '--provider=libvirt', '--parallel'], ['ssh-config']]);
      expect(seen.every((c) => c.cwd === ctx.store.dir)).to.equal(true);
      expect(seen.every((c) => c.checkpointDisabled)).to.equal(true);
      const rendered = renderVagrantfile(plan);
      expect(seen[0]!.vagrantfileSha256, 'the Vagrantfile vagrant up read').to.equal(sha256(rendered));
      expect(readFileSync(join(ctx.store.dir, 'Vagrantfile'), 'utf8')).to.equal(rendered);
    });

    it('with VirtualBox (no parallel up in its plugin): a vagrant up per machine, the first alone until it boots, then the others at once, while it boots', async () => {
      process.env['VAGRANT_STANDIN_BOOT_MS'] = '1500';
      try {
        const started = Date.now();
        const { ctx } = await up('virtualbox');
        const took = Date.now() - started;
        const seen = calls();
        const args = ['up', '--no-provision', '--provider=virtualbox', '--no-parallel'];
        expect(seen.map((c) => c.args)).to.have.deep.members([[...args, 'kv'], [...args, 'd0'], [...args, 'd1'], ['ssh-config']]);
        expect(seen[0]!.args).to.deep.equal([...args, 'kv']);
        const booted = (m: string) => JSON.parse(readFileSync(join(ctx.store.dir, '.vagrant', 'machines', m, 'standin.json'), 'utf8')) as { bootingAt: number; readyAt: number };
        const kv = booted('kv');
        for (const m of ['d0', 'd1']) {
          const at = seen.find((c) => c.args.at(-1) === m)!.at;
          expect(at, `${m} started after kv booted`).to.be.at.least(kv.bootingAt);
          expect(at, `${m} started while kv was still booting`).to.be.below(kv.readyAt);
        }
        // One after the other would be three boots (4.5 s); at once it is about one, after the first machine's start.
        expect(took).to.be.below(4_200);
      } finally {
        delete process.env['VAGRANT_STANDIN_BOOT_MS'];
      }
    });

    it('with VirtualBox: one machine failing to come up stops the others at once, and its error is the one thrown', async () => {
      process.env['VAGRANT_STANDIN_BOOT_MS'] = '20000';
      process.env['VAGRANT_STANDIN_FAIL'] = 'up:d1';
      try {
        const started = Date.now();
        const e = (await up('virtualbox').catch((x: unknown) => x)) as CommandFailedError;
        expect(e).to.be.instanceOf(CommandFailedError);
        expect(e!.message).to.include('vagrant up --no-provision --provider=virtualbox --no-parallel d1');
        expect(Date.now() - started, 'the booting ups were stopped, not waited for').to.be.below(10_000);
        const left = await execa('pgrep', ['-f', `${STANDIN_DIR}/vagrant up`], { reject: false });
        expect(left.stdout, 'stand-in ups still running').to.equal('');
      } finally {
        delete process.env['VAGRANT_STANDIN_BOOT_MS'];
        delete process.env['VAGRANT_STANDIN_FAIL'];
      }
    });

    it('describes the VirtualBox up of a dry run as it runs: the first machine, then the others at once', () => {
      const commands = new VagrantProvider({ hypervisor: 'virtualbox' }).describe(plan)[0]!.commands;
      expect(commands.filter((c) => c.startsWith('vagrant up') || c === 'wait')).to.deep.equal([
        'vagrant up --no-provision --provider=virtualbox --no-parallel kv &    # the first machine alone until it prints "Booting VM...", then the others at once',
        'vagrant up --no-provision --provider=virtualbox --no-parallel d0 &',
        'vagrant up --no-provision --provider=virtualbox --no-parallel d1 &',
        'wait',
      ]);
    });

    it('connects to every machine over SSH with what ssh-config said, and hands back SSH engines on the packaged socket', async () => {
      const { hosts, ctx } = await up('libvirt');
      expect(hosts.map((h) => h.name)).to.deep.equal(['kv', 'd0', 'd1']);
      for (const h of hosts) {
        // The first up trusts the new machines' host keys (and records them).
        const hostKeys = { knownHosts: [], recordIn: join(ctx.store.dir, 'known_hosts'), acceptNew: true, vouchedBy: 'overlab' };
        expect(h.ssh).to.deep.equal({ host: '127.0.0.1', port, username: 'root', privateKeyPath: key, hostKeys });
        expect(await h.runner.exec(['sh', '-c', 'echo ok'])).to.deep.equal({ exitCode: 0, stdout: 'ok\n', stderr: '' });
      }
      expect(hosts[0]!.engine).to.equal(undefined);
      expect(hosts[1]!.engine).to.deep.equal({ kind: 'ssh', ssh: hosts[1]!.ssh, socketPath: '/var/run/docker.sock' });
      expect(hosts.every((h) => h.engineFlags.length === 0)).to.equal(true);
    });

    it('records the machines, the hypervisor and each SSH endpoint in the lab state', async () => {
      const { ctx } = await up('libvirt');
      const state = ctx.store.read()!;
      expect(state.resources).to.deep.include({ kind: 'vagrant', vagrantDir: ctx.store.dir, hypervisor: 'libvirt' });
      expect(Object.keys(state.hosts)).to.deep.equal(['kv', 'd0', 'd1']);
      expect(state.hosts['d1']).to.deep.include({ address: '172.28.128.7', role: 'docker' });
      // Recorded for later connections: no new key is trusted then.
      const hostKeys = { knownHosts: [], recordIn: join(ctx.store.dir, 'known_hosts'), vouchedBy: 'overlab' };
      expect(state.hosts['d1']!.resources).to.deep.include({ machine: 'd1', ssh: { host: '127.0.0.1', port, username: 'root', privateKeyPath: key, hostKeys } });
    });

    it("streams vagrant's output to logs/vagrant.log and emits each vagrant command", async () => {
      const { ctx } = await up('libvirt');
      const log = readFileSync(join(ctx.store.dir, 'logs', 'vagrant.log'), 'utf8');
      expect(log).to.match(/\$ vagrant up --no-provision --provider=libvirt --parallel\n/);
      expect(log).to.include("Bringing machine 'd0' up with 'libvirt' provider...");
      expect(log).to.match(/\$ vagrant ssh-config\n[^]*Host d1\n/);
      expect(ctx.events.events.filter((e) => e.type === 'command' && e.host === '(vagrant)').map((e) => (e as { command: string }).command)).to.deep.equal([
        'vagrant up --no-provision --provider=libvirt --parallel',
        'vagrant ssh-config',
      ]);
    });
  });

  describe('connect, status and destroy', () => {
    it('connect: `vagrant status --machine-readable`, then `vagrant ssh-config`, then SSH', async () => {
      const { ctx } = await up('libvirt');
      resetCalls();
      const hosts = await new VagrantProvider({ hypervisor: 'libvirt' }).connect(plan, ctx);
      runners.push(...hosts);
      expect(calls().map((c) => c.args)).to.deep.equal([['status', '--machine-readable'], ['ssh-config']]);
      expect(calls().every((c) => c.cwd === ctx.store.dir)).to.equal(true);
      expect((await hosts[2]!.runner.exec(['true'])).exitCode).to.equal(0);
    });

    it('machineStates reports every machine running after up', async () => {
      const { ctx } = await up('libvirt');
      resetCalls();
      const states = await new VagrantProvider().machineStates(ctx);
      expect(Object.fromEntries(states)).to.deep.equal({
        kv: { state: 'running', provider: 'libvirt' },
        d0: { state: 'running', provider: 'libvirt' },
        d1: { state: 'running', provider: 'libvirt' },
      });
      expect(calls().map((c) => c.args)).to.deep.equal([['status', '--machine-readable']]);
    });

    it('destroy: `vagrant destroy -f` in the lab folder; then connect refuses machines that are not running, naming host and state', async () => {
      const { ctx } = await up('virtualbox');
      resetCalls();
      const provider = new VagrantProvider({ hypervisor: 'virtualbox' });
      const report = await provider.destroy(plan.lab, ctx, { force: false });
      expect(calls().map((c) => [c.args, c.cwd])).to.deep.equal([[['destroy', '-f'], ctx.store.dir]]);
      expect(report).to.deep.equal({ vms: ['kv', 'd0', 'd1'], containers: [], processes: [], namespaces: [], paths: [join(ctx.store.dir, 'known_hosts'), join(ctx.store.dir, '.vagrant')] });

      resetCalls();
      const error = await provider.connect(plan, ctx).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostUnreachableError);
      expect((error as Error).message).to.equal('host kv of lab it-vagrant-standin is not running (vagrant status: not_created)');
      expect(calls().map((c) => c.args)).to.deep.equal([['status', '--machine-readable']]);
    });

    it('destroy without a Vagrantfile calls no vagrant and reports nothing', async () => {
      const ctx = freshContext();
      resetCalls();
      expect(await new VagrantProvider().destroy(plan.lab, ctx, { force: true })).to.deep.equal({ vms: [], containers: [], processes: [], namespaces: [], paths: [] });
      expect(calls()).to.deep.equal([]);
    });
  });

  describe('failures', () => {
    afterEach(() => delete process.env['VAGRANT_STANDIN_FAIL']);

    it("a failing `vagrant up` is a CommandFailedError with the command, its exit status and Vagrant's words", async () => {
      process.env['VAGRANT_STANDIN_FAIL'] = 'up';
      const ctx = freshContext();
      resetCalls();
      const error = await new VagrantProvider({ hypervisor: 'libvirt' }).createHosts(plan, ctx).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CommandFailedError);
      const e = error as CommandFailedError;
      expect(e.command).to.equal(`vagrant up --no-provision --provider=libvirt --parallel (in ${ctx.store.dir})`);
      expect(e.commandExitCode).to.equal(1);
      expect(e.output).to.include('No usable default provider could be found for your system.');
      expect(e.message).to.include('command failed (exit 1): vagrant up --no-provision').and.include('No usable default provider');
      expect(e.hint).to.equal(`Full output: ${join(ctx.store.dir, 'logs', 'vagrant.log')}`);
      expect(e.exitCode).to.equal(70);
      expect(calls().map((c) => c.args)).to.deep.equal([['up', '--no-provision', '--provider=libvirt', '--parallel']]);
    });

    it('a failing `vagrant ssh-config` after up is a CommandFailedError naming it', async () => {
      process.env['VAGRANT_STANDIN_FAIL'] = 'ssh-config';
      const error = await up('libvirt').catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CommandFailedError);
      expect((error as CommandFailedError).command).to.match(/^vagrant ssh-config \(in /);
    });

    it('a failing `vagrant destroy -f` is a CommandFailedError', async () => {
      const { ctx } = await up('libvirt');
      process.env['VAGRANT_STANDIN_FAIL'] = 'destroy';
      const error = await new VagrantProvider().destroy(plan.lab, ctx, { force: false }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CommandFailedError);
      expect((error as CommandFailedError).command).to.equal(`vagrant destroy -f (in ${ctx.store.dir})`);
    });
  });

  describe('usability and `provider: auto`', () => {
    let fakeBin: string;
    before(() => {
      fakeBin = join(dir, 'fake-bin');
      mkdirSync(fakeBin);
      writeFileSync(join(fakeBin, 'VBoxManage'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    });

    it('says vagrant is missing when it is not on PATH', async () => {
      const path = process.env['PATH'];
      process.env['PATH'] = join(dir, 'empty');
      try {
        expect(await new VagrantProvider().unusableReason()).to.match(/^vagrant is not installed/);
      } finally {
        process.env['PATH'] = path;
      }
    });

    it('finds no hypervisor without VBoxManage or libvirt, VirtualBox with VBoxManage, and checks VAGRANT_DEFAULT_PROVIDER', () => {
      const none = { libvirtPlugin: false, libvirtd: false };
      expect(detectHypervisor({ PATH: STANDIN_DIR }, none)).to.deep.equal({
        reason: 'no usable hypervisor: VirtualBox (VBoxManage) is not installed, and libvirt is not usable (the vagrant-libvirt plugin and a running libvirtd)',
      });
      expect(detectHypervisor({ PATH: `${STANDIN_DIR}:${fakeBin}` }, none)).to.deep.equal({ hypervisor: 'virtualbox' });
      expect(detectHypervisor({ PATH: STANDIN_DIR, VAGRANT_DEFAULT_PROVIDER: 'virtualbox' }, none)).to.have.property('reason').that.includes('VBoxManage is not installed');
      expect(detectHypervisor({ PATH: STANDIN_DIR, VAGRANT_DEFAULT_PROVIDER: 'docker' }, none)).to.deep.equal({ hypervisor: 'docker' });
      // libvirt needs both the plugin and the machine's own running libvirtd (not a lab's local one).
      expect(detectHypervisor({ PATH: STANDIN_DIR }, { libvirtPlugin: true, libvirtd: true })).to.deep.equal({ hypervisor: 'libvirt' });
      expect(detectHypervisor({ PATH: STANDIN_DIR }, { libvirtPlugin: true, libvirtd: false })).to.have.property('reason');
    });

    it('`auto` picks vagrant when vagrant and VirtualBox are on PATH, and netns otherwise (libvirt needs a running libvirtd, not made here)', async function () {
      if (detectHypervisor({ ...process.env, PATH: STANDIN_DIR }).hasOwnProperty('hypervisor')) this.skip(); // a real hypervisor on this machine
      const path = process.env['PATH'];
      try {
        process.env['PATH'] = `${STANDIN_DIR}:${fakeBin}:${path}`;
        expect((await resolveProvider('auto')).id).to.equal('vagrant');
        process.env['PATH'] = `${STANDIN_DIR}:${path}`;
        expect((await resolveProvider('auto')).id).to.equal('netns');
      } finally {
        process.env['PATH'] = path;
      }
    });
  });

  describe('describe and ssh', () => {
    it('describes vagrant up and ssh-config in the lab folder, then each host’s connection and provisioning', () => {
      const described = new VagrantProvider({ hypervisor: 'libvirt' }).describe(plan);
      expect(described.map((d) => d.host)).to.deep.equal(['(vagrant)', 'kv', 'd0', 'd1']);
      expect(described[0]!.commands.slice(1)).to.deep.equal(['vagrant up --no-provision --provider=libvirt --parallel', 'vagrant ssh-config']);
      expect(described[2]!.commands.join('\n')).to.include('provision d0');
    });

    it('records the machines\' host keys at the first up, and checks them afterwards', async () => {
      const { ctx } = await up('libvirt');
      const known = join(ctx.store.dir, 'known_hosts');
      const hostKeyPub = readFileSync(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      // Three machines behind one forwarded port here: one line.
      expect(readFileSync(known, 'utf8')).to.equal(`[127.0.0.1]:${port} ${hostKeyPub}\n`);
      expect(ctx.events.events.filter((e) => e.type === 'warn' && e.message.includes('first contact'))).to.have.length.of.at.least(1);
      const again = await new VagrantProvider().connect(plan, ctx);
      runners.push(...again);
      // A different key recorded: later connections refuse the machine, naming both fingerprints.
      const otherKey = join(dir, 'other_host_key');
      if (!existsSync(otherKey)) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
      writeFileSync(known, `[127.0.0.1]:${port} ${readFileSync(`${otherKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
      const error = await new VagrantProvider().connect(plan, ctx).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(HostKeyError);
      expect((error as Error).message).to.match(/^the host key of \w+ \(root@127\.0\.0\.1:\d+\) does not match: expected SHA256:\S+ \(ssh-ed25519, .*known_hosts:1\), presented SHA256:\S+ \(ssh-ed25519\)$/);
      expect((error as HostKeyError).hint).to.include('overlab down');
    });

    it('gives an ssh command line that the real OpenSSH client runs, checking the host key the first up recorded', async () => {
      const { hosts, ctx } = await up('libvirt');
      const argv = new VagrantProvider().sshArgv(hosts[1]!, ctx, ['echo', 'from-ssh']);
      expect(argv).to.include('StrictHostKeyChecking=yes').and.include(`UserKnownHostsFile=${join(ctx.store.dir, 'known_hosts')}`);
      const [bin, ...args] = argv;
      const r = await execa(bin!, ['-o', 'BatchMode=yes', ...args], { reject: false });
      expect(r.exitCode, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('from-ssh');
    });
  });
});
