// The provisioning scripts, run for real by bash against a fake Debian/Ubuntu host: the paths of
// sh/common.sh point into a temporary root, and apt-get, apt-cache, dpkg-query, curl, systemctl,
// docker and ip are stubs that log their arguments and keep state (what is installed), so a
// second run sees what the first one did. No internet, nothing outside the root. Provisioning
// installs only: every shipped lab, host, install method and mode is run, and what it installed,
// printed and described for `up --dry-run` is checked, as is that it starts and configures
// nothing (SystemdServices does that at `up`).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZOOKEEPER_JAR } from '../../harness/kv/zookeeper.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { EngineInstall, EngineMode, HostPlan, Plan } from '../../harness/lab/types.ts';
import { describeProvisioning, parseProvisionOutcome, provisionScript, summarizeOutcome } from '../../harness/provision/index.ts';

const OS = {
  jammy: 'NAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n',
  noble: 'NAME="Ubuntu"\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=noble\nPRETTY_NAME="Ubuntu 24.04 LTS"\n',
  bookworm: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  mint: 'NAME="Linux Mint"\nVERSION_CODENAME=virginia\nID=linuxmint\nID_LIKE="ubuntu debian"\nUBUNTU_CODENAME=jammy\nPRETTY_NAME="Linux Mint 21.3"\n',
};

const madisonLine = (v: string, suite: string) => ` docker-ce | ${v} | https://download.docker.com/linux/ubuntu ${suite}/stable amd64 Packages`;
/** Both version-string formats, out of order, with a 20.10.2 that must not pass for 20.10.24. */
const JAMMY = [
  '5:24.0.9-1~ubuntu.22.04~jammy',
  '5:20.10.13~3-0~ubuntu-jammy',
  '5:23.0.6-1~ubuntu.22.04~jammy',
  '5:20.10.24~3-0~ubuntu-jammy',
  '5:20.10.2~3-0~ubuntu-jammy',
  '5:24.0.0-1~ubuntu.22.04~jammy',
  '5:20.10.23~3-0~ubuntu-jammy',
].map((v) => madisonLine(v, 'jammy')).join('\n');
const NOBLE = ['5:27.3.1-1~ubuntu.24.04~noble', '5:25.0.3-1~ubuntu.24.04~noble', '5:26.1.0-1~ubuntu.24.04~noble']
  .map((v) => madisonLine(v, 'noble'))
  .join('\n');
const BOOKWORM = ['5:24.0.7-1~debian.12~bookworm', '5:20.10.24~3-0~debian-bookworm'].map((v) => madisonLine(v, 'bookworm')).join('\n');

const TOOLS = ['bash', 'sh', 'env', 'awk', 'sed', 'sort', 'cmp', 'mkdir', 'mv', 'cat', 'grep', 'tr', 'paste', 'dirname', 'basename', 'install', 'chmod', 'rm', 'cut', 'head', 'tail', 'touch', 'ls', 'ln'];

const STUB_LOG = '#!/bin/bash\nprintf "%s\\n" "$(basename "$0") $*" >>"$FAKE/calls"\n';

