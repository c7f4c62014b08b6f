// hosts: unique names, addresses on the private subnet (given, or the next free one from
// FIRST_HOST_OFFSET), room for every host and the switch, at least one docker host.
import { cidrContains, formatCidr, formatIpv4, isReservedInCidr, parseIpv4, type Cidr } from '../ipv4.ts';
import { usableAddresses } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import { quote } from '../text.ts';
import type { LabHost } from '../types.ts';
import { count } from '../../plural.ts';
import { DEFAULT_BOX, DEFAULTS, FIRST_HOST_OFFSET } from './defaults.ts';
import type { At } from './problems.ts';

export function buildHosts(raw: RawLab, subnet: Cidr | undefined, at: At): LabHost[] {
  const usedAddresses = checkGivenAddresses(raw, subnet, at);
  const hosts: LabHost[] = [];
  let next = subnet ? subnet.base + FIRST_HOST_OFFSET : 0;
  raw.hosts.forEach((h, i) => {
    let address = h.address ?? '';
    if (h.address === undefined && subnet) {
      while (usedAddresses.has(next) || isReservedInCidr(subnet, next)) next++;
      if (!cidrContains(subnet, next)) at(['hosts', i], `host ${quote(h.name)}: no free address left in ${formatCidr(subnet)}`);
      usedAddresses.set(next, h.name);
      address = formatIpv4(next);
    }
    hosts.push(withDefaults(raw, h, address));
  });
  if (subnet && usableAddresses(subnet) < hosts.length + 1) {
    at(
      ['network', 'subnet'],
      `network.subnet ${formatCidr(subnet)} is too small: it needs room for ${count(hosts.length, 'host')} and the switch ` +
        `(${hosts.length + 1} usable addresses; it has ${usableAddresses(subnet)})`,
    );
  }
  if (!hosts.some((h) => h.role === 'docker')) at(['hosts'], 'the lab has no host with role docker');
  return hosts;
}

/** Checks the names and the addresses the file gives; returns the addresses taken, by host. */
function checkGivenAddresses(raw: RawLab, subnet: Cidr | undefined, at: At): Map<number, string> {
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
  return usedAddresses;
}

function withDefaults(raw: RawLab, h: RawLab['hosts'][number], address: string): LabHost {
  const d = DEFAULTS.host;
  return {
    name: h.name,
    address,
    role: h.role ?? d.role,
    box: h.box ?? raw.box ?? DEFAULT_BOX,
    cpus: h.cpus ?? d.cpus,
    memory: h.memory ?? d.memory,
    ssh: {
      address: h.ssh?.address ?? address,
      user: h.ssh?.user ?? d.sshUser,
      port: h.ssh?.port ?? d.sshPort,
      ...(h.ssh?.key ? { key: h.ssh.key } : {}),
      ...(h.ssh?.hostKey ? { hostKey: h.ssh.hostKey } : {}),
    },
  };
}

/** Hosts by name (with a name given twice, the later host: the duplicate is already reported). */
export function hostsByName(hosts: readonly LabHost[]): Map<string, LabHost> {
  return new Map(hosts.map((h) => [h.name, h]));
}
