// The live lab a probe runs against: the plan with its facts expanded, the state, and the
// hosts and engines connected (harness/lifecycle/test.ts makes one per `overlab test`).
import type Docker from 'dockerode';
import type { SpecPlan } from '../lab/facts.ts';
import type { HostAccess } from '../host.ts';
import type { LabState } from '../state/store.ts';

export interface LabUnderTest {
  /** The plan with its pairwise facts expanded (harness/lab/facts.ts) for the lab's specs.pairs. */
  plan: SpecPlan;
  state: LabState;
  hosts: Map<string, HostAccess>;
  engines: Map<string, Docker>;
  signal: AbortSignal;
  /** Probes in flight at once. */
  concurrency: number;
  /**
   * How many times longer than on a fast lab the engines take to run a command (1 on netns;
   * more in VMs under emulation, measured by harness/lifecycle/pace.ts). Scales every time
   * allowance of the probes; never a probe's own bound.
   */
  pace: number;
  /** When the run started (ms since the epoch): engine log lines logged after it are the relevant ones. */
  startedAt: number;
}
