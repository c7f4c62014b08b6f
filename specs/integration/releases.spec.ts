// Real Docker releases side by side on netns: docker.io 20.10.24 (Debian bookworm), 26.1.5
// (trixie) and 28.5.2 (forky/sid), each from Debian's archive with its own suite's containerd,
// runc and C library, in one matrix of the tutorial (kv + etcd where the release still has
// --cluster-store, swarm everywhere) and one of the swarm lab; the services lab on 28.5.2 with the
// kernel's n/a lines. Asserted: every cell's verdict, the versions the daemons report they ran,
// the trees bound to their own libc, the engine facts and what changed between releases, the
// page as chromium renders it, and that no cell leaves anything behind.
//
// The trees are cached where overlab caches them for this user (a later run fetches nothing).
// The mirror this machine uses serves suites whose signed index may be past its Valid-Until
// (a snapshot): the runs accept that explicitly and the report must then say so.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { FACT_NAMES } from '../../harness/probes/engine-facts.ts';
import { engineCacheRoot } from '../../harness/system/engines.ts';
import { TREE_CONTAINERD_CONFIG, TREE_CONTAINERD_SOCKET, treeContainerdConfig } from '../../harness/remote/systemd-services.ts';
import type { MatrixReport } from '../../harness/report/matrix.ts';
import { renderedDom, screenshot } from '../support/browser.ts';
import { CLI, leftovers, NOTHING_LEFT, Scratch, shippedLab, type TestRun } from './support/labs.ts';

const ENGINES = '20.10.24,26.1.5,28.5.2';
/** What Debian's suites ship beside each docker.io (its containerd and runc), by release. */
const USERLAND: Record<string, { containerd: RegExp; runc: RegExp; suite: RegExp }> = {
  '20.10.24': { containerd: /^1\.6\./, runc: /^1\.1\.5\b/, suite: /^bookworm$/ },
  '26.1.5': { containerd: /^1\.7\./, runc: /^1\.1\.15\b/, suite: /^trixie$/ },
  '28.5.2': { containerd: /^2\.1\./, runc: /^1\.3\./, suite: /^(forky|sid)$/ },
};

