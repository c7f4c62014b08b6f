// The pure half of reaching machines over SSH: `vagrant ssh-config` text into endpoints, remote
// command lines (quoting, sudo, env, timeout), and the systemd drop-in, daemon.json check,
// transient units and commands SystemdServices sends through a runner.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { CommandFailedError, PrerequisiteError } from '../../harness/errors.ts';
import type { HostPlan, Plan } from '../../harness/lab/types.ts';
import { keyFor } from '../../harness/providers/ssh/ssh-provider.ts';
import type { ExecOptions, ExecResult, HostRunner } from '../../harness/host.ts';
import { expandHome, parseSshConfig, proxyArgv, sshConfigEndpoints, SshConfigSyntaxError } from '../../harness/remote/ssh-config.ts';
import { shellJoin, shellQuote } from '../../harness/quote.ts';
import { formatSeconds, remoteCommand } from '../../harness/remote/shell.ts';
import {
  daemonJsonConflicts,
  DOCKER_DROP_IN,
  dockerDropIn,
  journalArgv,
  systemdQuote,
  systemdRunArgv,
  SystemdServices,
  TREE_CONTAINERD_CONFIG,
  TREE_CONTAINERD_SOCKET,
  treeContainerdConfig,
  unitName,
  waitForSocketArgv,
} from '../../harness/remote/systemd-services.ts';
import { engineServiceSpec, SYSTEM_PATH } from '../../harness/engine/daemon.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'vagrant-output');
/** Rendered by Vagrant 2.3.4's own TemplateRenderer from templates/commands/ssh_config/config.erb (see specs/fixtures/README.md). */
const TWO_HOSTS = readFileSync(join(FIXTURES, 'ssh-config-two-hosts.txt'), 'utf8');

