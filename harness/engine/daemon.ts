// dockerd settings from the plan: command-line flags (netns, the systemd drop-in), for the KV
// store actually chosen on the kv host; never daemon.json. The engine's whole service (argv and
// environment), the same for `up` and for an engine a fault restarts. And reading an engine's panics.
import { join } from 'node:path';
import { ENGINE_SERVICE, type ServiceSpec } from '../host.ts';
import type { DaemonPlan, KvCandidate } from '../lab/types.ts';

/**
 * The environment every lab engine runs with. A swarm task would first try to pull its image
 * from a registry, even when the node has it (the test image is imported on every host, and no
 * registry may be reached from a lab): with this set, as moby's own integration daemons run,
 * the node uses the image it has.
 */
export const ENGINE_ENV: Readonly<Record<string, string>> = { DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' };

/** The folders after an engine tree's on dockerd's PATH: Debian's and Ubuntu's default for root. */
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** dockerd's exec root, from its flags (`--exec-root=PATH`); else the default. */
export function engineExecRoot(flags: readonly string[]): string {
  const f = flags.find((x) => x.startsWith('--exec-root='));
  return f ? f.slice('--exec-root='.length) : '/var/run/docker';
}

export function daemonFlags(d: DaemonPlan, kv?: KvCandidate): string[] {
  const flags: string[] = [];
  const store = kv?.clusterStore ?? d.clusterStore;
  if (store) flags.push(`--cluster-store=${store}`);
  if (d.clusterAdvertise) flags.push(`--cluster-advertise=${d.clusterAdvertise}`);
  for (const [k, v] of Object.entries(d.labels)) flags.push(`--label=${k}=${v}`);
  return flags;
}

export interface EngineServiceInput {
  /** What the provider adds (sockets, folders). */
  providerFlags: readonly string[];
  daemon: DaemonPlan;
  /** The KV store chosen on the kv host (kv mode). */
  kv?: KvCandidate | undefined;
  /** engine.flags of the lab file. */
  extraFlags?: readonly string[] | undefined;
  /** The engine tree's bin folder (engine.source static), or undefined for the host's own dockerd. */
  treeBin?: string | undefined;
}

/** dockerd as a service: its argv and environment. */
export function engineServiceSpec(i: EngineServiceInput): ServiceSpec {
  return {
    name: ENGINE_SERVICE,
    argv: [i.treeBin ? join(i.treeBin, 'dockerd') : 'dockerd', ...i.providerFlags, ...daemonFlags(i.daemon, i.kv), ...(i.extraFlags ?? [])],
    env: {
      ...ENGINE_ENV,
      // The tree's folder first on PATH: dockerd starts its own containerd, which starts the
      // tree's shim and runc, all found there, never the machine's.
      // The rest is the system's folders (iptables, ip): never this process's own PATH (npm's
      // node_modules/.bin, a user's folders), which means nothing on a VM and is not the engine's.
      ...(i.treeBin ? { PATH: `${i.treeBin}:${SYSTEM_PATH}` } : {}),
    },
    ...(i.treeBin ? { tree: i.treeBin } : {}),
  };
}

/**
 * The first Go panic in an engine log, with the function it happened in:
 * "panic: runtime error: ... (in github.com/docker/libnetwork.(*endpointCnt).Key)".
 */
export function panicLine(log: string): string | undefined {
  const lines = log.split('\n');
  const running = (from: number) => lines.findIndex((l, i) => i > from && /^goroutine \d+ \[running\]:/.test(l));
  let at = lines.findIndex((l) => /^panic: |^fatal error: /.test(l));
  // The panic may follow, on the same line, output of the engine's containerd cut off by the
  // crash ("...starting signal looppanic: runtime error: ..."): taken when a running goroutine's
  // stack follows it, from "panic: " on.
  if (at < 0) at = lines.findIndex((l, i) => /panic: |fatal error: /.test(l) && !/\blevel=/.test(l) && running(i) > i);
  if (at < 0) return undefined;
  const line = lines[at]!.slice(lines[at]!.search(/panic: |fatal error: /));
  const r = running(at);
  const frame = r > 0 ? lines[r + 1]?.trim().replace(/\(0x[0-9a-f, .]*\)$/, '') : undefined;
  return `${line.trim()}${frame ? ` (in ${frame})` : ''}`;
}
