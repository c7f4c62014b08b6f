// The scope a lab's state file is checked in (its lab, provider, state and runtime folders, the
// engine cache and tree), and the checks that need it: a path in the lab's runtime folder, one
// of the lab's namespaces; a process's start time.
import { join } from 'node:path';
import type { ProviderId } from '../lab/types.ts';
import { labPrefix } from '../system/namespaces.ts';
import { absolutePath, fail, int, isInside, notA, shown, type Check } from './shape.ts';

/** Where netns labs had their runtime folders before RUNTIME_ROOT: states of labs brought up then name it. */
const LEGACY_RUNTIME_ROOT = '/tmp/overlab';

/** A path in the lab's runtime folder (or, in an older state, where that folder was). */
export function inRuntime(scope: Scope): Check<string> {
  const legacy = join(LEGACY_RUNTIME_ROOT, scope.lab);
  return (v, p) => {
    const path = absolutePath(v, p);
    return isInside(path, scope.runtimeDir) || isInside(path, legacy) ? path : fail(p, `is ${shown(path)}, outside the lab's runtime folder (${scope.runtimeDir})`);
  };
}

export interface Scope {
  lab: string;
  provider: ProviderId;
  stateDir: string;
  runtimeDir: string;
  engineCache: string;
  /** The folder of the engine tree the lab runs, when it runs one. */
  treeDir: string | undefined;
}

/** One of the lab's namespaces: `ovl.<lab>.` and a name. */
export function labNamespace(scope: Scope): Check<string> {
  const prefix = labPrefix(scope.lab);
  return (v, p) =>
    typeof v === 'string' && v.startsWith(prefix) && /^[A-Za-z0-9_-]{1,64}$/.test(v.slice(prefix.length)) ? v : notA(p, v, `a namespace of lab ${scope.lab} (${prefix}NAME)`);
}

export const processStart = int(0, Number.MAX_SAFE_INTEGER, 'a process start time (clock ticks after boot)');
