// The commands a fault runs on a host, as argv (pure): iptables rules in a chain of overlab's
// own, so `heal` removes exactly them and nothing else of the host's (Docker's own chains stay);
// the underlay interface's name; the engine's pidfile. The link faults' qdiscs are in qdisc.ts.
// Nothing read from a host goes into a script's text.
import type { FaultRecord } from '../state/faults.ts';

/** overlab's own iptables chain in a host's network namespace (or a VM's / machine's). */
export const FAULT_CHAIN = 'OVERLAB-FAULT';

/** Which built-in chains jump to it: traffic of the host itself (VXLAN, gossip, KV, swarm control). */
const HOOKS = ['INPUT', 'OUTPUT'] as const;

/**
 * The command that puts a partition in place: `sh -s -- IFACE [FROM]` with the script on stdin.
 * The script makes overlab's chain (or empties it), hooks it first into INPUT and OUTPUT once,
 * then adds its DROP rules. SSH (tcp 22) is always let through first: on the vagrant and ssh
 * providers overlab itself reaches the host that way, and must still heal it. The interface
 * (read from the host's `ip` output) and the address reach the script only as its positional
 * parameters "$1" and "$2", never in its text; the port is a number checked here.
 */
export function partitionCommand(p: { iface: string; from?: string; tcpPort?: number }): { argv: string[]; script: string } {
  if (p.tcpPort !== undefined && !(Number.isInteger(p.tcpPort) && p.tcpPort >= 1 && p.tcpPort <= 65535)) {
    throw new RangeError(`partitionCommand: tcpPort must be a TCP port (1-65535), got ${p.tcpPort}`);
  }
  const lines = [
    'set -e',
    'dev="$1"',
    ...(p.from ? ['peer="$2"'] : []),
    `iptables -w -N ${FAULT_CHAIN} 2>/dev/null || iptables -w -F ${FAULT_CHAIN}`,
    ...HOOKS.map((h) => `iptables -w -C ${h} -j ${FAULT_CHAIN} 2>/dev/null || iptables -w -I ${h} 1 -j ${FAULT_CHAIN}`),
    `iptables -w -A ${FAULT_CHAIN} -p tcp --dport 22 -j RETURN`,
    `iptables -w -A ${FAULT_CHAIN} -p tcp --sport 22 -j RETURN`,
  ];
  const src = p.from ? ' -s "$peer"' : '';
  const dst = p.from ? ' -d "$peer"' : '';
  if (p.tcpPort) {
    // The port both ways: connections to it, and its answers.
    for (const dir of ['--dport', '--sport']) {
      lines.push(`iptables -w -A ${FAULT_CHAIN} -i "$dev"${src} -p tcp ${dir} ${p.tcpPort} -j DROP`);
      lines.push(`iptables -w -A ${FAULT_CHAIN} -o "$dev"${dst} -p tcp ${dir} ${p.tcpPort} -j DROP`);
    }
  } else {
    lines.push(`iptables -w -A ${FAULT_CHAIN} -i "$dev"${src} -j DROP`);
    lines.push(`iptables -w -A ${FAULT_CHAIN} -o "$dev"${dst} -j DROP`);
  }
  return { argv: ['sh', '-s', '--', p.iface, ...(p.from ? [p.from] : [])], script: lines.join('\n') + '\n' };
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

/** `ip -o -4 addr show` output → the interface that holds `address` (the host's underlay); check it with interfaceNameProblem before use. */
export function interfaceWithAddress(ipAddrOutput: string, address: string): string | undefined {
  for (const line of ipAddrOutput.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)\//.exec(line);
    if (m && m[2] === address) return m[1];
  }
  return undefined;
}

/** The longest interface name Linux takes (IFNAMSIZ less its NUL), in bytes. */
export const IFNAME_MAX_BYTES = 15;

/**
 * Why `name` cannot be a Linux interface name, by the kernel's own rule (dev_valid_name): 1 to
 * 15 bytes, not "." or "..", no "/", ":" or whitespace. Undefined when it can. A valid name may
 * still hold shell metacharacters (`$(id)` is one): names go to hosts only as argv words or
 * positional parameters, never into a script's text.
 */
export function interfaceNameProblem(name: string): string | undefined {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0) return 'it is empty';
  if (bytes > IFNAME_MAX_BYTES) return `it is ${bytes} bytes long (at most ${IFNAME_MAX_BYTES})`;
  if (name === '.' || name === '..') return `it is "${name}"`;
  if (/[/:\s\0]/.test(name)) return 'it holds "/", ":", a NUL or whitespace';
  return undefined;
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
