// Network namespaces and the processes in them, found by name and inode only: a lab's
// namespaces carry its name after a fixed prefix (`ovl.<lab>.`), so several labs never clash and
// leftovers of a crashed lab are found by prefix alone. Shared by the providers that make
// namespaces (netns hosts, the local libvirt's namespace).
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { procStat } from './processes.ts';

export const NS_PREFIX = 'ovl.';

/** Prefix of every namespace (and cgroup) of one lab; a dot ends it, so "a" never matches "a-b". */
export function labPrefix(lab: string): string {
  return `${NS_PREFIX}${lab}.`;
}

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
    const stat = procStat(pid);
    // (None when the process ended while we looked.)
    if (stat) out.push({ pid, ppid: stat.ppid, net: nsInode(pid, 'net'), mnt: nsInode(pid, 'mnt') });
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

export function netNamespaceOf(pid: number): number | undefined {
  return nsInode(pid, 'net');
}

/** argv run inside a named namespace's network (nsenter, not `ip netns exec`, which remounts /sys). */
export function inNamespace(ns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${join(NETNS_DIR, ns)}`, '--', ...argv];
}
