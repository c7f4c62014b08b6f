// Engine facts: the parsers that read them off a live lab (iptables-save, ip -d link, busybox ip
// and nslookup), and how a matrix report puts them side by side: what changed between adjacent
// releases, what changed since a previous run, and the page's facts table; and matrix parts run
// apart (--cell), merged into one report.
import { expect } from 'chai';
import { interfaceWith, iptablesChains, lookupFailure, vxlanPorts } from '../../harness/probes/engine-facts.ts';
import { adjacentFactChanges, cellCounts, compareReports, mergeMatrixReports, type MatrixCellResult, type MatrixReport } from '../../harness/report/matrix.ts';
import { renderMatrixPage } from '../../harness/render/matrix.ts';
import { renderedDom } from '../support/browser.ts';

function cell(id: string, requested: string, mode: string, facts?: Record<string, string>, status: MatrixCellResult['status'] = 'passed'): MatrixCellResult {
  return {
    id,
    lab: `mx-${id}`,
    engine: { requested, source: 'auto', version: requested },
    kv: mode === 'swarm' ? 'none' : 'etcd',
    mode,
    provider: 'netns',
    status,
    durations: { totalMs: 1 },
    counts: { tests: 0, passed: 0, failed: 0, pending: 0 },
    specs: [],
    ...(facts ? { facts } : {}),
  };
}

function report(cells: MatrixCellResult[], engines: string[]): MatrixReport {
  return { lab: 'mx', file: 'mx.yaml', provider: 'netns', startedAt: '2026-01-01T00:00:00.000Z', ms: 1, jobs: 2, cells, counts: cellCounts(cells), factChanges: adjacentFactChanges(cells, engines) };
}

