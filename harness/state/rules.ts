// The grammar of the names, addresses and words a lab's recorded files hold: the lab file's
// own rules (labs/lab.schema.json, lab/grammar.ts), so that a value read back is one a lab file
// could have given. Written out here rather than imported, as those modules load the YAML
// parser and every quick command reads a state file; specs/unit/state-files.spec.ts checks that
// the two agree.
import { int, matches, type Check } from './shape.ts';

/** A lab's name (labs/lab.schema.json `name`): it names the state folder and every resource. */
export const LAB_NAME = /^[a-z][a-z0-9-]{0,23}$/;
/** A host's or a network's name (the schema's `definitions.name`). */
export const NAME = /^[a-z][a-z0-9-]{0,30}$/;
/** A container's or a service's name (the schema's `definitions.containerName`). */
export const CONTAINER_NAME = /^[a-z][a-z0-9-]{1,30}$/;
/** A dockerd flag of `engine.flags` (the schema's pattern). */
export const ENGINE_FLAG = /^--[a-z][a-z0-9-]*(=[^\u0000-\u001f]*)?$/;
/** POSIX portable user names, at most 32 characters (lab/grammar.ts SSH_USER). */
export const SSH_USER = /^(?=.{1,32}$)[a-z_][a-z0-9_-]*\$?$/;
/** A Vagrant box: NAME or OWNER/NAME (lab/grammar.ts BOX). */
export const BOX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?:\/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?$/;
/** A DNS alias: one lower-case label (lab/grammar.ts ALIAS). */
export const ALIAS = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** A host key's fingerprint as `ssh-keygen -lf` prints it. */
export const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
export const SHA256_HEX = /^[0-9a-f]{64}$/;
/** A package archive's suite (the schema's `engine.suite`). */
export const SUITE = /^[a-z][a-z0-9.-]*$/;
/** An engine version as a lab names it (20.10, 20.10.24, 28.5.2+dfsg4-5, distro): one path segment, never `.` or `..`. */
export const ENGINE_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+~_-]{0,63}$/;
/**
 * The characters of an image reference ([registry[:port]/]path[:tag][@digest]); a superset of
 * lab/grammar.ts IMAGE_REFERENCE (whose registry part may start upper-case) that still holds no space, quote or option.
 */
export const IMAGE = /^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,511}$/;
/** A word a fact names (a container, network, host, service or alias): no space, slash or quote. */
export const FACT_WORD = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;
/** A timestamp as overlab records it (ISO 8601), or empty (states written by tests). */
export const TIMESTAMP = /^[0-9TZ:.+-]{0,40}$/;

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
/** A strict dotted quad: four numbers 0-255, no leading zeros. */
export const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
export const CIDR = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}/(?:3[0-2]|[12]?[0-9])$`);

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A dotted quad, or a DNS name of RFC 1123 labels that is not all digits (lab/grammar.ts hostAddressProblem). */
export function isHostAddress(address: string): boolean {
  if (IPV4.test(address)) return true;
  if (/^[0-9.]+$/.test(address) || address.length > 253) return false;
  return address.split('.').every((l) => DNS_LABEL.test(l));
}

/** A key file's path: not empty, no control characters, not read as an option (lab/grammar.ts keyPathProblem). */
export function isKeyPath(path: string): boolean {
  return path !== '' && path.length <= 4096 && !/[\x00-\x1f\x7f]/.test(path) && !path.startsWith('-');
}

export const labName: Check<string> = matches(LAB_NAME, 'a lab name (lower-case letters, digits and dashes, starting with a letter, at most 24 characters)');
export const hostName: Check<string> = matches(NAME, 'a host name (lower-case letters, digits and dashes, starting with a letter, at most 31 characters)');
export const networkName: Check<string> = matches(NAME, 'a network name (lower-case letters, digits and dashes, starting with a letter, at most 31 characters)');
export const containerName: Check<string> = matches(CONTAINER_NAME, 'a container name (lower-case letters, digits and dashes, starting with a letter, 2 to 31 characters)');
export const ipv4: Check<string> = matches(IPV4, 'an IPv4 address (four numbers 0-255, no leading zeros)');
export const cidr: Check<string> = matches(CIDR, 'an IPv4 CIDR block (ADDRESS/PREFIX)');
export const port: Check<number> = int(1, 65535, 'a port (a whole number from 1 to 65535)');
export const timestamp: Check<string> = matches(TIMESTAMP, 'a timestamp (ISO 8601)');
export const fingerprint: Check<string> = matches(FINGERPRINT, 'a host key fingerprint (SHA256: and 43 base64 characters)');
