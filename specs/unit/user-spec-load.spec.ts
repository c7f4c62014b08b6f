// Loading users' spec files into a mocha run (lifecycle/user-specs.ts), without a lab: each file
// in a describe of its own, titled with its path; a file that does not load is one failed case
// 'loads' naming its file and line, what it registered before it failed is gone, and the files
// after it still load and run.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Mocha from 'mocha';
import { loadUserSpecs, shownPath } from '../../harness/lifecycle/user-specs.ts';

describe('users\' spec files in a mocha run', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-userload-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'a.spec.ts'), "describe('first', () => {\n  before(() => {});\n  it('passes', () => {});\n});\n");
    writeFileSync(join(dir, 'b.spec.js'), "describe('half', () => it('never runs', () => {}));\n\nthrow new Error('at load');\n");
    writeFileSync(join(dir, 'c.spec.mjs'), "describe('last', () => it('fails', () => { throw new Error('no'); }));\n");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('an import of overlab/spec that names nothing says spec files are ES modules', async () => {
    mkdirSync(join(dir, 'cjs'));
    writeFileSync(join(dir, 'cjs', 'package.json'), '{}');
    writeFileSync(join(dir, 'cjs', 'd.spec.ts'), "// a CommonJS folder, and no overlab beside it\nimport { lab } from 'overlab/spec';\ndescribe('d', () => it('e', () => lab.plan));\n");
    const globals = { describe: globalThis.describe, it: globalThis.it, before: globalThis.before };
    try {
      const [load] = await loadUserSpecs(new Mocha(), Mocha, [join(dir, 'cjs', 'd.spec.ts')], { run: 1, timeoutMs: 5000 });
      expect(load!.error).to.match(/^\S+d\.spec\.ts:2(:\d+)?: this spec file does not load: Error: Cannot find (package 'overlab'|module 'overlab\/spec')/);
      expect(load!.error).to.match(/ \(spec files are ES modules: a package\.json saying "type": "module" beside it, or name it \.mts or \.mjs\)$/);
    } finally {
      Object.assign(globalThis, globals);
    }
  });

  it('a file that does not load is one failed case at its line; the others load and run', async () => {
    // Mocha's globals (describe, it) are rebound by each load: keep this run's own.
    const globals = { describe: globalThis.describe, it: globalThis.it, before: globalThis.before };
    const mocha = new Mocha({ reporter: class extends Mocha.reporters.Base {} });
    let loads;
    try {
      loads = await loadUserSpecs(mocha, Mocha, ['a.spec.ts', 'b.spec.js', 'c.spec.mjs'].map((f) => join(dir, f)), { run: 1, timeoutMs: 5000 });
    } finally {
      Object.assign(globalThis, globals);
    }
    const b = join(dir, 'b.spec.js');
    expect(loads.map((l) => [l.file.replace(`${dir}/`, ''), l.error ?? 'loaded'])).to.deep.equal([
      ['a.spec.ts', 'loaded'],
      ['b.spec.js', `${shownPath(b)}:3:7: this spec file does not load: Error: at load`],
      ['c.spec.mjs', 'loaded'],
    ]);
    expect(mocha.suite.suites.map((s) => s.title)).to.deep.equal(['a.spec.ts', 'b.spec.js', 'c.spec.mjs'].map((f) => shownPath(join(dir, f))));
    expect(mocha.suite.suites.map((s) => s.timeout())).to.deep.equal([5000, 2000, 5000]);
    const results: string[] = [];
    await new Promise<void>((resolve) => {
      const runner = mocha.run(() => resolve());
      runner.on('pass', (t) => results.push(`passed ${t.fullTitle()} (${t.file?.replace(`${dir}/`, '')})`));
      runner.on('fail', (t, e) => results.push(`failed ${t.fullTitle()} (${t.file?.replace(`${dir}/`, '')}): ${(e as Error).name}`));
    });
    const shown = (f: string) => shownPath(join(dir, f));
    expect(results).to.deep.equal([
      `passed ${shown('a.spec.ts')} first passes (a.spec.ts)`,
      `failed ${shown('b.spec.js')} loads (b.spec.js): SpecLoadError`,
      `failed ${shown('c.spec.mjs')} last fails (c.spec.mjs): Error`,
    ]);
  });
});