/** What each fake command does; $FAKE holds the fake host's state, $ROOT is its root. docker is there once docker.io (or docker-ce) is. */
const STUBS: Record<string, string> = {
  'apt-get': String.raw`
case " $* " in *" install "*) ;; *) exit 0 ;; esac
if [ -f "$FAKE/apt-fails" ]; then echo "E: fake apt failure" >&2; exit 100; fi
skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in -o) skip=1; continue ;; -*|install) continue ;; esac
  pkg=$(printf '%s' "$a" | cut -d= -f1)
  if [ -f "$FAKE/apt-fails-$pkg" ]; then echo "E: Unable to locate package $pkg" >&2; exit 100; fi
  if [ "$pkg" != "$a" ]; then ver=$(printf '%s' "$a" | cut -d= -f2-); else ver=$(cat "$FAKE/candidate-$pkg" 2>/dev/null || echo 1.0-1); fi
  mkdir -p "$FAKE/installed"
  echo "$ver" >"$FAKE/installed/$pkg"
  case "$pkg" in
    docker-ce|docker.io)
      up=$(printf '%s' "$ver" | sed -E 's/^[0-9]+://; s/~.*//; s/-[^-]*$//')
      printf '#!/bin/sh\necho "Docker version %s, build fake"\n' "$up" >"$ROOT/usr/bin/dockerd"
      ln -sf "$ROOT/optional/docker" "$ROOT/usr/bin/docker"
      chmod +x "$ROOT/usr/bin/dockerd" ;;
    etcd-server) printf '#!/bin/sh\n' >"$ROOT/usr/bin/etcd"; chmod +x "$ROOT/usr/bin/etcd" ;;
    consul) printf '#!/bin/sh\n' >"$ROOT/usr/bin/consul"; chmod +x "$ROOT/usr/bin/consul" ;;
    zookeeper) mkdir -p "$ROOT/usr/share/java"; touch "$ROOT/usr/share/java/zookeeper.jar" ;;
    default-jre-headless) printf '#!/bin/sh\n' >"$ROOT/usr/bin/java"; chmod +x "$ROOT/usr/bin/java" ;;
    busybox-static) printf '#!/bin/sh\n' >"$ROOT/usr/bin/busybox"; chmod +x "$ROOT/usr/bin/busybox" ;;
    curl) printf '#!/bin/sh\n' >"$ROOT/usr/bin/curl"; chmod +x "$ROOT/usr/bin/curl" ;;
  esac
done`,
  'apt-cache': String.raw`
case "$1" in
  madison) cat "$FAKE/madison-$2" 2>/dev/null || true ;;
  policy) printf '%s:\n  Installed: (none)\n  Candidate: %s\n' "$2" "$(cat "$FAKE/candidate-$2" 2>/dev/null || echo '(none)')" ;;
  show) grep -qF "| $(printf '%s' "$2" | cut -d= -f2-) |" "$FAKE/madison-$(printf '%s' "$2" | cut -d= -f1)" 2>/dev/null ;;
esac`,
  'apt-mark': '',
  'dpkg-query': String.raw`
for pkg; do :; done
if [ -f "$FAKE/installed/$pkg" ]; then echo "install ok installed $(cat "$FAKE/installed/$pkg")"; else exit 1; fi`,
  dpkg: 'echo amd64',
  curl: String.raw`
if [ -f "$FAKE/offline" ]; then echo "curl: (6) Could not resolve host" >&2; exit 6; fi
while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "FAKE KEY" >"$2"; fi; shift; done`,
  // Provisioning starts and configures nothing: these only log, for the tests to find no calls.
  systemctl: '',
  journalctl: '',
  docker: '',
  ip: String.raw`while read -r a; do printf '2: eth1    inet %s/24 brd 0.0.0.0 scope global eth1\n' "$a"; done <"$FAKE/addresses"`,
  id: 'echo 0',
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
}

class FakeHost {
  readonly root = mkdtempSync(join(tmpdir(), 'overlab-provision-'));
  readonly fake = join(this.root, 'fake');

  constructor(os: string, addresses: string[] = []) {
    for (const d of ['fake', 'stub', 'optional', 'tools', 'usr/bin', 'etc', 'run/systemd/system']) mkdirSync(join(this.root, d), { recursive: true });
    writeFileSync(join(this.root, 'etc/os-release'), os);
    writeFileSync(join(this.fake, 'addresses'), addresses.map((a) => `${a}\n`).join(''));
    for (const [name, body] of Object.entries(STUBS)) {
      const path = join(this.root, name === 'docker' ? 'optional' : 'stub', name);
      writeFileSync(path, STUB_LOG + body + '\n');
      chmodSync(path, 0o755);
    }
    for (const tool of TOOLS) {
      const real = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
      if (!real) throw new Error(`the fake host needs ${tool} on this machine`);
      symlinkSync(real, join(this.root, 'tools', tool));
    }
  }

  set(name: string, content = ''): void {
    writeFileSync(join(this.fake, name), content);
  }

  /** A command on the fake host (an engine already there, ...). */
  install(path: string, script: string): void {
    writeFileSync(join(this.root, path), script);
    chmodSync(join(this.root, path), 0o755);
  }

  file(path: string): string | undefined {
    const p = join(this.root, path);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }

