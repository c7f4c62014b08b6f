// Step "Create overlay networks", one at a time: concurrent creates race in libnetwork's
// KV-backed IPAM and one fails with "Pool overlaps with other one on this address space" (seen
// with dockerd 20.10). In kv mode a network is global at once: every engine must list it.
import { guardEngine } from '../../engine/client.ts';
import { createNetwork, waitForNetwork } from '../../engine/contents.ts';
import type { StepDefinition } from './run.ts';

export const createNetworks: StepDefinition = ({ plan, engine, dockerAccess }) => {
  if (!plan.networks.length) return undefined;
  return {
    title: 'Create overlay networks',
    tasks: () => {
      let previous: Promise<unknown> = Promise.resolve();
      return plan.networks.map((n) => ({
        title: `${n.name} ${n.subnet}`,
        host: n.createOn,
        run: (signal: AbortSignal) => {
          const create = previous.then(() =>
            guardEngine(dockerAccess(), `while creating network ${n.name}`, async () => {
              const id = await createNetwork(engine(n.createOn), n);
              if (plan.mode === 'kv') await Promise.all(plan.dockerHosts.map((d) => waitForNetwork(engine(d), n.name, d, signal)));
              return id.slice(0, 12);
            }),
          );
          previous = create.catch(() => undefined);
          return create;
        },
      }));
    },
  };
};
