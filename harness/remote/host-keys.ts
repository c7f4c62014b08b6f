// SSH host keys: OpenSSH fingerprints (`SHA256:` and the unpadded base64 of the key blob's
// SHA-256, as `ssh-keygen -lf` prints), known_hosts files (plain `host` and `[host]:port`
// patterns with wildcards and negation, hashed `|1|salt|hash` entries, @revoked lines), and
// the decision for one handshake under a HostKeyPolicy: trusted, to be recorded (first
// contact, or a pinned key once verified), or refused with a HostKeyError naming the host and
// the fingerprints. The handshake (handshake.ts) asks; nothing here opens a connection.
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { HostKeyError } from '../errors.ts';
import type { HostKeyPolicy, SshEndpoint } from '../host.ts';
import { shellQuote } from '../quote.ts';

/** A fingerprint as the lab file and `ssh-keygen -lf` write it. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The user's own known_hosts. */
export function userKnownHosts(home = homedir()): string {
  return join(home, '.ssh', 'known_hosts');
}

/** `SHA256:...` of a public key blob (the SSH wire format, as base64 in known_hosts). */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type a blob starts with (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`), or undefined if it is not a key blob. */
export function keyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || blob.length < 4 + n) return undefined;
  const type = blob.subarray(4, 4 + n).toString('latin1');
  return /^[a-z0-9@.-]+$/.test(type) ? type : undefined;
}

/** The name a host is known by in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** A known_hosts line for a key. */
export function knownHostsLine(name: string, blob: Buffer): string {
  return `${name} ${keyType(blob) ?? 'unknown'} ${blob.toString('base64')}`;
}

export interface KnownHostEntry {
  file: string;
  /** From 1. */
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  /** The host field as written: comma-separated patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** The entries of a known_hosts text; comments, blank and unreadable lines are skipped (as ssh does). */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const words = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (words[0]!.startsWith('@')) {
      const m = words.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [hosts, type, base64] = words;
    if (!hosts || !type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    if (keyType(key) !== type) return;
    out.push({ file, line: i + 1, marker, hosts, keyType: type, key });
  });
  return out;
}

/** A glob of ssh's host patterns: `*` any run, `?` one character. */
function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

/** Whether an entry's host field names `name` (`host` or `[host]:port`). */
export function entryMatches(entry: Pick<KnownHostEntry, 'hosts'>, name: string): boolean {
  if (entry.hosts.startsWith('|1|')) {
    const [, , salt, hash] = entry.hosts.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const p of entry.hosts.split(',')) {
    if (p.startsWith('!')) {
      if (globMatches(p.slice(1), name)) return false;
    } else if (globMatches(p, name)) matched = true;
  }
  return matched;
}

/** A hashed host field for `name`, as `ssh-keygen -H` writes it (a fresh salt unless given). */
export function hashedHostName(name: string, salt: Buffer): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/** Reads the entries of known_hosts files; a missing file has none, an unreadable one is an error naming it. */
export function readKnownHosts(files: readonly string[]): KnownHostEntry[] {
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read the known_hosts file ${file}: ${(e as Error).message}`);
    }
    return parseKnownHosts(text, file);
  });
}

/** Key types whose keys the host-key algorithms sign with: an RSA key serves three. */
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** The host key types overlab accepts, in ssh2's order of preference. */
export const HOST_KEY_TYPES = Object.keys(ALGORITHMS_BY_KEY_TYPE);

/**
 * The server host key algorithms to offer, as OpenSSH orders them: the types already known for
 * the host first (so a host with several keys presents the known one), then the rest; types in
 * `exclude` are left out.
 */
export function hostKeyAlgorithms(known: ReadonlySet<string>, exclude: ReadonlySet<string> = new Set()): string[] {
  const types = HOST_KEY_TYPES.filter((t) => !exclude.has(t));
  return [...types.filter((t) => known.has(t)), ...types.filter((t) => !known.has(t))].flatMap((t) => ALGORITHMS_BY_KEY_TYPE[t]!);
}

