// The CLI's root check: a command the library refused for want of root (the netns provider, a
// state folder root owns) runs again under sudo when sudo is installed and this is not root
// already; otherwise the library's one-line message stands.
import { spawn } from 'node:child_process';
import { PermissionError } from '../errors.ts';
import { findProgram } from '../system/programs.ts';
import { warn } from './output.ts';

/** Variables the command reads, passed through sudo (which starts from a clean environment). */
const PASSED_ENV = /^(OVERLAB_|FORCE_COLOR$|NO_COLOR$|CI$)/;

export interface Elevation {
  /** The command line to run instead: sudo, env, node, this script, the same arguments. */
  argv: string[];
  /** The one line said before it runs. */
  notice: string;
}

/**
 * Whether (and how) to run the command again as root: only for an error root would fix, when
 * this process is not root, sudo is installed, and this is not already the elevated run.
 */
export function elevation(
  error: unknown,
  run: { uid: number | undefined; sudo: string | undefined; argv: string[]; execPath: string; env: NodeJS.ProcessEnv },
): Elevation | undefined {
  if (!(error instanceof PermissionError) || !error.root) return undefined;
  if (run.uid === undefined || run.uid === 0 || !run.sudo || run.env['OVERLAB_NO_SUDO'] || run.env['OVERLAB_ELEVATED']) return undefined;
  const passed = Object.entries(run.env)
    .filter(([k, v]) => PASSED_ENV.test(k) && v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return {
    argv: [run.sudo, '--', 'env', ...passed, 'OVERLAB_ELEVATED=1', run.execPath, ...run.argv.slice(1)],
    notice: `overlab: ${error.message.split('\n')[0]}; running it again with sudo`,
  };
}

/** Runs the command again under sudo when `elevation` says so; returns its exit status, or undefined. */
export async function elevate(error: unknown, argv: string[], signal: AbortSignal): Promise<number | undefined> {
  const plan = elevation(error, { uid: process.getuid?.(), sudo: findProgram('sudo'), argv, execPath: process.execPath, env: process.env });
  if (!plan || signal.aborted) return undefined;
  warn(plan.notice);
  const child = spawn(plan.argv[0]!, plan.argv.slice(1), { stdio: 'inherit' });
  const stop = () => child.kill('SIGTERM');
  signal.addEventListener('abort', stop, { once: true });
  return new Promise((resolve) => {
    child.once('error', () => resolve(undefined));
    child.once('exit', (code, sig) => {
      signal.removeEventListener('abort', stop);
      resolve(code ?? (sig === 'SIGINT' ? 130 : sig === 'SIGTERM' ? 143 : 128));
    });
  });
}
