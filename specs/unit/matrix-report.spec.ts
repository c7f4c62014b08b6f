// Matrix reports, pure: what changed since a previous run, the closing line, JUnit with a
// testsuite per cell, the page's marks, and how many cells run at once by default.
import { expect } from 'chai';
import { cellCounts, closingLine, compareReports, renderMatrixJunit, type MatrixCellResult, type MatrixReport, type MatrixSpec } from '../../harness/report/matrix.ts';
import { renderMatrixPage } from '../../harness/render/matrix.ts';
import { defaultJobs } from '../../harness/lifecycle/matrix.ts';

const spec = (title: string, state: MatrixSpec['state']): MatrixSpec => ({
  suite: 'reachability',
  title,
  state,
  ms: 10,
  ...(state === 'failed' ? { failure: { message: `${title} does not hold`, kind: 'assertion' as const, detail: 'ping -c 1 c1\nexit 1\n<100% loss>' } } : {}),
});

function cell(id: string, status: MatrixCellResult['status'], specs: MatrixSpec[] = [], reason?: string): MatrixCellResult {
  const n = (s: string) => specs.filter((x) => x.state === s).length;
  return {
    id,
    lab: `mx-${id}`,
    engine: { requested: 'system', source: 'system', version: '20.10.24+dfsg1' },
    kv: id.endsWith('sw') ? 'none' : 'etcd',
    mode: id.endsWith('sw') ? 'swarm' : 'kv',
    provider: 'netns',
    status,
    ...(reason ? { reason } : {}),
    durations: { totalMs: 1000, upMs: 500, specsMs: 300, downMs: 200 },
    counts: { tests: specs.length, passed: n('passed'), failed: n('failed'), pending: n('pending') },
    specs,
  };
}

function report(cells: MatrixCellResult[]): MatrixReport {
  return { lab: 'mx', file: 'mx.yaml', provider: 'netns', startedAt: '2026-01-01T00:00:00.000Z', ms: 5000, jobs: 3, cells, counts: cellCounts(cells) };
}

describe('matrix reports', () => {
  const before = () =>
    report([
      cell('sys-et', 'passed', [spec('a reaches b', 'passed'), spec('b reaches a', 'passed'), spec('old one', 'passed')]),
      cell('sys-zk', 'failed', [], 'the Docker engine on d0 died: panic: runtime error'),
      cell('sys-sw', 'failed', [spec('a reaches b', 'failed')]),
      cell('sys-sw-et', 'n/a', [], 'swarm mode keeps its state in the swarm\'s own raft store'),
    ]);
  const after = () =>
    report([
      cell('sys-et', 'failed', [spec('a reaches b', 'failed'), spec('b reaches a', 'passed'), spec('new one', 'passed')]),
      cell('sys-zk', 'failed', [], 'the Docker engine on d0 died: panic: runtime error'),
      cell('sys-sw', 'passed', [spec('a reaches b', 'passed')]),
      cell('201024-et', 'passed', [spec('a reaches b', 'passed')]),
    ]);

  it('marks newly failing, newly passing, new and gone, for cells and specs', () => {
    const r = compareReports(after(), before(), 'old/matrix.json');
    const et = r.cells[0]!;
    expect(et.change).to.equal('newly failing');
    expect(et.specs.map((s) => s.change)).to.deep.equal(['newly failing', undefined, 'new']);
    expect(r.cells[1]!.change).to.equal(undefined); // failing before and now: known
    expect(r.cells[2]!.change).to.equal('newly passing');
    expect(r.cells[2]!.specs[0]!.change).to.equal('newly passing');
    expect(r.cells[3]!.change).to.equal('new');
    expect(r.compare).to.deep.equal({ previous: 'old/matrix.json', newlyFailing: 2, newlyPassing: 2, new: 2, gone: 2, goneCells: [{ id: 'sys-sw-et', status: 'n/a' }], factChanges: [] });
  });

  it('closes with the counts and what changed', () => {
    expect(closingLine(before())).to.equal('4 cells: 1 passed, 2 failed, 1 n/a');
    expect(closingLine(compareReports(after(), before(), 'PREVIOUS'))).to.equal('4 cells: 2 passed, 2 failed, 0 n/a; 2 newly failing, 2 newly passing, 2 new, 2 gone since PREVIOUS');
  });

  it('writes a JUnit testsuite per cell: specs as cases, an n/a cell skipped with its reason, a cell that ran no spec failing with what happened', () => {
    const xml = renderMatrixJunit(compareReports(after(), before(), 'PREVIOUS'));
    expect([...xml.matchAll(/<testsuite name="overlab matrix ([^"]+)"/g)].map((m) => m[1])).to.deep.equal(['sys-et', 'sys-zk', 'sys-sw', '201024-et']);
    expect(xml).to.match(/<testsuite name="overlab matrix sys-et" tests="3" failures="1" errors="0" skipped="0"/);
    expect(xml).to.include('<property name="change" value="newly failing"/>');
    expect(xml).to.match(/<testsuite name="overlab matrix sys-zk" tests="1" failures="1"[\s\S]*?<failure message="the Docker engine on d0 died: panic: runtime error" type="CellFailure">/);
    const na = renderMatrixJunit(before());
    expect(na).to.match(/<testsuite name="overlab matrix sys-sw-et" tests="1" failures="0" errors="0" skipped="1"[\s\S]*?<skipped message="swarm mode keeps its state in the swarm's own raft store"\/>/);
  });

  it('renders a page with no fetches: a column per cell, failures with their diagnostics, a filter', () => {
    const html = renderMatrixPage(compareReports(after(), before(), 'PREVIOUS'));
    expect(html).to.not.match(/<(?:link|img|iframe)\b|src=|https?:\/\//);
    expect(html).to.include('data-cell="sys-et" data-status="failed" data-change="newly failing"');
    expect(html).to.include('&lt;100% loss&gt;');
    expect(html).to.match(/<td class="mark not-run" data-cell="sys-zk" data-state="not-run">/);
    expect(html).to.include('id="only-failures"');
    expect(html).to.include('Gone since PREVIOUS');
  });

  it('runs as many netns cells at once as memory and cores allow, one elsewhere', () => {
    expect(defaultJobs({ id: 'netns', sideBySide: true }, 300, 8000, 2, 6).jobs).to.equal(2);
    expect(defaultJobs({ id: 'netns', sideBySide: true }, 300, 8000, 8, 6).jobs).to.equal(6);
    expect(defaultJobs({ id: 'netns', sideBySide: true }, 3000, 4000, 8, 6).jobs).to.equal(1);
    expect(defaultJobs({ id: 'vagrant', sideBySide: false }, 300, 8000, 8, 6)).to.deep.equal({ jobs: 1, why: 'vagrant machines are made one cell at a time' });
  });
});
