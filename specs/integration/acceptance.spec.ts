// The acceptance specs (specs/lab) on the shipped labs, for real on the netns provider: every
// spec passes, and `overlab test` brings the lab up, tests it, and takes it down again.
import { expect } from 'chai';
import { expandFacts } from '../../harness/lab/facts.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { leftovers, NOTHING_LEFT, Scratch, shippedLab, type TestRun } from './support/labs.ts';

describe('acceptance specs on the shipped labs (netns, real engines)', function () {
  this.timeout(240_000);
  let s: Scratch;
  before(() => {
    s = new Scratch();
  });
  after(async () => {
    for (const lab of ['it-tutorial', 'it-swarm-lab', 'it-isolation']) await s.run(['down', '--force', lab]);
    s.dispose();
  });

  for (const [file, name] of [
    ['tutorial.yaml', 'it-tutorial'],
    ['swarm.yaml', 'it-swarm-lab'],
    ['isolation.yaml', 'it-isolation'],
  ] as const) {
    it(`labs/${file}: overlab test brings it up, every spec passes, and the lab is removed`, async () => {
      const text = shippedLab(file, name);
      const path = s.lab(name, text);
      const plan = planLab(parseLab(text, path));
      const r = await s.run(['test', '--lab', path, '--json'], { timeoutMs: 200_000 });
      const run = JSON.parse(r.stdout) as TestRun & { destroyed: boolean };
      expect(run.cases, `${r.stdout}\n${r.stderr}`).to.be.an('array');
      const failed = run.cases.filter((c) => c.state !== 'passed').map((c) => `${c.title}: ${c.failure?.message}`);
      expect(failed, r.stderr).to.deep.equal([]);
      expect(r.exitCode, r.stderr).to.equal(0);
      // At least one spec per fact (a fact kind without a spec would fail the guard spec).
      expect(run.counts.tests).to.be.at.least(expandFacts(plan).facts.length);
      expect(run.counts.passed).to.equal(run.counts.tests);
      // The engines' measured speed, and the allowances it gave the probes, are in the report.
      const measured = run.properties['exec.ms']!.split(', ').map((e) => e.split(' ')[0]);
      expect(measured).to.have.members([...new Set(plan.containers.map((c) => c.host))]);
      expect(Number(run.properties['pace'])).to.be.within(1, 10);
      expect(run.destroyed).to.equal(true);
      expect(await leftovers(name)).to.deep.equal(NOTHING_LEFT);
    });
  }
});
