// Memory of netns labs: an estimate from measured figures (for `up --copies` to know what fits)
// and what a lab's processes hold now (for `status --all`).
import { readFileSync } from 'node:fs';
import type { Plan } from '../../lab/types.ts';
import { labPrefix, namespacesWithPrefix, processesInNamedNamespaces } from '../../system/namespaces.ts';

/**
 * Resident memory measured on netns hosts, rounded up: a docker host is dockerd 20.10.24 (82 MiB)
 * with its containerd (39 MiB), sshd (9 MiB) and the namespace holder (2 MiB); a container is
 * busybox with its shim (14 MiB); a kv host is the store with sshd and holder (etcd 3.4: 38 MiB
 * in all). The tutorial lab measured 320 MiB in all.
 */
export const NETNS_MEMORY_MIB = {
  dockerHost: 140,
  container: 16,
  kvHost: 12,
  kvStore: { etcd: 30, consul: 70, zookeeper: 150 } as Record<string, number>,
} as const;

/** MiB one lab of this plan takes; the KV store counted as the largest of its candidates. */
export function estimateNetnsMemoryMiB(plan: Plan): number {
  const m = NETNS_MEMORY_MIB;
  const kv = plan.kv ? m.kvHost + Math.max(...plan.kv.candidates.map((c) => m.kvStore[c.type] ?? 0)) : 0;
  return plan.dockerHosts.length * m.dockerHost + plan.containers.length * m.container + kv;
}

/** The resident memory (MiB) of every process in the lab's namespaces and of their descendants (containers). */
export function netnsMemoryInUseMiB(lab: string): number {
  let kb = 0;
  for (const pid of processesInNamedNamespaces(namespacesWithPrefix(labPrefix(lab)))) {
    try {
      kb += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone while we counted.
    }
  }
  return Math.round(kb / 1024);
}
