// How fast the lab's engines run a command, measured before the specs run, so that the probes'
// time limits fit the hosts. On netns a `docker exec` takes ~0.1 s; in a VM under QEMU software
// emulation it takes seconds, and far more when several probes run at once. Time limits are
// allowances for the engine, never the property under test: a probe's own bound (ping -W 2,
// `timeout 8 nslookup`) stays as it is, so a slow lab gets more time, never a different verdict.
import type Docker from 'dockerode';
import { execInContainer } from '../engine/client.ts';
import type { Plan } from '../lab/types.ts';

/** Probes in flight at once on a lab of normal pace. */
export const DEFAULT_CONCURRENCY = 8;
/** A `docker exec` of `true` that takes up to this long is normal pace (1). */
export const PACE_UNIT_MS = 400;
/** Time limits grow at most this many times. */
export const MAX_PACE = 10;
/** How long a calibration exec may take: an engine that does not answer by then counts as the slowest. */
const CALIBRATION_TIMEOUT_MS = 30_000;

/** The pace for the slowest engine's exec time: 1 up to PACE_UNIT_MS, then one more per unit, at most MAX_PACE. */
export function paceFor(execMs: number): number {
  return Math.min(MAX_PACE, Math.max(1, Math.ceil(execMs / PACE_UNIT_MS)));
}

/** Probes in flight at once: what the user asked for, else fewer the slower the lab (at least 2). */
export function concurrencyFor(pace: number, requested?: number): number {
  return requested ?? Math.max(2, Math.ceil(DEFAULT_CONCURRENCY / pace));
}

export interface Calibration {
  /** Milliseconds one `docker exec true` took, per docker host that has a container. */
  execMs: Record<string, number>;
  pace: number;
}

/**
 * Times `docker exec <container> true` on each docker host with a container (twice; the second
 * counts, the first warms caches), all hosts at once. An exec that hangs counts as the slowest
 * pace; one that fails counts as the time the engine took to say so. The specs that follow
 * report what is wrong with that engine.
 */
export async function calibrate(plan: Plan, engines: ReadonlyMap<string, Docker>): Promise<Calibration> {
  const times = await Promise.all(
    plan.dockerHosts.flatMap((host) => {
      const docker = engines.get(host);
      const container = plan.containers.find((c) => c.host === host)?.name;
      return docker && container ? [measure(host, docker, container)] : [];
    }),
  );
  const execMs = Object.fromEntries(times);
  return { execMs, pace: paceFor(Math.max(0, ...Object.values(execMs))) };
}

/** How long the second of two `docker exec true` took on one host (the first warms caches). */
async function measure(host: string, docker: Docker, container: string): Promise<[string, number]> {
  let ms = 0;
  for (let round = 0; round < 2 && ms < CALIBRATION_TIMEOUT_MS; round++) {
    const started = Date.now();
    // A failed exec (no such container) still says how fast the engine answered.
    await execInContainer(docker, container, ['true'], CALIBRATION_TIMEOUT_MS).catch(() => {});
    ms = Date.now() - started;
  }
  return [host, ms];
}
