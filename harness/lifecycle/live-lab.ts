// A lab that is up, opened for probing: hosts and engines connected, how fast the engines run a
// command measured (the pace every time allowance of the probes scales by), and what each
// docker host can run. `overlab test` opens one for its specs, the library's Lab for its handle.
import type { HostCapabilities } from '../lab/capabilities.ts';
import type { SpecPlan } from '../lab/facts.ts';
import type { Plan } from '../lab/types.ts';
import { probeCapabilities } from '../probes/capabilities.ts';
import type { LabUnderTest } from '../probes/lab-under-test.ts';
import type { LabState } from '../state/store.ts';
import { connectLab } from './connect.ts';
import { calibrate, concurrencyFor } from './pace.ts';

export interface LiveLab {
  lab: LabUnderTest;
  state: LabState;
  /** What each docker host's kernel, tools and engine can run, read when the lab was opened. */
  capabilities: HostCapabilities[];
  /** Milliseconds one `docker exec true` took, per docker host with a container. */
  execMs: Record<string, number>;
  /** Lets go of the lab's connections. */
  close(): void;
}

/**
 * Opens a lab that is up, for probing `facts` (the plan's, expanded for its specs.pairs, or the
 * fault specs'); `concurrency` is the probes in flight at once (default: by the measured pace).
 */
export async function openLiveLab(plan: Plan, facts: SpecPlan['facts'], signal: AbortSignal, options: { concurrency?: number; ownerMay?: string; startedAt?: number } = {}): Promise<LiveLab> {
  const startedAt = options.startedAt ?? Date.now();
  const { state, hosts, engines, close } = await connectLab(plan, signal, options.ownerMay ? { ownerMay: options.ownerMay } : {});
  try {
    // Before any probe: how fast the engines run a command decides the probes' time allowances.
    const { execMs, pace } = await calibrate(plan, engines);
    const capabilities = await Promise.all(plan.dockerHosts.map((h) => probeCapabilities(h, hosts.get(h)!.runner, engines.get(h))));
    const lab: LabUnderTest = { plan: { ...plan, facts }, state, hosts, engines, signal, concurrency: concurrencyFor(pace, options.concurrency), pace, startedAt };
    return { lab, state, capabilities, execMs, close };
  } catch (e) {
    close();
    throw e;
  }
}
