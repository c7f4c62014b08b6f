// `overlab fault` as library verbs: each takes the lab's lock, records the fault in the lab's
// state before putting it in place (so an interrupted verb still leaves what `heal` clears), and
// `heal` undoes exactly what is recorded. A latency or rate fault records the root qdisc it
// replaces, which heal puts back. `down` calls healRecorded first, best effort and
// bounded, so a machine that outlives the lab (ssh provider) keeps nothing of a fault.
import { PrerequisiteError, UsageError } from '../errors.ts';
import { silentEvents, type Events } from '../events.ts';
import * as faults from '../faults/apply.ts';
import { faultsOn } from '../faults/commands.ts';
import { recordedQdiscOn, type LinkFaultRecord } from '../faults/qdisc.ts';
import type { Plan } from '../lab/types.ts';
import { describeFault, type FaultRecord } from '../state/faults.ts';
import { labStateDir } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import { withDeadline } from '../wait.ts';
import { checkAccessFirst } from './access.ts';
import { connectLab } from './connect.ts';

export type FaultAction =
  | { verb: 'partition'; host: string; from?: string }
  | { verb: 'heal'; host?: string }
  | { verb: 'kv-down' }
  | { verb: 'kv-up' }
  | { verb: 'restart-engine'; host: string }
  | { verb: 'kill-engine'; host: string }
  | { verb: 'latency'; host: string; ms: number; loss?: number }
  | { verb: 'rate'; host: string; mbit: number };

export interface FaultResult {
  lab: string;
  verb: FaultAction['verb'];
  /** The fault put in place, as recorded. */
  applied?: FaultRecord;
  /** The faults undone (heal, kv-up). */
  healed: FaultRecord[];
  /** restart-engine: the engine's version once it answered again. */
  engine?: string;
  /** How long the verb took, ms (for heal and restart-engine: until the host answered again). */
  ms: number;
  /** Every fault still in place afterwards. */
  faults: FaultRecord[];
}

export async function labFault(plan: Plan, action: FaultAction, signal: AbortSignal): Promise<FaultResult> {
  checkAccessFirst(plan.lab, `fault ${action.verb}`);
  const store = new StateStore(labStateDir(plan.lab));
  const unlock = store.lock(`fault ${action.verb}`);
  const started = Date.now();
  try {
    const live = await connectLab(plan, signal, { engines: false });
    try {
      const t: faults.FaultTarget = { plan, state: live.state, hosts: live.hosts, signal };
      const result: FaultResult = { lab: plan.lab, verb: action.verb, healed: [], ms: 0, faults: [] };
      const apply = async (fn: () => Promise<FaultRecord>, pending: FaultRecord) => {
        // Recorded first; replaced by what was applied, or dropped when it was refused.
        store.update((s) => (s.faults = [...(s.faults ?? []), pending]));
        try {
          result.applied = await fn();
          store.update((s) => (s.faults = [...(s.faults ?? []).filter((f) => f !== pending && !same(f, pending)), result.applied!]));
        } catch (e) {
          // A refusal did nothing; anything else may have done part of it, which `heal` undoes.
          if (e instanceof UsageError || e instanceof PrerequisiteError) store.update((s) => (s.faults = (s.faults ?? []).filter((f) => !same(f, pending))));
          throw e;
        }
      };
      const since = new Date().toISOString();
      switch (action.verb) {
        case 'partition':
          faults.hostOf(t, action.host);
          await apply(() => faults.partition(t, action.host, action.from ? { from: action.from } : {}), { kind: 'partition', host: action.host, since });
          break;
        case 'kv-down':
          await apply(() => faults.kvDown(t), { kind: 'kv-down', host: plan.kv?.host ?? '', since });
          break;
        case 'kill-engine':
          await apply(() => faults.killEngine(t, action.host), { kind: 'engine-killed', host: action.host, since });
          break;
        case 'latency': {
          // What the interface has before the fault goes into the state with it, before it changes.
          const qdisc = await faults.qdiscBefore(t, action.host, recordedQdiscOn(store.read()?.faults ?? [], action.host));
          const pending: LinkFaultRecord = { kind: 'latency', host: action.host, ms: action.ms, ...(action.loss ? { loss: action.loss } : {}), since, qdisc };
          await apply(() => faults.latency(t, action.host, action.ms, action.loss, qdisc), pending);
          break;
        }
        case 'rate': {
          const qdisc = await faults.qdiscBefore(t, action.host, recordedQdiscOn(store.read()?.faults ?? [], action.host));
          const pending: LinkFaultRecord = { kind: 'rate', host: action.host, mbit: action.mbit, since, qdisc };
          await apply(() => faults.rate(t, action.host, action.mbit, qdisc), pending);
          break;
        }
        case 'restart-engine':
          result.engine = await faults.restartEngine(t, action.host);
          break;
        case 'kv-up':
          result.healed = await healRecords(store, t, (f) => f.kind === 'kv-down');
          await faults.kvUp(t); // also when nothing was recorded: the store is wanted up
          break;
        case 'heal': {
          if (action.host) faults.hostOf(t, action.host);
          const mine = new Set(faultsOn(store.read()?.faults ?? [], action.host));
          result.healed = await healRecords(store, t, (f) => mine.has(f) || [...mine].some((m) => same(m, f)));
          break;
        }
      }
      result.ms = Date.now() - started;
      result.faults = store.read()?.faults ?? [];
      return result;
    } finally {
      live.close();
    }
  } finally {
    unlock();
  }
}

