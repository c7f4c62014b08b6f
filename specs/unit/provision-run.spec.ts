// The provisioning scripts, run for real by bash against a fake Debian/Ubuntu host: the paths of
// sh/common.sh point into a temporary root, and apt-get, apt-cache, dpkg-query, curl, systemctl,
// docker and ip are stubs that log their arguments and keep state (what is installed, which
// units run), so a second run sees what the first one did. No internet, nothing outside the root.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { Plan } from '../../harness/lab/types.ts';
import { provisionScript, type ProvisionOptions } from '../../harness/provision/index.ts';

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
  systemctl: String.raw`
cmd=$1; shift
[ "$1" = --quiet ] && shift
case "$cmd" in
  is-enabled) [ -f "$FAKE/enabled-$1" ] ;;
  is-active) [ -f "$FAKE/active-$1" ] ;;
  enable) touch "$FAKE/enabled-$1" ;;
  start|restart) if [ -f "$FAKE/fails-$1" ]; then exit 1; fi; touch "$FAKE/active-$1" ;;
  cat) exit 0 ;;
esac`,
  journalctl: 'echo "fake journal line"',
  docker: String.raw`
case "$1 $2" in
  "image inspect") [ -f "$FAKE/image" ]; exit ;;
  "container inspect") if [ -f "$FAKE/container" ]; then cat "$FAKE/container"; exit 0; fi; exit 1 ;;
esac
case "$1" in
  pull) if [ -f "$FAKE/offline" ]; then echo "Error response from daemon: dial tcp: lookup registry-1.docker.io: no such host" >&2; exit 1; fi; touch "$FAKE/image" ;;
  run) while [ $# -gt 0 ]; do if [ "$1" = --label ]; then echo "true $(printf '%s' "$2" | sed 's/^overlab.args=//')" >"$FAKE/container"; fi; shift; done ;;
  start) sed -i 's/^false/true/' "$FAKE/container" ;;
  rm) rm -f "$FAKE/container" ;;
esac`,
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
const changes = (r: Run) =>
  r.calls.filter((c) => /^(apt-get|apt-mark|curl) |^systemctl (daemon-reload|restart|start|enable)|^docker (pull|run|rm|start)/.test(c));

