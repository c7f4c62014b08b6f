// VirtualBox's host-only address rule (6.1.28+ on Linux and macOS): which plan addresses it refuses.
import { cidrContains, formatCidr, parseIpv4, type Cidr } from '../lab/ipv4.ts';
import type { Plan } from '../lab/types.ts';

export const VBOX_NETWORKS_CONF = '/etc/vbox/networks.conf';
/** Allowed when networks.conf does not exist; once it exists only its ranges count (Vagrant's load_net_conf). */
export const VBOX_DEFAULT_RANGE: Cidr = { base: parseIpv4('192.168.56.0')!, prefix: 21 };

/**
 * One warning per host address VirtualBox would refuse for a host-only adapter.
 * `networksConf` is the text of /etc/vbox/networks.conf, or undefined when the file is absent.
 */
export function virtualboxRangeWarnings(plan: Plan, networksConf: string | undefined): string[] {
  const ranges = networksConf === undefined ? [VBOX_DEFAULT_RANGE] : allowedRanges(networksConf);
  return plan.hosts
    .filter((h) => {
      const addr = parseIpv4(h.address);
      return addr === undefined || !ranges.some((r) => cidrContains(r, addr));
    })
    .map(
      (h) =>
        `host "${h.name}": address ${h.address} is outside VirtualBox's allowed host-only ranges ` +
        `(${ranges.map(formatCidr).join(', ') || 'none'}); add this line to ${VBOX_NETWORKS_CONF}: * ${plan.subnet}`,
    );
}

/** The IPv4 ranges of networks.conf lines `* CIDR ...`; other lines, IPv6 ranges and `#` comments are ignored. */
export function allowedRanges(networksConf: string): Cidr[] {
  return networksConf.split('\n').flatMap((raw) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line.startsWith('*')) return [];
    return line.slice(1).trim().split(/\s+/).flatMap((entry) => {
      const cidr = lenientCidr(entry);
      return cidr ? [cidr] : [];
    });
  });
}

/** "a.b.c.d/n" with host bits allowed (as Ruby's IPAddr masks them); a bare address is a /32. */
function lenientCidr(entry: string): Cidr | undefined {
  const [addrText = '', prefixText = '32'] = entry.split('/');
  const addr = parseIpv4(addrText);
  const prefix = /^\d{1,2}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (addr === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}
