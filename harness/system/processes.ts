// Processes of this machine by pid: alive or not, and stopping one within a deadline. Labs stop
// their daemons by the pids they recorded, never by process name (other labs share the names).
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The process exists (possibly as a zombie, or owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * What /proc/PID/stat says of a process: its state (field 3), parent (field 4) and start time
 * (field 22, clock ticks after boot; unchanged across exec), or undefined when it is gone.
 */
export function procStat(pid: number): { state: string; ppid: number; start: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command name in parentheses, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), start: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/**
 * A process recorded by pid and start time. The kernel gives a freed pid to the next process
 * (pid_max is 32768 here, and a lab runs thousands of short commands), so a recorded pid
 * alone may name another lab's process by the time `down` or a fault verb acts on it.
 */
export interface ProcessRef {
  pid: number;
  /** Field 22 of /proc/PID/stat (clock ticks after boot); unchanged across exec. Absent in older state files. */
  start?: number;
}

/** When the process started (clock ticks after boot), or undefined when it is gone. */
export function startTimeOf(pid: number): number | undefined {
  return procStat(pid)?.start;
}

/** A ref from a pid and the start time recorded with it, if one was (older state files have none). */
export function recordedProcess(pid: number, start: number | undefined): ProcessRef {
  return start === undefined ? { pid } : { pid, start };
}

/** The pid and start time of a process now running (what a lab records about what it starts). */
export function processRef(pid: number): ProcessRef {
  return recordedProcess(pid, startTimeOf(pid));
}

/** Still the recorded process: running, not a zombie (an exited process stays one until reaped), and started when it was recorded. */
export function isSameProcess(ref: ProcessRef | number): boolean {
  const { pid, start } = typeof ref === 'number' ? { pid: ref, start: undefined } : ref;
  if (!isAlive(pid)) return false;
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && (start === undefined || stat.start === start);
}

/**
 * Still in the process table as the recorded process: running, or exited but not yet reaped by
 * its parent (a zombie). What a wait for a process to be gone waits on.
 */
export function isPresent(ref: ProcessRef): boolean {
  if (!isAlive(ref.pid)) return false;
  return ref.start === undefined || procStat(ref.pid)?.start === ref.start;
}

/**
 * SIGTERM, up to `graceMs` for it to exit, then SIGKILL and a bounded wait for it to go. A pid
 * that now belongs to another process (its start time differs) is left alone.
 */
export async function stopProcess(ref: ProcessRef | number, graceMs = 10_000): Promise<void> {
  const pid = typeof ref === 'number' ? ref : ref.pid;
  const running = () => isSameProcess(ref);
  if (!running()) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (running() && Date.now() < deadline) await sleep(20);
  if (!running()) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // Gone in between.
  }
  // A process in uninterruptible sleep can outlive SIGKILL for a while: bounded, never forever.
  const killDeadline = Date.now() + 5_000;
  while (running() && Date.now() < killDeadline) await sleep(10);
}

/**
 * Pids of the processes whose command line names something under `dir` (a lab's runtime
 * folder: its daemons' sockets, data and pid files). Finds a lab's daemons even when the
 * namespaces they run in have lost their names.
 */
export function processesNaming(dir: string): number[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.includes(prefix))) found.push(Number(entry));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** "dockerd (pid 123)": how a report names a process (its command name, read before it goes). */
export function processLabel(pid: number): string {
  try {
    return `${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()} (pid ${pid})`;
  } catch {
    return `pid ${pid}`;
  }
}
