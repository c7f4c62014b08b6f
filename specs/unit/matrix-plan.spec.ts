// The release matrix, planned: cells, short ids and lab names within 24 characters, the cells
// that cannot exist with their reason, and each cell's lab file from the base lab's text.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadLab } from '../../harness/lab/load.ts';
import { cellLabName, cellLabText, parseEngineList, parseKvList, parseModeList, planMatrix } from '../../harness/lab/matrix.ts';
import type { Lab } from '../../harness/lab/types.ts';
import { UsageError } from '../../harness/errors.ts';

describe('matrix planning', () => {
  let tutorial: Lab;
  before(async () => {
    tutorial = await loadLab('labs/tutorial.yaml');
  });

  it('parses the axes and refuses what is not one', () => {
    expect(parseEngineList('system, 20.10.24,system')).to.deep.equal(['system', '20.10.24']);
    expect(parseKvList('etcd,zookeeper')).to.deep.equal(['etcd', 'zookeeper']);
    expect(parseModeList('kv,swarm')).to.deep.equal(['kv', 'swarm']);
    expect(parseEngineList('debian:28.5.2,static:20.10.24,26.1.5')).to.deep.equal(['debian:28.5.2', 'static:20.10.24', '26.1.5']);
    expect(() => parseEngineList('20.10')).to.throw(UsageError, /neither system nor an exact release/);
    expect(() => parseEngineList('fedora:28.5.2')).to.throw(UsageError, /neither system nor an exact release/);
    expect(() => parseKvList('redis')).to.throw(UsageError, /not a KV store/);
    expect(() => parseModeList('')).to.throw(UsageError, /at least one/);
  });

  it('lists every cell: kv per store, one swarm cell per engine and none with a KV store; kv on 23.0+ not applicable, with the reason', () => {
    const cells = planMatrix(tutorial, { engines: ['system', '20.10.24', '24.0.7'], kv: ['etcd', 'zookeeper'], modes: ['kv', 'swarm'] });
    expect(cells.map((c) => `${c.id}${c.notApplicable ? ' n/a' : ''}`)).to.deep.equal([
      'sys-et', 'sys-zk', 'sys-sw',
      '201024-et', '201024-zk', '201024-sw',
      '2407-et n/a', '2407-zk n/a', '2407-sw',
    ]);
    expect(cells.find((c) => c.id === '2407-et')!.notApplicable).to.equal('kv mode needs --cluster-store and --cluster-advertise, removed in Docker 23.0 (engine 24.0.7)');
    expect(cells.find((c) => c.id === '201024-zk')).to.deep.include({ lab: 'tutorial-201024-zk', mode: 'kv', kv: 'zookeeper', engine: { requested: '20.10.24', source: 'auto', version: '20.10.24' } });
    expect(cells.find((c) => c.id === 'sys-et')!.engine).to.deep.equal({ requested: 'system', source: 'system', version: '20.10' });
    for (const c of cells) expect(c.lab.length).to.be.at.most(24);
  });

  it('names where a release comes from when told (static:, debian:, ubuntu:), keeps the id to the release, and refuses one release twice', () => {
    const cells = planMatrix(tutorial, { engines: ['debian:28.5.2', 'static:20.10.24'], kv: ['etcd'], modes: ['kv', 'swarm'] });
    expect(cells.find((c) => c.id === '2852-sw')!.engine).to.deep.equal({ requested: 'debian:28.5.2', source: 'debian', version: '28.5.2' });
    expect(cells.find((c) => c.id === '2852-et')!.notApplicable).to.match(/removed in Docker 23\.0 \(engine 28\.5\.2\)/);
    expect(cells.find((c) => c.id === '201024-et')!.engine.source).to.equal('static');
    expect(() => planMatrix(tutorial, { engines: ['debian:28.5.2', '28.5.2'], kv: ['etcd'], modes: ['swarm'] })).to.throw(UsageError, /names one release twice \(cells 2852-sw/);
  });

  it('cuts the base name, never the cell id, to keep lab names within 24 characters', () => {
    expect(cellLabName('a-rather-long-lab-name', '201024-sw-zk')).to.match(/^a-rath-[0-9a-f]{4}-201024-sw-zk$/);
    expect(cellLabName('a-rather-long-lab-name', '201024-sw-zk')).to.have.length.at.most(24);
    // Two long names that start alike: cut to the same prefix, but never the same cell lab.
    expect(cellLabName('workshop-overlay-lab-a', '201024-sw-zk')).not.to.equal(cellLabName('workshop-overlay-lab-b', '201024-sw-zk'));
    expect(cellLabName('x'.repeat(40), '201024-sw-zk')).to.have.length.at.most(24);
    expect(cellLabName('mx-a', 'sys-et')).to.equal('mx-a-sys-et');
  });

  it('refuses flags for a cell the matrix does not have', () => {
    expect(() => planMatrix(tutorial, { engines: ['system'], kv: ['etcd'], modes: ['kv'], cellFlags: { 'sys-zk': ['--debug'] } })).to.throw(UsageError, /names no cell of this matrix: sys-zk/);
  });

  it('writes each cell\'s lab file from the base text: kv cells set the store (no fallback), swarm cells drop the kv host and make overlays attachable', () => {
    const text = readFileSync('labs/tutorial.yaml', 'utf8');
    const cells = planMatrix(tutorial, { engines: ['static:20.10.24'], kv: ['zookeeper'], modes: ['kv', 'swarm'], cellFlags: { '201024-zk': ['--debug'] } });
    const kv = parse(cellLabText(text, cells[0]!, { provider: 'netns', sha256: 'a'.repeat(64) }));
    expect(kv.name).to.equal('tutorial-201024-zk');
    expect(kv.provider).to.equal('netns');
    expect(kv.engine).to.deep.include({ mode: 'kv', version: '20.10.24', source: 'static', sha256: 'a'.repeat(64), flags: ['--debug'] });
    expect(kv.kv.type).to.equal('zookeeper');
    expect(kv.kv).to.not.have.property('fallback');
    const sw = parse(cellLabText(text, cells[1]!));
    expect(sw.engine.mode).to.equal('swarm');
    expect(sw).to.not.have.property('kv');
    expect(sw.hosts.map((h: { role?: string }) => h.role ?? 'docker')).to.not.include('kv');
    expect(sw.networks.every((n: { attachable?: boolean }) => n.attachable === true)).to.equal(true);
  });

  it('names the lab\'s own spec files absolutely in each cell\'s lab file (it is written elsewhere), and adds none to a lab without', () => {
    const text = `${readFileSync('labs/tutorial.yaml', 'utf8')}specs:\n  files: [checks/*.spec.ts]\n`;
    const cells = planMatrix(tutorial, { engines: ['system'], kv: ['etcd'], modes: ['kv'] });
    expect(parse(cellLabText(text, cells[0]!, { specFiles: ['/labs/checks/a.spec.ts', '/labs/checks/\\[b\\].spec.ts'] })).specs).to.deep.equal({ files: ['/labs/checks/a.spec.ts', '/labs/checks/\\[b\\].spec.ts'] });
    expect(parse(cellLabText(readFileSync('labs/tutorial.yaml', 'utf8'), cells[0]!, { specFiles: ['/x.spec.ts'] }))).to.not.have.property('specs');
  });

  it('reads a lab\'s own matrix: block, and refuses an engine that names no archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overlab-matrix-'));
    try {
      const text = readFileSync('labs/tutorial.yaml', 'utf8').replace(/\n?$/, '\nmatrix:\n  engines: [system, "20.10.24"]\n  kv: [etcd, zookeeper]\n  modes: [kv]\n');
      writeFileSync(join(dir, 'm.yaml'), text);
      const lab = await loadLab(join(dir, 'm.yaml'));
      expect(lab.matrix).to.deep.equal({ engines: ['system', '20.10.24'], kv: ['etcd', 'zookeeper'], modes: ['kv'] });
      writeFileSync(join(dir, 'bad.yaml'), text.replace('"20.10.24"', '"20.10"'));
      const err = (await loadLab(join(dir, 'bad.yaml')).catch((e: unknown) => e)) as Error;
      expect(err.message).to.match(/matrix\.engines|engines/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
