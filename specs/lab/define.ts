// How a spec file turns the plan's facts of one kind into mocha tests: one `it` per fact, titled
// as a sentence, asserting the outcome of the fact's probe (run in the shared pool).
import type { Fact } from '../../harness/lab/types.ts';
import { specRun, type FactOf, type ProbeFn, type SpecRecord } from '../../harness/probes/context.ts';
import type { LabUnderTest } from '../../harness/probes/lab-under-test.ts';
import { specFailure } from '../../harness/probes/failure.ts';
import { outcomeOf } from '../../harness/probes/pool.ts';
import type { Probe } from '../../harness/probes/probe.ts';

export interface FactSpec<K extends Fact['kind']> {
  /** The `it` title: a sentence that says what holds. */
  title(fact: FactOf<K>, lab: LabUnderTest): string;
  /** Runs the fact's commands and asserts (chai) that the property holds. */
  probe(fact: FactOf<K>, probe: Probe): Promise<void>;
}

/** Declares a `describe` with one `it` per fact of `kind` in the plan (none when there are none). */
export function factSpecs<K extends Fact['kind']>(suite: string, kind: K, spec: FactSpec<K>): void {
  const run = specRun();
  if (!run) {
    describe(suite, () => it.skip('runs against a live lab: use `overlab test`'));
    return;
  }
  run.probes.set(kind, spec.probe as unknown as ProbeFn);
  const facts = run.lab.plan.facts.flatMap((fact, index) => (fact.kind === kind ? [{ fact: fact as FactOf<K>, index }] : []));
  if (!facts.length) return;
  describe(suite, function () {
    this.timeout(0); // each probe has its own deadline; an `it` only waits for the pool
    for (const { fact, index } of facts) {
      run.covered.add(index);
      const na = run.notApplicable.get(index);
      const record: SpecRecord = { fact, index, ...(na ? { notApplicable: na } : {}) };
      // Not applicable: mocha skips it (pending), the runner reports it n/a with the reason.
      const test = it(spec.title(fact, run.lab), async function () {
        if (na) this.skip();
        record.outcome = await outcomeOf(index);
        if (!record.outcome.ok) throw specFailure(record.outcome);
        // Not applicable here (the reason goes to the reports): skipped, never counted as passed.
        if (record.outcome.notApplicable) this.skip();
      });
      run.records.set(test, record);
    }
  });
}
