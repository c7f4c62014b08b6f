// Users' own spec files on a live lab (netns, as root): a lab file whose specs.files name a
// TypeScript spec that passes and a JavaScript one that fails on purpose, both run after the
// built-in specs and reported with their files in JUnit and JSON; then a spec file that does not
// load, given with --spec: a failed case naming its file and line, the built-in specs still run
// and reported, exit 1, and the lab left as it was. The spec files live in a scratch folder with
// no overlab of their own: 'overlab/spec' resolves to the harness's (bin/resolve-overlab.mjs).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { kvLab, leftovers, NOTHING_LEFT, Scratch, type TestRun } from './support/labs.ts';

const LAB = 'us-lab';

const PASSING = `import { expect, lab } from 'overlab/spec';

describe('ours', () => {
  it('c0 reaches c1 over net by name, and runs a command', async () => {
    await lab.reach('c0', 'c1', { over: 'net', by: 'name' });
    const r = await lab.exec('c0', 'echo hi; exit 4');
    expect(r).to.deep.equal({ exitCode: 4, stdout: 'hi\\n', stderr: '' });
    expect(lab.host('d0').address).to.equal('172.28.164.6');
  });
  it('is not applicable here', () => lab.notApplicable('no such thing on this lab'));
});
`;

const FAILING = `import { lab } from 'overlab/spec';

describe('ours, failing on purpose', () => {
  it('c0 cannot reach c1', async () => {
    await lab.cannotReach('c0', 'c1');
  });
});
`;

/** A syntax error on line 4, column 15 (the `;`). */
const BROKEN = `import { lab } from 'overlab/spec';

describe('never', () => it('runs', () => lab.plan));
const x = (1 +;
`;

describe('users\' spec files on a live lab (netns)', function () {
  this.timeout(120_000);
  let s: Scratch;
  let file: string;
  let first: TestRun & { reports: { junit: string; json: string } };
  let exitCode: number | undefined;

  before(async () => {
    s = new Scratch();
    mkdirSync(join(s.dir, 'checks'));
    mkdirSync(join(s.dir, 'elsewhere'));
    writeFileSync(join(s.dir, 'checks', 'pass.spec.ts'), PASSING);
    writeFileSync(join(s.dir, 'checks', 'fail.spec.js'), FAILING);
    writeFileSync(join(s.dir, 'elsewhere', 'broken.spec.ts'), BROKEN);
    writeFileSync(join(s.dir, 'package.json'), '{"type":"module"}');
    file = s.lab(LAB, `${kvLab(LAB, { third: 164 })}specs:\n  files: [checks/*.spec.ts, checks/fail.spec.js]\n`);
    const r = await s.run(['test', file, '--json']);
    exitCode = r.exitCode;
    first = JSON.parse(r.stdout) as typeof first;
  });

  after(async () => {
    const down = await s.run(['down', '--lab', file, '--force']);
    s.dispose();
    expect(down.exitCode, down.all).to.equal(0);
    expect(await leftovers(LAB)).to.deep.equal(NOTHING_LEFT);
  });

  it('runs the lab file\'s specs after the built-in ones: the TypeScript one passes, the JavaScript one fails, exit 1', () => {
    expect(exitCode).to.equal(1);
    const mine = first.cases.map((c, i) => ({ ...c, i })).filter((c) => (c as { file?: string }).file);
    const firstMine = Math.min(...mine.map((c) => c.i));
    expect(first.cases.slice(0, firstMine).every((c) => c.state === 'passed'), 'built-in cases come first and pass').to.equal(true);
    expect(firstMine).to.be.above(5);
    expect(mine.map((c) => [(c as { file?: string }).file, c.suite, c.title, c.state])).to.deep.equal([
      ['checks/pass.spec.ts', 'checks/pass.spec.ts / ours', 'c0 reaches c1 over net by name, and runs a command', 'passed'],
      ['checks/pass.spec.ts', 'checks/pass.spec.ts / ours', 'is not applicable here', 'n/a'],
      ['checks/fail.spec.js', 'checks/fail.spec.js / ours, failing on purpose', 'c0 cannot reach c1', 'failed'],
    ]);
    expect(mine[1]!.reason).to.equal('no such thing on this lab');
    expect(mine[2]!.failure).to.deep.equal({ kind: 'assertion', message: mine[2]!.failure!.message });
    expect(mine[2]!.failure!.message).to.match(/^c0 on d0 got a ping reply from 10\.0\.4\.\d+ \(c1 on net\)/);
    expect(first.counts).to.include({ failed: 1, na: 1 });
  });

  it('JUnit and report.json name the file of each user case, and the failing one as failed', () => {
    const xml = readFileSync(first.reports.junit, 'utf8');
    expect(xml).to.match(/<testcase classname="overlab\.us-lab\.checks\/fail\.spec\.js \/ ours, failing on purpose" name="c0 cannot reach c1" file="checks\/fail\.spec\.js" time="[\d.]+">\n\s+<failure message="c0 on d0 got a ping reply/);
    expect(xml).to.match(/name="c0 reaches c1 over net by name, and runs a command" file="checks\/pass\.spec\.ts" time="[\d.]+"\/>/);
    const report = JSON.parse(readFileSync(first.reports.json, 'utf8')) as { cases: { file?: string; state: string; title: string; steps?: { command: string }[] }[] };
    const failed = report.cases.find((c) => c.file === 'checks/fail.spec.js')!;
    expect(failed.state).to.equal('failed');
    expect(failed.steps!.map((st) => st.command)[0]).to.match(/^ping -c 1 -W 1 10\.0\.4\./);
    expect(report.cases.find((c) => c.title.startsWith('c0 reaches c1'))!.steps!.map((st) => st.command)).to.include("sh -c 'echo hi; exit 4'");
  });

  it('a --spec file that does not load fails with its file and line; the built-in specs still run; the lab is left as it was', async () => {
    const r = await s.run(['test', file, '--json', '--spec', 'elsewhere/broken.spec.ts']);
    expect(r.exitCode, r.stderr).to.equal(1);
    const run = JSON.parse(r.stdout) as TestRun;
    const broken = run.cases.filter((c) => (c as { file?: string }).file === 'elsewhere/broken.spec.ts');
    expect(broken.map((c) => [c.title, c.state])).to.deep.equal([['loads', 'failed']]);
    expect(broken[0]!.failure!.message).to.equal('elsewhere/broken.spec.ts:4:15: this spec file does not load: SyntaxError: Unexpected ";"');
    const builtIn = run.cases.filter((c) => !(c as { file?: string }).file);
    expect(builtIn.length).to.equal(first.cases.filter((c) => !(c as { file?: string }).file).length);
    expect(builtIn.every((c) => c.state === 'passed')).to.equal(true);
    // The same life of the lab (its up's createdAt), still up with its containers running.
    const life = (f: string) => (JSON.parse(readFileSync(f, 'utf8')) as { life: string }).life;
    expect(life((run as unknown as typeof first).reports.json)).to.equal(life(first.reports.json));
    const status = JSON.parse((await s.run(['status', LAB, '--json'])).stdout) as { phase: string; containers: { state?: string }[] };
    expect([status.phase, ...status.containers.map((c) => c.state)]).to.deep.equal(['up', 'running', 'running']);
  });
});