describe('provisioning scripts run against a fake host', function () {
  this.timeout(60_000);
  let tutorial: Plan;
  const script = (plan: Plan, host: string, options: ProvisionOptions = {}) => provisionScript(plan, host, options);

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
      expect(changes(first)).to.include.members(['systemctl daemon-reload', 'systemctl restart docker', 'systemctl enable --quiet docker']);
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

    it('uses the engine there without apt, and configures dockerd', () => {
      const host = fakeHost(OS.bookworm);
      host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 20.10.24+dfsg1, build 297e128"\n');
      const r = host.run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.calls.filter((c) => /^(apt-get|curl) /.test(c))).to.deep.equal([]);
      expect(r.stdout).to.equal('overlab: engine=20.10.24\n');
      expect(host.file('etc/systemd/system/docker.service.d/overlab.conf')).to.include('--cluster-store=consul://172.28.128.5:8500');
    });

    it('refuses, in kv mode, a preinstalled 23.0 or newer', () => {
      const host = fakeHost(OS.jammy);
      host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 23.0.1, build a5ee5b1"\n');
      const r = host.run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('the Docker engine on this host is 23.0.1: kv mode needs an engine older than 23.0');
      expect(host.file('etc/systemd/system/docker.service.d/overlab.conf')).to.equal(undefined);
    });
  });

  describe('dockerd drop-in', () => {
    const preinstalled = () => {
      const host = fakeHost(OS.bookworm);
      host.install('usr/bin/dockerd', '#!/bin/sh\necho "Docker version 20.10.24+dfsg1, build 297e128"\n');
      return host;
    };

    it('is rewritten, and dockerd restarted, when the flags change (the lab fell back to etcd); nothing else runs', () => {
      const host = preinstalled();
      const plan = withEngine(tutorial, { install: 'preinstalled' });
      expect(host.run(script(plan, 'mhs-demo0')).status).to.equal(0);
      const r = host.run(script(plan, 'mhs-demo0', { kv: plan.kv!.candidates[1]! }));
      expect(r.status, r.stderr).to.equal(0);
      expect(changes(r)).to.deep.equal(['systemctl daemon-reload', 'systemctl restart docker']);
      expect(host.file('etc/systemd/system/docker.service.d/overlab.conf')).to.include('--cluster-store=etcd://172.28.128.5:2379');
    });

    it('refuses a daemon.json that sets hosts or a cluster setting, and writes no drop-in', () => {
      const host = preinstalled();
      mkdirSync(join(host.root, 'etc/docker'), { recursive: true });
      writeFileSync(join(host.root, 'etc/docker/daemon.json'), '{\n  "log-driver": "journald",\n  "hosts": ["tcp://0.0.0.0:2375"],\n  "cluster-store": "consul://x:8500"\n}\n');
      const r = host.run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr, r.stderr).to.match(/daemon\.json sets hosts, cluster-store, which overlab passes as dockerd flags/);
      expect(host.file('etc/systemd/system/docker.service.d/overlab.conf')).to.equal(undefined);
    });

    it('leaves a daemon.json with other settings alone', () => {
      const host = preinstalled();
      mkdirSync(join(host.root, 'etc/docker'), { recursive: true });
      writeFileSync(join(host.root, 'etc/docker/daemon.json'), '{ "log-driver": "journald" }\n');
      const r = host.run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status, r.stderr).to.equal(0);
      expect(host.file('etc/docker/daemon.json')).to.equal('{ "log-driver": "journald" }\n');
    });

    it('reports the journal when dockerd does not start with the flags', () => {
      const host = preinstalled();
      host.set('fails-docker');
      const r = host.run(script(withEngine(tutorial, { install: 'preinstalled' }), 'mhs-demo0'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('fake journal line');
      expect(r.stderr).to.include('error: docker did not start (its journal is above: journalctl -u docker)');
    });
  });

  describe('the kv host', () => {
    it('runs Consul from the hashicorp/consul image on the host network, bound to the private address', () => {
      const host = fakeHost(OS.jammy, ['10.0.2.15', '172.28.128.5']);
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout, r.stderr).to.equal('overlab: kv=consul\n');
      expect(r.calls).to.include('docker pull hashicorp/consul');
      const run = r.calls.find((c) => c.startsWith('docker run '))!;
      expect(run).to.match(/^docker run -d --name overlab-consul --restart unless-stopped --net host -v \S+\/var\/lib\/overlab\/consul:\/consul\/data --label overlab\.args=[0-9a-f]{12} hashicorp\/consul /);
      expect(run).to.match(/ hashicorp\/consul agent -server -bootstrap-expect=1 -node=mh-keystore -bind=172\.28\.128\.5 -client=172\.28\.128\.5 -http-port=8500$/);
      expect(installs(r)).to.deep.equal([
        'apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends busybox-static',
        'apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends docker.io',
      ]);
      expect(changes(host.run(script(tutorial, 'mh-keystore')))).to.deep.equal([]);
    });

    it("falls back to the lab's etcd, as a systemd unit with the v2 API, when Consul's image cannot be pulled", () => {
      const host = fakeHost(OS.bookworm, ['172.28.128.5']);
      host.set('offline');
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.include('cannot pull hashicorp/consul: does this host reach Docker Hub?');
      expect(r.stderr).to.include('consul could not be set up on this host (exit 1, see above)');
      expect(r.stdout).to.equal('overlab: kv=etcd\n');
      const unit = host.file('etc/systemd/system/overlab-etcd.service')!;
      expect(unit).to.include(
        'ExecStart=/usr/bin/etcd --name=mh-keystore --data-dir=/var/lib/overlab/etcd --enable-v2=true ' +
          '--listen-client-urls=http://172.28.128.5:2379 --advertise-client-urls=http://172.28.128.5:2379',
      );
      expect(r.calls).to.include.members(['systemctl restart overlab-etcd', 'systemctl enable --quiet overlab-etcd']);
    });

    it('fails, naming the address, when the host does not have the lab\'s address', () => {
      const host = fakeHost(OS.jammy, ['10.0.2.15']);
      const r = host.run(script(tutorial, 'mh-keystore'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('172.28.128.5 is not an address of this host');
      expect(r.stderr).to.include('error: no KV store could be set up on this host: tried consul, etcd');
    });

    it('runs ZooKeeper from the distribution with a zoo.cfg bound to the address, and changes nothing the second time', async () => {
      const zk = planLab(
        parseLab('name: zk\nhosts:\n  - name: keeper\n    role: kv\n    address: 172.28.128.9\n  - name: h1\nkv:\n  type: zookeeper\n', 'zk.yaml'),
      );
      const host = fakeHost(OS.bookworm, ['172.28.128.9']);
      const r = host.run(script(zk, 'keeper'));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('overlab: kv=zookeeper\n');
      expect(installs(r).map((c) => c.split(' ').pop())).to.deep.equal(['busybox-static', 'zookeeper', 'default-jre-headless']);
      expect(host.file('etc/overlab/zookeeper/zoo.cfg')).to.equal('tickTime=2000\nclientPortAddress=172.28.128.9\nclientPort=2181\ndataDir=/var/lib/overlab/zookeeper\n');
      expect(host.file('etc/systemd/system/overlab-zookeeper.service')).to.include(
        'ExecStart=/usr/bin/java -Dzookeeper.admin.enableServer=false -cp /usr/share/java/zookeeper.jar:/etc/zookeeper/conf org.apache.zookeeper.server.ZooKeeperServerMain /etc/overlab/zookeeper/zoo.cfg',
      );
      expect(changes(host.run(script(zk, 'keeper')))).to.deep.equal([]);
    });

    it('with HashiCorp\'s apt repository, installs consul and runs it as a unit', () => {
      const host = fakeHost(OS.jammy, ['172.28.128.5']);
      const r = host.run(script(tutorial, 'mh-keystore', { consul: 'apt' }));
      expect(r.status, r.stderr).to.equal(0);
      expect(host.file('etc/apt/sources.list.d/hashicorp.list')).to.equal(
        'deb [arch=amd64 signed-by=/etc/apt/keyrings/hashicorp.asc] https://apt.releases.hashicorp.com jammy main\n',
      );
      expect(host.file('etc/systemd/system/overlab-consul.service')).to.include(
        'ExecStart=/usr/bin/consul agent -server -bootstrap-expect=1 -node=mh-keystore -bind=172.28.128.5 -client=172.28.128.5 -http-port=8500 -data-dir=/var/lib/overlab/consul',
      );
      expect(r.calls.filter((c) => c.startsWith('docker '))).to.deep.equal([]);
    });

    it('with startKv false, installs the store and starts nothing', () => {
      const host = fakeHost(OS.bookworm, ['172.28.128.5']);
      const r = host.run(script(tutorial, 'mh-keystore', { consul: 'apt', startKv: false }));
      expect(r.status, r.stderr).to.equal(0);
      expect(r.calls.filter((c) => /^systemctl (start|restart) overlab-/.test(c))).to.deep.equal([]);
      expect(existsSync(join(host.root, 'usr/bin/consul'))).to.equal(true);
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