  /** Runs a generated script with every path of its variables block moved under the root. */
  run(script: string): Run {
    const start = script.indexOf('# --- common.sh');
    const end = script.indexOf('\nlog() {', start);
    expect(start, 'the script carries common.sh').to.be.greaterThan(0);
    const block = script.slice(start, end).replace(/^(\s*[a-z_]+=)(\/[^\s\\]*)/gm, (_, v: string, p: string) => `${v}${this.root}${p}`);
    const rerooted = script.slice(0, start) + block + script.slice(end);
    rmSync(join(this.fake, 'calls'), { force: true });
    const r = spawnSync('bash', ['-s'], {
      input: rerooted,
      encoding: 'utf8',
      env: { PATH: ['stub', 'usr/bin', 'tools'].map((d) => join(this.root, d)).join(':'), FAKE: this.fake, ROOT: this.root, LC_ALL: 'C' },
      timeout: 30_000,
    });
    const calls = existsSync(join(this.fake, 'calls')) ? readFileSync(join(this.fake, 'calls'), 'utf8').trimEnd().split('\n') : [];
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
  }

  /** Every file and link under the root that the fake host did not start with (its state, stubs and tools aside). */
  written(): string[] {
    const own = ['fake', 'stub', 'optional', 'tools', 'etc/os-release'];
    return (readdirSync(this.root, { recursive: true }) as string[])
      .filter((p) => !own.some((o) => p === o || p.startsWith(`${o}/`)))
      .filter((p) => !lstatSync(join(this.root, p)).isDirectory())
      .sort();
  }

