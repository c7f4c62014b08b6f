// How the CLI meets SIGINT and SIGTERM: the first cancels the running command, a second (or a
// deadline) ends the process, with the signal's exit status either way.
import { SIGNAL_STATUS } from '../system/signals.ts';

/** How long after the first signal the process exits even if something still holds it. */
export const EXIT_DEADLINE_MS = 4_000;

let exitDeadlineMs = EXIT_DEADLINE_MS;

/**
 * A command whose clean-up after a signal is longer than the deadline and matters more than a
 * quick exit (the matrix takes every cell's lab down) asks for more time; a second signal
 * still exits at once.
 */
export function extendExitDeadline(ms: number): void {
  exitDeadlineMs = Math.max(exitDeadlineMs, ms);
}

/**
 * Cancels long operations on the first SIGINT or SIGTERM; a second one exits at once. The
 * abort reason carries the signal's exit status. If anything still holds the process a while
 * after the abort (a child's pipe, a socket), a timer ends it: one signal is all a CI runner's
 * timeout sends.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (name: keyof typeof SIGNAL_STATUS) => {
    const status = SIGNAL_STATUS[name];
    if (controller.signal.aborted) process.exit(status);
    process.exitCode = status;
    if (!process.argv.includes('--quiet') && !process.argv.includes('-q')) process.stderr.write(`\noverlab: stopping (${name}; again to quit at once)\n`);
    controller.abort(Object.assign(new Error(`interrupted by ${name}`), { name: 'AbortError', exitStatus: status }));
    setTimeout(() => {
      process.stderr.write(`overlab: still busy ${exitDeadlineMs / 1000} s after ${name}; exiting (\`overlab down\` removes what was created)\n`);
      process.exit(status);
    }, exitDeadlineMs).unref();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  return controller.signal;
}

/** The status an aborted command exits with: its signal's, whatever error the abort surfaced as. */
export function abortStatus(signal: AbortSignal): number {
  return (signal.reason as { exitStatus?: number } | undefined)?.exitStatus ?? 130;
}
