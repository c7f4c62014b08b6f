// Provisioning scripts as text: what each host's script contains, the dockerd drop-in, the KV
// units, `up --dry-run` lines, provisionHost over a fake runner, and every script generated for
// every shipped lab (each host, install method, mode and KV variant) through real shellcheck
// and `bash -n`. Running the scripts is provision-run.spec.ts.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandFailedError, TimeoutError, UsageError } from '../../harness/errors.ts';
import { EventLog, silentEvents } from '../../harness/events.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { EngineInstall, EngineMode, Plan } from '../../harness/lab/types.ts';
import type { ExecOptions, ExecResult, HostAccess, ProviderContext } from '../../harness/providers/provider.ts';
import { DOCKER_DROP_IN, dockerDropIn, hostDaemonFlags } from '../../harness/provision/daemon.ts';
import { installMethod } from '../../harness/provision/engine.ts';
import {
  describeProvisioning,
  parseProvisionOutcome,
  provisionHost,
  provisionScript,
  PROVISION_TIMEOUT_MS,
  type ProvisionOptions,
} from '../../harness/provision/index.ts';
import { consulContainerArgs, kvUnit, zookeeperConfig } from '../../harness/provision/kv.ts';
import { shq } from '../../harness/provision/shell.ts';
import { systemdQuote } from '../../harness/quote.ts';
import { StateStore, type LabState } from '../../harness/state/store.ts';

const LABS_DIR = new URL('../../labs/', import.meta.url);
const shippedLabs = readdirSync(LABS_DIR).filter((f) => f.endsWith('.yaml')).sort();

/** The plan with another install method, and (from kv) swarm mode: no KV store, no cluster flags. */
function variant(plan: Plan, install: EngineInstall, mode: EngineMode): Plan {
  const p: Plan = structuredClone(plan);
  p.engine.install = install;
  if (mode === 'swarm' && p.mode === 'kv') {
    p.mode = 'swarm';
    p.kv = undefined;
    for (const h of p.hosts) if (h.daemon) h.daemon = { ...h.daemon, clusterStore: undefined, clusterAdvertise: undefined };
  }
  return p;
}

