// Command lines for a remote POSIX shell: an argv quoted so the shell sshd starts sees exactly
// those words, with `sudo -n` for a user who is not root, environment additions and a
// timeout(1) bound. Pure, so every quoting rule is unit-tested.

import { shellJoin } from '../quote.ts';


export interface RemoteCommandOptions {
  /** Prefix with `sudo -n` (non-interactive: fails at once instead of asking for a password). */
  sudo?: boolean;
  env?: Record<string, string>;
  /** Bound the command with timeout(1), which exits 124 when the time runs out. */
  timeoutMs?: number;
}

/** Seconds after the timeout's TERM before timeout(1) sends KILL. */
export const KILL_AFTER_SECONDS = 2;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The command line for `argv` as a remote shell reads it:
 * `[sudo -n] [env K=V ...] [timeout -k 2 SECONDS] argv...`.
 * The timeout runs inside sudo, so it can stop a command that runs as root.
 */
export function remoteCommand(argv: readonly string[], options: RemoteCommandOptions = {}): string {
  if (argv.length === 0) throw new Error('remoteCommand: empty argv');
  const words: string[] = [];
  if (options.sudo) words.push('sudo', '-n');
  const env = Object.entries(options.env ?? {});
  if (env.length) {
    for (const [k] of env) if (!ENV_NAME.test(k)) throw new Error(`remoteCommand: "${k}" is not an environment variable name`);
    words.push('env', ...env.map(([k, v]) => `${k}=${v}`));
  }
  if (options.timeoutMs !== undefined) {
    if (!(options.timeoutMs > 0)) throw new Error(`remoteCommand: timeoutMs must be positive, got ${options.timeoutMs}`);
    words.push('timeout', '-k', String(KILL_AFTER_SECONDS), formatSeconds(options.timeoutMs));
  }
  return shellJoin([...words, ...argv]);
}

/** Milliseconds as timeout(1) seconds: "0.5", "3", "1.25". */
export function formatSeconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}
