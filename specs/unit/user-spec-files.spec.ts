// The lab's own spec files: `specs.files` names and globs resolved beside the lab file (a name
// or glob that matches no spec file is a lab-file error at its file:line:column), recorded in
// the plan and checked when read back, and `overlab test --spec` resolved beside where it runs.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userSpecFiles } from '../../harness/cli/test.ts';
import { LabFileError, UsageError } from '../../harness/errors.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { resolveSpecPattern, specFilesOf } from '../../harness/lab/spec-files.ts';
import { checkPlan } from '../../harness/state/check-plan.ts';

const LAB = (files: string) => `name: t
hosts:
  - name: kv
    role: kv
  - name: h1
specs:
  pairs: all
  files: ${files}
`;

describe('users\' spec files (specs.files, --spec)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-specfiles-'));
    mkdirSync(join(dir, 'checks', 'deep'), { recursive: true });
    mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
    for (const f of ['checks/b.spec.ts', 'checks/a.spec.js', 'checks/deep/c.spec.mjs', 'checks/notes.txt', 'checks/types.d.ts', 'node_modules/x/n.spec.ts']) writeFileSync(join(dir, f), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a glob names the spec files it matches, sorted, absolute; not .d.ts, not under node_modules', () => {
    expect(resolveSpecPattern('checks/*.{ts,js}', dir)).to.deep.equal({ pattern: 'checks/*.{ts,js}', files: [join(dir, 'checks/a.spec.js'), join(dir, 'checks/b.spec.ts')] });
    expect(resolveSpecPattern('**/*.spec.*', dir).files).to.deep.equal([join(dir, 'checks/a.spec.js'), join(dir, 'checks/b.spec.ts'), join(dir, 'checks/deep/c.spec.mjs')]);
    expect(resolveSpecPattern(join(dir, 'checks/b.spec.ts'), '/').files).to.deep.equal([join(dir, 'checks/b.spec.ts')]);
  });

  it('a name of no file, a glob of none, and one of files that are no spec files are problems that say which', () => {
    expect(resolveSpecPattern('checks/gone.spec.ts', dir).problem).to.equal(`"checks/gone.spec.ts" matches no file in ${dir} (no ${join(dir, 'checks/gone.spec.ts')})`);
    expect(resolveSpecPattern('other/*.ts', dir).problem).to.equal(`"other/*.ts" matches no file in ${dir}`);
    expect(resolveSpecPattern('checks/*.txt', dir).problem).to.equal(`"checks/*.txt" matches no spec file (.ts, .mts, .js, .mjs) in ${dir}, only checks/notes.txt`);
  });

  it('each file once, in the order of the patterns', () => {
    const a = resolveSpecPattern('checks/b.spec.ts', dir);
    const b = resolveSpecPattern('checks/*.spec.*', dir);
    expect(specFilesOf([a, b])).to.deep.equal([join(dir, 'checks/b.spec.ts'), join(dir, 'checks/a.spec.js')]);
  });

  it('loadLab refuses an item that matches nothing at its file:line:column, with every other problem', async () => {
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, `${LAB('[checks/nothing-*.ts]')}networks:\n  - { name: n, subnet: 10.0.4.0/24 }\ncontainers:\n  - { name: c0, host: nowhere, networks: [n] }\n`);
    const e = (await loadLab(file).catch((x: unknown) => x)) as LabFileError;
    expect(e).to.be.instanceOf(LabFileError);
    expect(e.problems.map((p) => p.line)).to.deep.equal([8, 12]);
    expect(e.problems[1]!.message).to.match(/nowhere/);
    writeFileSync(file, LAB('[checks/*.spec.ts, checks/nothing-*.ts, checks/*.txt]'));
    const f = (await loadLab(file).catch((x: unknown) => x)) as LabFileError;
    expect(f).to.be.instanceOf(LabFileError);
    expect(f.problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).to.deep.equal([
      `8:29: specs.files[1] "checks/nothing-*.ts" matches no file in ${dir}`,
      `8:50: specs.files[2] "checks/*.txt" matches no spec file (.ts, .mts, .js, .mjs) in ${dir}, only checks/notes.txt`,
    ]);
  });

  it('parseLab alone reads no folder (a lab text in the docs), and refuses what is not a path', () => {
    expect(parseLab(LAB('[checks/nowhere/*.ts]'), join(dir, 'x.yaml')).specs.files.map((f) => f.pattern)).to.deep.equal(['checks/nowhere/*.ts']);
    expect(() => parseLab(LAB('["-rf.ts"]'), 'x.yaml')).to.throw(LabFileError, /8:11: specs\.files\[0\] "-rf\.ts"/);
    expect(() => parseLab(LAB('[]'), 'x.yaml')).to.throw(LabFileError, /specs\.files/);
  });

  it('the plan records each item with where it is written, and a recorded plan is checked', () => {
    const plan = planLab(parseLab(LAB('[checks/*.spec.ts]'), join(dir, 'lab.yaml')));
    expect(plan.specs.files).to.deep.equal([{ pattern: 'checks/*.spec.ts', pos: { file: join(dir, 'lab.yaml'), line: 8, column: 11 } }]);
    expect(checkPlan(JSON.parse(JSON.stringify(plan))).specs.files).to.deep.equal(plan.specs.files);
    const bad = JSON.parse(JSON.stringify(plan)) as { specs: { files: { pattern: string }[] } };
    bad.specs.files[0]!.pattern = '--exec=x';
    expect(() => checkPlan(bad)).to.throw(/specs\/files\/0\/pattern/);
    // A lab without its own specs records none (plans from before them have none either).
    expect(planLab(parseLab(LAB('[x.ts]').replace(/ {2}files: .*\n/, ''), 'y.yaml')).specs).to.deep.equal({ pairs: { kind: 'all' } });
  });

  it('overlab test: the lab\'s files (beside the lab file) then --spec (beside here); a name now gone is the lab file\'s error at its line', () => {
    const plan = planLab(parseLab(LAB('[checks/b.spec.ts]'), join(dir, 'lab.yaml')));
    expect(userSpecFiles(plan, ['deep/*.mjs', 'b.spec.ts'], join(dir, 'checks'))).to.deep.equal([join(dir, 'checks/b.spec.ts'), join(dir, 'checks/deep/c.spec.mjs')]);
    expect(() => userSpecFiles(plan, ['nope.spec.ts'], dir)).to.throw(UsageError, `--spec "nope.spec.ts" matches no file in ${dir}`);
    const gone = planLab(parseLab(LAB('[checks/gone.spec.ts]'), join(dir, 'lab.yaml')));
    const e = (() => {
      try {
        userSpecFiles(gone, [], dir);
      } catch (x) {
        return x as LabFileError;
      }
      return expect.fail('expected an error');
    })();
    expect(e).to.be.instanceOf(LabFileError);
    expect(e.message).to.include(`${join(dir, 'lab.yaml')}:8:11: specs.files: "checks/gone.spec.ts" matches no file`);
  });
});

describe('the docs show the examples as they are', () => {
  /** A file's text after its header comment. */
  const body = (file: string) => readFileSync(file, 'utf8').replace(/^(\/\/.*\n)+/, '');
  const docs = (file: string) => readFileSync(file, 'utf8');

  it('docs/specs.md: the TypeScript spec of examples/user-specs, and its lab file but for its description and subnet', () => {
    expect(docs('docs/specs.md')).to.include(`\`\`\`ts\n${body('examples/user-specs/checks/overlays.spec.ts')}\`\`\``);
    const lab = readFileSync('examples/user-specs/lab.yaml', 'utf8').replace(/^description: .*\n/m, '').replace(/^network:\n {2}subnet: .*\n/m, '');
    expect(docs('docs/specs.md')).to.include(`\`\`\`yaml\n${lab}\`\`\``);
  });

  it("docs/workshops.md: the teacher's check of examples/teacher-checks", () => {
    expect(docs('docs/workshops.md')).to.include(`\`\`\`ts\n${body('examples/teacher-checks/exercise-1.spec.ts')}\`\`\``);
  });
});
