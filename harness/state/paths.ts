// Where a lab keeps things: its state folder (state file, lock, logs, keys, reports) and the
// runtime folder of its daemons. One function per path, so nothing builds them by hand.
import { join, resolve } from 'node:path';

/** Root of all labs' state folders: $OVERLAB_HOME or ./.overlab. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['OVERLAB_HOME'] ?? '.overlab');
}

export function labStateDir(lab: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), lab);
}

/** Short runtime paths (unix sockets are limited to 108 bytes), outside /run, which each netns host overmounts. */
export const RUNTIME_ROOT = '/tmp/overlab';

export function labRuntimeDir(lab: string): string {
  return join(RUNTIME_ROOT, lab);
}
