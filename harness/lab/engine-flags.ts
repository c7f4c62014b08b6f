// Which dockerd flags a lab file may add (engine.flags) and why any other is refused. A lab
// file makes root run engines with its settings, so it may set only how the engine's own
// networking, DNS, logging and pace behave (an allowlist, each flag with a value grammar that
// names no path, socket or program); never what overlab sets itself (sockets, roots, pid file,
// KV store, labels, runtime), nor what points the engine outside the lab. Pure: text in, phrase out.
import { isIPv6 } from 'node:net';
import { parseIpv4 } from './ipv4.ts';
import { nearest, quote, QUOTE_MAX } from './text.ts';

/** A flag's value: a boolean (bare, or =true|false), or a value given in the same item as --name=VALUE. */
export type FlagValue = { kind: 'bool' } | { kind: 'value'; form: string; valid: (value: string) => boolean };

const bool: FlagValue = { kind: 'bool' };
const value = (form: string, valid: (v: string) => boolean): FlagValue => ({ kind: 'value', form, valid });
const oneOf = (...words: string[]): FlagValue => value(`one of ${words.join(', ')}`, (v) => words.includes(v));
const whole = (min: number, max: number): FlagValue => value(`a whole number from ${min} to ${max}`, (v) => isWhole(v, min, max));

function isWhole(v: string, min: number, max: number): boolean {
  return /^(?:0|[1-9]\d{0,5})$/.test(v) && Number(v) >= min && Number(v) <= max;
}
const isV4 = (v: string) => parseIpv4(v) !== undefined;
// Hex, colons and dots only: no zone (`%eth0`), which would name a host interface.
const isV6 = (v: string) => /^[0-9A-Fa-f:.]{2,45}$/.test(v) && isIPv6(v);
const isIp = (v: string) => isV4(v) || isV6(v);
/** ADDRESS/PREFIX, host bits allowed (dockerd's --bip is the bridge's own address). */
function isCidr(v: string, family: 4 | 6): boolean {
  const m = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(v);
  return !!m && (family === 4 ? isV4(m[1]!) : isV6(m[1]!)) && Number(m[2]) <= (family === 4 ? 32 : 128);
}
const IFNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const ULIMITS = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];
/** Driver options a lab may default (--default-network-opt DRIVER=OPTION=VALUE): none names a host interface. */
const NETWORK_OPTIONS = [
  'com.docker.network.driver.mtu',
  'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.enable_ip_masquerade',
  'com.docker.network.bridge.host_binding_ipv4',
  'com.docker.network.bridge.gateway_mode_ipv4',
  'com.docker.network.bridge.gateway_mode_ipv6',
];

const IP_FORM = 'an IP address';
const CIDR4_FORM = 'an IPv4 address with a prefix, a.b.c.d/n';
const CIDR6_FORM = 'an IPv6 address with a prefix, e.g. fd00:1::1/64';

/**
 * The allowlist: dockerd's own names (moby cmd/dockerd config*.go, `dockerd --help`), settings
 * of how the engine's networking, DNS, logging and pace behave. An engine older than a flag
 * refuses it at start, in its log.
 */
