// A matrix never takes down a lab it did not make: a lab already up under a cell's name (a
// user's, another matrix's) makes that cell err, naming it, and stays as it was. No host is
// made: the cell stops before its lab would come up.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { MatrixReport } from '../../harness/report/matrix.ts';
import { StateStore } from '../../harness/state/store.ts';
import { CLI, kvLab, Scratch } from './support/labs.ts';

describe('overlab matrix and a lab of a cell\'s name it did not make', function () {
  this.timeout(120_000);
  let s: Scratch;
  before(() => {
    s = new Scratch();
  });
  after(() => s.dispose());

  it('errs that cell naming the lab and its file, runs nothing for it, and leaves the lab and its state alone', async () => {
    const file = s.lab('mx-c', kvLab('mx-c'));
    const cellLab = 'mx-c-sys-et';
    const now = new Date().toISOString();
    const theirs = { version: 1 as const, lab: cellLab, provider: 'netns' as const, mode: 'kv' as const, file: '/home/ann/labs/mx-c-sys-et.yaml', phase: 'up' as const, createdAt: now, updatedAt: now, hosts: {}, resources: {} };
    new StateStore(join(s.home, cellLab)).write(theirs);
    const r = await execa('node', [CLI, 'matrix', file, '--engines', 'system', '--kv', 'etcd', '--modes', 'kv', '--out', join(s.dir, 'out')], {
      reject: false,
      cwd: s.dir,
      env: { OVERLAB_HOME: s.home, FORCE_COLOR: '0' },
      all: true,
    });
    expect(r.exitCode, r.all).to.not.equal(0);
    const report = JSON.parse(readFileSync(join(s.dir, 'out', 'matrix.json'), 'utf8')) as MatrixReport;
    const cell = report.cells.find((c) => c.id === 'sys-et')!;
    expect(cell.status).to.equal('error');
    expect(cell.reason).to.equal(`a lab named ${cellLab} is already there (from /home/ann/labs/mx-c-sys-et.yaml), not this cell's: the cell did not run, and that lab was left alone`);
    expect(cell.specs).to.deep.equal([]);
    expect(new StateStore(join(s.home, cellLab)).read()).to.deep.include({ file: theirs.file, phase: 'up' });
  });
});
