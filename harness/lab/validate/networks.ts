// networks: the overlays. Unique names that no engine already has, private subnets big
// enough for a gateway and a container that overlap neither each other, the hosts' subnet nor
// (in swarm mode) the ingress network; a usable gateway (by default the first address).
import { cidrContains, cidrsOverlap, formatCidr, formatIpv4, isReservedInCidr, parseCidr, parseIpv4, type Cidr } from '../ipv4.ts';
import { privateRangeProblem } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import { quote } from '../text.ts';
import type { Lab, LabNetwork } from '../types.ts';
import { DEFAULTS, MAX_OVERLAY_PREFIX, RESERVED_NETWORK_NAMES, SWARM_INGRESS_SUBNET } from './defaults.ts';
import type { At } from './problems.ts';

/** A network whose subnet is good: its name, parsed subnet and index in the file. */
export type NetworkCidr = { name: string; cidr: Cidr; i: number };
export type Networks = {
  networks: LabNetwork[];
  /** Each name's first index in the file. */
  index: Map<string, number>;
  cidrs: NetworkCidr[];
};

export function buildNetworks(raw: RawLab, mode: Lab['engine']['mode'], subnet: Cidr | undefined, at: At): Networks {
  const networks: LabNetwork[] = [];
  const index = new Map<string, number>();
  const cidrs: NetworkCidr[] = [];
  const ingress = parseCidr(SWARM_INGRESS_SUBNET) as Cidr;
  const d = DEFAULTS.network;
  (raw.networks ?? []).forEach((n, i) => {
    if (index.has(n.name)) at(['networks', i, 'name'], `duplicate network name ${quote(n.name)} (first at networks[${index.get(n.name)}])`);
    else index.set(n.name, i);
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
      for (const o of cidrs) {
        if (cidrsOverlap(o.cidr, cidr)) at(['networks', i, 'subnet'], `network ${quote(n.name)}: subnet ${n.subnet} overlaps network ${quote(o.name)} (${formatCidr(o.cidr)})`);
      }
      cidrs.push({ name: n.name, cidr, i });
      if (n.gateway === undefined) gateway = formatIpv4(cidr.base + 1);
      else {
        const g = parseIpv4(n.gateway);
        if (g === undefined) at(['networks', i, 'gateway'], `network ${quote(n.name)}: gateway ${quote(n.gateway)} is not an IPv4 address`);
        else if (!cidrContains(cidr, g) || isReservedInCidr(cidr, g)) {
          at(['networks', i, 'gateway'], `network ${quote(n.name)}: gateway ${n.gateway} is not a usable address of ${n.subnet}`);
        }
      }
    }
    const encrypted = n.encrypted ?? d.encrypted;
    if (encrypted && mode === 'kv') {
      at(['networks', i, 'encrypted'], `network ${quote(n.name)}: encrypted overlays need engine.mode swarm (the swarm distributes the IPsec keys)`);
    }
    networks.push({ name: n.name, subnet: n.subnet, gateway, internal: n.internal ?? d.internal, encrypted, attachable: n.attachable ?? d.attachable });
  });
  return { networks, index, cidrs };
}
