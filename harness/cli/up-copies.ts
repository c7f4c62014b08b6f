// overlab up --copies N / --as NAME: copies of a lab brought up side by side, a bounded number
// at a time, with a progress line per copy (the step it is in, then its outcome).
import { Listr } from 'listr2';
import type { LabEvent } from '../events.ts';
import { prepareUp } from '../lifecycle/prepare-up.ts';
import { planCopies, type CopiesRequest } from '../lifecycle/room.ts';
import type { Plan } from '../lab/types.ts';
import { runSteps } from '../steps.ts';
import { mapLimit } from '../wait.ts';
import { printJson, say, warn } from './output.ts';
import type { OutputMode } from './progress.ts';
import { count } from '../plural.ts';
import { resolveOwners, type LabOwner, type OwnerRequest } from '../state/owner.ts';

/** Copies brought up at once by default: up is mostly waiting on engines, but each start takes a core for a moment. */
export const DEFAULT_COPY_JOBS = 4;

interface CopyOutcome {
  lab: string;
  ok: boolean;
  seconds: number;
  alreadyUp?: boolean;
  error?: string;
}

export async function upCopies(ref: string | undefined, request: CopiesRequest & { jobs?: number; owners?: OwnerRequest[] }, mode: OutputMode, signal: AbortSignal): Promise<number> {
  const started = Date.now();
  const copies = await planCopies(ref, request);
  // Every owner found before any copy comes up: a name nobody has stops the room, not one copy.
  const owners = request.owners && resolveOwners(request.owners, copies.plans.length);
  const jobs = Math.max(1, request.jobs ?? DEFAULT_COPY_JOBS);
  const what = `${count(copies.plans.length, 'copy', 'copies')} of ${copies.base} on ${copies.provider}`;
  if (mode === 'human') warn(`${what}, ${Math.min(jobs, copies.plans.length)} at a time: about ${copies.perCopyMiB} MiB each, ${copies.availableMiB} MiB available`);
  if (mode !== 'json') for (const w of copies.warnings) warn(`note: ${w}`);

  const upOne = async (plan: Plan, report: (line: string) => void, owner: LabOwner | undefined): Promise<CopyOutcome> => {
    const t = Date.now();
    const events = {
      emit(e: LabEvent) {
        if (e.type === 'warn' && mode !== 'quiet') report(`note: ${e.message}`);
      },
    };
    try {
      const run = await prepareUp(plan, { provider: copies.provider, ...(request.providerOptions ? { providerOptions: request.providerOptions } : {}), copyOf: copies.base, ...(owner ? { owner } : {}), events, signal });
      if (run.alreadyUp) return { lab: plan.lab, ok: true, alreadyUp: true, seconds: 0 };
      try {
        await runSteps(run.steps, { signal, onTask: (e) => e.state === 'started' && report(e.step) });
        run.finish();
      } catch (e) {
        run.finish(e);
        throw e;
      }
      return { lab: plan.lab, ok: true, seconds: (Date.now() - t) / 1000 };
    } catch (e) {
      if (signal.aborted) throw e;
      return { lab: plan.lab, ok: false, seconds: (Date.now() - t) / 1000, error: (e as Error).message.split('\n')[0]! };
    }
  };

  let outcomes: CopyOutcome[];
  if (mode === 'human') {
    outcomes = new Array<CopyOutcome>(copies.plans.length);
    const list = new Listr(
      copies.plans.map((plan, i) => ({
        title: plan.lab,
        task: async (_ctx: unknown, task) => {
          const o = await upOne(plan, (line) => (task.output = line), owners?.[i]);
          outcomes[i] = o;
          task.title = `${plan.lab}: ${o.ok ? (o.alreadyUp ? 'already up' : `up (${o.seconds.toFixed(1)} s)`) : `failed: ${o.error}`}`;
          if (!o.ok) throw new Error(`${plan.lab}: ${o.error}`);
        },
      })),
      { concurrent: jobs, exitOnError: false, registerSignalListeners: false, renderer: 'default', fallbackRenderer: 'simple', rendererOptions: { collapseErrors: false } },
    );
    await list.run().catch(() => {});
    signal.throwIfAborted();
  } else {
    outcomes = await mapLimit(copies.plans, jobs, (plan) =>
      upOne(plan, (line) => mode === 'json' && process.stdout.write(JSON.stringify({ event: 'copy', lab: plan.lab, step: line }) + '\n'), owners?.[copies.plans.indexOf(plan)]),
    );
  }
  const failed = outcomes.filter((o) => !o.ok);
  const seconds = (Date.now() - started) / 1000;
  if (mode === 'json') printJson({ ok: failed.length === 0, base: copies.base, provider: copies.provider, seconds, perCopyMiB: copies.perCopyMiB, warnings: copies.warnings, copies: outcomes });
  else {
    if (mode === 'human') say(`${what}: ${outcomes.length - failed.length} up, ${failed.length} failed, in ${seconds.toFixed(1)} s. See the room: overlab status --all`);
    for (const f of failed) warn(`${f.lab}: ${f.error} (\`overlab down --lab ${f.lab}\` removes what it made)`);
  }
  return failed.length ? 70 : 0;
}
