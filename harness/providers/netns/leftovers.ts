// Finding what a netns lab left on this machine, by the lab's own names only: processes inside
// its namespaces (and their descendants, e.g. container processes under a shim), namespaces by
// prefix, mounts under its runtime folder, cgroups named after it.
import { readdirSync, readFileSync, readlinkSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const NETNS_DIR = '/run/netns';

/** Namespaces whose name starts with the prefix (`ip netns list` without parsing). */
export function namespacesWithPrefix(prefix: string): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/** The inode identifying a named network namespace, or undefined when it is gone. */
export function namespaceInode(name: string): number | undefined {
  try {
    return statSync(join(NETNS_DIR, name)).ino;
  } catch {
    return undefined;
  }
}

interface ProcInfo {
  pid: number;
  ppid: number;
  net: number | undefined;
  mnt: number | undefined;
}

function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid, ppid, net: nsInode(pid, 'net'), mnt: nsInode(pid, 'mnt') });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function nsInode(pid: number, kind: 'net' | 'mnt'): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Pids of every process in one of the given network or mount namespaces, and of all their
 * descendants (a container lives in a namespace of its own, but is a child of a shim in ours).
 */
export function processesInNamespaces(netInodes: Set<number>, mntInodes: Set<number>): number[] {
  const procs = listProcesses();
  const found = new Set(
    procs.filter((p) => (p.net !== undefined && netInodes.has(p.net)) || (p.mnt !== undefined && mntInodes.has(p.mnt))).map((p) => p.pid),
  );
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  found.delete(process.pid);
  return [...found];
}

export function mountNamespaceOf(pid: number): number | undefined {
  return nsInode(pid, 'mnt');
}

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
    for (const child of safeReaddir(dir)) {
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
  for (const hierarchy of safeReaddir(CGROUP_ROOT)) {
    const root = join(CGROUP_ROOT, hierarchy);
    for (const name of safeReaddir(root)) if (name.startsWith(prefix) && isDir(join(root, name))) remove(join(root, name));
  }
  return removed;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