describe('real Docker releases on netns: 20.10.24, 26.1.5 and 28.5.2 from Debian\'s archive', function () {
  this.timeout(900_000);
  let s: Scratch;
  let tutorial: MatrixReport;
  let tutorialRun: Awaited<ReturnType<typeof matrix>>;
  const out = (n: string) => join(s.dir, n);
  const env = () => ({ OVERLAB_HOME: s.home, FORCE_COLOR: '0', OVERLAB_ARCHIVE_ALLOW_EXPIRED: '1' });
  const matrix = (file: string, args: string[]) => execa('node', [CLI, 'matrix', file, ...args], { reject: false, cwd: s.dir, env: env(), all: true, timeout: 800_000 });

  before(async () => {
    s = new Scratch();
    const started = Date.now();
    tutorialRun = await matrix(s.lab('rel-t', shippedLab('tutorial.yaml', 'rel-t')), ['--engines', ENGINES, '--kv', 'etcd', '--modes', 'kv,swarm', '--jobs', '2', '--out', out('tutorial')]);
    console.log(`      (tutorial matrix over ${ENGINES}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    tutorial = JSON.parse(readFileSync(join(out('tutorial'), 'matrix.json'), 'utf8')) as MatrixReport;
  });

  after(async () => {
    await execa('node', [CLI, 'down', '--all', '--force'], { reject: false, cwd: s.dir, env: { OVERLAB_HOME: s.home } });
    s.dispose();
  });

  const why = (r: MatrixReport) =>
    r.cells.map((c) => `${c.id} ${c.status}${c.reason ? `: ${c.reason}` : ''}${c.specs.filter((x) => x.state === 'failed').map((x) => `\n  failed: ${x.title}: ${x.failure?.message ?? ''}`).join('')}`).join('\n');

  it('the tutorial: kv + etcd passes on 20.10.24 and is n/a on 26.1.5 and 28.5.2 with the removal named; swarm passes on all three', () => {
    const status = Object.fromEntries(tutorial.cells.map((c) => [c.id, c.status]));
    expect(status, `${tutorialRun.all}\n${why(tutorial)}`).to.deep.equal({
      '201024-et': 'passed', '201024-sw': 'passed', '2615-et': 'n/a', '2615-sw': 'passed', '2852-et': 'n/a', '2852-sw': 'passed',
    });
    expect(tutorialRun.exitCode, tutorialRun.all).to.equal(0);
    for (const id of ['2615-et', '2852-et']) {
      expect(tutorial.cells.find((c) => c.id === id)!.reason).to.match(/^kv mode needs --cluster-store and --cluster-advertise, removed in Docker 23\.0 \(engine (26\.1\.5|28\.5\.2)\)$/);
    }
    for (const c of tutorial.cells.filter((x) => x.status === 'passed')) expect(c.counts.tests).to.be.above(10);
  });

  it('each cell ran the release asked for with its own suite\'s containerd and runc, as the daemon reports them, and names where the tree came from', () => {
    for (const c of tutorial.cells.filter((x) => x.status === 'passed')) {
      const want = USERLAND[c.engine.requested]!;
      expect(c.engine.source, c.id).to.equal('auto');
      expect(c.engine.ran, c.id).to.not.equal(undefined);
      expect(c.engine.ran!.engine, c.id).to.match(new RegExp(`^${c.engine.requested.replaceAll('.', '\\.')}\\+dfsg`));
      expect(c.engine.ran!.containerd, c.id).to.match(want.containerd);
      expect(c.engine.ran!.runc, c.id).to.match(want.runc);
      const suite = /docker\.io \S+ of debian (\S+) \(/.exec(c.engine.origin ?? '')?.[1] ?? '';
      expect(suite, `${c.id}: ${c.engine.origin}`).to.match(want.suite);
    }
  });

  it('the trees run with their own suite\'s C library: runc\'s loader and libc are the tree\'s, and 28.5.2\'s libc is the 2.38 or later its runc needs', async () => {
    const cache = engineCacheRoot();
    for (const v of Object.keys(USERLAND)) {
      const tree = join(cache, `debian-${v}`);
      const record = JSON.parse(readFileSync(join(tree, 'overlab-engine.json'), 'utf8')) as { packages: { name: string; version: string }[] };
      const runc = join(tree, 'bin', 'runc');
      const interp = (await execa('patchelf', ['--print-interpreter', runc])).stdout.trim();
      expect(interp, v).to.satisfy((p: string) => p.startsWith(`${tree}/root/`));
      const libs = (await execa(interp, ['--list', runc])).stdout;
      expect(libs, v).to.match(new RegExp(`libc\\.so\\.6 => ${tree.replaceAll('.', '\\.')}/root/\\S+libc\\.so\\.6`));
      const libc = record.packages.find((p) => p.name === 'libc6')!.version;
      if (v === '28.5.2') expect(Number(/^2\.(\d+)/.exec(libc)![1]), libc).to.be.at.least(38);
    }
  });

  it("each tree's containerd starts on the configuration VMs and ssh hosts give it (overlab-containerd beside the host's own), in a mount namespace of its own", async () => {
    const cache = engineCacheRoot();
    for (const v of Object.keys(USERLAND)) {
      const bin = join(cache, `debian-${v}`, 'bin');
      // /var/lib/overlab and /run/overlab are the VM's paths: tmpfs over /var/lib and /run here, seen by nothing else.
      const script = [
        'set -e',
        'mount --make-rprivate /',
        'mount -t tmpfs overlab-test /var/lib',
        'mount -t tmpfs overlab-test /run',
        `mkdir -p "$(dirname ${TREE_CONTAINERD_CONFIG})"`,
        `printf '%s' "$1" > ${TREE_CONTAINERD_CONFIG}`,
        `PATH="$2:$PATH" "$2/containerd" --config ${TREE_CONTAINERD_CONFIG} > /run/log 2>&1 &`,
        `for i in $(seq 100); do [ -S ${TREE_CONTAINERD_SOCKET} ] && break; sleep 0.1; done`,
        `[ -S ${TREE_CONTAINERD_SOCKET} ] || { cat /run/log; exit 1; }`,
        'ls /var/lib/overlab/containerd',
        'kill $!; wait $! || true',
      ].join('\n');
      const r = await execa('unshare', ['--mount', 'sh', '-c', script, 'sh', treeContainerdConfig(), bin], { reject: false, all: true, timeout: 60_000 });
      expect(r.exitCode, `${v}: ${r.all}`).to.equal(0);
      expect(r.stdout, v).to.include('io.containerd.metadata.v1.bolt');
    }
  });

  it('records the engine facts of every cell that ran, and what changed between adjacent releases', () => {
    const ran = tutorial.cells.filter((c) => c.status === 'passed');
    for (const c of ran) {
      expect(Object.keys(c.facts ?? {}), c.id).to.deep.equal([...FACT_NAMES]);
      expect(c.facts!['overlay MTU'], c.id).to.equal('1450 (my-net)');
      expect(c.facts!['VXLAN port'], c.id).to.equal('4789');
      expect(c.facts!['DNS: a container name'], c.id).to.equal('its address on my-net');
      expect(c.facts!['API version'], c.id).to.equal(c.engine.ran!.api);
    }
    expect(tutorial.cells.find((c) => c.id === '201024-et')!.facts!['ingress network']).to.equal('none');
    expect(tutorial.cells.find((c) => c.id === '2852-sw')!.facts!['ingress network']).to.match(/^ingress \d+\.\d+\.\d+\.\d+\/\d+$/);
    // 28.0.1 moved most of Docker's filter rules out of FORWARD into chains of its own (release notes).
    expect(tutorial.cells.find((c) => c.id === '2852-sw')!.facts!['iptables (filter)']).to.include('DOCKER-FORWARD');
    expect(tutorial.cells.find((c) => c.id === '2615-sw')!.facts!['iptables (filter)']).to.not.include('DOCKER-FORWARD');
    const changes = (tutorial.factChanges ?? []).map((f) => `${f.from} -> ${f.to}: ${f.fact}`);
    expect(changes).to.include('201024-sw -> 2615-sw: API version');
    expect(changes).to.include('2615-sw -> 2852-sw: API version');
    expect(changes).to.include('2615-sw -> 2852-sw: iptables (filter)');
  });

  it('the page, in chromium, shows each release with what it ran and where from, the facts table and the changes', async () => {
    const html = join(out('tutorial'), 'matrix.html');
    const dom = await renderedDom(html);
    expect(dom).to.include('6 cells: 4 passed, 0 failed, 2 n/a');
    for (const c of tutorial.cells.filter((x) => x.status === 'passed')) {
      expect(dom, c.id).to.include(`<div class="ran">API ${c.engine.ran!.api} · containerd ${c.engine.ran!.containerd} · runc ${c.engine.ran!.runc}</div>`);
      expect(dom, c.id).to.match(new RegExp(`<div class="origin">docker\\.io ${c.engine.requested.replaceAll('.', '\\.')}\\+dfsg[^<]* of debian `));
    }
    expect(dom).to.match(/<td class="factvalue changed" data-cell="2852-sw" data-fact="iptables \(filter\)"/);
    expect(dom).to.match(/<ul id="fact-changes"><li data-from="201024-\w+" data-to="/);
    await screenshot(html, join(out('tutorial'), 'matrix.png'), '1500,1400');
  });

  let swarm: MatrixReport;
  it('the swarm lab passes on all three releases', async () => {
    const r = await matrix(s.lab('rel-s', shippedLab('swarm.yaml', 'rel-s')), ['--engines', ENGINES, '--modes', 'swarm', '--jobs', '2', '--out', out('swarm')]);
    swarm = JSON.parse(readFileSync(join(out('swarm'), 'matrix.json'), 'utf8')) as MatrixReport;
    expect(Object.fromEntries(swarm.cells.map((c) => [c.id, c.status])), `${r.all}\n${why(swarm)}`).to.deep.equal({ '201024-sw': 'passed', '2615-sw': 'passed', '2852-sw': 'passed' });
    expect(r.exitCode).to.equal(0);
    for (const c of swarm.cells) expect(await leftovers(c.lab), c.lab).to.deep.equal(NOTHING_LEFT);
  });

  it('run as CI runners run it: --list --json gives the cells, each runs in a process of its own (--cell), and the merge has the verdicts of the single run', async () => {
    const file = join(s.dir, 'rel-s.yaml');
    const list = await execa('node', [CLI, 'matrix', file, '--engines', ENGINES, '--modes', 'swarm', '--list', '--json'], { cwd: s.dir, env: env() });
    const cells = JSON.parse(list.stdout) as { id: string; runnable: boolean }[];
    const ids = cells.filter((c) => c.runnable).map((c) => c.id);
    expect(ids).to.deep.equal(['201024-sw', '2615-sw', '2852-sw']);
    // Three jobs at once, as a CI service's job matrix would start them.
    const parts = await Promise.all(ids.map((id) => matrix(file, ['--engines', ENGINES, '--modes', 'swarm', '--cell', id, '--jobs', '1', '--out', out(`part-${id}`)])));
    for (const [i, p] of parts.entries()) expect(p.exitCode, `${ids[i]}: ${p.all}`).to.equal(0);
    const merged = await execa('node', [CLI, 'matrix', 'merge', ...ids.map((id) => out(`part-${id}`)), '--out', out('merged'), '--json'], { reject: false, cwd: s.dir, env: env() });
    expect(merged.exitCode, merged.stderr).to.equal(0);
    expect(JSON.parse(merged.stdout).summary).to.equal('3 cells: 3 passed, 0 failed, 0 n/a');
    const m = JSON.parse(readFileSync(join(out('merged'), 'matrix.json'), 'utf8')) as MatrixReport;
    const verdicts = (r: MatrixReport) => r.cells.map((c) => ({ id: c.id, status: c.status, engine: c.engine.ran?.engine, specs: c.specs.map((x) => `${x.title}: ${x.state}`) }));
    expect(verdicts(m)).to.deep.equal(verdicts(swarm));
    expect(m.parts).to.have.length(3);
    expect((m.factChanges ?? []).map((f) => `${f.from} -> ${f.to}: ${f.fact}`)).to.include('2615-sw -> 2852-sw: API version');
    const junit = readFileSync(join(out('merged'), 'junit.xml'), 'utf8');
    expect([...junit.matchAll(/<testsuite name="overlab matrix ([^"]+)"/g)].map((x) => x[1])).to.deep.equal(ids);
    // A part run twice is refused, naming the cell.
    const twice = await execa('node', [CLI, 'matrix', 'merge', out(`part-${ids[0]}`), out(`part-${ids[0]}`), out(`part-${ids[1]}`), out(`part-${ids[2]}`), '--out', out('merged2')], { reject: false, cwd: s.dir, env: env() });
    expect(twice.exitCode).to.equal(64);
    expect(twice.stderr).to.include(`cell ${ids[0]} ran in both`);
  });

  it('the services lab passes on 28.5.2, with n/a for what this kernel lacks (IP_VS, INET_ESP), and leaves nothing', async () => {
    const text = shippedLab('services.yaml', 'rel-v').replace(/version: "20\.10"/, 'version: "28.5.2"\n  source: debian');
    const file = s.lab('rel-v', text);
    const r = await execa('node', [CLI, 'test', file, '--json', '--allow-missing', '--destroy', 'always'], { reject: false, cwd: s.dir, env: env(), timeout: 600_000 });
    const run = JSON.parse(r.stdout) as TestRun;
    const failed = run.cases.filter((c) => c.state === 'failed').map((c) => `${c.title}: ${c.failure?.message}`);
    expect(failed, r.stderr).to.deep.equal([]);
    expect(run.properties['engine'], r.stderr).to.match(/^28\.5\.2\+dfsg/);
    // The report says what ran, as the daemons reported it, and where the tree came from.
    expect(run.properties['containerd']).to.match(/^2\.1\./);
    expect(run.properties['runc']).to.match(/^1\.3\./);
    expect(run.properties['engine.origin']).to.match(/^docker\.io 28\.5\.2\+dfsg\S+ of debian (forky|sid) /);
    expect(run.counts.passed).to.be.above(15);
    const na = run.cases.filter((c) => c.state === 'n/a');
    expect(na.length).to.be.above(0);
    for (const c of na) expect(c.reason, c.title).to.match(/kernel has no (IP_VS|INET_ESP)/);
    expect(await leftovers('rel-v')).to.deep.equal(NOTHING_LEFT);
  });

  it('leaves no cell lab behind', async () => {
    for (const c of tutorial.cells) expect(await leftovers(c.lab), c.lab).to.deep.equal(NOTHING_LEFT);
  });
});