function same(a: FaultRecord, b: FaultRecord): boolean {
  return a.kind === b.kind && a.host === b.host && a.since === b.since;
}

/** Undoes the recorded faults `which` selects, each dropped from the state once undone; the first failure is thrown after the rest were tried. */
async function healRecords(store: StateStore, t: faults.FaultTarget, which: (f: FaultRecord) => boolean): Promise<FaultRecord[]> {
  const chosen = (store.read()?.faults ?? []).filter(which);
  // Engines last: a partitioned host's engine starts better with its links back.
  const engine = (f: FaultRecord) => Number(f.kind === 'engine-killed' || f.kind === 'engine-stopped');
  chosen.sort((a, b) => engine(a) - engine(b));
  const healed: FaultRecord[] = [];
  let failure: unknown;
  for (const f of chosen) {
    try {
      await faults.undo(t, f);
      store.update((s) => (s.faults = (s.faults ?? []).filter((x) => !same(x, f))));
      healed.push(f);
    } catch (e) {
      failure ??= e;
    }
  }
  if (failure) throw failure;
  return healed;
}

/** How long `down` gives the faults' undoing before it removes the lab regardless. */
export const DOWN_HEAL_BUDGET_MS = 30_000;

/**
 * For `down`: undoes the faults recorded that would outlive the lab on a machine it does not
 * own (firewall chains, qdiscs), bounded; never throws (down must go on), warns naming each one
 * it could not undo. The lock is `down`'s.
 */
export async function healBeforeDown(plan: Plan, store: StateStore, events: Events = silentEvents, signal: AbortSignal): Promise<void> {
  const recorded = store.read()?.faults ?? [];
  const lasting: FaultRecord[] = recorded.filter((f) => f.kind === 'partition' || f.kind === 'latency' || f.kind === 'rate');
  if (!lasting.length) return;
  let live: Awaited<ReturnType<typeof connectLab>> | undefined;
  try {
    live = await withDeadline(connectLab(plan, signal, { engines: false }), DOWN_HEAL_BUDGET_MS, () => new Error('the hosts did not answer'));
    const t: faults.FaultTarget = { plan, state: live.state, hosts: live.hosts, signal };
    await withDeadline(
      healRecords(store, t, (f) => lasting.includes(f) || lasting.some((l) => same(l, f))),
      DOWN_HEAL_BUDGET_MS,
      () => new Error(`not done within ${DOWN_HEAL_BUDGET_MS / 1000} s`),
    );
  } catch (e) {
    events.emit({ type: 'warn', message: `down could not undo ${lasting.map(describeFault).join(', ')}: ${(e as Error).message}` });
  } finally {
    live?.close();
  }
}
