// Network namespaces and the processes in them, found by name and inode only: a lab's
// namespaces carry its name after a fixed prefix (`ovl.<lab>.`), so several labs never clash and
// leftovers of a crashed lab are found by prefix alone. Shared by the providers that make
// namespaces (netns hosts, the local libvirt's namespace).
import { closeSync, fstatSync, openSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processLabel, procStat } from './processes.ts';

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
 * Pids of every process in one of the pinned network or mount namespaces, and of all their
 * descendants (a container lives in a namespace of its own, but is a child of a shim in ours).
 */
export function processesInNamespaces(pins: PinnedNamespaces): number[] {
  const procs = listProcesses();
  const found = new Set(
    procs.filter((p) => (p.net !== undefined && pins.net.has(p.net)) || (p.mnt !== undefined && pins.mnt.has(p.mnt))).map((p) => p.pid),
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

/**
 * Namespaces held open by this process while it looks for what runs in them and kills it. The
 * kernel gives a freed namespace's inode number to the next namespace made on the machine (the
 * lowest free number, whatever the kind): compared by number alone once the lab's last process
 * in a namespace has died, the number would name a namespace another lab just made (its
 * `ip -n`, which unshares a mount namespace; its runc init) and kill there. An open file keeps
 * the namespace, and so its number, until `release`.
 */
export interface PinnedNamespaces {
  readonly net: ReadonlySet<number>;
  readonly mnt: ReadonlySet<number>;
  release(): void;
}

/**
 * Pins the namespaces at these paths (`/run/netns/NAME`, `/proc/PID/ns/net`, `/proc/PID/ns/mnt`);
 * paths that are gone are skipped, and so are the namespaces in `except` (the machine's own).
 */
export function pinNamespaces(paths: { net: readonly string[]; mnt: readonly string[] }, except: ReadonlySet<number | undefined> = new Set()): PinnedNamespaces {
  const fds: number[] = [];
  const pin = (list: readonly string[]) => {
    const inodes = new Set<number>();
    for (const path of list) {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        continue; // The process or the name is gone.
      }
      const ino = fstatSync(fd).ino;
      if (except.has(ino) || inodes.has(ino)) closeSync(fd);
      else {
        fds.push(fd);
        inodes.add(ino);
      }
    }
    return inodes;
  };
  const net = pin(paths.net);
  const mnt = pin(paths.mnt);
  return {
    net,
    mnt,
    release: () => {
      for (const fd of fds.splice(0)) closeSync(fd);
    },
  };
}

/** Pids of the processes in these named network namespaces and of their descendants (pinned while looked for). */
export function processesInNamedNamespaces(names: readonly string[]): number[] {
  const pins = pinNamespaces({ net: names.map((n) => join(NETNS_DIR, n)), mnt: [] });
  try {
    return pins.net.size ? processesInNamespaces(pins) : [];
  } finally {
    pins.release();
  }
}

/**
 * SIGKILL to every process in the pinned namespaces and to their descendants, again until none
 * is left (bounded: `rounds` x `intervalMs`); returns what the first round found, by label.
 */
export async function killProcessesIn(pins: PinnedNamespaces, options: { rounds?: number; intervalMs?: number } = {}): Promise<string[]> {
  const { rounds = 50, intervalMs = 20 } = options;
  let first: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const pids = processesInNamespaces(pins);
    if (pids.length === 0) break;
    if (round === 0) first = pids.map(processLabel);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await sleep(intervalMs);
  }
  return first;
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
