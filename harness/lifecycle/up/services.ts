// Step "Deploy services" (swarm mode): each service created on the manager, and waited for
// until its tasks run, the wait bounded by progress (serviceStallMs).
import { guardEngine } from '../../engine/client.ts';
import { createService, SERVICE_DEPLOY_CAP_MS, SERVICE_STALL_MS, waitForServiceTasks } from '../../engine/contents.ts';
import type { StepDefinition } from './run.ts';

export const deployServices: StepDefinition = ({ plan, live, engine, dockerAccess }) => {
  if (!plan.services.length) return undefined;
  const manager = plan.dockerHosts[0]!;
  return {
    title: 'Deploy services',
    tasks: () =>
      plan.services.map((v) => ({
        title: `${v.name} (${v.replicas} ${v.endpointMode})`,
        host: manager,
        run: (signal: AbortSignal) =>
          guardEngine(dockerAccess(), `while deploying service ${v.name}`, async () => {
            await createService(engine(manager), v);
            // The containers start only once the tasks run: started while the swarm was still
            // attaching tasks to the same attachable overlay, a container on the manager of
            // three VMs failed with "network ... not found" (dockerd 20.10).
            // Bounded: a task that cannot start (image, placement) fails up here, not in the specs.
            const stallMs = serviceStallMs(live.slowestEngineMs);
            const tasks = await waitForServiceTasks(engine(manager), v, signal, { stallMs, capMs: Math.max(SERVICE_DEPLOY_CAP_MS, 3 * stallMs) });
            return tasks.map((t) => `${v.name}-${t.slot} on ${t.node}`).join(', ');
          }),
      })),
  };
};

/**
 * How long a service's tasks may sit in one state: SERVICE_STALL_MS, or four times the slowest
 * engine's start where hosts are that slow. Under QEMU emulation on a busy 2-core machine an
 * engine took 55 s to start and a container a minute to run, and three tasks sat in "preparing"
 * past 90 s while they were being made (the services VM spec failed on it twice). The whole
 * wait is capped at three times that (at least SERVICE_DEPLOY_CAP_MS): such hosts took over 10
 * minutes to run three tasks while the machine was busy.
 */
export function serviceStallMs(slowestEngineMs: number): number {
  return Math.max(SERVICE_STALL_MS, 4 * slowestEngineMs);
}
