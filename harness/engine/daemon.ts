// dockerd settings from the plan: command-line flags (netns, the systemd drop-in), for the KV
// store actually chosen on the kv host; never daemon.json. And reading an engine's panics.
import type { DaemonPlan, KvCandidate } from '../lab/types.ts';

export function daemonFlags(d: DaemonPlan, kv?: KvCandidate): string[] {
  const flags: string[] = [];
  const store = kv?.clusterStore ?? d.clusterStore;
  if (store) flags.push(`--cluster-store=${store}`);
  if (d.clusterAdvertise) flags.push(`--cluster-advertise=${d.clusterAdvertise}`);
  for (const [k, v] of Object.entries(d.labels)) flags.push(`--label=${k}=${v}`);
  return flags;
}

/**
 * The first Go panic in an engine log, with the function it happened in:
 * "panic: runtime error: ... (in github.com/docker/libnetwork.(*endpointCnt).Key)".
 */
export function panicLine(log: string): string | undefined {
  const lines = log.split('\n');
  const at = lines.findIndex((l) => /^panic: |^fatal error: /.test(l));
  if (at < 0) return undefined;
  const running = lines.findIndex((l, i) => i > at && /^goroutine \d+ \[running\]:/.test(l));
  const frame = running > 0 ? lines[running + 1]?.trim().replace(/\(0x[0-9a-f, .]*\)$/, '') : undefined;
  return `${lines[at]!.trim()}${frame ? ` (in ${frame})` : ''}`;
}
