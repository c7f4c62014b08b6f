// Provisioning scripts as text: what each host's script contains (it installs only: nothing
// started, no drop-in, no daemon.json), the KV candidates tried in order, `up --dry-run` lines,
// provisionHost over a fake runner, and every script generated for every shipped lab (each
// host, install method, mode and KV variant) through real shellcheck and `bash -n`. Running
// the scripts is provision-run.spec.ts.
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
import type { ExecOptions, ExecResult, HostAccess } from '../../harness/host.ts';
import type { LabContext } from '../../harness/state/lab-context.ts';
import { installMethod } from '../../harness/provision/engine.ts';
import {
  describeProvisioning,
  parseProvisionOutcome,
  provisionHost,
  provisionScript,
  PROVISION_TIMEOUT_MS,
} from '../../harness/provision/index.ts';
import { shellQuote } from '../../harness/quote.ts';
import { StateStore, type LabState } from '../../harness/state/store.ts';

const LABS_DIR = new URL('../../labs/', import.meta.url);
const shippedLabs = readdirSync(LABS_DIR).filter((f) => f.endsWith('.yaml')).sort();
const shippedPlan = (file: string) => planLab(parseLab(readFileSync(new URL(file, LABS_DIR), 'utf8'), `labs/${file}`));
const INSTALLS: EngineInstall[] = ['apt', 'distro', 'preinstalled'];

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

/** Every shipped lab in each of its modes and install methods. */
function everyVariant(): { title: string; plan: Plan }[] {
  return shippedLabs.flatMap((file) => {
    const base = shippedPlan(file);
    const modes: EngineMode[] = base.kv ? ['kv', 'swarm'] : [base.mode];
    return modes.flatMap((mode) => INSTALLS.map((install) => ({ title: `${file}, mode ${mode}, engine.install ${install}`, plan: variant(base, install, mode) })));
  });
}

/** The lines after the libraries: the steps this host runs. */
const steps = (script: string) => script.slice(script.indexOf('# --- provisioning\n'));
const kvLab = (type: string, fallback?: string) =>
  planLab(parseLab(`name: kv-${type}\nhosts:\n  - name: store\n    role: kv\n    address: 172.28.128.9\n  - name: h1\nkv:\n  type: ${type}\n${fallback ? `  fallback: ${fallback}\n` : ''}`, 'kv.yaml'));