/** What one presented key means under a policy. */
export type HostKeyVerdict =
  | { kind: 'trusted' }
  /** Trusted; its line goes into the lab's known_hosts once the handshake completes. */
  | { kind: 'record'; line: string; reason: 'first contact' | 'pinned'; presented: string }
  /** A pinned key of another type may yet be offered: connect again without this type. */
  | { kind: 'try-other-type'; type: string; presented: string }
  | { kind: 'refused'; error: HostKeyError };

function where(path: string, home: string): string {
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/**
 * Checks the keys one host presents across the attempts of one connection: the policy's files
 * are read at each check (another connection may have recorded the host meanwhile).
 */
export class HostKeyCheck {
  private readonly name: string;
  /** Key types a pinned fingerprint was already compared with (and did not match). */
  private readonly triedTypes = new Set<string>();
  private readonly presentedFingerprints: string[] = [];

  constructor(
    /** The host's name in the lab, for messages. */
    private readonly host: string,
    private readonly endpoint: Pick<SshEndpoint, 'host' | 'port' | 'username' | 'hostKeys'>,
    private readonly home = homedir(),
  ) {
    this.name = knownHostsName(endpoint.host, endpoint.port);
  }

  private get policy(): HostKeyPolicy {
    return this.endpoint.hostKeys;
  }

  private entries(): KnownHostEntry[] {
    return readKnownHosts([...this.policy.knownHosts, this.policy.recordIn]).filter((e) => e.marker !== 'cert-authority' && entryMatches(e, this.name));
  }

  /** ssh2's `algorithms.serverHostKey` for the next attempt (an unreadable file is verify's to report). */
  algorithms(): string[] {
    let known = new Set<string>();
    try {
      if (!this.policy.pinned) known = new Set(this.entries().filter((e) => !e.marker).map((e) => e.keyType));
    } catch {
      // verify() refuses the host, naming the file.
    }
    return hostKeyAlgorithms(known, this.triedTypes);
  }

  /** What the key a host presented (its blob) means under the policy. */
  verify(blob: Buffer): HostKeyVerdict {
    try {
      return this.decide(blob);
    } catch (e) {
      const presented = fingerprint(blob);
      return this.refuse(`cannot check the host key of ${this.host} (it presented ${presented}): ${(e as Error).message}`, presented, [], 'overlab checks every SSH host key against these files; make it readable, or move it away.');
    }
  }

  private decide(blob: Buffer): HostKeyVerdict {
    const presented = fingerprint(blob);
    const type = keyType(blob) ?? 'unknown';
    const shown = `${presented} (${type})`;
    const target = `${this.host} (${this.endpoint.username}@${this.endpoint.host}:${this.endpoint.port})`;
    const entries = this.entries();
    const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(blob));
    if (revoked) {
      return this.refuse(`the host key of ${target} is revoked: it presented ${shown}, marked @revoked at ${where(revoked.file, this.home)}:${revoked.line}`, presented, [], 'Do not use this machine until its host keys are replaced.');
    }
    const listed = entries.filter((e) => !e.marker);
    const inLab = listed.some((e) => e.file === this.policy.recordIn && e.key.equals(blob));
    const pinned = this.policy.pinned;
    if (pinned) {
      if (pinned.fingerprint === presented) return inLab ? { kind: 'trusted' } : { kind: 'record', line: knownHostsLine(this.name, blob), reason: 'pinned', presented: shown };
      this.triedTypes.add(type);
      this.presentedFingerprints.push(shown);
      if (this.algorithms().length > 0) return { kind: 'try-other-type', type, presented: shown };
      return { kind: 'refused', error: this.pinnedMismatch()! };
    }
    if (listed.some((e) => e.key.equals(blob))) return { kind: 'trusted' };
    if (listed.length > 0) {
      const source = (e: KnownHostEntry) => `${where(e.file, this.home)}:${e.line}`;
      const files = [...new Set(listed.map((e) => e.file))];
      return this.refuse(
        `the host key of ${target} does not match: expected ${listed.map((e) => `${fingerprint(e.key)} (${e.keyType}, ${source(e)})`).join(' or ')}, presented ${shown}`,
        presented,
        listed.map((e) => ({ fingerprint: fingerprint(e.key), source: source(e) })),
        this.policy.vouchedBy === 'user'
          ? `Someone may be intercepting the connection, or the machine was reinstalled. If the new key is right (check on the machine: \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`), remove the old one (${files.map((f) => `ssh-keygen -R ${shellQuote(this.name)} -f ${shellQuote(f)}`).join('; ')}) and run \`overlab up --accept-new-host-keys\`.`
          : `overlab recorded the host keys of the hosts it created in ${where(this.policy.recordIn, this.home)}; whatever answers at ${this.endpoint.host}:${this.endpoint.port} is not the host it created. Run \`overlab down\`, then \`overlab up\`.`,
      );
    }
    if (this.policy.acceptNew) return { kind: 'record', line: knownHostsLine(this.name, blob), reason: 'first contact', presented: shown };
    const consulted = [...this.policy.knownHosts, this.policy.recordIn].map((f) => where(f, this.home)).join(', ');
    return this.refuse(
      `the host key of ${target} is not known: it presented ${shown}, and no known_hosts lists ${this.name} (read: ${consulted})`,
      presented,
      [],
      this.policy.vouchedBy === 'user'
        ? `If ${presented} is ${this.host}'s key (check on the machine: \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`), run \`overlab up --accept-new-host-keys\` to trust it and record it in ${where(this.policy.recordIn, this.home)}, or give it as hosts[].ssh.hostKey in the lab file.`
        : `overlab records the host keys of the hosts it creates in ${where(this.policy.recordIn, this.home)} when it creates them; that record is missing. Run \`overlab down\`, then \`overlab up\`.`,
    );
  }

  /**
   * After a pinned fingerprint matched none of the keys the host presented (one per type it was
   * asked for), the error naming them all; undefined while no key was compared.
   */
  pinnedMismatch(): HostKeyError | undefined {
    const pinned = this.policy.pinned;
    if (!pinned || this.presentedFingerprints.length === 0) return undefined;
    const target = `${this.host} (${this.endpoint.username}@${this.endpoint.host}:${this.endpoint.port})`;
    const last = this.presentedFingerprints[this.presentedFingerprints.length - 1]!.split(' ')[0]!;
    return new HostKeyError(
      {
        host: this.host,
        presented: last,
        expected: [{ fingerprint: pinned.fingerprint, source: pinned.source }],
        message: `the host key of ${target} does not match: expected ${pinned.fingerprint} (${pinned.source}), presented ${this.presentedFingerprints.join(', ')}`,
      },
      {
        hint: `If the machine's host key really changed (check on it: \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`), put its fingerprint in ${pinned.source}. Otherwise something else answers at ${this.endpoint.host}:${this.endpoint.port}: do not use it.`,
      },
    );
  }

  private refuse(message: string, presented: string, expected: { fingerprint: string; source: string }[], hint: string): HostKeyVerdict {
    return { kind: 'refused', error: new HostKeyError({ host: this.host, presented, expected, message }, { hint }) };
  }

  /** Appends a verified key's line to the lab's known_hosts, unless it is there already. */
  record(line: string): void {
    const [name, type, key] = line.split(' ');
    const present = readKnownHosts([this.policy.recordIn]).some((e) => e.keyType === type && e.key.toString('base64') === key && entryMatches(e, name!));
    if (present) return;
    mkdirSync(dirname(this.policy.recordIn), { recursive: true });
    appendFileSync(this.policy.recordIn, `${line}\n`, { mode: 0o600 });
  }

  /** The lab's known_hosts, as the user would read it in a message. */
  recordedIn(): string {
    return where(this.policy.recordIn, this.home);
  }
}
