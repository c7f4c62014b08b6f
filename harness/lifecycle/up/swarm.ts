// Steps "Form the swarm" and "Join the swarm" (swarm mode): the first docker host inits the
// swarm as its manager; the others join it as workers, each waited for until the manager sees
// it ready.
import { initSwarm, joinSwarm, waitForSwarmReady } from '../../engine/contents.ts';
import type { StepDefinition } from './run.ts';

export const formSwarm: StepDefinition = ({ plan, live, host, engine }) => {
  if (plan.mode !== 'swarm') return undefined;
  const manager = plan.dockerHosts[0]!;
  return {
    title: 'Form the swarm',
    tasks: () => [
      {
        title: `${manager} (manager)`,
        host: manager,
        run: async () => {
          live.swarmToken = (await initSwarm(engine(manager), host(manager).address)).worker;
        },
      },
    ],
  };
};

export const joinTheSwarm: StepDefinition = ({ plan, live, host, engine }) => {
  const [manager, ...workers] = plan.dockerHosts;
  if (plan.mode !== 'swarm' || manager === undefined || !workers.length) return undefined;
  return {
    title: 'Join the swarm',
    tasks: () =>
      workers.map((w) => ({
        title: w,
        host: w,
        run: async (signal: AbortSignal) => {
          await joinSwarm(engine(w), host(w).address, host(manager).address, live.swarmToken!);
          await waitForSwarmReady(engine(manager), [w], signal);
        },
      })),
  };
};
