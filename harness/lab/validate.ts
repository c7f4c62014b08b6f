// Topology rules a schema cannot express (names, addresses, references between sections), and
// the defaults that make a short lab file complete. Collects every problem, located.
import type { LabProblem } from '../errors.ts';
import { cidrContains, cidrsOverlap, formatCidr, formatIpv4, isReservedInCidr, parseCidr, parseIpv4, type Cidr } from './ipv4.ts';
import { engineFlagProblem } from './engine-flags.ts';
import type { RawLab } from './raw-lab.ts';
import { didYouMean, quote, type LabSource, type Path } from './source.ts';
import { kvPorts } from './kv-stores.ts';
import {
  aliasProblem,
  boxProblem,
  commandWordProblem,
  hostAddressProblem,
  imageProblem,
  keyPathProblem,
  parsePairs,
  privateRangeProblem,
  sshUserProblem,
  textProblem,
  usableAddresses,
} from './grammar.ts';
import { DEFAULT_IMAGE, DEFAULT_SERVICE_PORT, type LabService, type FactVerb, type KvType, type Lab, type LabContainer, type LabFact, type LabHost, type LabNetwork, type PairsPolicy } from './types.ts';
import { count } from '../plural.ts';

export const DEFAULT_SUBNET = '172.28.128.0/24';
export const DEFAULT_BOX = 'ubuntu/focal64';
export const FIRST_HOST_OFFSET = 5;
export const KV_PORTS: Record<KvType, number> = { consul: 8500, etcd: 2379, zookeeper: 2181 };
/** Idles, and exits at once on SIGTERM so engines stop fast. */
export const IDLE_COMMAND = ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"];

/** The Docker release that removed --cluster-store and --cluster-advertise. */
export const KV_MODE_REMOVED_IN = { major: 23, minor: 0 };
/** Multi-host overlay networking with a KV store came in Docker 1.9. */
export const KV_MODE_SINCE = { major: 1, minor: 9 };
/** Attachable overlays, which standalone containers need in swarm mode, came in Docker 1.13. */
export const SWARM_MODE_SINCE = { major: 1, minor: 13 };
/** Names of the networks every engine already has (and the swarm's ingress network). */
export const RESERVED_NETWORK_NAMES = ['bridge', 'host', 'none', 'ingress', 'docker_gwbridge'];
/** The subnet `docker swarm init` gives the ingress network; an overlay on it cannot be created. */
export const SWARM_INGRESS_SUBNET = '10.0.0.0/24';
/** Ports the lab uses on its hosts besides the ones a lab file sets. */
export const SSHD_PORT = 22;
export const DEFAULT_ADVERTISE_PORT = 2376;
export const SWARM_PORT = 2377;
export const GOSSIP_PORT = 7946;
export const VXLAN_PORT = 4789;
export const MAX_PORT = 65535;
/** A /30 holds the gateway and one container; anything smaller holds no container. */
export const MAX_OVERLAY_PREFIX = 30;

type Version = { major: number; minor: number };
const older = (v: Version, than: Version) => v.major < than.major || (v.major === than.major && v.minor < than.minor);

export function parseEngineVersion(v: string): { major: number; minor: number; patch?: number } | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), ...(m[3] === undefined ? {} : { patch: Number(m[3]) }) };
}

