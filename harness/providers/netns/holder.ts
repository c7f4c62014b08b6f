// A netns host's holder: the process that holds its UTS and mount namespaces (its hostname, a
// /run of its own, the lab's hosts file), started in the host's network namespace and recorded by
// pid and start time, in the lab state and in the runtime folder (where down finds it when the
// state is gone).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandFailedError } from '../../errors.ts';
import type { HostPlan, Plan } from '../../lab/types.ts';
import { labRuntimeDir, RUNTIME_ROOT } from '../../state/paths.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { isSameProcess, processRef, recordedProcess, type ProcessRef } from '../../system/processes.ts';
import { waitFor } from '../../wait.ts';
import type { ServiceRecord } from './host.ts';
import { hostNamespace, hostRuntimeDir } from './topology.ts';

/**
 * Holds a host's UTS and mount namespaces: sets the hostname, gives the host a private /run
 * (iptables lock, containerd shim sockets, libnetwork's /run/docker/netns) and the lab's
 * /etc/hosts, then sleeps until killed.
 */
/**
 * Each host's namespaces: its hostname, a /run of its own (its dockerd's and sshd's), the
 * machine's runtime root ($3, under /run) bound back into it through a descriptor opened
 * before the new /run hid it, and the lab's hosts file.
 */
export const HOLDER_SCRIPT = [
  'set -e',
  'hostname "$1"',
  'exec 3<"$3"',
  'mount -t tmpfs -o mode=0755 overlab-run /run',
  'mkdir -p /run/sshd "$3"',
  // --no-canonicalize: mount(8) would turn the descriptor's link into its path, now the new /run's.
  'mount --no-canonicalize --bind /proc/self/fd/3 "$3"',
  'exec 3<&-',
  'mount --bind "$2" /etc/hosts',
  'exec sleep infinity',
].join('; ');

/** What the lab state records of a netns host (its resources). */
export interface NetnsHostResources {
  namespace: string;
  holderPid?: number;
  /** The holder's start time (see ProcessRef). */
  holderStart?: number;
  runtimeDir: string;
  services?: Record<string, ServiceRecord>;
}

/** Where the lab's runtime folder keeps its hosts' holders (pid and start time, by host). */
function holdersFile(lab: string): string {
  return join(labRuntimeDir(lab), 'holders.json');
}

/** Adds a host's holder to the runtime folder's record (read, then replaced whole). */
function recordHolder(lab: string, host: string, holder: ProcessRef): void {
  const all = { ...readHolders(lab), [host]: holder };
  const tmp = `${holdersFile(lab)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(all), { mode: 0o644 });
  renameSync(tmp, holdersFile(lab));
}

function readHolders(lab: string): Record<string, ProcessRef> {
  try {
    const v = JSON.parse(readFileSync(holdersFile(lab), 'utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return {};
    const out: Record<string, ProcessRef> = {};
    for (const [host, r] of Object.entries(v as Record<string, { pid?: unknown; start?: unknown }>)) {
      if (Number.isInteger(r?.pid) && (r.pid as number) > 0 && Number.isInteger(r.start)) out[host] = recordedProcess(r.pid as number, r.start as number);
    }
    return out;
  } catch {
    return {};
  }
}

/** The holders the runtime folder records (only with their start times: a pid alone proves nothing). */
export function recordedHolders(lab: string): ProcessRef[] {
  return Object.values(readHolders(lab));
}

/** The host's namespace holder as recorded, when one was. */
export function holderOf(resources: unknown): ProcessRef | undefined {
  const r = resources as NetnsHostResources | undefined;
  return r?.holderPid === undefined ? undefined : recordedProcess(r.holderPid, r.holderStart);
}

/** Starts the host's holder in its network namespace, records it, and waits until its hostname and mounts are in place. */
export async function startHolder(plan: Plan, h: HostPlan, hostsPath: string, ctx: LabContext): Promise<ProcessRef> {
  const ns = hostNamespace(plan.lab, h.name);
  mkdirSync(hostRuntimeDir(plan.lab, h.name), { recursive: true });
  const child = spawn(
    'nsenter',
    [`--net=/run/netns/${ns}`, '--', 'unshare', '--uts', '--mount', '--propagation', 'private', '--', 'sh', '-c', HOLDER_SCRIPT, 'holder', h.hostname, hostsPath, RUNTIME_ROOT],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  const holder = processRef(pid);
  try {
    ctx.store.update((s) => {
      s.hosts[h.name]!.resources['holderPid'] = pid;
      if (holder.start !== undefined) s.hosts[h.name]!.resources['holderStart'] = holder.start;
    });
    recordHolder(plan.lab, h.name, holder);
    // Ready when the holder has exec'd sleep, i.e. its hostname and mounts are in place.
    await waitFor(
      async () => {
        if (!isSameProcess(holder)) {
          throw new CommandFailedError({ command: `namespace holder of ${h.name}`, exitCode: child.exitCode, output: stderr, host: h.name });
        }
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
        return comm === 'sleep' ? true : undefined;
      },
      { what: `the namespaces of ${h.name}`, timeoutMs: 10_000, intervalMs: 5, signal: ctx.signal },
    );
  } finally {
    // Whatever happened (an abort included), the holder outlives this process: its pipe and
    // handle must not hold the event loop (an interrupted `up` once waited 11 minutes on them).
    child.stderr!.destroy();
    child.unref();
  }
  return holder;
}
