// Where engine trees are cached, in a module of its own that loads nothing heavy: the state
// checker reads it on every quick command (system/engines.ts loads execa).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureRootOnlyDir } from './root-dirs.ts';

/** Root's engine cache: a folder only root can change, the same path on VMs and ssh hosts that receive a tree. */
export const ROOT_ENGINE_CACHE = '/var/cache/overlab/engines';

/**
 * Where engine trees are cached: $OVERLAB_ENGINE_CACHE; else, for root, ROOT_ENGINE_CACHE (never
 * a user's ~/.cache, which `sudo -E` would name, and whose owner could swap what root runs);
 * else the user's cache, which serves only for reading (running engines needs root).
 */
export function engineCacheRoot(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (env['OVERLAB_ENGINE_CACHE']) return env['OVERLAB_ENGINE_CACHE'];
  if (uid === 0) return ROOT_ENGINE_CACHE;
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'overlab', 'engines');
}

/**
 * The cache root to build trees in and run them from: `explicit` as given (a caller's own
 * folder), else engineCacheRoot(), made and checked as a folder only root can change when this
 * runs as root (refused, naming the owner, when it is not).
 */
export function writableCacheRoot(explicit?: string): string {
  if (explicit) return explicit;
  const root = engineCacheRoot();
  if (process.getuid?.() === 0) ensureRootOnlyDir(root);
  return root;
}
