// `up` as named steps over the provider's hosts, shared by every provider: each step is defined
// in a file of its own under up/ (given the run: plan, context, what earlier steps learnt) and
// records what it made; a definition gives no step when the lab has nothing for it.
import { releaseAll } from '../engine/client.ts';
import type { Plan } from '../lab/types.ts';
import type { Step } from '../steps.ts';
import { checkEngines } from './up/engines-check.ts';
import { startEngines } from './up/engines.ts';
import { engineTreeOf } from './up/engine-tree.ts';
import { checkForwarding } from './up/forwarding-check.ts';
import { createHosts } from './up/create-hosts.ts';
import { createNetworks } from './up/networks.ts';
import { runContainers } from './up/containers.ts';
import { startKv } from './up/kv-store.ts';
import { provisionHosts } from './up/provision-hosts.ts';
import { newRun, type StepDefinition, type UpContext } from './up/run.ts';
import { deployServices } from './up/services.ts';
import { formSwarm, joinTheSwarm } from './up/swarm.ts';

export type { UpContext } from './up/run.ts';
export { serviceStallMs } from './up/services.ts';

/** The steps of `up`, in order. */
export const UP_STEPS: readonly StepDefinition[] = [
  createHosts,
  provisionHosts,
  startKv,
  startEngines,
  formSwarm,
  joinTheSwarm,
  createNetworks,
  deployServices,
  runContainers,
  checkForwarding,
  checkEngines,
];

/** The steps of `up`, and `release`, which lets go of the connections they opened (call it once they ran). */
export function upSteps(plan: Plan, ctx: UpContext): { steps: Step[]; release: () => void } {
  const run = newRun(plan, ctx, engineTreeOf(plan, ctx));
  const steps = UP_STEPS.flatMap((define) => define(run) ?? []);
  return { steps, release: () => releaseAll(run.live.hosts.values(), run.live.engines.values()) };
}
