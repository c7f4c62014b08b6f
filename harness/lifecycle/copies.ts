// Copies of one lab for a room of students: their names (`<lab>-01` ... or one `--as NAME`),
// their plans (the lab under another name; on providers whose host networks are shared by the
// whole machine, each copy on a private subnet of its own), and whether the machine has the
// memory for them. Pure but for reading /proc/meminfo.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { cidrSize, cidrsOverlap, formatCidr, formatIpv4, parseCidr, parseIpv4, type Cidr } from '../lab/ipv4.ts';
import { planLab } from '../lab/plan.ts';
import type { Lab, Plan } from '../lab/types.ts';
import { count } from '../plural.ts';

/** A lab name's grammar and length, as lab files have it. */
const LAB_NAME = /^[a-z][a-z0-9-]*$/;
export const MAX_LAB_NAME = 24;
/** More copies than this are refused outright, whatever the memory (names stay two digits up to 99). */
export const MAX_COPIES = 99;

export function copyNames(base: string, count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_COPIES) throw new UsageError(`--copies must be a whole number from 1 to ${MAX_COPIES}; got ${count}`);
  const names = Array.from({ length: count }, (_, i) => `${base}-${String(i + 1).padStart(2, '0')}`);
  for (const n of names) checkCopyName(n);
  return names;
}

export function checkCopyName(name: string): string {
  if (!LAB_NAME.test(name)) throw new UsageError(`"${name}" is not a lab name: lower-case letters, digits and dashes, starting with a letter`);
  if (name.length > MAX_LAB_NAME) throw new UsageError(`lab name "${name}" is longer than ${MAX_LAB_NAME} characters`, { hint: 'Give the copies a shorter name with --as, or shorten the lab name.' });
  return name;
}

/**
 * The lab as copy `index` (0-based) named `name`. With `ownSubnet` (host networks shared by the
 * whole machine, as VirtualBox's and libvirt's are), copy i moves to the i-th next block of the
 * lab's subnet size, with every host address moved alike; netns copies keep the lab's
 * addresses, each in namespaces of its own.
 */
export function copyLab(lab: Lab, name: string, index: number, options: { ownSubnet: boolean }): Lab {
  const copy: Lab = { ...lab, name: checkCopyName(name) };
  if (!options.ownSubnet || index === 0) return copy;
  const subnet = parseCidr(lab.subnet) as Cidr;
  const offset = index * cidrSize(subnet);
  const moved: Cidr = { base: subnet.base + offset, prefix: subnet.prefix };
  if (!isPrivate(moved)) {
    throw new UsageError(`copy ${name} would need the private subnet ${formatCidr(moved)}, which is outside the private ranges`, {
      hint: 'Put the lab on a subnet with room after it (e.g. 172.28.128.0/24 leaves 127 copies in 172.16.0.0/12), or make fewer copies.',
    });
  }
  const clash = lab.networks.find((n) => cidrsOverlap(parseCidr(n.subnet) as Cidr, moved));
  if (clash) throw new UsageError(`copy ${name} would need the private subnet ${formatCidr(moved)}, which overlaps overlay ${clash.name} (${clash.subnet})`);
  return {
    ...copy,
    subnet: formatCidr(moved),
    hosts: lab.hosts.map((h) => ({ ...h, address: formatIpv4(parseIpv4(h.address)! + offset) })),
  };
}

const PRIVATE: Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'].map((c) => parseCidr(c) as Cidr);

function isPrivate(c: Cidr): boolean {
  return PRIVATE.some((p) => c.base >= p.base && c.base + cidrSize(c) <= p.base + cidrSize(p));
}

export function copyPlans(lab: Lab, names: readonly string[], options: { ownSubnet: boolean }): Plan[] {
  return names.map((name, i) => planLab(copyLab(lab, name, i, options)));
}

// ---------------------------------------------------------------------------------------------
// Capacity

/** MemAvailable of /proc/meminfo, in MiB. */
export function availableMemoryMiB(meminfo = readFileSync('/proc/meminfo', 'utf8')): number {
  const kb = Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1]);
  if (!Number.isFinite(kb)) throw new Error('/proc/meminfo has no MemAvailable line');
  return Math.floor(kb / 1024);
}

/** Part of the available memory copies may take: the rest stays for the machine and the teacher. */
export const MEMORY_SHARE = 0.8;

/** How many copies fit, and a refusal naming the figures when `wanted` do not. */
export function checkCapacity(perCopyMiB: number, wanted: number, availableMiB: number): { fits: number; refusal?: string } {
  const budget = Math.floor(availableMiB * MEMORY_SHARE);
  const fits = Math.max(0, Math.floor(budget / perCopyMiB));
  if (wanted <= fits) return { fits };
  return {
    fits,
    refusal: `${count(wanted, 'copy', 'copies')} need about ${wanted * perCopyMiB} MiB (${perCopyMiB} MiB each), and ${availableMiB} MiB is available (${Math.round(MEMORY_SHARE * 100)}% of it may be used: ${budget} MiB); this machine can hold ${count(fits, 'copy', 'copies')}`,
  };
}
