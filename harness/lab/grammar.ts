// The grammar of every free string of a lab file, and the ports and ranges a lab may use. Each
// check returns what is wrong (a phrase for the message) or undefined; validate.ts locates it.
// Values end up in command lines, ssh options, Vagrantfiles and engine API calls: a value
// that fits its grammar cannot be read as an option, a second command or a second line.
import { cidrsOverlap, formatCidr, parseCidr, parseIpv4, type Cidr } from './ipv4.ts';
import type { PairsPolicy } from './types.ts';

/** POSIX portable user names (useradd's default NAME_REGEX), at most 32 characters. */
export const SSH_USER = /^[a-z_][a-z0-9_-]*\$?$/;
export const SSH_USER_MAX = 32;

export function sshUserProblem(user: string): string | undefined {
  if (!SSH_USER.test(user)) return 'is not a user name: use lower-case letters, digits, "_" and "-", starting with a letter or "_" (and optionally ending with "$")';
  if (user.length > SSH_USER_MAX) return `is longer than ${SSH_USER_MAX} characters`;
  return undefined;
}

/** An RFC 1123 label: letters, digits and dashes, no dash first or last, at most 63 characters. */
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export const DNS_NAME_MAX = 253;

/** A strict dotted quad, or a DNS name of RFC 1123 labels (not all digits, so never a mistyped address). */
export function hostAddressProblem(address: string): string | undefined {
  if (parseIpv4(address) !== undefined) return undefined;
  if (/^[0-9.]+$/.test(address)) return 'is not an IPv4 address (four numbers 0-255, no leading zeros)';
  if (address.length > DNS_NAME_MAX) return `is not a DNS name: longer than ${DNS_NAME_MAX} characters`;
  if (!address.split('.').every((l) => DNS_LABEL.test(l))) {
    return 'is neither an IPv4 address nor a DNS name (labels of letters, digits and dashes, not starting or ending with a dash, joined by dots)';
  }
  return undefined;
}

/** A DNS alias is one label; lower case, as the embedded DNS answers it. */
export const ALIAS = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function aliasProblem(alias: string): string | undefined {
  return ALIAS.test(alias) ? undefined : 'is not a DNS label: use lower-case letters, digits and dashes, not starting or ending with a dash, at most 63 characters';
}

// Docker's reference grammar (distribution/reference): [registry[:port]/]path[:tag][@digest].
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|-+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]{1,5})?`;
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = 'sha256:[a-f0-9]{64}';
export const IMAGE_REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);
/** Docker refuses a repository name over 255 characters. */
export const IMAGE_NAME_MAX = 255;

export function imageProblem(image: string): string | undefined {
  const name = image.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  if (name.length > IMAGE_NAME_MAX) return `is not an image reference: the name is longer than ${IMAGE_NAME_MAX} characters`;
  if (!IMAGE_REFERENCE.test(image)) {
    return 'is not an image reference: write [registry[:port]/]path[:tag][@sha256:digest], with lower-case path components (e.g. "busybox:1.36" or "registry.local:5000/team/app@sha256:…")';
  }
  return undefined;
}

/** A Vagrant box: a plain name or owner/name, of letters, digits, ".", "_" and "-". */
export const BOX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?:\/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?$/;

export function boxProblem(box: string): string | undefined {
  return BOX.test(box) ? undefined : 'is not a box name: write NAME or OWNER/NAME, with letters, digits, ".", "_" and "-", each starting with a letter or digit';
}

export const PATH_MAX = 4096;

/** A file path: no control characters, not empty, not read as an option. */
export function keyPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.length > PATH_MAX) return `is longer than ${PATH_MAX} characters`;
  if (/[\x00-\x1f\x7f]/.test(path)) return 'holds a control character; a key path cannot';
  if (path.startsWith('-')) return 'starts with "-" and would be read as an option; write "./" before it';
  return undefined;
}

/** Free text a person reads (description): no control characters but newlines and tabs. */
export const TEXT_MAX = 1000;

export function textProblem(text: string): string | undefined {
  if (text.length > TEXT_MAX) return `is longer than ${TEXT_MAX} characters`;
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(text)) return 'holds a control character (only newlines and tabs are allowed)';
  return undefined;
}

/** A word of a container command: any text a process argument can hold (no NUL). */
export function commandWordProblem(word: string): string | undefined {
  return word.includes('\0') ? 'holds a NUL character, which no process argument can' : undefined;
}

// -- specs.pairs

export const SAMPLE_MAX = 1_000_000;

export function parsePairs(text: string): PairsPolicy | undefined {
  if (text === 'all') return { kind: 'all' };
  if (text === 'cross-host') return { kind: 'cross-host' };
  const m = /^sample ([1-9][0-9]{0,6})$/.exec(text);
  if (m && Number(m[1]) <= SAMPLE_MAX) return { kind: 'sample', n: Number(m[1]) };
  return undefined;
}

export function formatPairs(p: PairsPolicy): string {
  return p.kind === 'sample' ? `sample ${p.n}` : p.kind;
}

// -- private ranges

/** Where a lab's networks may lie: RFC 1918 private ranges and RFC 6598 shared address space. */
export const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'];
const PRIVATE: Cidr[] = PRIVATE_RANGES.map((r) => parseCidr(r) as Cidr);

/** Whether a block lies wholly inside one private range; else what it is (public, loopback, ...). */
export function privateRangeProblem(c: Cidr): string | undefined {
  const size = 2 ** (32 - c.prefix);
  if (PRIVATE.some((p) => c.base >= p.base && c.base + size <= p.base + 2 ** (32 - p.prefix))) return undefined;
  const kinds: [string, string][] = [
    ['127.0.0.0/8', 'loopback'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
    ['0.0.0.0/8', '"this network"'],
    ['169.254.0.0/16', 'link-local'],
  ];
  const kind = kinds.find(([r]) => cidrsOverlap(parseCidr(r) as Cidr, c))?.[1] ?? (PRIVATE.some((p) => cidrsOverlap(p, c)) ? 'not wholly private' : 'public');
  return `${formatCidr(c)} is ${kind} address space; use a private range (${PRIVATE_RANGES.join(', ')})`;
}

/** Addresses of a block a machine can take: all of a /31 or /32, else all but network and broadcast. */
export function usableAddresses(c: Cidr): number {
  const size = 2 ** (32 - c.prefix);
  return c.prefix >= 31 ? size : size - 2;
}
