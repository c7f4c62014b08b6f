// Engine facts: the parsers that read them off a live lab (iptables-save, ip -d link, busybox ip
// and nslookup), and how a matrix report puts them side by side: what changed between adjacent
// releases, what changed since a previous run, and the page's facts table.
import { expect } from 'chai';
import { interfaceWith, iptablesChains, lookupFailure, vxlanPorts } from '../../harness/probes/engine-facts.ts';
import { adjacentFactChanges, cellCounts, compareReports, type MatrixCellResult, type MatrixReport } from '../../harness/report/matrix.ts';
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

  it('the page, in chromium, shows a facts table with the changed values marked and what they were, and the list of changes', async () => {
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
