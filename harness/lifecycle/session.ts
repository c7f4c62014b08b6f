// Labs a process brought up for itself (the library's Lab.up): they live as long as the process.
// The first SIGINT or SIGTERM aborts the ups in flight, takes every such lab down, and ends the
// process with the signal's status (130, 143). A watchdog per lab, in a session of its own (a
// terminal's Ctrl-C never reaches it), takes the lab down when the process dies without doing so:
// killed, crashed, or exited leaving it up. Process-wide by nature, as signals are: the one
// registry of this kind in overlab.
import { spawn } from 'node:child_process';
import { stateRoot } from '../state/paths.ts';
import { packagePath } from '../system/package-root.ts';
import { SIGNAL_STATUS, type SignalName } from '../system/signals.ts';

export interface SessionLab {
  readonly name: string;
  /** Stops its `up` if one is running (what was made is then taken down by `down`). */
  abort(reason: Error): void;
  /** Takes it down; called once per lab, also while its `up` is running. */
  down(): Promise<unknown>;
}

/** How long the labs may take to come down after a signal before the process ends anyway (the watchdogs finish). */
export const SESSION_DOWN_DEADLINE_MS = 120_000;
/**
 * A second signal this soon after the first is the same interrupt: a terminal's Ctrl-C reaches
 * every process of the group, and mocha's wrapper (when it runs the tests in a child) sends the
 * child SIGINT and then SIGTERM. A later one ends the process at once.
 */
export const SAME_INTERRUPT_MS = 1_500;

const held = new Set<SessionLab>();
let firstSignal: { name: SignalName; at: number } | undefined;
const listeners = { SIGINT: () => onSignal('SIGINT'), SIGTERM: () => onSignal('SIGTERM') };

/** Keeps `lab` for the process's signals; the returned function lets it go (after its down). */
export function holdLab(lab: SessionLab): () => void {
  if (held.size === 0) for (const [name, fn] of Object.entries(listeners)) process.on(name, fn);
  held.add(lab);
  return () => {
    held.delete(lab);
    if (held.size === 0 && !firstSignal) for (const [name, fn] of Object.entries(listeners)) process.off(name, fn);
  };
}

function onSignal(name: SignalName): void {
  const status = SIGNAL_STATUS[name];
  if (firstSignal) {
    if (Date.now() - firstSignal.at < SAME_INTERRUPT_MS) return;
    process.stderr.write(`overlab: ${name} again: exiting now; each lab's watchdog takes it down\n`);
    process.exit(SIGNAL_STATUS[firstSignal.name]);
  }
  firstSignal = { name, at: Date.now() };
  const labs = [...held];
  process.stderr.write(`\noverlab: ${name}: taking down ${labs.map((l) => `lab ${l.name}`).join(', ')} (${name} again after ${SAME_INTERRUPT_MS / 1000} s to quit at once)\n`);
  const reason = Object.assign(new Error(`interrupted by ${name}`), { name: 'AbortError', exitStatus: status });
  for (const l of labs) l.abort(reason);
  const deadline = setTimeout(() => {
    process.stderr.write(`overlab: the labs are not down ${SESSION_DOWN_DEADLINE_MS / 1000} s after ${name}; exiting (their watchdogs go on)\n`);
    process.exit(status);
  }, SESSION_DOWN_DEADLINE_MS);
  void Promise.allSettled(labs.map((l) => l.down())).then((results) => {
    clearTimeout(deadline);
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`lab ${labs[i]!.name}: ${(r.reason as Error)?.message ?? String(r.reason)}`] : []));
    for (const f of failed) process.stderr.write(`overlab: could not take ${f}\n`);
    process.exit(status);
  });
}

export interface Watchdog {
  /** Ends the watchdog (its lab is down, or is no longer this process's to take down). */
  stop(): void;
}

/**
 * A process that waits for this one to end, then runs `overlab down LAB` (with this process's
 * state root) and removes the lab's folder, in a session of its own; `stop` ends it once the lab
 * is down.
 */
export function startWatchdog(lab: string, pid: number = process.pid): Watchdog {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2" "$3" down "$4" --quiet && rm -rf -- "$OVERLAB_HOME/$4"';
  const child = spawn('sh', ['-c', script, 'overlab-watchdog', String(pid), process.execPath, packagePath('bin', 'overlab.js'), lab], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, OVERLAB_HOME: stateRoot() },
  });
  child.unref();
  return {
    stop() {
      // Its whole group: the shell and the sleep it waits in.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    },
  };
}