export const ENGINE_FLAGS: Readonly<Record<string, FlagValue>> = {
  // networking: the default bridge, forwarding, firewall, MTUs
  mtu: whole(68, 65535),
  'network-control-plane-mtu': whole(68, 65535),
  iptables: bool,
  ip6tables: bool,
  'ip-forward': bool,
  'ip-forward-no-drop': bool,
  'ip-masq': bool,
  ipv6: bool,
  icc: bool,
  'userland-proxy': bool,
  'allow-direct-routing': bool,
  'firewall-backend': oneOf('iptables', 'nftables'),
  bip: value(CIDR4_FORM, (v) => isCidr(v, 4)),
  bip6: value(CIDR6_FORM, (v) => isCidr(v, 6)),
  'fixed-cidr': value(CIDR4_FORM, (v) => isCidr(v, 4)),
  'fixed-cidr-v6': value(CIDR6_FORM, (v) => isCidr(v, 6)),
  'default-gateway': value('an IPv4 address', isV4),
  'default-gateway-v6': value('an IPv6 address', isV6),
  ip: value(IP_FORM, isIp),
  'host-gateway-ip': value(IP_FORM, isIp),
  'default-address-pool': value('base=ADDRESS/PREFIX,size=N, e.g. base=10.10.0.0/16,size=24', (v) => {
    const m = /^base=([^,]+),size=(0|[1-9]\d{0,2})$/.exec(v);
    return !!m && (isCidr(m[1]!, 4) ? Number(m[2]) <= 32 : isCidr(m[1]!, 6) && Number(m[2]) <= 128);
  }),
  'default-network-opt': value('DRIVER=OPTION=VALUE, DRIVER bridge or overlay, OPTION com.docker.network.driver.mtu or com.docker.network.bridge.{enable_icc,enable_ip_masquerade,host_binding_ipv4,gateway_mode_ipv4,gateway_mode_ipv6}', (v) => {
    const m = /^(bridge|overlay)=([a-z0-9_.]+)=([A-Za-z0-9_.:-]{1,64})$/.exec(v);
    return !!m && NETWORK_OPTIONS.includes(m[2]!);
  }),
  // Overlay control plane. overlab sets --cluster-advertise itself; a lab may advertise another
  // address to break a cell's overlay on purpose (an address, nothing the engine reads or runs).
  'cluster-advertise': value('ADDRESS:PORT, an IPv4 address and a port', (v) => {
    const m = /^([^:]+):(\d{1,5})$/.exec(v);
    return !!m && isV4(m[1]!) && isWhole(m[2]!, 1, 65535);
  }),
  'swarm-default-advertise-addr': value('an IP address or an interface name', (v) => isIp(v) || IFNAME.test(v)),
  // DNS given to containers
  dns: value(IP_FORM, isIp),
  'dns-opt': value('a resolver option, e.g. ndots:2 or edns0', (v) => /^[a-z][a-z0-9-]{0,31}(?::\d{1,3})?$/.test(v)),
  'dns-search': value('a DNS domain', (v) => DNS_NAME.test(v)),
  // logging and behaviour
  'log-level': oneOf('debug', 'info', 'warn', 'error', 'fatal'),
  debug: bool,
  experimental: bool,
  feature: value('NAME or NAME=true|false', (v) => /^[a-z0-9][a-z0-9-]{0,63}(?:=(?:true|false))?$/.test(v)),
  'live-restore': bool,
  'max-concurrent-downloads': whole(1, 1000),
  'max-concurrent-uploads': whole(1, 1000),
  'max-download-attempts': whole(1, 1000),
  'default-ulimit': value('NAME=SOFT[:HARD], e.g. nofile=1024:2048', (v) => {
    const m = /^([a-z]+)=(-?\d{1,19})(?::(-?\d{1,19}))?$/.exec(v);
    return !!m && ULIMITS.includes(m[1]!);
  }),
  'storage-driver': oneOf('overlay2', 'fuse-overlayfs', 'btrfs', 'zfs', 'vfs', 'devicemapper', 'aufs', 'overlay'),
};

export const ENGINE_FLAG_NAMES: readonly string[] = Object.keys(ENGINE_FLAGS);

/** Flags overlab gives every lab engine itself (or that decide how overlab reaches it): with what. */
export const SET_BY_OVERLAB: Readonly<Record<string, string>> = {
  host: "the engine's API socket, which overlab and the specs talk to",
  tls: 'TLS on the API socket',
  tlsverify: 'TLS on the API socket',
  pidfile: 'the pid file by which overlab stops and restarts it',
  'data-root': "the data root, a folder of the lab's own",
  graph: "the data root (--graph is --data-root's old name)",
  'exec-root': "the exec root, a folder of the lab's own",
  'config-file': 'the daemon.json it reads',
  containerd: 'the containerd it uses',
  'containerd-namespace': 'its containerd namespaces',
  'containerd-plugins-namespace': 'its containerd namespaces',
  'cluster-store': "the lab's own KV store",
  label: "the labels that mark the lab's engines",
  'cgroup-parent': 'the cgroup its containers run in',
  'default-runtime': "the OCI runtime (the engine's own runc)",
  validate: 'how dockerd runs (--validate only checks its settings and exits)',
};

/** Flags that point the root-run engine at something outside the lab: what at. */
export const POINTS_OUTSIDE: Readonly<Record<string, string>> = {
  'userland-proxy-path': 'a program it would run as root',
  'init-path': 'a program it would run in containers',
  'add-runtime': 'a program it would run as an OCI runtime',
  'seccomp-profile': 'a file, or no seccomp filter at all',
  'apparmor-profile': 'a file',
  'authorization-plugin': 'a plugin it would hand every API request',
  'exec-opt': "the host's cgroup driver and runtime options",
  tlscacert: 'a file it would read as root',
  tlscert: 'a file it would read as root',
  tlskey: 'a file it would read as root',
  'cdi-spec-dir': 'folders of the host',
  'storage-opt': 'devices and files of the host',
  'cluster-store-opt': 'certificate files of the host',
  'log-driver': 'a log collector (syslog, journald, remote ones)',
  'log-opt': 'log files and collectors',
  'log-format': "log lines overlab does not read (it reads the engine's text log)",
  'raw-logs': "log lines overlab does not read (it reads the engine's text log)",
  'registry-mirror': 'a registry',
  'insecure-registry': 'a registry',
  'allow-nondistributable-artifacts': 'a registry',
  'http-proxy': 'a proxy',
  'https-proxy': 'a proxy',
  'no-proxy': 'a proxy',
  'metrics-addr': 'a listener beside the API socket',
  'network-diagnostic-port': 'a listener beside the API socket',
  bridge: "a bridge of the host's, not one of its own",
  group: 'a group of the host, which would get the API socket',
  'userns-remap': 'users of the host (/etc/subuid)',
};