describe('provisioning scripts', () => {
  let tutorial: Plan;
  let swarm: Plan;

  before(async () => {
    tutorial = planLab(await loadLab('labs/tutorial.yaml'));
    swarm = planLab(await loadLab('labs/swarm.yaml'));
  });

  describe('the script of a host', () => {
    it('is a bash script with a header naming host and lab, that stops on the first error', () => {
      const lines = provisionScript(tutorial, 'mhs-demo0').split('\n');
      expect(lines.slice(0, 5)).to.deep.equal([
        '#!/usr/bin/env bash',
        '# overlab provisioning of host mhs-demo0 (docker, 172.28.128.6) of lab tutorial (labs/tutorial.yaml): Docker engine.',
        '# Generated from the lab; run as root with `bash -s`. Installs only; a second run changes nothing.',
        'set -euo pipefail',
        'shopt -s inherit_errexit',
      ]);
      expect(lines).to.include.members(['OVERLAB_LAB=tutorial', 'OVERLAB_HOST=mhs-demo0', 'require_host']);
      expect(provisionScript(tutorial, 'mh-keystore').split('\n')[1]).to.equal(
        '# overlab provisioning of host mh-keystore (kv, 172.28.128.5) of lab tutorial (labs/tutorial.yaml): KV store packages.',
      );
    });

    it('carries the libraries a host needs: engine.sh on docker hosts, kv.sh on the kv host', () => {
      const libraries = (s: string) => [...s.matchAll(/^# --- (\w+)\.sh$/gm)].map((m) => m[1]);
      expect(libraries(provisionScript(tutorial, 'mhs-demo0'))).to.deep.equal(['common', 'engine']);
      expect(libraries(provisionScript(tutorial, 'mh-keystore'))).to.deep.equal(['common', 'kv']);
      expect(libraries(provisionScript(variant(tutorial, 'apt', 'swarm'), 'mh-keystore'))).to.deep.equal(['common']);
    });

    it('installs the engine per the plan on a docker host, and no KV store', () => {
      expect(steps(provisionScript(tutorial, 'mhs-demo0'))).to.equal(
        '# --- provisioning\nrequire_host\nlog "provisioning for lab $OVERLAB_LAB"\n' +
          "# Docker engine: docker-ce 20.10 from Docker's apt repository, pinned; kv mode refuses 23.0 and newer\n" +
          'install_engine_apt 20.10 kv\nallow_login_user\nengine_outcome 20.10 kv\nlog "done"\n',
      );
    });

    it('installs the KV store packages on the kv host, preferred store first, then the fallback, and no engine', () => {
      expect(steps(provisionScript(tutorial, 'mh-keystore'))).to.equal(
        [
          '# --- provisioning',
          'require_host',
          'log "provisioning for lab $OVERLAB_LAB"',
          '# KV store packages: consul, then the fallback etcd, for a store bound to 172.28.128.5',
          'kv_consul() {',
          '  require_address 172.28.128.5',
          '  ensure_busybox',
          '  if [ ! -x "$usr_bin/consul" ]; then',
          '    consul_apt_repo',
          '    apt_install consul',
          '  fi',
          '}',
          'kv_etcd() {',
          '  require_address 172.28.128.5',
          '  ensure_busybox',
          '  ensure_package etcd-server "$usr_bin/etcd"',
          '}',
          'kv_store=',
          'for kv_try in consul etcd; do',
          '  set +e',
          '  (set -e; "kv_$kv_try")',
          '  kv_rc=$?',
          '  set -e',
          '  if [ "$kv_rc" = 0 ]; then kv_store=$kv_try; break; fi',
          '  log "$kv_try could not be set up on this host (exit $kv_rc, see above)"',
          'done',
          "[ -n \"$kv_store\" ] || die 'no KV store could be set up on this host: tried consul, etcd'",
          'outcome kv "$kv_store"',
          'log "done"',
          '',
        ].join('\n'),
      );
    });

    it('calls a lone KV store plainly: ZooKeeper and a Java runtime', () => {
      const s = steps(provisionScript(kvLab('zookeeper'), 'store'));
      expect(s).to.include(
        '\nkv_zookeeper() {\n  require_address 172.28.128.9\n  ensure_busybox\n  ensure_package zookeeper "$java_share/zookeeper.jar"\n' +
          '  command -v java >/dev/null || apt_install default-jre-headless\n}\nkv_zookeeper\noutcome kv zookeeper\nlog "done"\n',
      );
      expect(s).not.to.include('kv_try');
    });

    it('installs nothing on the kv host of a lab in swarm mode (no KV store)', () => {
      expect(steps(provisionScript(variant(tutorial, 'apt', 'swarm'), 'mh-keystore'))).to.equal(
        '# --- provisioning\nrequire_host\nlog "provisioning for lab $OVERLAB_LAB"\nlog "done"\n',
      );
    });

    it('passes each install method to the engine section', () => {
      expect(provisionScript(variant(tutorial, 'distro', 'kv'), 'mhs-demo0')).to.include('\ninstall_engine_distro kv\nallow_login_user\nengine_outcome 20.10 kv\n');
      expect(provisionScript(variant(tutorial, 'preinstalled', 'kv'), 'mhs-demo0')).to.include('\ncheck_engine_preinstalled\nallow_login_user\nengine_outcome 20.10 kv\n');
      expect(provisionScript(swarm, 'worker')).to.include('\ninstall_engine_apt 20.10 swarm\nallow_login_user\nengine_outcome 20.10 swarm\n');
    });

    it("installs no engine for an engine tree: the host's docker.service runs the tree sent at up (the distribution's docker.io only where the unit is missing)", () => {
      const p = structuredClone(swarm);
      p.engine.version = '28.5.2';
      p.engine.source = 'debian';
      const s = provisionScript(p, 'worker');
      expect(s).to.include("\nprepare_engine_tree\nallow_login_user\noutcome engine '28.5.2 (engine tree)'\n");
      expect(steps(s)).not.to.include('install_engine_apt');
      expect(steps(s)).not.to.include('engine_outcome');
      expect(describeProvisioning(p, 'worker').join('\n')).to.include("from this machine's engine tree (engine.source debian)").and.include('overlab-containerd.service');
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

    it('quotes what it takes from the lab for bash', () => {
      expect(shellQuote("lab's")).to.equal(`'lab'\\''s'`);
      const out = spawnSync('bash', ['-c', `printf '%s' ${shellQuote("it's a $test `x`")}`], { encoding: 'utf8' }).stdout;
      expect(out).to.equal("it's a $test `x`");
    });
  });

  describe('starts and configures nothing: that is the service manager\'s, at up', () => {
    for (const { title, plan } of everyVariant()) {
      it(`${title}: no systemctl, no container, no drop-in, no daemon.json, on any host`, () => {
        for (const h of plan.hosts) {
          const s = provisionScript(plan, h.name);
          const code = s.split('\n').filter((l) => !/^\s*#/.test(l));
          expect(code.filter((l) => /\b(systemctl|systemd-run|journalctl)\b/.test(l)), h.name).to.deep.equal([]);
          expect(code.filter((l) => /\bdocker (run|start|pull|create|restart)\b/.test(l)), h.name).to.deep.equal([]);
          expect(s, h.name).not.to.match(/daemon\.json|docker\.service\.d|\/etc\/systemd\/system|\/var\/lib\/overlab/);
          expect(s, h.name).not.to.match(/\bhosts\b["']?\s*:/);
        }
      });
    }
  });

  describe('describeProvisioning (up --dry-run)', () => {
    it('lists the pinned install of a docker host, and the kv mode check', () => {
      expect(describeProvisioning(tutorial, 'mhs-demo0')).to.deep.equal([
        "# engine: docker-ce 20.10 from Docker's apt repository, unless docker-ce 20.10.x is installed",
        'curl -fsSL https://download.docker.com/linux/$ID/gpg -o /etc/apt/keyrings/docker.asc',
        'echo "deb [arch=$ARCH signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$ID $CODENAME stable" > /etc/apt/sources.list.d/docker.list',
        'apt-get update',
        'V=$(newest 20.10.x in: apt-cache madison docker-ce)  # 5:20.10.13~3-0~ubuntu-jammy or 5:24.0.0-1~ubuntu.22.04~jammy',
        '# kv mode: refuse an engine of 23.0 or newer (--cluster-store was removed in 23.0)',
        'apt-get install -y docker-ce=$V docker-ce-cli=$V containerd.io',
        'apt-mark hold docker-ce docker-ce-cli',
      ]);
      expect(describeProvisioning(swarm, 'worker')).not.to.include('# kv mode: refuse an engine of 23.0 or newer (--cluster-store was removed in 23.0)');
    });

    it('lists docker.io for the distro method, and only a version check for preinstalled', () => {
      expect(describeProvisioning(variant(tutorial, 'distro', 'kv'), 'mhs-demo0')).to.deep.equal([
        "# engine: the distribution's docker.io, unless installed",
        '# kv mode: refuse an engine of 23.0 or newer (--cluster-store was removed in 23.0)',
        'apt-get update',
        'apt-get install -y docker.io',
      ]);
      expect(describeProvisioning(variant(swarm, 'preinstalled', 'swarm'), 'worker')).to.deep.equal(['# engine: already installed', 'dockerd --version']);
    });

    it('lists the KV store packages and the fallback on the kv host, and says up starts the store', () => {
      expect(describeProvisioning(tutorial, 'mh-keystore')).to.deep.equal([
        '# KV store: consul for 172.28.128.5 (installed here; up starts it)',
        '# 172.28.128.5 must be an address of this host',
        'apt-get install -y busybox-static  # unless installed: the harness probes the store with busybox',
        '# HashiCorp apt repository: https://apt.releases.hashicorp.com $CODENAME main',
        'apt-get install -y consul  # unless installed',
        '# if consul cannot be installed: etcd',
        'apt-get install -y etcd-server  # unless installed',
      ]);
      expect(describeProvisioning(kvLab('zookeeper'), 'store').at(-1)).to.equal('apt-get install -y zookeeper default-jre-headless  # each unless installed');
    });

    it('lists nothing for a host that gets nothing, and never a service started', () => {
      expect(describeProvisioning(variant(tutorial, 'apt', 'swarm'), 'mh-keystore')).to.deep.equal([]);
      for (const { title, plan } of everyVariant()) {
        for (const h of plan.hosts) {
          expect(describeProvisioning(plan, h.name).filter((l) => /systemctl|systemd-run|docker run|drop-in|daemon\.json/.test(l)), `${title} ${h.name}`).to.deep.equal([]);
        }
      }
    });
  });

  describe('provisionHost', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'overlab-provision-state-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    function ctxWith(state?: Partial<LabState>, events = new EventLog()): LabContext & { events: EventLog } {
      const store = new StateStore(dir);
      if (state) store.write({ version: 1, lab: 'tutorial', provider: 'vagrant', mode: 'kv', file: 'labs/tutorial.yaml', phase: 'creating', createdAt: '', updatedAt: '', hosts: {}, resources: {}, ...state });
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
      const expected = provisionScript(tutorial, 'mhs-demo0');
      expect(calls[0]!.options!.input).to.equal(expected);
      expect(readFileSync(join(dir, 'provision/mhs-demo0.sh'), 'utf8')).to.equal(expected);
      expect(readFileSync(join(dir, 'logs/mhs-demo0.provision.log'), 'utf8')).to.include('overlab: engine=20.10.24');
      expect(ctx.events.events).to.deep.equal([{ type: 'command', host: 'mhs-demo0', command: `bash -s < ${join(dir, 'provision/mhs-demo0.sh')}` }]);
    });

    it('sends the same script whichever KV store the lab state chose and whatever the host\'s engine flags: those are the service manager\'s', async () => {
      const calls: { argv: readonly string[]; options?: ExecOptions }[] = [];
      await provisionHost(tutorial, access('mhs-demo1', { exitCode: 0, stdout: '', stderr: '' }, calls), ctxWith({ kv: { type: 'etcd', clusterStore: 'etcd://172.28.128.5:2379' } }));
      expect(calls[0]!.options!.input).to.equal(provisionScript(tutorial, 'mhs-demo1'));
      expect(calls[0]!.options!.input).not.to.match(/--cluster-store=|etcd:\/\/|--storage-driver/);
    });

    it("appends to the host's provisioning log, keeping what the runner wrote there", async () => {
      mkdirSync(join(dir, 'logs'), { recursive: true });
      writeFileSync(join(dir, 'logs/mhs-demo0.provision.log'), '$ sudo -n bash -s (streamed by the runner)\n');
      await provisionHost(tutorial, access('mhs-demo0', { exitCode: 0, stdout: 'overlab: engine=20.10.24\n', stderr: '' }, []), ctxWith());
      const log = readFileSync(join(dir, 'logs/mhs-demo0.provision.log'), 'utf8');
      expect(log.startsWith('$ sudo -n bash -s (streamed by the runner)\n--- ')).to.equal(true);
      expect(log.endsWith('overlab: engine=20.10.24\n--- exit 0\n')).to.equal(true);
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

  function add(title: string, plan: Plan, hostName: string) {
    const file = join(dir, `${generated.length}.sh`);
    writeFileSync(file, provisionScript(plan, hostName));
    generated.push({ title, file });
  }

  before(async () => {
    requireShellcheck(); // fail, never skip, when shellcheck is missing
    for (const { title, plan } of everyVariant()) {
      for (const h of plan.hosts) add(`${title}: ${h.name} (${h.role})`, plan, h.name);
    }
    for (const type of ['zookeeper', 'etcd'] as const) {
      for (const plan of [kvLab(type, 'consul'), kvLab(type)]) {
        for (const h of plan.hosts) add(`kv.type ${type}${plan.kv!.candidates.length > 1 ? ' with fallback consul' : ''}: ${h.name}`, plan, h.name);
      }
    }
    const tree = shippedPlan('swarm.yaml');
    tree.engine.version = '28.5.2';
    tree.engine.source = 'debian';
    for (const h of tree.hosts) add(`an engine tree (engine.source debian): ${h.name}`, tree, h.name);
    const quirky = planLab(parseLab("name: quirky\ndescription: it's a lab\nhosts:\n  - name: kv\n    role: kv\n  - name: h1\n", "lab's file.yaml"));
    for (const h of quirky.hosts) add(`a lab whose file name has a quote: ${h.name}`, quirky, h.name);
    findings = shellcheck(generated.map((g) => g.file));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('covers every shipped lab, host, install method and mode', () => {
    // 3 labs with a kv host x 3 hosts x 3 methods x 2 modes, the swarm lab's 2 hosts x 3 methods,
    // ZooKeeper and etcd with and without a fallback (2 hosts each), and the quirky lab's 2 hosts.
    expect(generated.length).to.be.at.least(3 * 3 * 3 * 2 + 2 * 3 + 4 * 2 + 2);
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
