// The release matrix on netns, for real: this machine's engine (`system`) and a second engine
// tree served from a file:// mirror this test builds in Docker's static layout from the
// installed binaries, each x {kv + etcd, kv + ZooKeeper (the known engine panic, reported as
// that cell's failure), swarm}. Download, checksum, unpacking, caching and running the second
// tree are exercised; the three reports agree on every cell and spec; the page is looked at in
// headless chromium. Then a cell broken on purpose (an engine setting that breaks its overlay)
// fails in all three reports while the other passes, and --compare marks it newly failing.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { findProgram } from '../../harness/system/programs.ts';
import type { MatrixReport } from '../../harness/report/matrix.ts';
import { renderedDom, screenshot } from '../support/browser.ts';
import { CLI, kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

/** The installed binaries that make the second engine tree, by their name in Docker's static layout. */
const INSTALLED_ENGINE_BINARIES = ['dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'docker-init', 'docker-proxy'];
/** The version the installed binaries are (Debian's docker.io): the archive is named after it. */
const TREE_VERSION = '20.10.24';
const LAB = 'mx-m';

describe('overlab matrix on netns: two engine trees x kv+etcd, kv+ZooKeeper, swarm', function () {
  this.timeout(300_000);
  let s: Scratch;
  let file: string;
  let mirror: string;
  let sum: string;
  let cache: string;
  const out1 = () => join(s.dir, 'out1');
  const out2 = () => join(s.dir, 'out2');
  let run1: Awaited<ReturnType<typeof matrix>>;
  let report1: MatrixReport;

  const matrix = (args: string[]) =>
    execa('node', [CLI, 'matrix', file, ...args], { reject: false, cwd: s.dir, env: { OVERLAB_HOME: s.home, OVERLAB_ENGINE_CACHE: cache, FORCE_COLOR: '0' }, all: true, timeout: 240_000 });

  before(async () => {
    s = new Scratch();
    cache = s.engineCache();
    file = s.lab(LAB, kvLab(LAB, { third: 153 }));
    // The mirror: docker-20.10.24.tgz with docker/<binary> for each installed binary, as Docker ships it.
    const tree = join(s.dir, 'build', 'docker');
    mkdirSync(tree, { recursive: true });
    for (const b of INSTALLED_ENGINE_BINARIES) {
      const path = findProgram(b, { systemDirs: true });
      if (!path) throw new Error(`${b} is not installed: scripts/setup-host.sh installs docker.io`);
      copyFileSync(path, join(tree, b));
    }
    mkdirSync(join(s.dir, 'mirror'));
    const archive = join(s.dir, 'mirror', `docker-${TREE_VERSION}.tgz`);
    await execa('tar', ['-czf', archive, '-C', join(s.dir, 'build'), 'docker']);
    sum = createHash('sha256').update(readFileSync(archive)).digest('hex');
    mirror = pathToFileURL(join(s.dir, 'mirror')).href;
    const started = Date.now();
    run1 = await matrix(['--engines', `system,static:${TREE_VERSION}`, '--kv', 'etcd,zookeeper', '--modes', 'kv,swarm', '--engine-mirror', mirror, '--engine-sha256', `${TREE_VERSION}=${sum}`, '--jobs', '3', '--out', out1()]);
    console.log(`      (first matrix: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    report1 = JSON.parse(readFileSync(join(out1(), 'matrix.json'), 'utf8')) as MatrixReport;
  });

  after(async () => {
    await execa('node', [CLI, 'down', '--all', '--force'], { reject: false, cwd: s.dir, env: { OVERLAB_HOME: s.home } });
    s.dispose();
  });

  it('runs 6 cells (no swarm cell with a KV store) and exits 1 for the failing ones', () => {
    expect(run1.exitCode, run1.all).to.equal(1);
    expect(run1.stdout, run1.all).to.match(/matrix of 6 cells \(6 to run, 0 n\/a\), 3 at a time \(--jobs\)/);
    // Every cell's outcome in the message: what failed and why, when a cell does not do as expected.
    const why = report1.cells
      .map((c) => `${c.id} ${c.status}${c.reason ? `: ${c.reason}` : ''}${c.specs.filter((x) => x.state === 'failed').map((x) => `\n  failed: ${x.title}: ${x.failure?.message ?? ''}`).join('')}`)
      .join('\n');
    expect(run1.stdout, `${run1.all}\n${why}`).to.include('6 cells: 4 passed, 2 failed, 0 n/a');
    const status = Object.fromEntries(report1.cells.map((c) => [c.id, c.status]));
    expect(status, why).to.deep.equal({
      'sys-et': 'passed', 'sys-zk': 'failed', 'sys-sw': 'passed',
      '201024-et': 'passed', '201024-zk': 'failed', '201024-sw': 'passed',
    });
    for (const c of report1.cells.filter((x) => x.status === 'passed')) {
      expect(c.counts.failed).to.equal(0);
      expect(c.counts.tests).to.be.above(5);
      expect(c.durations.upMs).to.be.above(0);
      expect(c.durations.specsMs).to.be.above(0);
      expect(c.durations.downMs).to.be.above(0);
    }
  });

  it('reports the ZooKeeper engine panic as that cell\'s failure, quoted', () => {
    for (const id of ['sys-zk', '201024-zk']) {
      const c = report1.cells.find((x) => x.id === id)!;
      expect(c.reason).to.match(/the Docker engine on d[01] died while starting container c[01]: panic: runtime error: invalid memory address or nil pointer dereference/);
      expect(c.reason).to.include('libnetwork.(*endpointCnt).Key');
    }
  });

  it('fetched the second tree once from the mirror, checked its sum, unpacked it into the cache and ran the engines from it', async () => {
    const dir = join(cache, TREE_VERSION);
    expect(existsSync(join(dir, 'docker', 'dockerd'))).to.equal(true);
    expect(JSON.parse(readFileSync(join(dir, 'overlab-engine.json'), 'utf8'))).to.include({ version: TREE_VERSION, url: `${mirror}/docker-${TREE_VERSION}.tgz`, sha256: sum });
    const installed = (await execa(findProgram('dockerd', { systemDirs: true })!, ['--version'])).stdout;
    for (const c of report1.cells.filter((x) => x.id.startsWith('201024-') && x.status !== 'n/a')) {
      // Recorded by `up` only when the tree was resolved and its dockerd started.
      expect(c.engine, c.id).to.include({ source: 'static', url: `${mirror}/docker-${TREE_VERSION}.tgz`, sha256: sum });
      expect(installed).to.include(c.engine.version!);
    }
    for (const c of report1.cells.filter((x) => x.id.startsWith('sys-') && x.status !== 'n/a')) expect(c.engine).to.include({ source: 'system' });
  });

  it('JSON, JUnit and HTML agree on every cell and spec; the page in chromium shows the failures open and the counts of the JSON', async () => {
    await agree(out1(), report1);
    const html = join(out1(), 'matrix.html');
    const dom = await renderedDom(html);
    expect(dom).to.include('6 cells: 4 passed, 2 failed, 0 n/a');
    const zk = /<th class="cell failed" data-cell="sys-zk"[^>]*>[\s\S]*?<div class="status">FAILED<\/div>/.exec(dom);
    expect(zk, 'sys-zk header shows FAILED').to.not.equal(null);
    expect(dom).to.match(/<td class="reason failed" data-cell="sys-zk"><details class="diagnostics" open="">/);
    await screenshot(html, join(out1(), 'matrix.png'), '1600,1000');
    expect(statSync(join(out1(), 'matrix.png')).size).to.be.above(10_000);
  });

  it('a cell broken on purpose fails in all three reports while the other passes; --compare marks it newly failing and exits 1; the cached tree is not fetched again; a missing archive errs that cell only', async () => {
    // The mirror is gone: the second tree can only come from the cache.
    const empty = pathToFileURL(join(s.dir, 'no-mirror')).href;
    const run2 = await matrix([
      '--engines', `system,static:${TREE_VERSION},static:20.10.99`, '--kv', 'etcd', '--modes', 'kv', '--engine-mirror', empty, '--jobs', '3', '--out', out2(), '--compare', join(out1(), 'matrix.json'),
      // A sum for the missing archive, so that its cell reaches the download (none would be refused first).
      '--engine-sha256', `20.10.99=${'0'.repeat(64)}`,
      // Engines that advertise an address nobody has: the VXLAN peers are never reached.
      '--cell-flag', 'sys-et=--cluster-advertise=172.28.153.99:2376',
    ]);
    expect(run2.exitCode, run2.all).to.equal(1);
    const r2 = JSON.parse(readFileSync(join(out2(), 'matrix.json'), 'utf8')) as MatrixReport;
    const broken = r2.cells.find((c) => c.id === 'sys-et')!;
    const other = r2.cells.find((c) => c.id === '201024-et')!;
    expect(broken).to.include({ status: 'failed', change: 'newly failing' });
    expect(broken.specs.filter((x) => x.state === 'failed' && x.change === 'newly failing').length).to.be.above(0);
    expect(broken.specs.find((x) => /reaches c1 on d1 over net by address \(icmp\)/.test(x.title))!.state).to.equal('failed');
    expect(other.status, JSON.stringify(other.reason)).to.equal('passed');
    expect(other.change).to.equal(undefined);
    expect(r2.compare!.goneCells.map((g) => g.id).sort()).to.deep.equal(['201024-sw', '201024-zk', 'sys-sw', 'sys-zk']);
    // A version the mirror does not have: that cell errs naming the URL and the cause, and the rest goes on.
    expect(r2.cells.find((c) => c.id === '201099-et')).to.deep.include({ status: 'error', change: 'new', reason: `cannot fetch ${empty}/docker-20.10.99.tgz: ENOENT` });
    expect(run2.stdout).to.match(/3 cells: 1 passed, 1 failed, 1 could not run, 0 n\/a; \d+ newly failing, 1 new, 4 gone since \S+matrix\.json/);
    await agree(out2(), r2);
    const junit = readFileSync(join(out2(), 'junit.xml'), 'utf8');
    expect(junit).to.match(/<testsuite name="overlab matrix sys-et"[^>]*failures="[1-9]/);
    expect(junit).to.include('<property name="change" value="newly failing"/>');
    const dom = await renderedDom(join(out2(), 'matrix.html'));
    expect(dom).to.match(/<th class="cell failed" data-cell="sys-et" data-status="failed" data-change="newly failing">/);
    expect(dom).to.match(/<th class="cell passed" data-cell="201024-et" data-status="passed">/);
  });

  it('Ctrl-C stops every cell and takes each down: nothing is left', async () => {
    const child = execa('node', [CLI, 'matrix', file, '--engines', 'system', '--kv', 'etcd', '--modes', 'kv,swarm', '--jobs', '2', '--out', join(s.dir, 'out3')], {
      reject: false,
      cwd: s.dir,
      env: { OVERLAB_HOME: s.home, OVERLAB_ENGINE_CACHE: cache, FORCE_COLOR: '0' },
      all: true,
    });
    // Both cells on their way up (their hosts being made), then the signal.
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stdout!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/sys-sw\s+running/.test(seen)) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 4000));
    const signalled = Date.now();
    child.kill('SIGINT');
    const r = await child;
    const seconds = (Date.now() - signalled) / 1000;
    console.log(`      (ended ${seconds.toFixed(1)} s after SIGINT)`);
    expect(r.exitCode, r.all).to.equal(130);
    expect(seconds).to.be.below(30);
    for (const lab of [`${LAB}-sys-et`, `${LAB}-sys-sw`]) expect(await leftovers(lab), lab).to.deep.equal(NOTHING_LEFT);
  });

  it('leaves no cell lab behind', async () => {
    for (const c of report1.cells) expect(await leftovers(c.lab), c.lab).to.deep.equal(NOTHING_LEFT);
  });
});

/** The three reports of one run say the same of every cell and every spec. */
async function agree(out: string, r: MatrixReport): Promise<void> {
  const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
  const html = readFileSync(join(out, 'matrix.html'), 'utf8');
  const suites = [...junit.matchAll(/<testsuite name="overlab matrix ([^"]+)" tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"[\s\S]*?<\/testsuite>/g)];
  expect(suites.map((m) => m[1])).to.deep.equal(r.cells.map((c) => c.id));
  for (const [i, cell] of r.cells.entries()) {
    const m = suites[i]!;
    expect(m[0], cell.id).to.include(`<property name="status" value="${cell.status}"/>`);
    if (cell.specs.length) {
      expect(Number(m[2]), cell.id).to.equal(cell.specs.length);
      expect(Number(m[3]) + Number(m[4]), cell.id).to.equal(cell.specs.filter((x) => x.state === 'failed').length);
      for (const spec of cell.specs) {
        // JUnit names each spec in the cell's suite; the page marks it in the cell's column.
        expect(m[0]).to.include(`name="${spec.title.replaceAll('"', '&quot;')}"`);
      }
    }
    const marks = [...html.matchAll(new RegExp(`<td class="mark [^"]+" data-cell="${cell.id}" data-state="([^"]+)"`, 'g'))].map((x) => x[1]);
    for (const st of ['passed', 'failed'] as const) expect(marks.filter((x) => x === st).length, `${cell.id} ${st}`).to.equal(cell.specs.filter((x) => x.state === st).length);
    expect(html, cell.id).to.include(`data-cell="${cell.id}" data-status="${cell.status}"`);
  }
}
