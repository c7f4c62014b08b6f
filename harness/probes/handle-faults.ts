// Faults from the lab handle (`lab.withFault(...)` in users' spec files and the library): put on
// the live lab, recorded in its state for as long as they are in place (so `overlab fault heal`
// and `down` find one an interrupted run left), and always undone, as the built-in fault specs do.
import { PrerequisiteError, UsageError } from '../errors.ts';
import * as faults from '../faults/apply.ts';
import { labStateDir } from '../state/paths.ts';
import type { FaultRecord } from '../state/faults.ts';
import { StateStore } from '../state/store.ts';
import type { LabUnderTest } from './lab-under-test.ts';

/** A fault to put on the lab for a while: as `overlab fault ...` puts them (docs/faults.md). */
export type Fault =
  /** The host's underlay cut off from every other host, or from `from` only (iptables; SSH stays open). */
  | { kind: 'partition'; host: string; from?: string }
  /** The KV store stopped (its data kept); a kv-mode lab only. */
  | { kind: 'kv-down' }
  /** The host's engine killed (SIGKILL); undone by starting it as `up` did, and its containers with it. */
  | { kind: 'engine-killed'; host: string }
  /** The host's engine stopped cleanly (SIGTERM); undone as engine-killed is. */
  | { kind: 'engine-stopped'; host: string }
  /** Delay (and loss, in %) on the host's underlay (netem; where the kernel has none, a PrerequisiteError). */
  | { kind: 'latency'; host: string; ms: number; loss?: number }
  /** The host's underlay limited to `mbit` Mbit/s (tbf). */
  | { kind: 'rate'; host: string; mbit: number };

function targetOf(lab: LabUnderTest): faults.FaultTarget {
  return { plan: lab.plan, state: lab.state, hosts: lab.hosts, signal: lab.signal };
}

async function put(t: faults.FaultTarget, fault: Fault): Promise<FaultRecord> {
  switch (fault.kind) {
    case 'partition':
      return faults.partition(t, fault.host, fault.from ? { from: fault.from } : {});
    case 'kv-down':
      return faults.kvDown(t);
    case 'engine-killed':
      return faults.killEngine(t, fault.host);
    case 'engine-stopped':
      return faults.stopEngine(t, fault.host);
    case 'latency':
      return faults.latency(t, fault.host, fault.ms, fault.loss);
    case 'rate':
      return faults.rate(t, fault.host, fault.mbit);
  }
}

/**
 * Puts `fault` on the lab and records it in the lab's state; the returned `undo` undoes it and
 * drops the record. A fault refused before anything was done (UsageError: no such host, no KV
 * store; PrerequisiteError: the kernel lacks netem) leaves nothing; one that failed half way is
 * undone as far as it can be before the error is thrown.
 */
export async function putFault(lab: LabUnderTest, fault: Fault): Promise<{ record: FaultRecord; undo(): Promise<void> }> {
  const t = targetOf(lab);
  const store = new StateStore(labStateDir(lab.plan.lab));
  let record: FaultRecord;
  try {
    record = await put(t, fault);
  } catch (e) {
    if (!(e instanceof UsageError || e instanceof PrerequisiteError)) await faults.undo(t, halfPut(lab, fault)).catch(() => {});
    throw e;
  }
  store.update((s) => (s.faults = [...(s.faults ?? []), record]));
  return {
    record,
    async undo() {
      await faults.undo(t, record);
      store.update((s) => (s.faults = (s.faults ?? []).filter((f) => f.since !== record.since || f.kind !== record.kind)));
    },
  };
}

/** The record of a fault whose putting failed part of the way: what `undo` needs to clear it (the kernel's default qdisc, for a link fault). */
function halfPut(lab: LabUnderTest, fault: Fault): FaultRecord {
  const since = new Date().toISOString();
  switch (fault.kind) {
    case 'kv-down':
      return { kind: 'kv-down', host: lab.plan.kv?.host ?? '', since };
    case 'partition':
      return { kind: 'partition', host: fault.host, since };
    default:
      return { ...fault, since } as FaultRecord;
  }
}