describe('vagrant ssh-config parsing', () => {
  it('reads one block per machine with HostName, User, Port and every IdentityFile, in order', () => {
    const hosts = parseSshConfig(TWO_HOSTS);
    expect(hosts.map((h) => h.name)).to.deep.equal(['mhs-demo0', 'mhs-demo1']);
    expect(hosts[0]).to.deep.include({ hostName: '127.0.0.1', user: 'vagrant', port: 2222, proxyCommand: undefined });
    expect(hosts[0]!.identityFiles).to.deep.equal(['/home/me/lab/.vagrant/machines/mhs-demo0/virtualbox/private_key', '/home/me/my labs/insecure_private_key']);
    expect(hosts[1]).to.deep.include({ hostName: '192.168.121.45', user: 'vagrant', port: 22 });
  });

  it('keeps a quoted IdentityFile path with a blank as one path, without the quotes', () => {
    expect(parseSshConfig(TWO_HOSTS)[0]!.identityFiles[1]).to.equal('/home/me/my labs/insecure_private_key');
  });

  it('keeps the other options (lower-cased keyword, value as written)', () => {
    expect(parseSshConfig(TWO_HOSTS)[0]!.options).to.deep.equal({
      userknownhostsfile: '/dev/null',
      stricthostkeychecking: 'no',
      passwordauthentication: 'no',
      identitiesonly: 'yes',
      loglevel: 'FATAL',
    });
  });

  it('keeps ProxyCommand as the rest of its line', () => {
    expect(parseSshConfig(TWO_HOSTS)[1]!.proxyCommand).to.equal('nsenter --net=/run/netns/x -- nc %h %p');
  });

  it('turns each block into an endpoint, the first IdentityFile as its key, ProxyCommand as an argv with %h and %p filled in', () => {
    const endpoints = sshConfigEndpoints(TWO_HOSTS);
    expect(endpoints.get('mhs-demo0')).to.deep.equal({ host: '127.0.0.1', port: 2222, username: 'vagrant', privateKeyPath: '/home/me/lab/.vagrant/machines/mhs-demo0/virtualbox/private_key' });
    expect(endpoints.get('mhs-demo1')).to.deep.equal({
      host: '192.168.121.45',
      port: 22,
      username: 'vagrant',
      privateKeyPath: '/root/.vagrant.d/insecure_private_key',
      proxy: ['sh', '-c', 'nsenter --net=/run/netns/x -- nc 192.168.121.45 22'],
    });
  });

  it('accepts keywords in any case, `=` between keyword and value, comments, blank lines and noise before the first Host', () => {
    const text = 'Vagrant warning: something\n# a comment\nhost a\n\n  hostname=10.0.0.1\n  USER = ubuntu\n  port 2200\n  identityfile "/k/a b"\n';
    expect(sshConfigEndpoints(text).get('a')).to.deep.equal({ host: '10.0.0.1', port: 2200, username: 'ubuntu', privateKeyPath: '/k/a b' });
  });

  it('defaults HostName to the Host name and Port to 22', () => {
    expect(parseSshConfig('Host box\n  User u\n  IdentityFile /k\n')[0]).to.deep.include({ hostName: 'box', port: 22 });
  });

  it('expands ~ in key paths when given a home folder', () => {
    expect(sshConfigEndpoints('Host a\n  User u\n  IdentityFile ~/.vagrant.d/insecure_private_key\n', { home: '/root' }).get('a')!.privateKeyPath).to.equal('/root/.vagrant.d/insecure_private_key');
    expect(expandHome('~', '/h')).to.equal('/h');
    expect(expandHome('/abs/~/x', '/h')).to.equal('/abs/~/x');
  });

  it('fills %r and %% in a ProxyCommand', () => {
    expect(proxyArgv('ssh -W %h:%p %r@jump 100%%', { hostName: 'h', port: 2222, user: 'vagrant' })).to.deep.equal(['sh', '-c', 'ssh -W h:2222 vagrant@jump 100%']);
  });

  it('ignores ProxyCommand none', () => {
    expect(sshConfigEndpoints('Host a\n User u\n IdentityFile /k\n ProxyCommand none\n').get('a')!.proxy).to.equal(undefined);
  });

  it('gives nothing for text without a Host block', () => {
    expect(parseSshConfig('')).to.deep.equal([]);
    expect(parseSshConfig('==> default: Machine not created\n')).to.deep.equal([]);
  });

  it('reports a Port that is not a port number, with its line', () => {
    expect(() => parseSshConfig('Host a\n  Port 70000\n')).to.throw(SshConfigSyntaxError, 'ssh-config line 2: Port "70000" is not a port number');
    expect(() => parseSshConfig('Host a\n  Port abc\n')).to.throw(SshConfigSyntaxError, 'line 2');
  });

  it('reports an unterminated quote, with its line', () => {
    expect(() => parseSshConfig('Host a\n  User u\n  IdentityFile "/k/a b\n')).to.throw(SshConfigSyntaxError, 'ssh-config line 3: unterminated quote');
  });

  it('refuses an endpoint without User or IdentityFile, naming the host', () => {
    expect(() => sshConfigEndpoints('Host a\n  IdentityFile /k\n')).to.throw('host a has no User');
    expect(() => sshConfigEndpoints('Host a\n  User u\n')).to.throw('host a has no IdentityFile');
  });
});

