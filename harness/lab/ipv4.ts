// IPv4 addresses and CIDR blocks as numbers: parsing, containment, overlap.
import { quote } from './text.ts';

export interface Cidr {
  base: number;
  prefix: number;
}

const OCTET = '(0|[1-9]\\d{0,2})';
const DOTTED_QUAD = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/**
 * Parses dotted-quad text. Strict like Go's net.ParseIP, which dockerd uses: no surrounding
 * blanks (the text is passed on to Docker as written) and no leading zeros (ambiguous octal).
 */
export function parseIpv4(text: string): number | undefined {
  const m = DOTTED_QUAD.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Parses "a.b.c.d/n"; returns a reason string when it is not a valid network address. */
export function parseCidr(text: string): Cidr | string {
  const m = /^([^/]+)\/(0|[1-9]\d?)$/.exec(text);
  if (!m) return `${quote(text)} is not a CIDR (expected a.b.c.d/n)`;
  const addr = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (addr === undefined) return `${quote(m[1])} is not an IPv4 address`;
  if (prefix > 32) return `prefix /${prefix} is longer than 32`;
  const size = 2 ** (32 - prefix);
  if (addr % size !== 0) {
    return `${quote(text)} has host bits set; the network is ${formatIpv4(addr - (addr % size))}/${prefix}`;
  }
  return { base: addr, prefix };
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function cidrContains(c: Cidr, addr: number): boolean {
  return addr >= c.base && addr < c.base + cidrSize(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + cidrSize(b) && b.base < a.base + cidrSize(a);
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** True for the network and broadcast addresses of blocks that have them. */
export function isReservedInCidr(c: Cidr, addr: number): boolean {
  if (c.prefix >= 31) return false;
  return addr === c.base || addr === c.base + cidrSize(c) - 1;
}
