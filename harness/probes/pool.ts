// The probe pool: the first `it` starts every fact's probe, in two bounded lanes (probes that
// keep engines busy, and probes that mostly wait for a timeout), each under a deadline; a
// failed probe's outcome carries its diagnostics.
import { AssertionError } from 'chai';
import { containerAddresses } from '../engine/contents.ts';
import type { Fact } from '../lab/types.ts';
import { mapLimit, withDeadline } from '../wait.ts';
import { specRun, type SpecRun } from './context.ts';
import { diagnose } from './diagnostics.ts';
import { plainAssertion } from './failure.ts';
import { isFaultFact } from '../lab/fault-facts.ts';
import { FAULT_PROBE_DEADLINE_MS, NotApplicable, PROBE_DEADLINE_MS, Probe, ProbeError, type AddressBook, type ProbeOutcome } from './probe.ts';

/** The outcome of fact `index`; the first call starts every probe of the run. */
export function outcomeOf(index: number): Promise<ProbeOutcome> {
  const run = specRun();
  if (!run) throw new ProbeError('no lab under test: run the lab specs with `overlab test`');
  run.outcomes ??= startProbes(run);
  return run.outcomes[index]!;
}

/**
 * Whether a probe spends most of its time waiting for a timeout (an unknown name's lookup waits
 * ~5 s for the upstream resolver; a ping nobody answers waits 1 s). Those run in a wider lane
 * of their own, so they neither hold up nor are held up by the probes that keep engines busy.
 */
function mostlyWaits(fact: Fact): boolean {
  switch (fact.kind) {
    case 'no-resolve':
    case 'isolated':
      return true;
    case 'stated':
      return fact.fact.verb === 'cannot resolve' || fact.fact.verb === 'cannot reach';
    default:
      return false;
  }
}

/** How many more waiting probes than busy ones may be in flight. */
export const WAITING_LANE_FACTOR = 3;

function startProbes(run: SpecRun): Promise<ProbeOutcome>[] {
  const { lab } = run;
  const facts = lab.plan.facts;
  const pending = facts.map(() => deferred<ProbeOutcome>());
  let chain = Promise.resolve();
  const serial = (fn: () => Promise<void>) => {
    const next = chain.then(fn);
    chain = next.catch(() => {});
    return next;
  };
  void (async () => {
    const book: AddressBook = new Map(
      await mapLimit(lab.plan.containers, lab.concurrency, async (c): Promise<[string, Record<string, string> | Error]> => {
        const engine = lab.engines.get(c.host);
        try {
          if (!engine) throw new Error(`no engine for host ${c.host}`);
          return [c.name, await containerAddresses(engine, c.name)];
        } catch (e) {
          return [c.name, e as Error];
        }
      }),
    );
    const probe = async (i: number) => pending[i]!.resolve(await runProbe(run, i, new Probe(lab, book, i, serial)));
    for (const [i, reason] of run.notApplicable) pending[i]!.resolve({ ok: false, failure: `not applicable: ${reason}`, failureKind: 'error', steps: [], ms: 0 });
    const all = facts.map((_, i) => i).filter((i) => !run.notApplicable.has(i));
    // A scale changes the service under every other service probe: it runs once they are done.
    const last = (i: number) => facts[i]!.kind === 'service-scale';
    await Promise.all([
      mapLimit(all.filter((i) => !last(i) && !mostlyWaits(facts[i]!)), lab.concurrency, probe),
      mapLimit(all.filter((i) => !last(i) && mostlyWaits(facts[i]!)), lab.concurrency * WAITING_LANE_FACTOR, probe),
    ]);
    await mapLimit(all.filter(last), 1, probe);
  })().catch((e: unknown) => {
    for (const p of pending) p.resolve({ ok: false, failure: `the probes could not start: ${(e as Error).message}`, failureKind: 'error', steps: [], ms: 0 });
  });
  return pending.map((p) => p.promise);
}

async function runProbe(run: SpecRun, index: number, probe: Probe): Promise<ProbeOutcome> {
  const fact = run.lab.plan.facts[index]!;
  const started = Date.now();
  if (run.lab.signal.aborted) return { ok: false, failure: 'interrupted before this probe ran', failureKind: 'error', steps: [], ms: 0 };
  const fn = run.probes.get(fact.kind);
  try {
    if (!fn) throw new ProbeError(`no spec file probes facts of kind ${fact.kind}`);
    const ms = (isFaultFact(fact) ? FAULT_PROBE_DEADLINE_MS : PROBE_DEADLINE_MS) * run.lab.pace;
    await withDeadline(fn(fact, probe), ms, () => new ProbeError(`the probe did not finish within ${ms / 1000} s`));
    return { ok: true, steps: probe.steps, ms: Date.now() - started, ...measuredOf(probe) };
  } catch (e) {
    if (e instanceof NotApplicable) return { ok: true, notApplicable: e.message, steps: probe.steps, ms: Date.now() - started };
    const outcome: ProbeOutcome = {
      ...measuredOf(probe),
      ok: false,
      failure: e instanceof AssertionError ? plainAssertion(e.message) : (e as Error).message,
      failureKind: e instanceof AssertionError ? 'assertion' : 'error',
      steps: probe.steps,
      ms: Date.now() - started,
    };
    if (probe.decisive) outcome.decisiveStep = probe.steps.indexOf(probe.decisive);
    try {
      outcome.diagnostics = await diagnose(run.lab, fact, probe);
    } catch (d) {
      outcome.failure += `\n(diagnostics could not be gathered: ${(d as Error).message})`;
    }
    return outcome;
  }
}

function measuredOf(probe: Probe): Pick<ProbeOutcome, 'measured'> {
  return Object.keys(probe.measured).length ? { measured: { ...probe.measured } } : {};
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