  /** Paths with their content (a link: where it points), to compare a host before and after. */
  snapshot(): Record<string, string> {
    return Object.fromEntries(this.written().map((p) => [p, lstatSync(join(this.root, p)).isSymbolicLink() ? '-> link' : readFileSync(join(this.root, p), 'utf8')]));
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

const hosts: FakeHost[] = [];
function fakeHost(os: string, addresses: string[] = []): FakeHost {
  const h = new FakeHost(os, addresses);
  hosts.push(h);
  return h;
}

function withEngine(plan: Plan, engine: Partial<Plan['engine']>, mode?: Plan['mode']): Plan {
  const p: Plan = structuredClone(plan);
  Object.assign(p.engine, engine);
  if (mode === 'swarm') {
    p.mode = 'swarm';
    p.kv = undefined;
    for (const h of p.hosts) if (h.daemon) h.daemon = { ...h.daemon, clusterStore: undefined, clusterAdvertise: undefined };
  }
  return p;
}

const installs = (r: Run) => r.calls.filter((c) => /^apt-get .* install /.test(c));
/** What changes a host, or fetches to change it: apt, keys, and anything started or configured. */
const changes = (r: Run) => r.calls.filter((c) => /^(apt-get|apt-mark|curl|systemctl|journalctl|docker) /.test(c));
/** Anything that starts, stops or configures a service: none of it is provisioning's. */
const services = (r: Run) => r.calls.filter((c) => /^(systemctl|journalctl|docker)( |$)/.test(c));

const APT_INSTALL = 'apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends';
const PINNED_20_10_JAMMY =
  `${APT_INSTALL} --allow-downgrades --allow-change-held-packages docker-ce=5:20.10.24~3-0~ubuntu-jammy docker-ce-cli=5:20.10.24~3-0~ubuntu-jammy containerd.io`;
const DOCKER_LIST_JAMMY = 'deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu jammy stable\n';
const HASHICORP_LIST_JAMMY = 'deb [arch=amd64 signed-by=/etc/apt/keyrings/hashicorp.asc] https://apt.releases.hashicorp.com jammy main\n';

/** The packages an `apt-get install` call names, without versions or options. */
const packagesOf = (calls: string[]) =>
  calls.flatMap((c) => c.split(' ').slice(c.split(' ').indexOf('--no-install-recommends') + 1).filter((w) => !w.startsWith('-')).map((w) => w.split('=')[0]!));
/** The packages the `up --dry-run` lines say would be installed. */
const describedPackages = (lines: string[]) =>
  lines.flatMap((l) => /^apt-get install -y ([^#]*)/.exec(l)?.[1]!.trim().split(/\s+/).map((w) => w.split('=')[0]!) ?? []);

const LABS_DIR = new URL('../../labs/', import.meta.url);
const shippedLabs = readdirSync(LABS_DIR).filter((f) => f.endsWith('.yaml')).sort();
const shippedPlan = (file: string) => planLab(parseLab(readFileSync(new URL(file, LABS_DIR), 'utf8'), `labs/${file}`));

interface Expected {
  /** The `apt-get install` calls, in order. */
  installs: string[];
  /** The `overlab: key=value` lines. */
  stdout: string;
  /** Every file the run leaves (root-relative), with its content where it is overlab's ('' for a package's). */
  files: Record<string, string>;
}

/** What provisioning a host of a shipped lab installs on a fresh jammy host. */
function expected(plan: Plan, host: HostPlan, install: EngineInstall): Expected {
  const e: Expected = { installs: [], stdout: '', files: {} };
  if (host.daemon) {
    if (install === 'apt') {
      e.installs.push(PINNED_20_10_JAMMY);
      Object.assign(e.files, { 'etc/apt/keyrings/docker.asc': 'FAKE KEY\n', 'etc/apt/sources.list.d/docker.list': DOCKER_LIST_JAMMY, 'usr/bin/docker': '', 'usr/bin/dockerd': '' });
    } else if (install === 'distro') {
      e.installs.push(`${APT_INSTALL} docker.io`);
      Object.assign(e.files, { 'usr/bin/docker': '', 'usr/bin/dockerd': '' });
    } else {
      e.files['usr/bin/dockerd'] = ''; // it was there
    }
    e.stdout += 'overlab: engine=20.10.24\n';
  }
  if (plan.kv?.host === host.name) {
    // Every shipped lab with a KV store prefers Consul and falls back to etcd; Consul installs.
    expect(plan.kv.candidates.map((c) => c.type)).to.deep.equal(['consul', 'etcd']);
    e.installs.push(`${APT_INSTALL} busybox-static`, `${APT_INSTALL} consul`);
    Object.assign(e.files, {
      'etc/apt/keyrings/hashicorp.asc': 'FAKE KEY\n',
      'etc/apt/sources.list.d/hashicorp.list': HASHICORP_LIST_JAMMY,
      'usr/bin/busybox': '',
      'usr/bin/consul': '',
    });
    e.stdout += 'overlab: kv=consul\n';
  }
  return e;
}

/** A fresh jammy host ready for an install method: Docker's repository, a docker.io candidate, or an engine already there. */
function hostFor(plan: Plan, h: HostPlan, install: EngineInstall): FakeHost {
  const host = fakeHost(OS.jammy, ['10.0.2.15', ...(plan.kv ? [plan.kv.address] : [])]);
  host.set('madison-docker-ce', JAMMY);
  host.set('madison-docker-ce-cli', JAMMY);
  host.set('candidate-docker.io', '20.10.24-0ubuntu1~22.04.1');
  if (install === 'preinstalled' && h.daemon) host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 20.10.24, build 297e128"\n');
  return host;
}

describe('provisioning every shipped lab, as `up` runs it: installs only', function () {
  this.timeout(120_000);
  after(() => hosts.splice(0).forEach((h) => h.remove()));

  it('has labs to run', () => {
    expect(shippedLabs).to.include.members(['tutorial.yaml', 'swarm.yaml']);
  });

  for (const file of shippedLabs) {
    const base = shippedPlan(file);
    const modes: EngineMode[] = base.kv ? ['kv', 'swarm'] : [base.mode];
    for (const mode of modes) {
      for (const install of ['apt', 'distro', 'preinstalled'] as const) {
        const plan = withEngine(base, { install }, mode);
        for (const h of plan.hosts) {
          const what = h.daemon ? 'the engine' : plan.kv?.host === h.name ? 'the KV store packages' : 'nothing';
          it(`${file}, mode ${mode}, engine.install ${install}: ${h.name} (${h.role}) gets ${what}, starts nothing, and a second run changes nothing`, () => {
            const want = expected(plan, h, install);
            const host = hostFor(plan, h, install);
            const script = provisionScript(plan, h.name);
            const first = host.run(script);
            expect(first.status, first.stderr).to.equal(0);
            expect(installs(first)).to.deep.equal(want.installs);
            expect(first.stdout).to.equal(want.stdout);
            expect(services(first), 'provisioning starts and configures nothing').to.deep.equal([]);
            expect(host.written()).to.deep.equal(Object.keys(want.files).sort());
            for (const [path, content] of Object.entries(want.files)) if (content) expect(host.file(path), path).to.equal(content);
            if (want.installs.some((c) => c.includes('docker-ce='))) expect(first.calls).to.include('apt-mark hold docker-ce docker-ce-cli');
            if (what === 'the engine' && install === 'preinstalled') expect(first.calls.filter((c) => /^(apt-get|apt-cache|apt-mark|curl) /.test(c))).to.deep.equal([]);
            if (what === 'nothing') expect(first.calls).to.deep.equal(['id -u']);
            expect(summarizeOutcome(plan, parseProvisionOutcome(first.stdout))).to.equal(
              [h.daemon ? 'Docker 20.10.24' : undefined, plan.kv?.host === h.name ? 'consul' : undefined].filter(Boolean).join(', ') || undefined,
            );

            const before = host.snapshot();
            const second = host.run(script);
            expect(second.status, second.stderr).to.equal(0);
            expect(changes(second)).to.deep.equal([]);
            expect(second.stderr).not.to.include('wrote ');
            expect(second.stdout).to.equal(first.stdout);
            expect(host.snapshot()).to.deep.equal(before);

            // up --dry-run names every package the run installed, and claims none for a host that gets nothing.
            const described = describeProvisioning(plan, h.name);
            expect(describedPackages(described)).to.include.members(packagesOf(installs(first)));
            if (what === 'nothing') expect(described).to.deep.equal([]);
          });
        }
      }
    }
  }
});

describe('provisioning scripts run against a fake host', function () {
  this.timeout(60_000);
  let tutorial: Plan;
  const script = (plan: Plan, host: string) => provisionScript(plan, host);

  before(async () => {
    tutorial = planLab(await loadLab('labs/tutorial.yaml'));
  });
  after(() => hosts.forEach((h) => h.remove()));

  describe('engine.install apt (Docker\'s repository)', () => {
    it('pins the newest 20.10.x on jammy (pre-23 version strings), cli at the same version, and holds them', () => {
      const host = fakeHost(OS.jammy);
      host.set('madison-docker-ce', JAMMY);
      host.set('madison-docker-ce-cli', JAMMY);
      const r = host.run(script(tutorial, 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(installs(r)).to.deep.equal([
        'apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends --allow-downgrades --allow-change-held-packages ' +
          'docker-ce=5:20.10.24~3-0~ubuntu-jammy docker-ce-cli=5:20.10.24~3-0~ubuntu-jammy containerd.io',
      ]);
      expect(r.calls).to.include('apt-mark hold docker-ce docker-ce-cli');
      expect(r.calls).to.include(`curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o ${host.root}/etc/apt/keyrings/docker.asc.tmp`);
      expect(host.file('etc/apt/keyrings/docker.asc')).to.equal('FAKE KEY\n');
      expect(host.file('etc/apt/sources.list.d/docker.list')).to.equal(
        'deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu jammy stable\n',
      );
      expect(r.stdout).to.equal('overlab: engine=20.10.24\n');
    });

    it('pins a 23.0+ version string (5:24.0.0-1~ubuntu.22.04~jammy format) in swarm mode', () => {
      const host = fakeHost(OS.jammy);
      host.set('madison-docker-ce', JAMMY);
      host.set('madison-docker-ce-cli', JAMMY);
      const r = host.run(script(withEngine(tutorial, { version: '24.0' }, 'swarm'), 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(installs(r)[0]).to.match(/ docker-ce=5:24\.0\.9-1~ubuntu\.22\.04~jammy docker-ce-cli=5:24\.0\.9-1~ubuntu\.22\.04~jammy containerd\.io$/);
      expect(r.stdout).to.equal('overlab: engine=24.0.9\n');
    });

    it('takes an exact version as written: 20.10.2 is not 20.10.24, 23.0.6 is 23.0.6', () => {
      for (const [version, pinned] of [
        ['20.10.2', '5:20.10.2~3-0~ubuntu-jammy'],
        ['20.10.13', '5:20.10.13~3-0~ubuntu-jammy'],
        ['23.0.6', '5:23.0.6-1~ubuntu.22.04~jammy'],
        ['latest', '5:24.0.9-1~ubuntu.22.04~jammy'],
      ] as const) {
        const host = fakeHost(OS.jammy);
        host.set('madison-docker-ce', JAMMY);
        const r = host.run(script(withEngine(tutorial, { version }, 'swarm'), 'mhs-demo0'));
        expect(r.status, r.stderr).to.equal(0);
        expect(installs(r)[0], version).to.match(new RegExp(` docker-ce=${pinned.replace(/[.~]/g, '\\$&')}$`));
      }
    });

    it('replaces an installed docker-ce that is not a release of the version asked for (20.10.24 is not 20.10.2)', () => {
      const host = fakeHost(OS.jammy);
      host.set('madison-docker-ce', JAMMY);
      mkdirSync(join(host.fake, 'installed'));
      host.set('installed/docker-ce', '5:20.10.24~3-0~ubuntu-jammy');
      host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 20.10.24, build 297e128"\n');
      const r = host.run(script(withEngine(tutorial, { version: '20.10.2' }, 'swarm'), 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(installs(r)[0]).to.match(/ docker-ce=5:20\.10\.2~3-0~ubuntu-jammy$/);
    });

    it('uses the host\'s codename: Debian bookworm, and a derivative by its UBUNTU_CODENAME', () => {
      const debian = fakeHost(OS.bookworm);
      debian.set('madison-docker-ce', BOOKWORM);
      const r = debian.run(script(tutorial, 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(debian.file('etc/apt/sources.list.d/docker.list')).to.equal(
        'deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable\n',
      );
      expect(r.calls.some((c) => c.startsWith('curl -fsSL https://download.docker.com/linux/debian/gpg '))).to.equal(true);
      expect(installs(r)[0]).to.match(/ docker-ce=5:20\.10\.24~3-0~debian-bookworm$/);

      const mint = fakeHost(OS.mint);
      mint.set('madison-docker-ce', JAMMY);
      expect(mint.run(script(tutorial, 'mhs-demo0')).status).to.equal(0);
      expect(mint.file('etc/apt/sources.list.d/docker.list')).to.match(/linux\/ubuntu jammy stable\n$/);
    });

    it('names the version and the codename when the repository has no such version, and installs nothing', () => {
      const host = fakeHost(OS.noble);
      host.set('madison-docker-ce', NOBLE);
      const r = host.run(script(tutorial, 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include("error: Docker's apt repository has no docker-ce 20.10 for ubuntu noble (it has: 27.3.1 26.1.0 25.0.3)");
      expect(installs(r)).to.deep.equal([]);
      expect(r.stdout).to.equal('');
    });

    it('refuses, in kv mode, an installed engine of 23.0 or newer before it touches apt', () => {
      const host = fakeHost(OS.jammy);
      host.set('madison-docker-ce', JAMMY);
      host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 24.0.7, build afdd53b"\n');
      const r = host.run(script(tutorial, 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('the Docker engine installed on this host is 24.0.7: kv mode needs an engine older than 23.0');
      expect(r.stderr).to.include('--cluster-store and --cluster-advertise were removed in Docker 23.0');
      expect(changes(r)).to.deep.equal([]);
    });

    it('refuses, in kv mode, to install a 23.0 release the version asks for', () => {
      const host = fakeHost(OS.jammy);
      host.set('madison-docker-ce', JAMMY);
      const r = host.run(script(withEngine(tutorial, { version: '23.0' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('docker-ce 5:23.0.6-1~ubuntu.22.04~jammy (the newest 23.0 for jammy) is 23.0.6: kv mode needs an engine older than 23.0');
      expect(installs(r)).to.deep.equal([]);
    });

    it('changes nothing when run a second time', () => {
      const host = fakeHost(OS.jammy);
      host.set('madison-docker-ce', JAMMY);
      host.set('madison-docker-ce-cli', JAMMY);
      const first = host.run(script(tutorial, 'mhs-demo0'));
      expect(first.status, first.stderr).to.equal(0);
      const second = host.run(script(tutorial, 'mhs-demo0'));
      expect(second.status, second.stderr).to.equal(0);
      expect(changes(second)).to.deep.equal([]);
      expect(second.stderr).not.to.include('wrote ');
      expect(second.stdout).to.equal(first.stdout);
    });
  });

  describe('engine.install distro (docker.io)', () => {
    it('installs Debian\'s docker.io 20.10.24 in kv mode', () => {
      const host = fakeHost(OS.bookworm);
      host.set('candidate-docker.io', '20.10.24+dfsg1-1+b3');
      const r = host.run(script(withEngine(tutorial, { install: 'distro' }), 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(installs(r)).to.deep.equal(['apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends docker.io']);
      expect(r.stdout).to.equal('overlab: engine=20.10.24\n');
      expect(changes(host.run(script(withEngine(tutorial, { install: 'distro' }), 'mhs-demo0')))).to.deep.equal([]);
    });

    it('refuses, in kv mode, a docker.io of 23.0 or newer before installing it', () => {
      const host = fakeHost(OS.jammy);
      host.set('candidate-docker.io', '24.0.7-0ubuntu2~22.04.1');
      const r = host.run(script(withEngine(tutorial, { install: 'distro' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include("the distribution's docker.io 24.0.7-0ubuntu2~22.04.1 is 24.0.7: kv mode needs an engine older than 23.0");
      expect(installs(r)).to.deep.equal([]);
    });

    it('installs that docker.io in swarm mode', () => {
      const host = fakeHost(OS.jammy);
      host.set('candidate-docker.io', '24.0.7-0ubuntu2~22.04.1');
      const r = host.run(script(withEngine(tutorial, { install: 'distro', version: 'distro' }, 'swarm'), 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('overlab: engine=24.0.7\n');
    });

    it('says so when the distribution has no docker.io', () => {
      const host = fakeHost(OS.jammy);
      const r = host.run(script(withEngine(tutorial, { install: 'distro' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('this distribution (Ubuntu 22.04.4 LTS) has no docker.io package: set engine.install apt');
    });
  });

  describe('engine.install preinstalled', () => {
    it('fails clearly when there is no dockerd', () => {
      const r = fakeHost(OS.jammy).run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('engine.install is preinstalled, but this host has no dockerd');
    });

    it('uses the engine there without apt', () => {
      const host = fakeHost(OS.bookworm);
      host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 20.10.24+dfsg1, build 297e128"\n');
      const r = host.run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.calls.filter((c) => /^(apt-get|curl) /.test(c))).to.deep.equal([]);
      expect(r.stdout).to.equal('overlab: engine=20.10.24\n');
    });

    it('refuses, in kv mode, a preinstalled 23.0 or newer', () => {
      const host = fakeHost(OS.jammy);
      host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 23.0.1, build a5ee5b1"\n');
      const r = host.run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('the Docker engine on this host is 23.0.1: kv mode needs an engine older than 23.0');
    });
  });

  describe('the kv host', () => {
    const kvLab = (type: string, fallback?: string) =>
      planLab(parseLab(`name: kv-${type}\nhosts:\n  - name: store\n    role: kv\n    address: 172.28.128.9\n  - name: h1\nkv:\n  type: ${type}\n${fallback ? `  fallback: ${fallback}\n` : ''}`, 'kv.yaml'));

    it("installs the lab's etcd when Consul's package cannot be installed, and tries Consul again the next time", () => {
      const host = fakeHost(OS.jammy, ['172.28.128.5']);
      host.set('apt-fails-consul');
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status, r.stderr).to.equal(0);
      expect(installs(r)).to.deep.equal([`${APT_INSTALL} busybox-static`, `${APT_INSTALL} consul`, `${APT_INSTALL} etcd-server`]);
      expect(r.stderr).to.include('E: Unable to locate package consul');
      expect(r.stderr).to.include('consul could not be set up on this host (exit 100, see above)');
      expect(r.stdout).to.equal('overlab: kv=etcd\n');
      expect(summarizeOutcome(tutorial, parseProvisionOutcome(r.stdout))).to.equal("etcd (the lab's fallback)");
      expect(host.written()).to.include.members(['usr/bin/busybox', 'usr/bin/etcd']).and.not.include('usr/bin/consul');
      expect(services(r)).to.deep.equal([]);

      const before = host.snapshot();
      const again = host.run(script(tutorial, 'mh-keystore'));
      expect(again.status, again.stderr).to.equal(0);
      expect(installs(again)).to.deep.equal([`${APT_INSTALL} consul`]);
      expect(again.stdout).to.equal('overlab: kv=etcd\n');
      expect(host.snapshot()).to.deep.equal(before);
    });

    it("installs the lab's etcd when HashiCorp's repository cannot be reached", () => {
      const host = fakeHost(OS.bookworm, ['172.28.128.5']);
      host.set('offline');
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.include('cannot fetch https://apt.releases.hashicorp.com/gpg: does this host reach the internet?');
      expect(installs(r)).to.deep.equal([`${APT_INSTALL} busybox-static`, `${APT_INSTALL} etcd-server`]);
      expect(host.file('etc/apt/sources.list.d/hashicorp.list')).to.equal(undefined);
      expect(r.stdout).to.equal('overlab: kv=etcd\n');
    });

    it('fails, naming every store it tried, when none can be installed', () => {
      const host = fakeHost(OS.jammy, ['172.28.128.5']);
      host.set('apt-fails-consul');
      host.set('apt-fails-etcd-server');
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('etcd could not be set up on this host (exit 100, see above)');
      expect(r.stderr).to.include('error: no KV store could be set up on this host: tried consul, etcd');
      expect(r.stdout).to.equal('');
    });

    it('installs nothing when the store and busybox are there', () => {
      const host = fakeHost(OS.jammy, ['172.28.128.5']);
      host.install('usr/bin/consul', '#!/bin/sh\n');
      host.install('usr/bin/busybox', '#!/bin/sh\n');
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status, r.stderr).to.equal(0);
      expect(changes(r)).to.deep.equal([]);
      expect(host.written()).to.deep.equal(['usr/bin/busybox', 'usr/bin/consul']);
      expect(r.stdout).to.equal('overlab: kv=consul\n');
    });

    it('installs ZooKeeper and a Java runtime, where kv/run.ts looks for them, writing no configuration', () => {
      const zk = kvLab('zookeeper');
      const host = fakeHost(OS.bookworm, ['172.28.128.9']);
      const r = host.run(script(zk, 'store'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('overlab: kv=zookeeper\n');
      expect(installs(r)).to.deep.equal([`${APT_INSTALL} busybox-static`, `${APT_INSTALL} zookeeper`, `${APT_INSTALL} default-jre-headless`]);
      expect(host.written()).to.deep.equal(['usr/bin/busybox', 'usr/bin/java', ZOOKEEPER_JAR.slice(1)]);
      expect(r.stderr).not.to.include('could not be set up');
      const again = host.run(script(zk, 'store'));
      expect(changes(again)).to.deep.equal([]);
      expect(again.stdout).to.equal(r.stdout);
    });

    it('installs etcd, the preferred store, without trying its fallback', () => {
      const plan = kvLab('etcd', 'consul');
      const host = fakeHost(OS.jammy, ['172.28.128.9']);
      const r = host.run(script(plan, 'store'));
      expect(r.status, r.stderr).to.equal(0);
      expect(installs(r)).to.deep.equal([`${APT_INSTALL} busybox-static`, `${APT_INSTALL} etcd-server`]);
      expect(r.calls.filter((c) => c.startsWith('curl '))).to.deep.equal([]);
      expect(r.stdout).to.equal('overlab: kv=etcd\n');
      expect(summarizeOutcome(plan, parseProvisionOutcome(r.stdout))).to.equal('etcd');
    });

    it('installs the binary the preferred store\'s command runs', () => {
      for (const plan of [tutorial, kvLab('etcd')]) {
        const host = fakeHost(OS.jammy, [plan.kv!.address]);
        expect(host.run(script(plan, plan.kv!.host)).status).to.equal(0);
        const chosen = plan.kv!.candidates[0]!;
        expect(host.written()).to.include(`usr/bin/${chosen.command[0]}`);
      }
    });

    it('fails, naming the address, when the host does not have the lab\'s address', () => {
      const host = fakeHost(OS.jammy, ['10.0.2.15']);
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('172.28.128.5 is not an address of this host');
      expect(r.stderr).to.include('error: no KV store could be set up on this host: tried consul, etcd');
      expect(installs(r)).to.deep.equal([]);
    });
  });

  it('stops at once on a host without systemd', () => {
    const host = fakeHost(OS.jammy);
    rmSync(join(host.root, 'run/systemd'), { recursive: true });
    const r = host.run(script(tutorial, 'mhs-demo0'));
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('this host does not run systemd');
    expect(r.calls).to.deep.equal([]);
  });
});