/** dockerd's one-letter flags and the long names they stand for. */
export const SHORT_FLAGS: Readonly<Record<string, string>> = {
  H: 'host',
  p: 'pidfile',
  g: 'graph',
  G: 'group',
  D: 'debug',
  l: 'log-level',
  s: 'storage-driver',
  b: 'bridge',
  r: 'restart',
  e: 'exec-driver',
};

const ALLOWED = 'a lab file may set networking, DNS and logging flags such as --mtu, --iptables, --dns, --log-level (list: docs/lab-file.md, engine.flags)';
/** The shape the schema gives an item: --name or --name=value, no control characters. */
export const FLAG_ITEM = /^--([a-z][a-z0-9-]*)(?:=([^\x00-\x1f]*))?$/;

/**
 * What is wrong with one item of engine.flags (a phrase that follows the quoted item), or
 * undefined when dockerd may be given it. `previous` is the item before it: a bare value after
 * a `--name` is the two-item form `--name VALUE`, judged as `--name=VALUE`.
 */
export function engineFlagProblem(item: string, previous?: string): string | undefined {
  const m = FLAG_ITEM.exec(item);
  if (m) {
    const reason = refusal(m[1]!, m[2]);
    return reason && `is refused: ${reason}`;
  }
  const short = /^-([A-Za-z])(?:[= ]?(.*))?$/s.exec(item);
  if (short) {
    const long = own(SHORT_FLAGS, short[1]!);
    if (!long) return `is not a flag a lab file may set: write each flag as --name or --name=value; ${ALLOWED}`;
    const written = short[2] ? `--${long}=${short[2]}` : `--${long}`;
    const reason = refusal(long, short[2] || undefined);
    return reason ? `is refused: -${short[1]} is dockerd's --${long}, and ${reason}` : `is dockerd's short form of --${long}: write ${quote(written)}`;
  }
  const prev = previous === undefined ? undefined : FLAG_ITEM.exec(previous);
  if (!item.startsWith('-') && prev && prev[2] === undefined) {
    const joined = `--${prev[1]}=${item}`;
    // Without the list of what is allowed: the message is long enough, and the list is one fix away.
    const reason = refusal(prev[1]!, item, false);
    return `is the value of ${named(prev[1]!)}, not a flag: write ${quote(joined)} in one item${reason ? `, which is refused too: ${reason}` : ''}`;
  }
  return 'is not a flag: write each flag as --name or --name=value (a lower-case name), in one item';
}

/** Why dockerd may not be given --name[=value] from a lab file, or undefined when it may. */
function refusal(name: string, given: string | undefined, withAllowed = true): string | undefined {
  const flag = named(name);
  const allowedHint = withAllowed ? `; ${ALLOWED}` : '';
  const allowed = own(ENGINE_FLAGS, name);
  if (allowed?.kind === 'bool') {
    return given === undefined || given === 'true' || given === 'false' ? undefined : `${flag} is true or false: write ${flag}, ${flag}=true or ${flag}=false`;
  }
  if (allowed) {
    if (given === undefined) {
      // A long form (--default-network-opt's) is left for the message about the value itself.
      const form = allowed.form.length <= 80 ? ` (${allowed.form})` : '';
      return `${flag} needs its value in the same item, ${flag}=VALUE${form}; alone, dockerd would take the next item as its value`;
    }
    return allowed.valid(given) ? undefined : `${flag} takes ${allowed.form}`;
  }
  const sets = own(SET_BY_OVERLAB, name);
  if (sets) return `overlab sets ${flag} itself (${sets}): a lab file may not override it${allowedHint}`;
  const outside = own(POINTS_OUTSIDE, name);
  if (outside) return `${flag} would point the root-run engine outside the lab (at ${outside})${allowedHint}`;
  const near = nearest(name, ENGINE_FLAG_NAMES);
  return `${flag} is not on overlab's list of dockerd flags a lab file may set${near ? ` (did you mean --${near}?)` : ''}${allowedHint}`;
}

/** A table's own entry (never Object.prototype's: --constructor is no flag). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** --name as a message shows it: long names quoted and cut short, like every lab value. */
function named(name: string): string {
  return name.length <= QUOTE_MAX ? `--${name}` : quote(`--${name}`);
}
