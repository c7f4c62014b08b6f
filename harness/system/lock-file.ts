// Lock files that name their owner (pid, start time, a nonce, and what the caller adds), for the
// lab lock and the engine cache's. A lock appears whole or not at all: written aside, then
// hard-linked into place, which fails when a lock is there, so no one reads half of one. A lock
// whose owner is gone is taken over through a second lock (PATH.break), so that of two waiters
// who both saw the dead owner, the second cannot remove the lock the first has just taken.
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isSameProcess, processRef, recordedProcess, type ProcessRef } from './processes.ts';

/** Creates the lock at `path` with this process as owner; its text, or undefined when a lock is there. */
export function createLockFile(path: string, extra: Record<string, string> = {}): string | undefined {
  const text = JSON.stringify({ ...processRef(process.pid), ...extra, nonce: randomBytes(8).toString('hex') });
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
  writeFileSync(aside, text, { flag: 'wx', mode: 0o644 });
  try {
    linkSync(aside, path);
    return text;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return undefined;
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Removes the lock at `path` if it still reads `stale`, holding `PATH.break` meanwhile. */
export function breakStaleLock(path: string, stale: string): void {
  const breaker = `${path}.break`;
  const mine = createLockFile(breaker);
  if (mine === undefined) {
    // Someone else is breaking it; a breaker whose owner died is cleared for the next round.
    const seen = readLock(breaker);
    const b = lockHolder(seen);
    if (b && !isSameProcess(b) && readLock(breaker) === seen) rmSync(breaker, { force: true });
    return;
  }
  try {
    if (readLock(path) === stale) rmSync(path, { force: true });
  } finally {
    releaseLock(breaker, mine);
  }
}

/** Removes the lock at `path` if it is still `mine` (never one taken over from this process). */
export function releaseLock(path: string, mine: string): void {
  if (readLock(path) === mine) rmSync(path, { force: true });
}

/** A lock's text, or '' when there is none. */
export function readLock(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The owner a lock names: `{"pid":N,"start":T,...}`, or a bare pid (older locks); undefined for anything else. */
export function lockHolder(text: string): ProcessRef | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? { pid: v } : undefined;
    const r = v as Partial<ProcessRef> | null;
    if (r && Number.isInteger(r.pid) && r.pid! > 0) return recordedProcess(r.pid!, typeof r.start === 'number' ? r.start : undefined);
  } catch {
    // Not a lock overlab wrote.
  }
  return undefined;
}
