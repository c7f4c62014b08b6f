// What the fault specs share: the live lab as a fault target, a fault recorded in the lab's
// state for as long as it is in place (so `down` and `heal` find what an interrupted run left),
// and waiting, by the clock, for a property to hold again once a fault is undone.
import { AssertionError } from 'chai';
import type { FaultTarget } from '../../harness/faults/apply.ts';
import type { Probe } from '../../harness/probes/probe.ts';
import type { FaultRecord } from '../../harness/state/faults.ts';
import { labStateDir } from '../../harness/state/paths.ts';
import { StateStore } from '../../harness/state/store.ts';

export function target(p: Probe): FaultTarget {
  return { plan: p.plan, state: p.lab.state, hosts: p.lab.hosts, signal: p.lab.signal };
}

/** Puts a fault in place, recorded in the lab's state; runs `during`; always undoes it, then drops the record. */
export async function withFault<T>(p: Probe, put: () => Promise<FaultRecord>, undo: () => Promise<void>, during: () => Promise<T>): Promise<T> {
  const store = new StateStore(labStateDir(p.plan.lab));
  let record: FaultRecord | undefined;
  try {
    record = await put();
    store.update((s) => (s.faults = [...(s.faults ?? []), record!]));
    return await during();
  } finally {
    await undo();
    if (record) store.update((s) => (s.faults = (s.faults ?? []).filter((f) => f.since !== record!.since || f.kind !== record!.kind)));
  }
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