describe('engine facts', () => {
  it('reads the chains an engine made per table from iptables-save, built-in chains left out', () => {
    const save = ['# Generated', '*nat', ':PREROUTING ACCEPT [0:0]', ':DOCKER - [0:0]', '-A PREROUTING -j DOCKER', 'COMMIT', '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':DOCKER-USER - [0:0]', ':DOCKER - [0:0]', ':DOCKER-CT - [0:0]', 'COMMIT'].join('\n');
    expect(iptablesChains(save)).to.deep.equal({ nat: ['DOCKER'], filter: ['DOCKER', 'DOCKER-CT', 'DOCKER-USER'] });
    expect(iptablesChains('')).to.deep.equal({});
  });

  it('reads VXLAN ports from ip -d -o link, once each, in order', () => {
    const out = '7: vxlan0: <BROADCAST> mtu 1450 ... vxlan id 4097 srcport 0 0 dstport 4789 proxy l2miss\n9: vxlan1: ... vxlan id 4098 dstport 7789 ...\n10: vx: ... dstport 4789';
    expect(vxlanPorts(out)).to.deep.equal([4789, 7789]);
    expect(vxlanPorts('')).to.deep.equal([]);
  });

  it('finds the interface that holds an address in busybox ip -o -4 addr, and none for another address', () => {
    const out = '1: lo    inet 127.0.0.1/8 scope host lo\n12: eth0    inet 10.0.4.2/24 brd 10.0.4.255 scope global eth0\n14: eth1@if15    inet 172.18.0.3/16 scope global eth1';
    expect(interfaceWith(out, '10.0.4.2')).to.equal('eth0');
    expect(interfaceWith(out, '172.18.0.3')).to.equal('eth1@if15'.replace(/@.*$/, ''));
    expect(interfaceWith(out, '10.0.4.20')).to.equal(undefined);
  });

  it('names how a lookup failed: NXDOMAIN, SERVFAIL, or no answer', () => {
    expect(lookupFailure("Server: 127.0.0.11\n** server can't find x.invalid: NXDOMAIN")).to.equal('NXDOMAIN');
    expect(lookupFailure("** server can't find x.invalid: SERVFAIL")).to.equal('SERVFAIL');
    expect(lookupFailure(';; connection timed out; no servers could be reached')).to.equal('no answer');
  });

  it('lists what changed between adjacent releases in one mode, in the order the engines were asked for, passing over cells without facts', () => {
    const base = { 'API version': '1.41', 'DNS: an unknown name': 'no answer', 'VXLAN port': '4789' };
    const cells = [
      cell('2852-sw', '28.5.2', 'swarm', { ...base, 'API version': '1.51', 'DNS: an unknown name': 'SERVFAIL' }),
      cell('201024-sw', '20.10.24', 'swarm', base),
      cell('201024-et', '20.10.24', 'kv', { ...base, 'VXLAN port': '4789' }),
      cell('2615-sw', '26.1.5', 'swarm', undefined, 'error'),
      cell('2615-et', '26.1.5', 'kv', undefined, 'n/a'),
    ];
    expect(adjacentFactChanges(cells, ['20.10.24', '26.1.5', '28.5.2'])).to.deep.equal([
      { from: '201024-sw', to: '2852-sw', fact: 'API version', before: '1.41', after: '1.51' },
      { from: '201024-sw', to: '2852-sw', fact: 'DNS: an unknown name', before: 'no answer', after: 'SERVFAIL' },
    ]);
  });

  it('--compare lists the facts of each cell that differ from the previous run', () => {
    const previous = report([cell('2852-sw', '28.5.2', 'swarm', { 'API version': '1.51', 'VXLAN port': '4789' })], ['28.5.2']);
    const now = report([cell('2852-sw', '28.5.2', 'swarm', { 'API version': '1.51', 'VXLAN port': '7789' })], ['28.5.2']);
    compareReports(now, previous, 'old.json');
    expect(now.compare!.factChanges).to.deep.equal([{ from: '2852-sw', to: '2852-sw', fact: 'VXLAN port', before: '4789', after: '7789' }]);
  });

  it('the page, in chromium, shows a facts table with the changed values marked and what they were, and the list of changes', async function () {
    this.timeout(90_000); // chromium's cold start on a loaded 2-core machine took over 20 s once (browser.ts bounds each run at 60 s)
    const r = report(
      [cell('201024-sw', '20.10.24', 'swarm', { 'API version': '1.41', 'VXLAN port': '4789' }), cell('2852-sw', '28.5.2', 'swarm', { 'API version': '1.51', 'VXLAN port': '4789' })],
      ['20.10.24', '28.5.2'],
    );
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'overlab-facts-'));
    try {
      writeFileSync(join(dir, 'm.html'), renderMatrixPage(r));
      const dom = await renderedDom(join(dir, 'm.html'));
      expect(dom).to.match(/<td class="factvalue changed" data-cell="2852-sw" data-fact="API version"[^>]*>1\.51<div class="was">was 1\.41 \(201024-sw\)<\/div><\/td>/);
      expect(dom).to.match(/<td class="factvalue" data-cell="2852-sw" data-fact="VXLAN port">4789<\/td>/);
      expect(dom).to.include('<li data-from="201024-sw" data-to="2852-sw"><b>API version</b>: 1.41 (201024-sw) → 1.51 (2852-sw)</li>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('matrix parts, merged', () => {
  const part = (cells: MatrixCellResult[], name: string, startedAt = '2026-01-01T00:00:00.000Z', ms = 1000): { report: MatrixReport; name: string } => ({
    name,
    report: { ...report(cells, ['20.10.24', '28.5.2']), startedAt, ms, jobs: 1, plan: { engines: ['20.10.24', '28.5.2'], cells: ['201024-et', '201024-sw', '2852-et', '2852-sw'] } },
  });
  const na = cell('2852-et', '28.5.2', 'kv', undefined, 'n/a');
  const a = cell('201024-et', '20.10.24', 'kv', { 'API version': '1.41' });
  const b = cell('201024-sw', '20.10.24', 'swarm', { 'API version': '1.41' });
  const c = cell('2852-sw', '28.5.2', 'swarm', { 'API version': '1.51' }, 'failed');

  it('joins the parts in the matrix\'s order, each cell from the part that ran it, with counts, span and fact changes made anew', () => {
    const m = mergeMatrixReports([part([c, na], 'p3', '2026-01-01T00:00:05.000Z', 2000), part([a, na], 'p1'), part([b, na], 'p2', '2026-01-01T00:00:01.000Z')]);
    expect(m.cells.map((x) => `${x.id} ${x.status}`)).to.deep.equal(['201024-et passed', '201024-sw passed', '2852-et n/a', '2852-sw failed']);
    expect(m.counts).to.deep.equal({ cells: 4, passed: 2, failed: 1, error: 0, na: 1 });
    expect(m.startedAt).to.equal('2026-01-01T00:00:00.000Z');
    expect(m.ms).to.equal(7000);
    expect(m.parts).to.deep.equal(['p3', 'p1', 'p2']);
    expect(m.factChanges).to.deep.equal([{ from: '201024-sw', to: '2852-sw', fact: 'API version', before: '1.41', after: '1.51' }]);
  });

  it('refuses a cell run in two parts, a part of another matrix, a matrix with a cell no part ran, and a report without its plan', () => {
    expect(() => mergeMatrixReports([part([a, na], 'p1'), part([a, b, c, na], 'p2')])).to.throw(/cell 201024-et ran in both p1 and p2/);
    const other = part([b], 'px');
    other.report.plan = { engines: ['28.5.2'], cells: ['2852-sw'] };
    expect(() => mergeMatrixReports([part([a, na], 'p1'), other])).to.throw(/px is part of another matrix/);
    expect(() => mergeMatrixReports([part([a, na], 'p1'), part([b, na], 'p2')])).to.throw(/no part ran cell 2852-sw: run it \(--cell\) and merge again/);
    const old = part([a], 'old');
    delete old.report.plan;
    expect(() => mergeMatrixReports([old])).to.throw(/old was written by an older overlab \(no plan\)/);
  });
});

describe('matrix --cell', () => {
  it('keeps the cells named, in the matrix\'s order, and refuses an id the matrix does not have, listing its cells', async () => {
    const { selectCells } = await import('../../harness/lifecycle/matrix.ts');
    const { planMatrix } = await import('../../harness/lab/matrix.ts');
    const { loadLab } = await import('../../harness/lab/load.ts');
    const cells = planMatrix(await loadLab('labs/tutorial.yaml'), { engines: ['20.10.24', '28.5.2'], kv: ['etcd'], modes: ['kv', 'swarm'] });
    expect(selectCells(cells, ['2852-sw', '201024-et']).map((c) => c.id)).to.deep.equal(['201024-et', '2852-sw']);
    expect(selectCells(cells, undefined)).to.have.length(4);
    expect(() => selectCells(cells, ['2852-zk'])).to.throw(/--cell 2852-zk: no such cell in this matrix \(cells: 201024-et, 201024-sw, 2852-et, 2852-sw\)/);
  });
});
