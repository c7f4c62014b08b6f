// A lab's own spec files in the release matrix (netns, as root): each cell runs them after the
// built-in specs and its report names them by file, in matrix.json, the JUnit and the page;
// made to fail on a second run, `--compare` marks them newly failing in every cell and the run
// exits 1. This machine's engine in kv mode (etcd) and in swarm mode: two cells.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import type { MatrixReport } from '../../harness/report/matrix.ts';
import { CLI, kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

const LAB = 'mx-us';

const OWN = `import { existsSync } from 'node:fs';
import { expect, lab } from 'overlab/spec';
describe('our own', () => {
  it('c0 reaches c1 by name', () => lab.reach('c0', 'c1'));
  it('no fail-now file beside this spec', () => expect(existsSync(new URL('./fail-now', import.meta.url)), 'fail-now').to.equal(false));
});
`;

describe("a lab's own spec files in overlab matrix, per cell, and --compare (netns)", function () {
  this.timeout(300_000);
  let s: Scratch;
  let file: string;
  const matrix = (args: string[]) => execa('node', [CLI, 'matrix', file, '--engines', 'system', '--kv', 'etcd', '--modes', 'kv,swarm', ...args], { reject: false, cwd: s.dir, env: { OVERLAB_HOME: s.home, FORCE_COLOR: '0' }, all: true, timeout: 240_000 });
  const ours = (r: MatrixReport) => r.cells.map((c) => [c.id, c.specs.filter((x) => x.file).map((x) => `${x.file} ${x.title}: ${x.state}${x.change ? ` (${x.change})` : ''}`)]);

  before(() => {
    s = new Scratch();
    mkdirSync(join(s.dir, 'checks'));
    writeFileSync(join(s.dir, 'checks', 'own.spec.js'), OWN);
    writeFileSync(join(s.dir, 'package.json'), '{"type":"module"}');
    file = s.lab(LAB, `${kvLab(LAB, { third: 165 })}specs:\n  files: [checks/own.spec.js]\n`);
  });

  after(async () => {
    s.dispose();
    for (const cell of ['sys-et', 'sys-sw']) expect(await leftovers(`${LAB}-${cell}`)).to.deep.equal(NOTHING_LEFT);
  });

  it('each cell runs them and names their file in matrix.json, the JUnit and the page; failing on a second run, --compare marks them newly failing', async () => {
    const first = await matrix(['--out', join(s.dir, 'm1')]);
    expect(first.exitCode, first.all).to.equal(0);
    const r1 = JSON.parse(readFileSync(join(s.dir, 'm1', 'matrix.json'), 'utf8')) as MatrixReport;
    expect(ours(r1)).to.deep.equal(
      ['sys-et', 'sys-sw'].map((id) => [id, ['checks/own.spec.js c0 reaches c1 by name: passed', 'checks/own.spec.js no fail-now file beside this spec: passed']]),
    );

    writeFileSync(join(s.dir, 'checks', 'fail-now'), '');
    const second = await matrix(['--out', join(s.dir, 'm2'), '--compare', join(s.dir, 'm1', 'matrix.json')]);
    expect(second.exitCode, second.all).to.equal(1);
    const r2 = JSON.parse(readFileSync(join(s.dir, 'm2', 'matrix.json'), 'utf8')) as MatrixReport;
    expect(ours(r2)).to.deep.equal(
      ['sys-et', 'sys-sw'].map((id) => [id, ['checks/own.spec.js c0 reaches c1 by name: passed', 'checks/own.spec.js no fail-now file beside this spec: failed (newly failing)']]),
    );
    expect(r2.compare!.newlyFailing).to.be.at.least(2);
    const junit = readFileSync(join(s.dir, 'm2', 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase [^>]*name="no fail-now file beside this spec" file="checks\/own.spec.js"[^>]*>\s*(?:<properties>.*<\/properties>\s*)?<failure /g), junit).to.have.length(2);
    const page = readFileSync(join(s.dir, 'm2', 'matrix.html'), 'utf8');
    expect(page).to.include('no fail-now file beside this spec <span class="spec-file">checks/own.spec.js</span>');
  });
});
