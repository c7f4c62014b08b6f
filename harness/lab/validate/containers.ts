// containers: unique names that are not host names, on a docker host, attached to networks of
// the lab (attachable ones in swarm mode), each at most once, at static addresses that are
// usable, not the gateway and not given twice; and every network with room for its members.
import { cidrContains, formatCidr, isReservedInCidr, parseIpv4, type Cidr } from '../ipv4.ts';
import { usableAddresses } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import { type Path } from '../source.ts';
import { didYouMean, quote } from '../text.ts';
import { DEFAULT_IMAGE, type Lab, type LabContainer, type LabHost } from '../types.ts';
import { IDLE_COMMAND } from './defaults.ts';
import { hostsByName } from './hosts.ts';
import type { Networks } from './networks.ts';
import type { At } from './problems.ts';

type RawContainer = NonNullable<RawLab['containers']>[number];
type Attachment = LabContainer['networks'][number];
type AttachContext = {
  mode: Lab['engine']['mode'];
  nets: Networks;
  cidrOf: Map<string, Cidr>;
  /** "network/address" -> the container it is given to. */
  staticAddresses: Map<string, string>;
  at: At;
};

export function buildContainers(
  raw: RawLab,
  hosts: readonly LabHost[],
  mode: Lab['engine']['mode'],
  nets: Networks,
  at: At,
): { containers: LabContainer[]; index: Map<string, number> } {
  const hostByName = hostsByName(hosts);
  const dockerHostNames = hosts.filter((h) => h.role === 'docker').map((h) => h.name);
  const containers: LabContainer[] = [];
  const index = new Map<string, number>();
  // A network name given twice (already reported) maps to its later subnet.
  const ctx: AttachContext = { mode, nets, cidrOf: new Map(nets.cidrs.map((c) => [c.name, c.cidr])), staticAddresses: new Map(), at };
  (raw.containers ?? []).forEach((c, i) => {
    if (index.has(c.name)) at(['containers', i, 'name'], `duplicate container name ${quote(c.name)} (first at containers[${index.get(c.name)}])`);
    else index.set(c.name, i);
    const host = hostByName.get(c.host);
    if (!host) at(['containers', i, 'host'], `container ${quote(c.name)}: host ${quote(c.host)} is not a host of this lab${didYouMean(c.host, [...hostByName.keys()])}`);
    else if (host.role !== 'docker') {
      at(['containers', i, 'host'], `container ${quote(c.name)}: host ${quote(c.host)} has role ${host.role} and runs no engine; pick a docker host (${dockerHostNames.join(', ')})`);
    }
    const attachments = c.networks.map((_, j) => attach(c, i, j, ctx));
    const command = c.command === undefined ? IDLE_COMMAND : typeof c.command === 'string' ? ['sh', '-c', c.command] : c.command;
    containers.push({ name: c.name, host: c.host, image: c.image ?? DEFAULT_IMAGE, networks: attachments, command });
  });
  nets.cidrs.forEach(({ name, cidr, i }) => {
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
  return { containers, index };
}

/** The j-th network entry of container c (index i), checked; its aliases are the container's then its own. */
function attach(c: RawContainer, i: number, j: number, { mode, nets, cidrOf, staticAddresses, at }: AttachContext): Attachment {
  const entry = c.networks[j]!;
  const spec = typeof entry === 'string' ? { name: entry } : entry;
  const path: Path = typeof entry === 'string' ? ['containers', i, 'networks', j] : ['containers', i, 'networks', j, 'name'];
  const netIndex = nets.index.get(spec.name);
  if (netIndex === undefined) {
    at(path, `container ${quote(c.name)}: network ${quote(spec.name)} is not a network of this lab${didYouMean(spec.name, nets.networks.map((n) => n.name))}`);
  } else if (mode === 'swarm' && !nets.networks[netIndex]!.attachable) {
    at(path, `container ${quote(c.name)}: network ${quote(spec.name)} is not attachable; in swarm mode standalone containers can only join attachable overlays`);
  }
  if (c.networks.slice(0, j).some((e) => (typeof e === 'string' ? e : e.name) === spec.name)) {
    at(path, `container ${quote(c.name)} lists network ${quote(spec.name)} twice`);
  }
  const attachment = { network: spec.name, aliases: [...(c.aliases ?? []), ...(('aliases' in spec && spec.aliases) || [])] };
  if (!('address' in spec) || spec.address === undefined) return attachment;
  const a = parseIpv4(spec.address);
  const cidr = cidrOf.get(spec.name);
  const apath: Path = ['containers', i, 'networks', j, 'address'];
  if (a === undefined) at(apath, `container ${quote(c.name)}: ${quote(spec.address)} is not an IPv4 address`);
  else if (cidr && (!cidrContains(cidr, a) || isReservedInCidr(cidr, a))) {
    at(apath, `container ${quote(c.name)}: address ${spec.address} is not a usable address of network ${quote(spec.name)} (${formatCidr(cidr)})`);
  } else {
    const key = `${spec.name}/${a}`;
    const other = staticAddresses.get(key);
    const gw = nets.networks[netIndex ?? -1]?.gateway;
    if (other) at(apath, `container ${quote(c.name)}: address ${spec.address} on ${quote(spec.name)} is already given to ${quote(other)}`);
    else if (gw !== undefined && parseIpv4(gw) === a) at(apath, `container ${quote(c.name)}: address ${spec.address} is the gateway of ${quote(spec.name)}`);
    else staticAddresses.set(key, c.name);
  }
  return { ...attachment, address: spec.address };
}
