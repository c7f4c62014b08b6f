// Polling with a deadline, in one place: readiness is always probed, never slept for.
import { setTimeout as sleep } from 'node:timers/promises';
import { TimeoutError } from './errors.ts';

export interface WaitOptions {
  /** What is awaited, for the timeout message ("the engine on mhs-demo0 to answer /_ping"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Extra text for the timeout message, computed when it expires (e.g. a log tail). */
  detail?: () => Promise<string> | string;
}

/**
 * Calls `probe` until it returns a value other than undefined, and returns it. A probe that
 * throws is retried; its last error is named if the deadline passes. A probe may throw a
 * `FatalProbeError` to stop waiting at once (e.g. the daemon it waits for has died).
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      if (e instanceof FatalProbeError) throw e.cause;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const last = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      const detail = options.detail ? `\n${await options.detail()}` : '';
      throw new TimeoutError(`timed out after ${(options.timeoutMs / 1000).toFixed(1)} s waiting for ${options.what}${last}${detail}`);
    }
    await sleep(interval, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/** Thrown by a probe to end the wait with `cause`. */
export class FatalProbeError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

/**
 * `p`'s outcome, or the error `onExpiry` returns once `ms` have passed. `p` is not stopped by
 * the deadline; `onExpiry` may stop it (e.g. destroy its stream).
 */
export function withDeadline<T>(p: Promise<T>, ms: number, onExpiry: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onExpiry()), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Runs `fn` over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * The pause before a watch repeats a check that took `lastMs`, so that checking takes at most
 * `share` of the time (and never less than `minMs` between checks). On netns a check of an
 * engine's process takes a millisecond and the pause stays `minMs`; over SSH into an emulated VM
 * one `systemctl is-active` took 1-5 s, and checking back to back kept the guests' CPU busy while
 * their engines started containers.
 */
export function watchPause(lastMs: number, minMs: number, share = 0.2): number {
  return Math.max(minMs, Math.ceil((lastMs * (1 - share)) / share));
}