describe('remote command lines', () => {
  it('leaves plain words bare and single-quotes the rest', () => {
    expect(shellQuote('--data-dir=/var/lib/x')).to.equal('--data-dir=/var/lib/x');
    expect(shellQuote('')).to.equal("''");
    expect(shellQuote("it's")).to.equal(`'it'\\''s'`);
    expect(shellQuote('a b')).to.equal("'a b'");
  });

  it('hands every word to the program unchanged through a real sh -c', async () => {
    const words = ["it's", 'a  b', '$HOME', '`id`', '"q"', '', 'back\\slash', 'new\nline', '*', '~', 'a;b|c&d', '%s'];
    const r = await execa('sh', ['-c', `printf '[%s]' ${shellJoin(words)}`]);
    expect(r.stdout).to.equal(words.map((w) => `[${w}]`).join(''));
  });

  it('is the quoted argv for root', () => {
    expect(remoteCommand(['echo', 'a b'])).to.equal("echo 'a b'");
  });

  it('puts sudo -n first for a user who is not root (never a password prompt)', () => {
    expect(remoteCommand(['systemctl', 'restart', 'docker'], { sudo: true })).to.equal('sudo -n systemctl restart docker');
  });

  it('adds environment through env(1), inside sudo so it reaches the command', () => {
    expect(remoteCommand(['sh', '-c', 'echo $X'], { sudo: true, env: { X: 'a b' } })).to.equal("sudo -n env 'X=a b' sh -c 'echo $X'");
  });

  it('refuses an environment name that is not one', () => {
    expect(() => remoteCommand(['true'], { env: { 'A B': 'x' } })).to.throw('"A B" is not an environment variable name');
  });

  it('bounds the command with timeout(1) inside sudo, KILL 2 s after TERM', () => {
    expect(remoteCommand(['sleep', '10'], { sudo: true, timeoutMs: 1500 })).to.equal('sudo -n timeout -k 2 1.5 sleep 10');
    expect(formatSeconds(30_000)).to.equal('30');
    expect(() => remoteCommand(['true'], { timeoutMs: 0 })).to.throw('timeoutMs must be positive');
  });
});

/** A runner that answers from a script of results and records what it was asked to run. */
class RecordingRunner implements HostRunner {
  readonly calls: { argv: string[]; input?: string }[] = [];
  constructor(private readonly answer: (argv: readonly string[]) => Partial<ExecResult> = () => ({})) {}
  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], ...(options.input === undefined ? {} : { input: options.input }) });
    return { exitCode: 0, stdout: '', stderr: '', ...this.answer(argv) };
  }
}

