// What a netns lab leaves on this machine besides namespaces and processes (those are found by
// harness/system/namespaces.ts): mounts under its runtime folder, cgroups named after it.
import { readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDir, listDir } from '../../system/files.ts';

/** Mount points (in this mount namespace) at or below a folder, deepest first. */
export function mountsUnder(dir: string): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines.map((l) => l.split(' ')[4]).filter((p): p is string => !!p && (p === dir || p.startsWith(`${dir}/`)));
  return points.map((p) => p.replace(/\\040/g, ' ')).sort((a, b) => b.length - a.length);
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Removes cgroups named with the prefix in every hierarchy (children first); returns how many. */
export function removeCgroups(prefix: string): number {
  let removed = 0;
  const remove = (dir: string) => {
    for (const child of listDir(dir)) {
      const p = join(dir, child);
      if (isDir(p)) remove(p);
    }
    try {
      rmdirSync(dir);
      removed++;
    } catch {
      // Still has processes, or already gone.
    }
  };
  for (const hierarchy of listDir(CGROUP_ROOT)) {
    const root = join(CGROUP_ROOT, hierarchy);
    for (const name of listDir(root)) if (name.startsWith(prefix) && isDir(join(root, name))) remove(join(root, name));
  }
  return removed;
}
