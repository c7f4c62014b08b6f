// Step "Check the engines": an engine may die a moment after a container joined (e.g.
// libnetwork's KV watch); each must still answer and hold its containers.
import { guardEngine } from '../../engine/client.ts';
import { containerAddresses } from '../../engine/contents.ts';
import type { StepDefinition } from './run.ts';

export const checkEngines: StepDefinition = ({ plan, host, engine }) => {
  if (!plan.containers.length) return undefined;
  return {
    title: 'Check the engines',
    tasks: () =>
      plan.dockerHosts.map((d) => ({
        title: d,
        host: d,
        run: () =>
          guardEngine([host(d)], 'after the containers started', async () => {
            await engine(d).ping();
            const names = plan.containers.filter((c) => c.host === d).map((c) => c.name);
            await Promise.all(names.map((n) => containerAddresses(engine(d), n)));
          }),
      })),
  };
};