describe('provisioning scripts', () => {
  let tutorial: Plan;
  let swarm: Plan;
  const host = (plan: Plan, name: string) => plan.hosts.find((h) => h.name === name)!;

  before(async () => {
    tutorial = planLab(await loadLab('labs/tutorial.yaml'));
    swarm = planLab(await loadLab('labs/swarm.yaml'));
  });

  describe('the script of a host', () => {
    it('is a bash script with a header naming host and lab, that stops on the first error', () => {
      const lines = provisionScript(tutorial, 'mhs-demo0').split('\n');
      expect(lines.slice(0, 5)).to.deep.equal([
        '#!/usr/bin/env bash',
        '# overlab provisioning of host mhs-demo0 (docker, 172.28.128.6) of lab tutorial (labs/tutorial.yaml): Docker engine and dockerd flags.',
        '# Generated from the lab; run as root with `bash -s`. A second run changes nothing.',
        'set -euo pipefail',
        'shopt -s inherit_errexit',
      ]);
      expect(lines).to.include.members(['OVERLAB_LAB=tutorial', 'OVERLAB_HOST=mhs-demo0', 'require_host']);
    });

    it('as providers run it (install only), writes no drop-in and starts no KV store: the service manager does', () => {
      const steps = (host: string) => {
        const s = provisionScript(tutorial, host, { startServices: false, consul: 'apt' });
        return s.slice(s.indexOf('# --- provisioning'));
      };
      expect(steps('mhs-demo0')).to.include('\ninstall_engine_apt 20.10 kv\n');
      expect(steps('mhs-demo0')).not.to.include('configure_dockerd');
      expect(steps('mh-keystore')).to.include('apt_install consul');
      expect(steps('mh-keystore')).to.include('ensure_package etcd-server');
      expect(steps('mh-keystore')).not.to.match(/kv_unit|kv_consul_container/);
      expect(describeProvisioning(tutorial, 'mhs-demo0', { startServices: false })).to.not.include('systemctl daemon-reload && systemctl restart docker');
    });

    it('installs the engine per the plan on a docker host, and no KV store', () => {
      const s = provisionScript(tutorial, 'mhs-demo0');
      expect(s).to.include('\ninstall_engine_apt 20.10 kv\nallow_login_user\nengine_outcome 20.10 kv\n');
      expect(s).to.include('\nconfigure_dockerd "$systemd_units/docker.service.d/overlab.conf" ');
      expect(s).not.to.include('# --- kv.sh');
      expect(s).not.to.match(/^kv_\w+\(\)/m);
    });

    it('sets up the KV store on the kv host, preferred store first, and no engine', () => {
      const s = provisionScript(tutorial, 'mh-keystore');
      expect(s).to.include('\nkv_consul() {\n  require_address 172.28.128.5\n  ensure_busybox\n  ensure_docker\n');
      expect(s).to.include('\nkv_etcd() {\n  require_address 172.28.128.5\n');
      expect(s).to.include('\nfor kv_try in consul etcd; do\n');
      expect(s).not.to.include('install_engine_');
      expect(s).not.to.include('configure_dockerd "');
    });

    it('passes each install method to the engine section', () => {
      expect(provisionScript(variant(tutorial, 'distro', 'kv'), 'mhs-demo0')).to.include('\ninstall_engine_distro kv\n');
      expect(provisionScript(variant(tutorial, 'preinstalled', 'kv'), 'mhs-demo0')).to.include('\ncheck_engine_preinstalled\nallow_login_user\nengine_outcome 20.10 kv\n');
      expect(provisionScript(swarm, 'worker')).to.include('\ninstall_engine_apt 20.10 swarm\nallow_login_user\nengine_outcome 20.10 swarm\n');
    });

    it('reads engine.version "distro" as the distribution\'s docker.io', () => {
      const p = structuredClone(tutorial);
      p.engine.version = 'distro';
      expect(installMethod(p)).to.equal('distro');
      expect(provisionScript(p, 'mhs-demo0')).to.include('\ninstall_engine_distro kv\nallow_login_user\nengine_outcome distro kv\n');
    });

    it('names the lab\'s hosts when asked for one it does not have', () => {
      expect(() => provisionScript(tutorial, 'nope')).to.throw(UsageError, 'lab tutorial has no host nope; its hosts are mh-keystore, mhs-demo0, mhs-demo1');
    });
  });

  describe('the dockerd drop-in', () => {
    it('clears ExecStart, then runs dockerd on fd:// and the system containerd with the plan\'s flags', () => {
      const h = host(tutorial, 'mhs-demo0');
      expect(dockerDropIn(tutorial, h, hostDaemonFlags(h))).to.equal(
        [
          "# Written by overlab for host mhs-demo0 of lab tutorial: dockerd with the lab's flags.",
          '[Service]',
          'ExecStart=',
          'ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --cluster-store=consul://172.28.128.5:8500 ' +
            '--cluster-advertise=172.28.128.6:2376 --label=overlab.lab=tutorial --label=overlab.host=mhs-demo0',
        ].join('\n'),
      );
    });

    it('advertises each host by its own private address', () => {
      for (const name of ['mhs-demo0', 'mhs-demo1']) {
        const h = host(tutorial, name);
        expect(dockerDropIn(tutorial, h, hostDaemonFlags(h))).to.include(` --cluster-advertise=${h.address}:2376 `);
      }
    });

    it('uses the KV store actually chosen, and the provider\'s flags first', () => {
      const h = host(tutorial, 'mhs-demo1');
      const text = dockerDropIn(tutorial, h, hostDaemonFlags(h, { kv: tutorial.kv!.candidates[1]!, engineFlags: ['--storage-driver=overlay2'] }));
      expect(text).to.include('--containerd=/run/containerd/containerd.sock --storage-driver=overlay2 --cluster-store=etcd://172.28.128.5:2379 ');
    });

    it('has no cluster flags in swarm mode', () => {
      const h = host(swarm, 'manager');
      expect(dockerDropIn(swarm, h, hostDaemonFlags(h)).split('\n').pop()).to.equal(
        'ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --label=overlab.lab=swarm --label=overlab.host=manager',
      );
    });

    it('never sets hosts in daemon.json, and never writes daemon.json', () => {
      for (const file of shippedLabs) {
        const plan = planLab(parseLab(readFileSync(new URL(file, LABS_DIR), 'utf8'), `labs/${file}`));
        for (const h of plan.hosts.filter((x) => x.daemon)) {
          const s = provisionScript(plan, h.name);
          expect(s, `${file} ${h.name}`).not.to.match(/\bhosts\b["']?\s*:/);
          expect(s).not.to.match(/(>|write_file|tee|cp|mv|install)[^\n]*daemon\.json/);
          expect(s).not.to.match(/write_file "\$docker_daemon_json"/);
        }
      }
    });

    it('is written at the unit\'s drop-in folder', () => {
      expect(DOCKER_DROP_IN).to.equal('/etc/systemd/system/docker.service.d/overlab.conf');
    });

    it('quotes systemd arguments: % and $ doubled, blanks and quotes inside double quotes', () => {
      expect(systemdQuote('--label=overlab.lab=tutorial')).to.equal('--label=overlab.lab=tutorial');
      expect(systemdQuote('50%')).to.equal('50%%');
      expect(systemdQuote('$HOME')).to.equal('"$$HOME"');
      expect(systemdQuote('--label=a b')).to.equal('"--label=a b"');
      expect(systemdQuote('say "hi"')).to.equal('"say \\"hi\\""');
    });

    it('survives bash quoting of the drop-in text', () => {
      expect(shq("lab's")).to.equal(`'lab'\\''s'`);
      const out = spawnSync('bash', ['-c', `printf '%s' ${shq("it's a $test `x`")}`], { encoding: 'utf8' }).stdout;
      expect(out).to.equal("it's a $test `x`");
    });
  });

  describe('the KV store', () => {
    it('runs the hashicorp/consul image with the plan\'s flags, leaving -data-dir to the image\'s entrypoint', () => {
      expect(consulContainerArgs(tutorial.kv!.candidates[0]!)).to.deep.equal([
        'agent', '-server', '-bootstrap-expect=1', '-node=mh-keystore', '-bind=172.28.128.5', '-client=172.28.128.5', '-http-port=8500',
      ]);
    });

    it('runs etcd with its v2 API, bound to the kv host\'s address, as a unit that retries until the address is up', () => {
      const unit = kvUnit(tutorial, tutorial.kv!.candidates[1]!);
      expect(unit).to.include(
        '\nExecStart=/usr/bin/etcd --name=mh-keystore --data-dir=/var/lib/overlab/etcd --enable-v2=true --listen-client-urls=http://172.28.128.5:2379 ' +
          '--advertise-client-urls=http://172.28.128.5:2379 --listen-peer-urls=http://172.28.128.5:2380 --initial-advertise-peer-urls=http://172.28.128.5:2380 ' +
          '--initial-cluster=mh-keystore=http://172.28.128.5:2380\n',
      );
      expect(unit).to.include('\nRestart=on-failure\nRestartSec=2\n');
      expect(unit).to.include('\nWantedBy=multi-user.target');
    });

    it('configures ZooKeeper from the plan\'s settings', () => {
      const zk = planLab(parseLab('name: zk\nhosts:\n  - name: keeper\n    role: kv\n  - name: h1\nkv:\n  type: zookeeper\n  port: 2182\n', 'zk.yaml'));
      expect(zookeeperConfig(zk.kv!.candidates[0]!)).to.equal(
        `tickTime=2000\nclientPortAddress=${zk.kv!.address}\nclientPort=2182\ndataDir=/var/lib/overlab/zookeeper`,
      );
    });
  });

  describe('describeProvisioning (up --dry-run)', () => {
    it('lists the pinned install and the drop-in of a docker host', () => {
      const lines = describeProvisioning(tutorial, 'mhs-demo0');
      expect(lines).to.include('apt-get install -y docker-ce=$V docker-ce-cli=$V containerd.io');
      expect(lines).to.include('# kv mode: refuse an engine of 23.0 or newer (--cluster-store was removed in 23.0)');
      expect(lines).to.include(
        '#   ExecStart=/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock --cluster-store=consul://172.28.128.5:8500 ' +
          '--cluster-advertise=172.28.128.6:2376 --label=overlab.lab=tutorial --label=overlab.host=mhs-demo0',
      );
      expect(lines.at(-1)).to.equal('systemctl daemon-reload && systemctl restart docker');
    });

    it('lists the KV store and its fallback on the kv host', () => {
      const lines = describeProvisioning(tutorial, 'mh-keystore');
      expect(lines[0]).to.equal('# KV store: consul on 172.28.128.5');
      expect(lines[1]).to.equal(
        'docker run -d --name overlab-consul --restart unless-stopped --net host -v /var/lib/overlab/consul:/consul/data hashicorp/consul ' +
          'agent -server -bootstrap-expect=1 -node=mh-keystore -bind=172.28.128.5 -client=172.28.128.5 -http-port=8500',
      );
      expect(lines).to.include('# if consul cannot be set up: etcd');
      expect(lines).to.include('systemctl enable --now overlab-etcd');
    });

    it('lists docker.io for the distro method, and only a version check for preinstalled', () => {
      expect(describeProvisioning(variant(tutorial, 'distro', 'kv'), 'mhs-demo0')).to.include('apt-get install -y docker.io');
      const pre = describeProvisioning(variant(swarm, 'preinstalled', 'swarm'), 'worker');
      expect(pre.slice(0, 2)).to.deep.equal(['# engine: already installed', 'dockerd --version']);
      expect(pre.join('\n')).not.to.include('apt-get');
    });
  });

  describe('provisionHost', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'overlab-provision-state-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    function ctxWith(state?: Partial<LabState>, events = new EventLog()): ProviderContext & { events: EventLog } {
      const store = new StateStore(dir);
      if (state) store.write({ version: 1, lab: 'tutorial', provider: 'vagrant', file: 'labs/tutorial.yaml', phase: 'creating', createdAt: '', updatedAt: '', hosts: {}, resources: {}, ...state });
      return { store, events, signal: new AbortController().signal };
    }

    function access(name: string, reply: ExecResult, calls: { argv: readonly string[]; options?: ExecOptions }[]): HostAccess {
      return {
        name,
        address: '',
        runner: {
          exec: async (argv, options) => {
            calls.push({ argv, ...(options ? { options } : {}) });
            return reply;
          },
        },
        services: undefined as never,
        ssh: undefined,
        engine: undefined,
        engineFlags: ['--storage-driver=overlay2'],
      };
    }

    it('pipes the host\'s script to bash as root, keeps script and output, and returns the engine version', async () => {
      const calls: { argv: readonly string[]; options?: ExecOptions }[] = [];
      const ctx = ctxWith();
      const outcome = await provisionHost(tutorial, access('mhs-demo0', { exitCode: 0, stdout: 'overlab: engine=20.10.24\n', stderr: 'overlab[mhs-demo0]: done\n' }, calls), ctx);
      expect(outcome).to.equal('Docker 20.10.24');
      expect(calls).to.have.lengthOf(1);
      expect(calls[0]!.argv).to.deep.equal(['bash', '-s']);
      expect(calls[0]!.options!.timeoutMs).to.equal(PROVISION_TIMEOUT_MS);
      const expected = provisionScript(tutorial, 'mhs-demo0', { engineFlags: ['--storage-driver=overlay2'] });
      expect(calls[0]!.options!.input).to.equal(expected);
      expect(readFileSync(join(dir, 'provision/mhs-demo0.sh'), 'utf8')).to.equal(expected);
      expect(readFileSync(join(dir, 'logs/mhs-demo0.provision.log'), 'utf8')).to.include('overlab: engine=20.10.24');
      expect(ctx.events.events).to.deep.equal([{ type: 'command', host: 'mhs-demo0', command: `bash -s < ${join(dir, 'provision/mhs-demo0.sh')}` }]);
    });

    it("appends to the host's provisioning log, keeping what the runner wrote there", async () => {
      mkdirSync(join(dir, 'logs'), { recursive: true });
      writeFileSync(join(dir, 'logs/mhs-demo0.provision.log'), '$ sudo -n bash -s (streamed by the runner)\n');
      await provisionHost(tutorial, access('mhs-demo0', { exitCode: 0, stdout: 'overlab: engine=20.10.24\n', stderr: '' }, []), ctxWith());
      const log = readFileSync(join(dir, 'logs/mhs-demo0.provision.log'), 'utf8');
      expect(log.startsWith('$ sudo -n bash -s (streamed by the runner)\n--- ')).to.equal(true);
      expect(log.endsWith('overlab: engine=20.10.24\n--- exit 0\n')).to.equal(true);
    });

    it('points dockerd at the KV store the lab state says was chosen', async () => {
      const calls: { argv: readonly string[]; options?: ExecOptions }[] = [];
      const ctx = ctxWith({ kv: { type: 'etcd', clusterStore: 'etcd://172.28.128.5:2379' } });
      await provisionHost(tutorial, access('mhs-demo1', { exitCode: 0, stdout: '', stderr: '' }, calls), ctx);
      expect(calls[0]!.options!.input).to.include('--cluster-store=etcd://172.28.128.5:2379 ');
    });

    it("says when the kv host runs the lab's fallback", async () => {
      const outcome = await provisionHost(tutorial, access('mh-keystore', { exitCode: 0, stdout: 'overlab: kv=etcd\n', stderr: '' }, []), ctxWith());
      expect(outcome).to.equal("etcd (the lab's fallback)");
      expect(parseProvisionOutcome('noise\noverlab: engine=20.10.24\noverlab: kv=consul\n')).to.deep.equal({ engine: '20.10.24', kv: 'consul' });
    });

    it('throws CommandFailedError with the command, exit code, output tail and log file', async () => {
      const stderr = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n') + "\noverlab[mhs-demo0]: error: Docker's apt repository has no docker-ce 20.10 for ubuntu noble\n";
      const err = await provisionHost(tutorial, access('mhs-demo0', { exitCode: 1, stdout: '', stderr }, []), ctxWith()).then(
        () => expect.fail('provisioning should fail'),
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(CommandFailedError);
      const e = err as CommandFailedError;
      expect(e.host).to.equal('mhs-demo0');
      expect(e.commandExitCode).to.equal(1);
      expect(e.command).to.equal(`bash -s < ${join(dir, 'provision/mhs-demo0.sh')}`);
      expect(e.message).to.match(/^command failed on mhs-demo0 \(exit 1\): bash -s < /);
      expect(e.message).to.include("error: Docker's apt repository has no docker-ce 20.10 for ubuntu noble");
      expect(e.message).not.to.include('line 5\n');
      expect(e.hint).to.include(join(dir, 'logs/mhs-demo0.provision.log'));
      expect(existsSync(join(dir, 'logs/mhs-demo0.provision.log'))).to.equal(true);
    });

    it('throws TimeoutError when the runner killed the script', async () => {
      const err = await provisionHost(tutorial, access('mhs-demo0', { exitCode: 124, stdout: '', stderr: '' }, []), ctxWith(), { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(TimeoutError);
      expect((err as Error).message).to.include('provisioning mhs-demo0 did not finish within 5 s');
    });

    it('runs nothing once the run is interrupted', async () => {
      const calls: { argv: readonly string[] }[] = [];
      const ac = new AbortController();
      ac.abort();
      const ctx = { store: new StateStore(dir), events: silentEvents, signal: ac.signal };
      await provisionHost(tutorial, access('mhs-demo0', { exitCode: 0, stdout: '', stderr: '' }, calls), ctx).catch(() => undefined);
      expect(calls).to.deep.equal([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// shellcheck and bash -n over every generated script

interface Finding {
  file: string;
  line: number;
  code: number;
  level: string;
  message: string;
}

const SHELLCHECK = '/usr/bin/shellcheck';

function requireShellcheck(): string {
  const found = existsSync(SHELLCHECK) ? SHELLCHECK : spawnSync('bash', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('shellcheck is not installed: run scripts/setup-host.sh (it installs shellcheck), then run the tests again');
  return found;
}

/** Every finding of shellcheck (all severities, style included) on the files, in one run. */
function shellcheck(files: string[]): Finding[] {
  const r = spawnSync(requireShellcheck(), ['--shell=bash', '--severity=style', '--format=json1', ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`shellcheck failed to run (exit ${r.status}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { comments: Finding[] }).comments;
}

function bashSyntax(file: string): string | undefined {
  const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  return r.status === 0 ? undefined : r.stderr.trim() || `bash -n exit ${r.status}`;
}

const lineOf = (file: string, text: string) => readFileSync(file, 'utf8').split('\n').indexOf(text) + 1;
const format = (f: Finding) => `${f.file}:${f.line}: SC${f.code} (${f.level}) ${f.message}`;

interface Generated {
  title: string;
  file: string;
}

describe('every generated provisioning script passes shellcheck and bash -n', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'overlab-shellcheck-'));
  const generated: Generated[] = [];
  let findings: Finding[] = [];

  function add(title: string, plan: Plan, hostName: string, options: ProvisionOptions = {}) {
    const file = join(dir, `${generated.length}.sh`);
    writeFileSync(file, provisionScript(plan, hostName, options));
    generated.push({ title, file });
  }

  before(async () => {
    requireShellcheck(); // fail, never skip, when shellcheck is missing
    for (const file of shippedLabs) {
      const base = planLab(await loadLab(`labs/${file}`));
      const modes: EngineMode[] = base.kv ? ['kv', 'swarm'] : [base.mode];
      for (const install of ['apt', 'distro', 'preinstalled'] as const) {
        for (const mode of modes) {
          const plan = variant(base, install, mode);
          for (const h of plan.hosts) add(`${file} ${h.name} (${h.role}) install ${install}, mode ${mode}`, plan, h.name);
          for (const h of plan.hosts) add(`${file} ${h.name} install ${install}, mode ${mode}: install only, as providers run it`, plan, h.name, { startServices: false, consul: 'apt' });
        }
      }
      if (base.kv) {
        const kvHost = base.kv.host;
        add(`${file} ${kvHost}: consul from HashiCorp's apt repository`, base, kvHost, { consul: 'apt' });
        add(`${file} ${kvHost}: install only`, base, kvHost, { startKv: false });
        add(`${file} ${kvHost}: consul from apt, install only`, base, kvHost, { consul: 'apt', startKv: false });
      }
    }
    for (const type of ['zookeeper', 'etcd'] as const) {
      const plan = planLab(parseLab(`name: kv-${type}\nhosts:\n  - name: store\n    role: kv\n  - name: h1\nkv:\n  type: ${type}\n  fallback: consul\n`, 'kv.yaml'));
      for (const h of plan.hosts) add(`kv.type ${type} with fallback consul: ${h.name}`, plan, h.name);
    }
    const quirky = planLab(parseLab("name: quirky\ndescription: it's a lab\nhosts:\n  - name: kv\n    role: kv\n  - name: h1\n", "lab's file.yaml"));
    for (const h of quirky.hosts) add(`a lab whose file name has a quote: ${h.name}`, quirky, h.name);
    findings = shellcheck(generated.map((g) => g.file));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('covers every shipped lab, host, install method and mode', () => {
    // 3 labs with a kv host x 3 hosts x 3 methods x 2 modes, the swarm lab's 2 hosts x 3 methods, and variants.
    expect(generated.length).to.be.greaterThan(3 * 3 * 3 * 2 + 2 * 3);
  });

  it('finds nothing in any of them (shellcheck, every severity)', () => {
    const byTitle = findings.map((f) => `${generated.find((g) => g.file === f.file)?.title}: ${format(f)}`);
    expect(byTitle).to.deep.equal([]);
  });

  it('parses every one with bash -n', () => {
    const bad = generated.map((g) => [g.title, bashSyntax(g.file)] as const).filter(([, e]) => e !== undefined);
    expect(bad).to.deep.equal([]);
  });

  it('passes on scripts/build-box.sh too', () => {
    const script = new URL('../../scripts/build-box.sh', import.meta.url).pathname;
    expect(shellcheck([script]).map(format)).to.deep.equal([]);
    expect(bashSyntax(script)).to.equal(undefined);
  });

  describe('the check itself can fail', () => {
    it('shellcheck reports an unquoted expansion added to a real script', () => {
      const file = join(dir, 'broken.sh');
      writeFileSync(file, provisionScript(tutorial0(), 'mhs-demo0').replace('require_host\n', 'require_host\nread -r line\nrm -f $line\n'));
      expect(shellcheck([file]).map((f) => `SC${f.code} line ${f.line}`)).to.deep.equal([`SC2086 line ${lineOf(file, 'rm -f $line')}`]);
    });

    it('bash -n reports a script cut short', () => {
      const file = join(dir, 'cut.sh');
      const s = provisionScript(tutorial0(), 'mh-keystore');
      writeFileSync(file, s.slice(0, s.indexOf('\ndone\n')));
      expect(bashSyntax(file)).to.match(/syntax error|unexpected end of file/);
    });
  });

  let cached: Plan | undefined;
  function tutorial0(): Plan {
    cached ??= planLab(parseLab(readFileSync(new URL('tutorial.yaml', LABS_DIR), 'utf8'), 'labs/tutorial.yaml'));
    return cached;
  }
});