describe('systemd services: generated unit text and commands (systemd itself is not run here: this machine has no systemd)', () => {
  const flags = ['--cluster-store=etcd://172.28.128.5:2379', '--cluster-advertise=172.28.128.6:2376', '--label=overlab.lab=tutorial'];

  it('names transient units overlab-<name>; the engine is docker.service', () => {
    expect(unitName('kv')).to.equal('overlab-kv.service');
    expect(unitName('dockerd')).to.equal('docker.service');
    expect(() => unitName('a b')).to.throw('not a valid unit name part');
  });

  it('writes a drop-in that clears ExecStart, then runs dockerd on fd:// and containerd with the lab flags', () => {
    const text = dockerDropIn(flags);
    const lines = text.split('\n').filter((l) => !l.startsWith('#'));
    expect(lines).to.deep.equal([
      '[Service]',
      'ExecStart=',
      'ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --cluster-store=etcd://172.28.128.5:2379 --cluster-advertise=172.28.128.6:2376 --label=overlab.lab=tutorial',
      '',
    ]);
    expect(text).not.to.match(/hosts/);
  });

  it('gives dockerd the engine environment (swarm tasks use the image the node has) as Environment= lines', () => {
    const text = dockerDropIn([], '/usr/bin/dockerd', { DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1', ODD: 'a b' });
    expect(text).to.include('[Service]\nEnvironment=DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1\nEnvironment="ODD=a b"\n');
  });

  it('uses the dockerd the host has', () => {
    expect(dockerDropIn([], '/usr/sbin/dockerd')).to.include('ExecStart=/usr/sbin/dockerd -H fd://');
  });

  it('escapes systemd specifiers and variables, and quotes words with blanks or quotes', () => {
    expect(systemdQuote('--label=a=b')).to.equal('--label=a=b');
    expect(systemdQuote('100%')).to.equal('100%%');
    expect(systemdQuote('$HOME')).to.equal('"$$HOME"');
    expect(systemdQuote('a b')).to.equal('"a b"');
    expect(systemdQuote('say "hi" \\o/')).to.equal('"say \\"hi\\" \\\\o/"');
  });

  it('runs a service as a transient unit that is collected when it stops, in its data folder', () => {
    expect(systemdRunArgv({ name: 'kv', argv: ['etcd', '--data-dir', '/var/lib/overlab/kv'] })).to.deep.equal([
      'systemd-run',
      '--unit=overlab-kv.service',
      '--collect',
      '--description=overlab kv',
      '--property=WorkingDirectory=/var/lib/overlab/kv',
      '--',
      'etcd',
      '--data-dir',
      '/var/lib/overlab/kv',
    ]);
  });

  it('start(kv): records the unit first, makes its data folder, clears an earlier instance, then systemd-run', async () => {
    const runner = new RecordingRunner();
    const recorded: unknown[] = [];
    const services = new SystemdServices('h1', runner, { record: (c) => recorded.push({ ...c, callsSoFar: runner.calls.length }) });
    await services.start({ name: 'kv', argv: ['etcd', '--name', 'x'] });
    expect(recorded).to.deep.equal([{ unit: 'overlab-kv.service', callsSoFar: 0 }]);
    expect(runner.calls.map((c) => c.argv)).to.deep.equal([
      ['mkdir', '-p', '/var/lib/overlab/kv'],
      ['sh', '-c', 'systemctl stop "$1" 2>/dev/null; systemctl reset-failed "$1" 2>/dev/null; true', 'reset', 'overlab-kv.service'],
      systemdRunArgv({ name: 'kv', argv: ['etcd', '--name', 'x'] }),
    ]);
  });

  it('start(dockerd): writes the drop-in with the flags (never daemon.json hosts), then daemon-reload and restart', async () => {
    const runner = new RecordingRunner((argv) => (argv.join(' ') === 'sh -c command -v dockerd' ? { stdout: '/usr/bin/dockerd\n' } : {}));
    const recorded: unknown[] = [];
    const services = new SystemdServices('h1', runner, { record: (c) => recorded.push(c) });
    await services.start({ name: 'dockerd', argv: ['dockerd', ...flags] });
    expect(recorded).to.deep.equal([{ dropIn: DOCKER_DROP_IN }]);
    expect(runner.calls).to.deep.equal([
      { argv: ['sh', '-c', 'command -v dockerd'] },
      { argv: ['sh', '-c', 'test ! -e "$1" || cat "$1"', 'read', '/etc/docker/daemon.json'] },
      { argv: ['sh', '-c', 'mkdir -p "$1" && cat > "$2"', 'write', '/etc/systemd/system/docker.service.d', '/etc/systemd/system/docker.service.d/overlab.conf'], input: dockerDropIn(flags) },
      { argv: ['sh', '-c', 'systemctl daemon-reload && { systemctl reset-failed docker.service || true; } && systemctl restart docker.service'] },
    ]);
    expect(runner.calls.filter((c) => c.argv.join(' ').includes('daemon.json')).map((c) => c.argv[2])).to.deep.equal(['test ! -e "$1" || cat "$1"']);
  });

  describe('start(dockerd) and the host\'s daemon.json', () => {
    const withDaemonJson = (text: string) =>
      new RecordingRunner((argv) => (argv.includes('/etc/docker/daemon.json') ? { stdout: text } : argv.join(' ') === 'sh -c command -v dockerd' ? { stdout: '/usr/bin/dockerd\n' } : {}));

    it('refuses a daemon.json that sets hosts or what the flags set, naming the keys, and writes no drop-in', async () => {
      const runner = withDaemonJson('{\n  "log-driver": "journald",\n  "hosts": ["tcp://0.0.0.0:2375"],\n  "cluster-store": "consul://x:8500"\n}\n');
      const recorded: unknown[] = [];
      const error = await new SystemdServices('h1', runner, { record: (c) => recorded.push(c) }).start({ name: 'dockerd', argv: ['dockerd', ...flags] }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(PrerequisiteError);
      expect((error as PrerequisiteError).message).to.equal(
        "/etc/docker/daemon.json on h1 sets hosts, cluster-store, which overlab passes as dockerd flags (hosts as the unit's -H fd://): dockerd refuses a setting given both ways",
      );
      expect((error as PrerequisiteError).hint).to.equal('Remove hosts, cluster-store from /etc/docker/daemon.json on h1, then run up again: the drop-in was not written.');
      expect(recorded).to.deep.equal([]);
      expect(runner.calls.map((c) => c.argv[2])).to.deep.equal(['command -v dockerd', 'test ! -e "$1" || cat "$1"']);
    });

    it('starts the engine when daemon.json sets other things only, leaving the file alone', async () => {
      const runner = withDaemonJson('{ "log-driver": "journald", "log-opts": { "labels": "overlab.lab" }, "storage-driver": "overlay2" }\n');
      await new SystemdServices('h1', runner).start({ name: 'dockerd', argv: ['dockerd', ...flags] });
      expect(runner.calls.map((c) => c.argv[2])).to.deep.equal([
        'command -v dockerd',
        'test ! -e "$1" || cat "$1"',
        'mkdir -p "$1" && cat > "$2"',
        'systemctl daemon-reload && { systemctl reset-failed docker.service || true; } && systemctl restart docker.service',
      ]);
    });

    it('maps each flag to its key: --label is labels, --cluster-store is cluster-store; hosts always conflicts', () => {
      const json = JSON.stringify({ labels: ['a=b'], 'cluster-advertise': 'x:2376', 'cluster-store': 'etcd://x:2379', hosts: ['unix:///var/run/docker.sock'], debug: true });
      expect(daemonJsonConflicts(json, flags)).to.deep.equal(['labels', 'cluster-advertise', 'cluster-store', 'hosts']);
      // Swarm mode passes labels only: a cluster-store there is not given twice.
      expect(daemonJsonConflicts(json, ['--label=overlab.lab=swarm'])).to.deep.equal(['labels', 'hosts']);
      expect(daemonJsonConflicts('{"storage-driver": "overlay2"}', ['--storage-driver=vfs'])).to.deep.equal(['storage-driver']);
      expect(daemonJsonConflicts('', flags)).to.deep.equal([]);
    });

    it('scans text that is not JSON for quoted keys, as dockerd would refuse it anyway', () => {
      expect(daemonJsonConflicts('{ "hosts": ["fd://"], "labels": [], }', flags)).to.deep.equal(['hosts', 'labels']);
    });

    it('fails with the command when daemon.json cannot be read', async () => {
      const runner = new RecordingRunner((argv) => (argv.includes('/etc/docker/daemon.json') ? { exitCode: 1, stderr: 'cat: /etc/docker/daemon.json: Permission denied\n' } : {}));
      const error = await new SystemdServices('h1', runner).start({ name: 'dockerd', argv: ['dockerd'] }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CommandFailedError);
      expect((error as CommandFailedError).message).to.include('Permission denied');
      expect(runner.calls).to.have.lengthOf(2);
    });
  });

  describe('start(dockerd) of an engine tree (engine.source debian, static, ...)', () => {
    const TREE = '/root/.cache/overlab/engines/debian-28.5.2/bin';
    const spec = () => engineServiceSpec({ providerFlags: [], daemon: { labels: { 'overlab.lab': 'swarm' } } as never, treeBin: TREE });

    it("starts the tree's containerd as overlab-containerd beside the host's, waits for its socket, then runs the tree's dockerd on it with a data root of its own", async () => {
      const runner = new RecordingRunner((argv) => (argv[0] === 'systemctl' && argv[1] === 'is-active' ? { exitCode: 3 } : {}));
      const recorded: unknown[] = [];
      await new SystemdServices('h1', runner, { record: (c) => recorded.push(c) }).start(spec());
      const path = spec().env!['PATH']!;
      // The tree, then the system's folders: never this process's PATH (npm's node_modules/.bin means nothing on a VM).
      expect(path).to.equal(`${TREE}:${SYSTEM_PATH}`);
      expect(recorded).to.deep.equal([{ unit: 'overlab-containerd.service' }, { dropIn: DOCKER_DROP_IN }]);
      const argvs = runner.calls.map((c) => c.argv);
      expect(argvs).to.deep.include(['systemctl', 'is-active', '--quiet', 'overlab-containerd.service']);
      const write = runner.calls.find((c) => c.argv.includes(TREE_CONTAINERD_CONFIG))!;
      expect(write.input).to.equal(treeContainerdConfig());
      expect(argvs).to.deep.include(systemdRunArgv({ name: 'containerd', argv: [`${TREE}/containerd`, '--config', TREE_CONTAINERD_CONFIG], env: { PATH: path } }));
      expect(argvs).to.deep.include(waitForSocketArgv(TREE_CONTAINERD_SOCKET));
      // The host's dockerd is not looked up: the tree's runs.
      expect(argvs).not.to.deep.include(['sh', '-c', 'command -v dockerd']);
      const dropIn = runner.calls.find((c) => c.argv.includes(DOCKER_DROP_IN))!.input!;
      expect(dropIn).to.include(`ExecStart=${TREE}/dockerd -H fd:// --containerd=${TREE_CONTAINERD_SOCKET} --data-root=/var/lib/overlab/docker --label=overlab.lab=swarm`);
      expect(dropIn).to.include(`Environment=PATH=${path}`);
      // Order: containerd listens before docker.service restarts.
      const at = (pred: (a: string[]) => boolean) => argvs.findIndex(pred);
      expect(at((a) => a[0] === 'systemd-run')).to.be.below(at((a) => a.includes(TREE_CONTAINERD_SOCKET)));
      expect(at((a) => a.includes(TREE_CONTAINERD_SOCKET))).to.be.below(at((a) => String(a[2]).includes('systemctl restart')));
    });

    it("keeps a running tree containerd (an engine a fault restarts): only the drop-in and the restart again", async () => {
      const runner = new RecordingRunner();
      await new SystemdServices('h1', runner).start(spec());
      expect(runner.calls.some((c) => c.argv[0] === 'systemd-run')).to.equal(false);
      expect(runner.calls.some((c) => c.argv.includes(TREE_CONTAINERD_SOCKET))).to.equal(true);
    });

    it('fails naming the socket and quoting the journal when the tree containerd never listens', async () => {
      const runner = new RecordingRunner((argv) => {
        if (argv[0] === 'systemctl' && argv[1] === 'is-active') return { exitCode: 3 };
        if (argv.includes(TREE_CONTAINERD_SOCKET)) return { exitCode: 1 };
        if (argv[0] === 'journalctl') return { stdout: 'containerd: failed to load TOML: invalid version\n' };
        return {};
      });
      const error = await new SystemdServices('h1', runner).start(spec()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(CommandFailedError);
      expect(String((error as Error).message)).to.include(`made no socket ${TREE_CONTAINERD_SOCKET}`).and.include('invalid version');
      expect(runner.calls.some((c) => c.argv.includes(DOCKER_DROP_IN))).to.equal(false);
    });

    it('passes a service environment to systemd-run as --setenv', () => {
      expect(systemdRunArgv({ name: 'containerd', argv: ['/t/containerd'], env: { PATH: '/t:/usr/bin' } })).to.include('--setenv=PATH=/t:/usr/bin');
    });
  });

  it('start(dockerd): a failed restart is a CommandFailedError carrying the journal', async () => {
    const runner = new RecordingRunner((argv) => {
      if (argv[0] === 'sh' && String(argv[2]).includes('systemctl restart')) return { exitCode: 1, stderr: 'Job for docker.service failed because the control process exited with error code.\n' };
      if (argv[0] === 'journalctl') return { stdout: 'unknown flag: --cluster-stor\n' };
      return {};
    });
    const error = await new SystemdServices('h1', runner).start({ name: 'dockerd', argv: ['dockerd', '--cluster-stor=x'] }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(CommandFailedError);
    expect((error as CommandFailedError).host).to.equal('h1');
    expect((error as CommandFailedError).message).to.include('systemctl restart docker.service').and.include('Job for docker.service failed').and.include('unknown flag: --cluster-stor');
  });

  it('isRunning is `systemctl is-active --quiet UNIT`', async () => {
    const runner = new RecordingRunner((argv) => ({ exitCode: argv.includes('overlab-kv.service') ? 0 : 3 }));
    const services = new SystemdServices('h1', runner);
    expect(await services.isRunning('kv')).to.equal(true);
    expect(await services.isRunning('dockerd')).to.equal(false);
    expect(runner.calls.map((c) => c.argv)).to.deep.equal([
      ['systemctl', 'is-active', '--quiet', 'overlab-kv.service'],
      ['systemctl', 'is-active', '--quiet', 'docker.service'],
    ]);
  });

  it('stop(dockerd) stops docker.socket too (socket activation would start it again)', async () => {
    const runner = new RecordingRunner();
    await new SystemdServices('h1', runner).stop('dockerd');
    await new SystemdServices('h1', runner).stop('kv');
    expect(runner.calls.map((c) => c.argv)).to.deep.equal([
      ['systemctl', 'stop', 'docker.service', 'docker.socket'],
      ['systemctl', 'stop', 'overlab-kv.service'],
    ]);
  });

  it('reads logs from the unit journal, since this manager started the service', async () => {
    const runner = new RecordingRunner((argv) => (argv[0] === 'journalctl' ? { stdout: 'panic: boom\n' } : {}));
    const services = new SystemdServices('h1', runner);
    expect(await services.readLog('kv')).to.equal('panic: boom\n');
    expect(runner.calls.at(-1)!.argv).to.deep.equal(journalArgv('overlab-kv.service'));
    const before = Math.floor(Date.now() / 1000);
    await services.start({ name: 'kv', argv: ['etcd'] });
    await services.readLog('kv');
    const since = Number(runner.calls.at(-1)!.argv.at(-1)!.replace('--since=@', ''));
    expect(since).to.be.within(before, before + 2);
    expect(services.logFile('dockerd')).to.equal('journalctl -u docker.service on h1');
    expect(services.dataDir('kv')).to.equal('/var/lib/overlab/kv');
  });
});

describe('ssh provider: the key of a host', () => {
  const plan = { file: '/labs/mine/lab.yaml' } as Plan;
  const host = (key?: string) => ({ name: 'h1', ssh: { address: '10.0.0.1', user: 'root', port: 22, ...(key ? { key } : {}) } }) as HostPlan;

  it('takes ssh.key relative to the lab file, or with ~ expanded, or as an absolute path', () => {
    expect(keyFor(plan, host('keys/id'), '/home/me')).to.equal('/labs/mine/keys/id');
    expect(keyFor(plan, host('~/.ssh/lab'), '/home/me')).to.equal('/home/me/.ssh/lab');
    expect(keyFor(plan, host('/k/id'), '/home/me')).to.equal('/k/id');
  });

  it("falls back to the user's default key, and says which keys it looked for when there is none", () => {
    const home = mkdtempSync(join(tmpdir(), 'overlab-unit-home-'));
    try {
      expect(() => keyFor(plan, host(), home)).to.throw(PrerequisiteError, 'host h1 has no ssh.key and there is no default key (~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa)');
      mkdirSync(join(home, '.ssh'));
      writeFileSync(join(home, '.ssh', 'id_rsa'), '');
      expect(keyFor(plan, host(), home)).to.equal(join(home, '.ssh', 'id_rsa'));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
