// What the fault specs share: the live lab as a fault target, a fault recorded in the lab's
// state for as long as it is in place (so `down` and `heal` find what an interrupted run left),
// and waiting, by the clock, for a property to hold again once a fault is undone.
import { AssertionError } from 'chai';
import type { FaultTarget } from '../../harness/faults/apply.ts';
import { FAULT_MUTATION_ENV } from '../../harness/lab/fault-spec-kinds.ts';
import type { Probe } from '../../harness/probes/probe.ts';
import type { FaultRecord } from '../../harness/state/faults.ts';
import { labStateDir } from '../../harness/state/paths.ts';
import { StateStore } from '../../harness/state/store.ts';

export function target(p: Probe): FaultTarget {
  return { plan: p.plan, state: p.lab.state, hosts: p.lab.hosts, signal: p.lab.signal };
}

/** What must hold again once a fault is undone, checked by the clock up to `boundS` (times the lab's pace). */
export interface Restored {
  what: string;
  boundS: number;
  holds: () => Promise<boolean>;
}

/**
 * Waits (bounded) until the lab is whole in the fault's respect (`whole`, by default what
 * `restored` checks): a fault spec judges its own fault, never what an earlier heal has not yet
 * brought back. Then puts the fault in place, recorded in the lab's state; runs `during`; always
 * undoes it and drops the record; then waits until `restored` holds, and returns how long that
 * took from the undo's start (ms). Every fault spec ends on what must be back, so each one fails
 * when its fault stays: FAULT_MUTATION_ENV=keep-fault leaves every fault in place (recorded, for
 * `overlab fault heal`), which is how the tests prove it.
 */
export async function withFault(
  p: Probe,
  fault: { put: () => Promise<FaultRecord>; undo: () => Promise<void>; during?: () => Promise<void>; restored: Restored; whole?: Restored },
): Promise<number> {
  // The restored check's words without its "after heal" / "once ... is back".
  const whole = fault.whole ?? { ...fault.restored, what: fault.restored.what.replace(/ (once|after) .*$/, '') };
  await within(p, `the lab whole before the fault: ${whole.what}`, whole.boundS, whole.holds);
  const store = new StateStore(labStateDir(p.plan.lab));
  const keep = process.env[FAULT_MUTATION_ENV] === 'keep-fault';
  let record: FaultRecord | undefined;
  let undoneAt = 0;
  try {
    record = await fault.put();
    store.update((s) => (s.faults = [...(s.faults ?? []), record!]));
    await fault.during?.();
  } finally {
    undoneAt = Date.now();
    if (!keep) {
      await fault.undo();
      if (record) store.update((s) => (s.faults = (s.faults ?? []).filter((f) => f.since !== record!.since || f.kind !== record!.kind)));
    }
  }
  await within(p, fault.restored.what, fault.restored.boundS, fault.restored.holds);
  return Date.now() - undoneAt;
}

/**
 * Checks `holds` until it is true, at most `boundS` seconds (times the lab's pace); returns how
 * long that took (ms), or fails naming what did not come back and the bound.
 */
export async function within(p: Probe, what: string, boundS: number, holds: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  const deadline = started + boundS * 1000 * p.lab.pace;
  for (;;) {
    p.lab.signal.throwIfAborted();
    if (await holds().catch(() => false)) return Date.now() - started;
    if (Date.now() >= deadline) throw new AssertionError(`${what}: not within ${boundS * p.lab.pace} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One ping from a container to a name or address: answered or not (1 s to answer). */
export async function pings(p: Probe, from: string, target: string): Promise<boolean> {
  const r = await p.exec(from, ['ping', '-c', '1', '-W', '1', target]);
  return r.exitCode === 0;
}
