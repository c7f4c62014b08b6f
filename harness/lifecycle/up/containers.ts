// Step "Run containers": each container on its host, attached to its networks; a start the
// swarm manager did not attach in time is tried again within the service stall budget.
import { guardEngine } from '../../engine/client.ts';
import { runContainer } from '../../engine/contents.ts';
import type { StepDefinition } from './run.ts';
import { serviceStallMs } from './services.ts';

export const runContainers: StepDefinition = ({ plan, ctx, live, engine, dockerAccess }) => {
  if (!plan.containers.length) return undefined;
  return {
    title: 'Run containers',
    tasks: () =>
      plan.containers.map((c) => ({
        title: `${c.name} on ${c.host}`,
        host: c.host,
        run: (signal: AbortSignal) =>
          guardEngine(dockerAccess(), `while starting container ${c.name}`, async () => {
            const addrs = await runContainer(engine(c.host), plan, c, {
              // As long as a service task may take: the same slow hosts, the same manager.
              budgetMs: serviceStallMs(live.slowestEngineMs),
              signal,
              onRetry: (attempt, message) =>
                ctx.events.emit({ type: 'warn', host: c.host, message: `${c.name}: the swarm manager did not attach it in time (start ${attempt}: ${message}); trying again` }),
            });
            return Object.entries(addrs).map(([n, a]) => `${n} ${a}`).join(', ');
          }),
      })),
  };
};