export function buildLab(src: LabSource, raw: RawLab): { lab: Lab; problems: LabProblem[] } {
  const problems: LabProblem[] = [];
  const at = (path: Path, message: string) => problems.push(src.problem(path, message));

  // -- private network
  const subnetText = raw.network?.subnet ?? DEFAULT_SUBNET;
  const parsedSubnet = parseCidr(subnetText);
  let subnet: Cidr | undefined;
  if (typeof parsedSubnet === 'string') at(['network', 'subnet'], `network.subnet: ${parsedSubnet}`);
  else {
    const notPrivate = privateRangeProblem(parsedSubnet);
    if (notPrivate) at(['network', 'subnet'], `network.subnet ${notPrivate}`);
    else subnet = parsedSubnet;
  }

  // -- free strings: each has a grammar, so no value is read as an option, a command or a line
  const grammar = (path: Path, what: string, value: string | undefined, check: (v: string) => string | undefined) => {
    if (value === undefined) return;
    const problem = check(value);
    if (problem) at(path, `${what} ${quote(value)} ${problem}`);
  };
  grammar(['description'], 'description', raw.description, textProblem);
  grammar(['box'], 'box', raw.box, boxProblem);
  raw.hosts.forEach((h, i) => {
    grammar(['hosts', i, 'box'], `hosts[${i}].box`, h.box, boxProblem);
    grammar(['hosts', i, 'ssh', 'user'], `hosts[${i}].ssh.user`, h.ssh?.user, sshUserProblem);
    grammar(['hosts', i, 'ssh', 'address'], `hosts[${i}].ssh.address`, h.ssh?.address, hostAddressProblem);
    grammar(['hosts', i, 'ssh', 'key'], `hosts[${i}].ssh.key`, h.ssh?.key, keyPathProblem);
  });
  (raw.containers ?? []).forEach((c, i) => {
    grammar(['containers', i, 'image'], `containers[${i}].image`, c.image, imageProblem);
    (c.aliases ?? []).forEach((a, k) => grammar(['containers', i, 'aliases', k], `containers[${i}].aliases[${k}]`, a, aliasProblem));
    c.networks.forEach((e, j) => {
      if (typeof e === 'string') return;
      (e.aliases ?? []).forEach((a, k) => grammar(['containers', i, 'networks', j, 'aliases', k], `containers[${i}].networks[${j}].aliases[${k}]`, a, aliasProblem));
    });
    if (typeof c.command === 'string') grammar(['containers', i, 'command'], `containers[${i}].command`, c.command, commandWordProblem);
    else (c.command ?? []).forEach((w, k) => grammar(['containers', i, 'command', k], `containers[${i}].command[${k}]`, w, commandWordProblem));
  });
  const pairsText = raw.specs?.pairs ?? 'all';
  const pairs: PairsPolicy = parsePairs(pairsText) ?? { kind: 'all' };
  if (!parsePairs(pairsText)) at(['specs', 'pairs'], `specs.pairs ${quote(pairsText)} is not a pairs policy: write all, cross-host or "sample N" (N from 1 to 1000000)`);

  // -- hosts
  const hosts: LabHost[] = [];
  const hostNames = new Map<string, number>();
  const usedAddresses = new Map<number, string>();
  raw.hosts.forEach((h, i) => {
    if (hostNames.has(h.name)) at(['hosts', i, 'name'], `duplicate host name ${quote(h.name)} (first at hosts[${hostNames.get(h.name)}])`);
    else hostNames.set(h.name, i);
    if (h.address === undefined) {
      if (raw.provider === 'ssh') {
        at(['hosts', i], `host ${quote(h.name)}: provider ssh uses machines that exist; give the address of its private network interface`);
      }
      return;
    }
    const addr = parseIpv4(h.address);
    if (addr === undefined) return void at(['hosts', i, 'address'], `host ${quote(h.name)}: ${quote(h.address)} is not an IPv4 address`);
    if (subnet && !cidrContains(subnet, addr)) {
      at(['hosts', i, 'address'], `host ${quote(h.name)}: address ${h.address} is outside the private subnet ${formatCidr(subnet)}`);
    } else if (subnet && isReservedInCidr(subnet, addr)) {
      at(['hosts', i, 'address'], `host ${quote(h.name)}: address ${h.address} is the network or broadcast address of ${formatCidr(subnet)}`);
    }
    const other = usedAddresses.get(addr);
    if (other !== undefined) at(['hosts', i, 'address'], `host ${quote(h.name)}: address ${h.address} is already used by host ${quote(other)}`);
    else usedAddresses.set(addr, h.name);
  });
  let next = subnet ? subnet.base + FIRST_HOST_OFFSET : 0;
  raw.hosts.forEach((h, i) => {
    let address = h.address ?? '';
    if (h.address === undefined && subnet) {
      while (usedAddresses.has(next) || isReservedInCidr(subnet, next)) next++;
      if (!cidrContains(subnet, next)) at(['hosts', i], `host ${quote(h.name)}: no free address left in ${formatCidr(subnet)}`);
      usedAddresses.set(next, h.name);
      address = formatIpv4(next);
    }
    hosts.push({
      name: h.name,
      address,
      role: h.role ?? 'docker',
      box: h.box ?? raw.box ?? DEFAULT_BOX,
      cpus: h.cpus ?? 1,
      memory: h.memory ?? 1024,
      ssh: { address: h.ssh?.address ?? address, user: h.ssh?.user ?? 'root', port: h.ssh?.port ?? 22, ...(h.ssh?.key ? { key: h.ssh.key } : {}), ...(h.ssh?.hostKey ? { hostKey: h.ssh.hostKey } : {}) },
    });
  });
  if (subnet && usableAddresses(subnet) < hosts.length + 1) {
    at(
      ['network', 'subnet'],
      `network.subnet ${formatCidr(subnet)} is too small: it needs room for ${count(hosts.length, 'host')} and the switch ` +
        `(${hosts.length + 1} usable addresses; it has ${usableAddresses(subnet)})`,
    );
  }
  const hostByName = new Map(hosts.map((h) => [h.name, h]));
  const dockerHostNames = hosts.filter((h) => h.role === 'docker').map((h) => h.name);
  if (dockerHostNames.length === 0) at(['hosts'], 'the lab has no host with role docker');

  // -- engine
  const mode = raw.engine?.mode ?? 'kv';
  const version = raw.engine?.version ?? '20.10';
  const source = raw.engine?.source ?? 'system';
  // A package archive may be asked for a package version (28.5.2+dfsg4-5): its release is 28.5.2.
  const archive = source === 'debian' || source === 'ubuntu';
  const parsedVersion = parseEngineVersion(archive ? version.replace(/^(\d+\.\d+\.\d+)[+~-].*$/, '$1') : version);
  if (!parsedVersion && version !== 'distro' && version !== 'latest') {
    at(['engine', 'version'], `engine.version ${quote(version)} is not a version: write e.g. "20.10", "20.10.24", "distro" or "latest"`);
  }
  if (mode === 'kv') {
    const tooNew = version === 'latest' || (parsedVersion !== undefined && !older(parsedVersion, KV_MODE_REMOVED_IN));
    if (parsedVersion && older(parsedVersion, KV_MODE_SINCE)) {
      at(['engine', 'version'], `engine.version ${version} has no overlay networks: multi-host networking came in Docker 1.9; use engine.version "20.10"`);
    }
    if (tooNew) {
      at(
        ['engine', 'version'],
        `engine.version ${version} cannot run mode kv: --cluster-store and --cluster-advertise were deprecated in Docker 20.10 ` +
          `and removed in 23.0; use engine.version "20.10" (or older), or engine.mode "swarm"`,
      );
    }
  }

  // Engines alone: a room's students make the cluster themselves (docker swarm init, join,
  // network create), so the lab has no KV store and nothing that needs a cluster.
  if (mode === 'alone') {
    if (raw.kv !== undefined) at(['kv'], 'engine.mode alone runs no KV store: leave kv out (or use engine.mode kv)');
    for (const [i, h] of hosts.entries()) {
      if (h.role === 'kv') at(['hosts', i, 'role'], `host ${quote(h.name)} has role kv, but engine.mode alone runs no KV store: give it role docker, or remove it`);
    }
    const byHand = 'the engines run alone, and the overlays and their containers are what the students make (docker swarm init, join, network create)';
    if (raw.networks?.length) at(['networks'], `engine.mode alone has no networks: ${byHand}; leave networks out, or use engine.mode swarm`);
    if (raw.containers?.length) at(['containers'], `engine.mode alone has no containers: ${byHand}; leave containers out, or use engine.mode swarm`);
  }

  if (mode === 'swarm' && parsedVersion && older(parsedVersion, SWARM_MODE_SINCE)) {
    at(
      ['engine', 'version'],
      `engine.version ${version} cannot run mode swarm: standalone containers need attachable overlays, which came in Docker 1.13; use engine.version "20.10" or newer`,
    );
  }

  // A static archive is one exact release (docker-X.Y.Z.tgz): a series or a moving name names no file.
  if (source === 'static' && !/^\d+\.\d+\.\d+$/.test(version)) {
    at(['engine', 'version'], `engine.source static needs an exact engine.version X.Y.Z (the archive docker-X.Y.Z.tgz); got ${quote(version)}`);
  }
  // An archive names packages by their exact version: 28.5.2 (the release) or 28.5.2+dfsg4-5 (the package).
  if ((archive || source === 'auto') && !/^\d+\.\d+\.\d+(?:[+~][A-Za-z0-9.+~-]*|-[A-Za-z0-9.+~]+)?$/.test(version)) {
    at(['engine', 'version'], `engine.source ${source} needs an exact engine.version: a release X.Y.Z (or a package version such as 28.5.2+dfsg4-5); got ${quote(version)}`);
  }
  if (source === 'auto' && !/^\d+\.\d+\.\d+$/.test(version)) {
    at(['engine', 'version'], `engine.source auto finds a release X.Y.Z (a package version names one archive: use engine.source debian or ubuntu); got ${quote(version)}`);
  }
  if (raw.engine?.suite !== undefined && !archive) {
    at(['engine', 'suite'], `engine.suite names a suite of a package archive: it needs engine.source debian or ubuntu (not ${source})`);
  }
  if (source !== 'static' && raw.engine?.sha256 !== undefined) at(['engine', 'sha256'], 'engine.sha256 checks a static archive: it needs engine.source static');
  // Extra dockerd flags go last on the command line of an engine root runs: an allowlist.
  (raw.engine?.flags ?? []).forEach((f, i) => grammar(['engine', 'flags', i], `engine.flags[${i}]`, f, engineFlagProblem));

  // -- kv store
  const kvType = raw.kv?.type ?? 'consul';
  const kvHosts = hosts.filter((h) => h.role === 'kv');
  let kvHost = raw.kv?.host;
  if (kvHost !== undefined) {
    const h = hostByName.get(kvHost);
    if (!h) at(['kv', 'host'], `kv.host ${quote(kvHost)} is not a host of this lab${didYouMean(kvHost, [...hostByName.keys()])}`);
    else if (h.role !== 'kv') at(['kv', 'host'], `kv.host ${quote(kvHost)} has role ${h.role}; give it role: kv`);
  } else if (mode === 'kv') {
    if (kvHosts.length === 0) {
      const which = raw.engine?.mode === undefined ? 'engine.mode kv (the default)' : 'engine.mode kv';
      at(
        raw.engine?.mode === undefined ? ['hosts'] : ['engine', 'mode'],
        `${which} needs a host with role: kv to run the KV store; add one, or set engine.mode: swarm`,
      );
    } else if (kvHosts.length > 1) {
      at(['hosts'], `${kvHosts.length} hosts have role kv (${kvHosts.map((h) => h.name).join(', ')}): name the one to use in kv.host`);
    } else kvHost = kvHosts[0]!.name;
  } else if (kvHosts.length === 1) kvHost = kvHosts[0]!.name;
  if (raw.kv?.fallback !== undefined && raw.kv.fallback === kvType) {
    at(['kv', 'fallback'], `kv.fallback is the same store as kv.type (${kvType}); name another store or remove it`);
  }

  // -- ports: each one the lab listens on or connects to is used once per host. The preferred
  // store and its fallback are alternatives (one of them runs), so they may share ports.
  type PortUse = { port: number; use: string; path?: Path; setting?: string; store?: string };
  const portUses = new Map<string, PortUse[]>();
  const usePort = (host: string, entry: PortUse) => {
    const earlier = portUses.get(host) ?? [];
    const clash = earlier.find((e) => e.port === entry.port && !(e.store && entry.store && e.store !== entry.store));
    if (clash) {
      const [later, first] = entry.path ? [entry, clash] : [clash, entry];
      if (later.path) at(later.path, `${later.setting} clashes with ${first.setting ?? `${first.use} (port ${first.port})`} on host ${quote(host)}; pick another port`);
    }
    portUses.set(host, [...earlier, entry]);
  };
  const docker = hosts.filter((h) => h.role === 'docker');
  for (const h of docker) {
    // In mode alone the students' swarm will take it.
    if (mode !== 'kv') usePort(h.name, { port: SWARM_PORT, use: 'swarm management' });
    usePort(h.name, { port: GOSSIP_PORT, use: 'overlay gossip' });
    usePort(h.name, { port: VXLAN_PORT, use: 'VXLAN' });
  }
  if (mode === 'kv' && kvHost !== undefined && hostByName.get(kvHost)?.role === 'kv') {
    const stores = [kvType, ...(raw.kv?.fallback !== undefined && raw.kv.fallback !== kvType ? [raw.kv.fallback] : [])];
    const explicit = raw.kv?.port;
    stores.forEach((type, s) => {
      for (const p of kvPorts(type, s === 0 ? (explicit ?? KV_PORTS[type]) : KV_PORTS[type])) {
        const fromSetting = s === 0 && explicit !== undefined && p.offset !== undefined;
        const setting = p.offset ? `kv.port ${explicit ?? KV_PORTS[type]}: the ${p.use} port ${p.port} (kv.port + ${p.offset})` : `kv.port ${p.port}`;
        if (p.port > MAX_PORT) {
          at(['kv', 'port'], `${setting} is past ${MAX_PORT}; use kv.port ${MAX_PORT - p.offset!} or lower`);
          continue;
        }
        usePort(kvHost, { port: p.port, use: p.use, store: type, ...(fromSetting ? { path: ['kv', 'port'], setting } : {}) });
      }
    });
  }
  raw.hosts.forEach((h, i) => {
    const port = h.ssh?.port;
    usePort(h.name, { port: port ?? SSHD_PORT, use: 'sshd', ...(port === undefined ? {} : { path: ['hosts', i, 'ssh', 'port'], setting: `hosts[${i}].ssh.port ${port}` }) });
  });
  if (mode === 'kv') {
    const port = raw.engine?.advertisePort;
    for (const h of docker) {
      usePort(h.name, { port: port ?? DEFAULT_ADVERTISE_PORT, use: 'the engine (engine.advertisePort)', ...(port === undefined ? {} : { path: ['engine', 'advertisePort'], setting: `engine.advertisePort ${port}` }) });
    }
  }

  // -- overlay networks
  const networks: LabNetwork[] = [];
  const netIndex = new Map<string, number>();
  const netCidrs: { name: string; cidr: Cidr; i: number }[] = [];
  const ingress = parseCidr(SWARM_INGRESS_SUBNET) as Cidr;
  (raw.networks ?? []).forEach((n, i) => {
    if (netIndex.has(n.name)) at(['networks', i, 'name'], `duplicate network name ${quote(n.name)} (first at networks[${netIndex.get(n.name)}])`);
    else netIndex.set(n.name, i);
    if (RESERVED_NETWORK_NAMES.includes(n.name)) {
      at(['networks', i, 'name'], `network ${quote(n.name)}: every Docker engine already has a network of that name; choose another name`);
    }
    const cidr = parseCidr(n.subnet);
    let gateway = n.gateway ?? '';
    if (typeof cidr === 'string') at(['networks', i, 'subnet'], `network ${quote(n.name)}: ${cidr}`);
    else if (privateRangeProblem(cidr)) at(['networks', i, 'subnet'], `network ${quote(n.name)}: subnet ${privateRangeProblem(cidr)}`);
    else if (cidr.prefix > MAX_OVERLAY_PREFIX) {
      at(['networks', i, 'subnet'], `network ${quote(n.name)}: subnet ${n.subnet} is too small for a gateway and a container; use /${MAX_OVERLAY_PREFIX} or shorter (e.g. /24)`);
    } else {
      if (mode === 'swarm' && cidrsOverlap(cidr, ingress)) {
        at(['networks', i, 'subnet'], `network ${quote(n.name)}: subnet ${n.subnet} overlaps the swarm's ingress network ${SWARM_INGRESS_SUBNET}; pick another, e.g. 10.0.4.0/24`);
      }
      if (subnet && cidrsOverlap(cidr, subnet)) {
        at(['networks', i, 'subnet'], `network ${quote(n.name)}: subnet ${n.subnet} overlaps the private subnet ${formatCidr(subnet)}`);
      }
      for (const o of netCidrs) {
        if (cidrsOverlap(o.cidr, cidr)) at(['networks', i, 'subnet'], `network ${quote(n.name)}: subnet ${n.subnet} overlaps network ${quote(o.name)} (${formatCidr(o.cidr)})`);
      }
      netCidrs.push({ name: n.name, cidr, i });
      if (n.gateway === undefined) gateway = formatIpv4(cidr.base + 1);
      else {
        const g = parseIpv4(n.gateway);
        if (g === undefined) at(['networks', i, 'gateway'], `network ${quote(n.name)}: gateway ${quote(n.gateway)} is not an IPv4 address`);
        else if (!cidrContains(cidr, g) || isReservedInCidr(cidr, g)) {
          at(['networks', i, 'gateway'], `network ${quote(n.name)}: gateway ${n.gateway} is not a usable address of ${n.subnet}`);
        }
      }
    }
    const encrypted = n.encrypted ?? false;
    if (encrypted && mode === 'kv') {
      at(['networks', i, 'encrypted'], `network ${quote(n.name)}: encrypted overlays need engine.mode swarm (the swarm distributes the IPsec keys)`);
    }
    const attachable = n.attachable ?? true;
    networks.push({ name: n.name, subnet: n.subnet, gateway, internal: n.internal ?? false, encrypted, attachable });
  });
  const networkNames = networks.map((n) => n.name);
  const cidrOf = new Map(netCidrs.map((c) => [c.name, c.cidr]));

  // -- containers
  const containers: LabContainer[] = [];
  const containerIndex = new Map<string, number>();
  const staticAddresses = new Map<string, string>();
  (raw.containers ?? []).forEach((c, i) => {
    if (containerIndex.has(c.name)) at(['containers', i, 'name'], `duplicate container name ${quote(c.name)} (first at containers[${containerIndex.get(c.name)}])`);
    else containerIndex.set(c.name, i);
    const host = hostByName.get(c.host);
    if (!host) at(['containers', i, 'host'], `container ${quote(c.name)}: host ${quote(c.host)} is not a host of this lab${didYouMean(c.host, [...hostByName.keys()])}`);
    else if (host.role !== 'docker') {
      at(['containers', i, 'host'], `container ${quote(c.name)}: host ${quote(c.host)} has role ${host.role} and runs no engine; pick a docker host (${dockerHostNames.join(', ')})`);
    }
    const attachments = c.networks.map((entry, j) => {
      const spec = typeof entry === 'string' ? { name: entry } : entry;
      const path: Path = typeof entry === 'string' ? ['containers', i, 'networks', j] : ['containers', i, 'networks', j, 'name'];
      if (!netIndex.has(spec.name)) {
        at(path, `container ${quote(c.name)}: network ${quote(spec.name)} is not a network of this lab${didYouMean(spec.name, networkNames)}`);
      } else {
        const net = networks[netIndex.get(spec.name)!]!;
        if (mode === 'swarm' && !net.attachable) {
          at(path, `container ${quote(c.name)}: network ${quote(spec.name)} is not attachable; in swarm mode standalone containers can only join attachable overlays`);
        }
      }
      if (c.networks.slice(0, j).some((e) => (typeof e === 'string' ? e : e.name) === spec.name)) {
        at(path, `container ${quote(c.name)} lists network ${quote(spec.name)} twice`);
      }
      const attachment = { network: spec.name, aliases: [...(c.aliases ?? []), ...(('aliases' in spec && spec.aliases) || [])] };
      if ('address' in spec && spec.address !== undefined) {
        const a = parseIpv4(spec.address);
        const cidr = cidrOf.get(spec.name);
        const apath: Path = ['containers', i, 'networks', j, 'address'];
        if (a === undefined) at(apath, `container ${quote(c.name)}: ${quote(spec.address)} is not an IPv4 address`);
        else if (cidr && (!cidrContains(cidr, a) || isReservedInCidr(cidr, a))) {
          at(apath, `container ${quote(c.name)}: address ${spec.address} is not a usable address of network ${quote(spec.name)} (${formatCidr(cidr)})`);
        } else {
          const key = `${spec.name}/${a}`;
          const other = staticAddresses.get(key);
          const gw = networks[netIndex.get(spec.name) ?? -1]?.gateway;
          if (other) at(apath, `container ${quote(c.name)}: address ${spec.address} on ${quote(spec.name)} is already given to ${quote(other)}`);
          else if (gw !== undefined && parseIpv4(gw) === a) at(apath, `container ${quote(c.name)}: address ${spec.address} is the gateway of ${quote(spec.name)}`);
          else staticAddresses.set(key, c.name);
        }
        return { ...attachment, address: spec.address };
      }
      return attachment;
    });
    const command = c.command === undefined ? IDLE_COMMAND : typeof c.command === 'string' ? ['sh', '-c', c.command] : c.command;
    containers.push({ name: c.name, host: c.host, image: c.image ?? DEFAULT_IMAGE, networks: attachments, command });
  });
  netCidrs.forEach(({ name, cidr, i }) => {
    const members = containers.filter((c) => c.networks.some((a) => a.network === name)).length;
    if (usableAddresses(cidr) - 1 < members) {
      at(
        ['networks', i, 'subnet'],
        `network ${quote(name)}: subnet ${formatCidr(cidr)} is too small: it needs room for ${members} containers and the gateway ` +
          `(${members + 1} usable addresses; it has ${usableAddresses(cidr)})`,
      );
    }
  });
  containers.forEach((c, i) => {
    if (hostByName.has(c.name)) at(['containers', i, 'name'], `container ${quote(c.name)} has the name of a host; container and host names must differ`);
  });

  // -- aliases: the embedded DNS must give every name one answer, or resolve facts cannot hold
  const aliasOwner = new Map<string, string>(); // "network/alias" -> container
  (raw.containers ?? []).forEach((c, i) => {
    const declared: { alias: string; path: Path; networks: string[] }[] = [
      ...(c.aliases ?? []).map((alias, k) => ({
        alias,
        path: ['containers', i, 'aliases', k] as Path,
        networks: c.networks.map((e) => (typeof e === 'string' ? e : e.name)),
      })),
      ...c.networks.flatMap((e, j) =>
        typeof e === 'string'
          ? []
          : (e.aliases ?? []).map((alias, k) => ({ alias, path: ['containers', i, 'networks', j, 'aliases', k] as Path, networks: [e.name] })),
      ),
    ];
    for (const { alias, path, networks: on } of declared) {
      if (alias !== c.name && containerIndex.has(alias)) {
        at(path, `container ${quote(c.name)}: alias ${quote(alias)} is the name of another container; DNS would answer ${quote(alias)} with either`);
        continue;
      }
      for (const n of new Set(on)) {
        const owner = aliasOwner.get(`${n}/${alias}`);
        if (owner !== undefined && owner !== c.name) {
          at(path, `container ${quote(c.name)}: alias ${quote(alias)} on network ${quote(n)} is already an alias of ${quote(owner)}; DNS would answer it with either`);
        } else aliasOwner.set(`${n}/${alias}`, c.name);
      }
    }
  });

  // -- services: swarm mode only; their names share the DNS with containers; a published port
  // is taken on every node (ingress: the routing mesh listens everywhere) or on the nodes that
  // may run a task (host mode), so it must not clash with the lab's own ports there.
  const services: LabService[] = [];
  const serviceIndex = new Map<string, number>();
  (raw.services ?? []).forEach((v, i) => {
    if (mode !== 'swarm') return void at(['services', i], `service ${quote(v.name)}: services need engine.mode swarm (the swarm schedules their tasks)`);
    grammar(['services', i, 'image'], `services[${i}].image`, v.image, imageProblem);
    if (serviceIndex.has(v.name)) at(['services', i, 'name'], `duplicate service name ${quote(v.name)} (first at services[${serviceIndex.get(v.name)}])`);
    else serviceIndex.set(v.name, i);
    if (containerIndex.has(v.name) || hostByName.has(v.name)) {
      at(['services', i, 'name'], `service ${quote(v.name)} has the name of a ${containerIndex.has(v.name) ? 'container' : 'host'}; DNS would answer ${quote(v.name)} with either`);
    }
    v.networks.forEach((n, j) => {
      if (!netIndex.has(n)) at(['services', i, 'networks', j], `service ${quote(v.name)}: network ${quote(n)} is not a network of this lab${didYouMean(n, networkNames)}`);
      else if (v.networks.indexOf(n) !== j) at(['services', i, 'networks', j], `service ${quote(v.name)} lists network ${quote(n)} twice`);
    });
    const placement = v.placement ?? [];
    placement.forEach((h, j) => {
      const host = hostByName.get(h);
      if (!host) at(['services', i, 'placement', j], `service ${quote(v.name)}: host ${quote(h)} is not a host of this lab${didYouMean(h, [...hostByName.keys()])}`);
      else if (host.role !== 'docker') at(['services', i, 'placement', j], `service ${quote(v.name)}: host ${quote(h)} has role ${host.role} and runs no engine`);
    });
    const publish = (v.publish ?? []).map((p) => ({ published: p.published, mode: p.mode ?? 'ingress' }));
    publish.forEach((p, j) => {
      if (p.mode === 'ingress' && (v.endpointMode ?? 'vip') === 'dnsrr') {
        at(['services', i, 'publish', j], `service ${quote(v.name)}: the routing mesh (ingress) needs a VIP; with endpointMode dnsrr publish in mode host`);
      }
      const on = p.mode === 'ingress' || placement.length === 0 ? docker.map((h) => h.name) : placement.filter((h) => hostByName.get(h)?.role === 'docker');
      for (const h of on) {
        usePort(h, { port: p.published, use: `service ${v.name}`, path: ['services', i, 'publish', j, 'published'], setting: `services[${i}].publish[${j}].published ${p.published} (${p.mode})` });
      }
    });
    services.push({
      name: v.name,
      image: v.image ?? DEFAULT_IMAGE,
      replicas: v.replicas ?? 1,
      networks: v.networks,
      endpointMode: v.endpointMode ?? 'vip',
      port: v.port ?? DEFAULT_SERVICE_PORT,
      publish,
      placement,
    });
  });

  // -- stated facts
  const expect: LabFact[] = [];
  const namesOnAnyNetwork = new Set(containers.flatMap((c) => [c.name, ...c.networks.flatMap((a) => a.aliases)]));
  (raw.expect ?? []).forEach((text, i) => {
    const m = /^\s*(\S+)\s+(can reach|cannot reach|resolves|cannot resolve)\s+(\S+)\s*$/.exec(text)!;
    const [from, verb, to] = [m[1]!, m[2] as FactVerb, m[3]!];
    const path: Path = ['expect', i];
    const containerNames = [...containerIndex.keys()];
    if (!containerIndex.has(from)) at(path, `expect ${quote(text)}: ${quote(from)} is not a container of this lab${didYouMean(from, containerNames)}`);
    const isName = verb === 'resolves' || verb === 'cannot resolve';
    if (!containerIndex.has(to) && !(isName && namesOnAnyNetwork.has(to)) && verb !== 'cannot resolve') {
      at(path, `expect ${quote(text)}: ${quote(to)} is not a container${isName ? ' or alias' : ''} of this lab${didYouMean(to, containerNames)}`);
    }
    expect.push({ from, verb, to, text: text.trim(), pos: src.pos(path) });
  });

  const lab: Lab = {
    file: src.file,
    name: raw.name,
    description: raw.description ?? '',
    provider: raw.provider ?? 'auto',
    box: raw.box ?? DEFAULT_BOX,
    subnet: subnetText,
    hosts,
    kv: { type: kvType, fallback: raw.kv?.fallback, host: kvHost, port: raw.kv?.port },
    engine: {
      version,
      mode,
      install: raw.engine?.install ?? 'apt',
      advertisePort: raw.engine?.advertisePort ?? DEFAULT_ADVERTISE_PORT,
      source,
      suite: raw.engine?.suite,
      sha256: raw.engine?.sha256,
      flags: raw.engine?.flags ?? [],
    },
    networks,
    containers,
    services,
    specs: { pairs },
    ...(raw.matrix ? { matrix: raw.matrix } : {}),
    expect,
  };
  return { lab, problems };
}
