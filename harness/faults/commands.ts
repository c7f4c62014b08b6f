// The commands a fault runs on a host, as argv (pure): iptables rules in a chain of overlab's
// own, so `heal` removes exactly them and nothing else of the host's (Docker's own chains stay);
// tc qdiscs on the host's underlay interface; and reading what the host answered.
import type { FaultRecord } from '../state/faults.ts';

/** overlab's own iptables chain in a host's network namespace (or a VM's / machine's). */
export const FAULT_CHAIN = 'OVERLAB-FAULT';

/** Which built-in chains jump to it: traffic of the host itself (VXLAN, gossip, KV, swarm control). */
const HOOKS = ['INPUT', 'OUTPUT'] as const;

/**
 * The sh script that puts a partition in place: the chain made (or emptied), hooked first into
 * INPUT and OUTPUT once, then its DROP rules. SSH (tcp 22) is always let through first: on the
 * vagrant and ssh providers overlab itself reaches the host that way, and must still heal it.
 */
export function partitionScript(p: { iface: string; from?: string; tcpPort?: number }): string {
  const lines = [
    'set -e',
    `iptables -w -N ${FAULT_CHAIN} 2>/dev/null || iptables -w -F ${FAULT_CHAIN}`,
    ...HOOKS.map((h) => `iptables -w -C ${h} -j ${FAULT_CHAIN} 2>/dev/null || iptables -w -I ${h} 1 -j ${FAULT_CHAIN}`),
    `iptables -w -A ${FAULT_CHAIN} -p tcp --dport 22 -j RETURN`,
    `iptables -w -A ${FAULT_CHAIN} -p tcp --sport 22 -j RETURN`,
  ];
  const port = p.tcpPort ? ` -p tcp` : '';
  if (p.tcpPort) {
    // The port both ways: connections to it, and its answers.
    for (const dir of ['--dport', '--sport']) {
      lines.push(`iptables -w -A ${FAULT_CHAIN} -i ${p.iface}${p.from ? ` -s ${p.from}` : ''}${port} ${dir} ${p.tcpPort} -j DROP`);
      lines.push(`iptables -w -A ${FAULT_CHAIN} -o ${p.iface}${p.from ? ` -d ${p.from}` : ''}${port} ${dir} ${p.tcpPort} -j DROP`);
    }
  } else {
    lines.push(`iptables -w -A ${FAULT_CHAIN} -i ${p.iface}${p.from ? ` -s ${p.from}` : ''} -j DROP`);
    lines.push(`iptables -w -A ${FAULT_CHAIN} -o ${p.iface}${p.from ? ` -d ${p.from}` : ''} -j DROP`);
  }
  return lines.join('\n') + '\n';
}

/** The sh script that removes overlab's chain and its hooks; idempotent (nothing there is fine). */
export function unpartitionScript(): string {
  return [
    ...HOOKS.map((h) => `while iptables -w -D ${h} -j ${FAULT_CHAIN} 2>/dev/null; do :; done`),
    `iptables -w -F ${FAULT_CHAIN} 2>/dev/null || true`,
    `iptables -w -X ${FAULT_CHAIN} 2>/dev/null || true`,
    '',
  ].join('\n');
}

/** `ip -o -4 addr show` output → the interface that holds `address` (the host's underlay). */
export function interfaceWithAddress(ipAddrOutput: string, address: string): string | undefined {
  for (const line of ipAddrOutput.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (m && m[2] === address) return m[1];
  }
  return undefined;
}

export function netemArgv(iface: string, ms: number, loss?: number): string[] {
  return ['tc', 'qdisc', 'replace', 'dev', iface, 'root', 'netem', 'delay', `${ms}ms`, ...(loss ? ['loss', `${loss}%`] : [])];
}

/** A token bucket: `mbit` Mbit/s, a burst of ~10 ms at that rate (at least 32 kB), packets queued up to 400 ms. */
export function tbfArgv(iface: string, mbit: number): string[] {
  const burstKb = Math.max(32, Math.ceil((mbit * 1000) / 8 / 100));
  return ['tc', 'qdisc', 'replace', 'dev', iface, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', `${burstKb}kb`, 'latency', '400ms'];
}

export function clearQdiscArgv(iface: string): string[] {
  return ['tc', 'qdisc', 'del', 'dev', iface, 'root'];
}

/** The kernel option netem needs, named in the refusal. */
export const NETEM_CONFIG = 'CONFIG_NET_SCH_NETEM';

/**
 * Whether what `tc qdisc ... netem` answered says the kernel has no netem: "Error: Specified
 * qdisc kind is unknown." (iproute2 with netlink extended ack), or "RTNETLINK answers: No such
 * file or directory" from older ones.
 */
export function kernelLacksQdisc(stderr: string): boolean {
  return /qdisc kind is unknown|RTNETLINK answers: No such file or directory|Unknown qdisc/i.test(stderr);
}

/** What /proc/config.gz (gunzipped) says of netem: 'y', 'm', or undefined when it is not set or not listed. */
export function netemInConfig(config: string): 'y' | 'm' | undefined {
  const m = new RegExp(`^${NETEM_CONFIG}=([ym])$`, 'm').exec(config);
  return m ? (m[1] as 'y' | 'm') : undefined;
}

/** The pidfile dockerd writes, from its flags (`--pidfile=PATH`, `--pidfile PATH`, `-p PATH`); else the default. */
export function enginePidfile(flags: readonly string[]): string {
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    if (f.startsWith('--pidfile=')) return f.slice('--pidfile='.length);
    if ((f === '--pidfile' || f === '-p') && flags[i + 1]) return flags[i + 1]!;
  }
  return '/var/run/docker.pid';
}

/** Faults that stay in place until healed, on one host: the ones `heal HOST` undoes. */
export function faultsOn(faults: readonly FaultRecord[], host: string | undefined): FaultRecord[] {
  return host === undefined ? [...faults] : faults.filter((f) => f.host === host);
}

/**
 * Run before an engine killed with SIGKILL is started again, with its exec root as $1. The
 * containerd that engine ran itself dies with it, but stays a zombie until the machine's init
 * reaps it; dockerd counts a zombie in its containerd pidfile as running, waits for its socket,
 * and gives up ("timeout waiting for containerd to start"). Waits up to 10 s for it to go; a
 * zombie's pidfile is removed (the process is dead), so dockerd starts a containerd afresh. A
 * containerd that really runs, or one of the machine's own (no pidfile), is left alone.
 */
export const STALE_CONTAINERD_SCRIPT = `f="$1/containerd/containerd.pid"
[ -f "$f" ] || exit 0
pid=$(cat "$f")
i=0
while [ "$i" -lt 100 ]; do
  st=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  [ -z "$st" ] && exit 0
  [ "$st" = Z ] && { rm -f "$f"; exit 0; }
  sleep 0.1
  i=$((i + 1))
done
`;
