// Engines from a distribution's package archive (Debian, Ubuntu), on apt's chain of trust: the
// suite's InRelease is checked with the archive keyring (gpgv) and only its signed text is read;
// the package index is checked against the SHA-256 and size that text gives; each package file
// against the SHA-256 and size the index gives. Anything that does not match is refused, naming
// the file. Which packages make an engine (docker.io, its CLI, containerd, runc, docker-init and
// the libraries they link) is chosen here by small pure functions over the parsed index.
// Ground floor: files, HTTP and gpgv; no engine, SSH or provider code.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { PrerequisiteError } from '../errors.ts';
import { fetchBytes } from './fetch.ts';

/** An archive source refused: a bad signature, an expired index, a hash or size that does not match. */
export class ArchiveTrustError extends PrerequisiteError {}

/** An archive file could not be had at all (no such suite on the mirror, no network): nothing was trusted or refused. */
export class ArchiveFetchError extends PrerequisiteError {}

/** One archive suite to look in, as a sources.list line says it: `deb [signed-by=KEYRING] URL SUITE COMPONENT...`. */
export interface ArchiveSuite {
  /** `debian` or `ubuntu`: which distribution's defaults (keyring, suites) it came from; `custom` for a line given. */
  distribution: 'debian' | 'ubuntu' | 'custom';
  url: string;
  suite: string;
  components: string[];
  keyring: string;
}

/** The distributions' own archives (their public addresses). */
export const DEFAULT_ARCHIVE_URLS = { debian: 'http://deb.debian.org/debian', ubuntu: 'http://archive.ubuntu.com/ubuntu' } as const;
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
export const UBUNTU_KEYRING = '/usr/share/keyrings/ubuntu-archive-keyring.gpg';
/** Oldest first: a version is taken from the oldest suite that has it (the one its users run). */
export const DEBIAN_SUITES = ['bookworm', 'trixie', 'forky', 'sid'];
export const UBUNTU_SUITES = ['jammy-updates', 'jammy', 'noble-updates', 'noble'];

/** The architecture name Debian uses for this machine. */
export function debianArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : arch;
}

/**
 * The archive's base URL from this machine's apt sources (a `URIs:` or `deb` line whose path
 * ends in /debian or /ubuntu), so a machine behind its own mirror uses it; else the
 * distribution's public address.
 */
export function archiveUrlFromSources(texts: string[], distribution: 'debian' | 'ubuntu'): string {
  const fallback = DEFAULT_ARCHIVE_URLS[distribution];
  for (const text of texts) {
    for (const m of text.matchAll(/^\s*(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s*)?)(\S+)/gm)) {
      const uri = m[1]!.replace(/\/+$/, '');
      if (/^https?:\/\//.test(uri) && new RegExp(`/${distribution}$`).test(uri)) return uri;
    }
  }
  return fallback;
}

/** `signed-by=/k/a=b.gpg` -> ['signed-by', '/k/a=b.gpg']: the value is everything after the first "=". */
function splitOption(o: string): [string, string] {
  const i = o.indexOf('=');
  return i < 0 ? [o, ''] : [o.slice(0, i), o.slice(i + 1)];
}

/** Parses one sources.list line: `deb [signed-by=K] URL SUITE COMPONENT...`. */
export function parseSourcesLine(line: string): ArchiveSuite {
  const m = /^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
  if (!m) throw new ArchiveTrustError(`"${line}" is not a sources.list line: deb [signed-by=KEYRING] URL SUITE COMPONENT...`);
  const options = Object.fromEntries((m[1] ?? '').split(/\s+/).filter(Boolean).map((o) => splitOption(o)));
  const url = m[2]!.replace(/\/+$/, '');
  const keyring = options['signed-by'] ?? (/\/ubuntu$/.test(url) ? UBUNTU_KEYRING : DEBIAN_KEYRING);
  const components = m[4]!.split(/\s+/).filter(Boolean);
  return { distribution: 'custom', url, suite: m[3]!, components: components.length ? components : ['main'], keyring };
}

/** The suites a distribution source searches, on this machine's mirror of it. */
export function defaultSuites(distribution: 'debian' | 'ubuntu', sourcesTexts: string[]): ArchiveSuite[] {
  const url = archiveUrlFromSources(sourcesTexts, distribution);
  const suites = distribution === 'debian' ? DEBIAN_SUITES : UBUNTU_SUITES;
  // Ubuntu ships docker.io in universe.
  const components = distribution === 'debian' ? ['main'] : ['main', 'universe'];
  return suites.map((suite) => ({ distribution, url, suite, components, keyring: distribution === 'debian' ? DEBIAN_KEYRING : UBUNTU_KEYRING }));
}

/** Reads this machine's apt sources (the texts only; missing files are skipped). */
export function machineAptSources(): string[] {
  const out: string[] = [];
  const read = (p: string) => {
    try {
      out.push(readFileSync(p, 'utf8'));
    } catch {
      // Not there.
    }
  };
  read('/etc/apt/sources.list');
  for (const f of readdirSafe('/etc/apt/sources.list.d')) if (/\.(list|sources)$/.test(f)) read(join('/etc/apt/sources.list.d', f));
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

// -- deb822 (Release and Packages files)

/** Stanzas of a deb822 file: fields by name; continuation lines joined with "\n". */
export function parseStanzas(text: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  let cur: Record<string, string> = {};
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (Object.keys(cur).length) out.push(cur);
      cur = {};
      last = undefined;
    } else if (/^[ \t]/.test(line)) {
      if (last !== undefined) cur[last] += `\n${line.trim()}`;
    } else {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i);
      cur[last] = line.slice(i + 1).trim();
    }
  }
  if (Object.keys(cur).length) out.push(cur);
  return out;
}

export interface IndexedFile {
  sha256: string;
  size: number;
}

export interface ReleaseInfo {
  date: string | undefined;
  validUntil: Date | undefined;
  files: Map<string, IndexedFile>;
}

/** The signed Release text's dates and SHA256 list. */
export function parseRelease(text: string): ReleaseInfo {
  const [r = {}] = parseStanzas(text);
  const files = new Map<string, IndexedFile>();
  for (const l of (r['SHA256'] ?? '').split('\n')) {
    const m = /^([0-9a-f]{64})\s+(\d+)\s+(\S+)$/.exec(l.trim());
    if (m) files.set(m[3]!, { sha256: m[1]!, size: Number(m[2]) });
  }
  const vu = r['Valid-Until'] ? new Date(r['Valid-Until']) : undefined;
  return { date: r['Date'], validUntil: vu && !Number.isNaN(vu.getTime()) ? vu : undefined, files };
}

export interface PackageEntry {
  name: string;
  version: string;
  source: string | undefined;
  depends: string[][];
  provides: string[];
  filename: string;
  sha256: string;
  size: number;
}

/** `a (>= 1) | b, c` -> [['a','b'],['c']] (names only; the archive's own suite is consistent). */
export function parseDepends(field: string | undefined): string[][] {
  if (!field) return [];
  return field
    .split(',')
    .map((alt) => alt.split('|').map((p) => p.trim().replace(/\s*\(.*\)\s*$/, '').replace(/:any$/, '').trim()).filter(Boolean))
    .filter((a) => a.length);
}

/** The packages of an index that overlab may use, keyed by name (one version per name in a suite). */
export function parsePackages(text: string): Map<string, PackageEntry> {
  const out = new Map<string, PackageEntry>();
  for (const s of parseStanzas(text)) {
    const name = s['Package'];
    if (!name || !s['Filename'] || !s['SHA256'] || !s['Version']) continue;
    out.set(name, {
      name,
      version: s['Version'],
      source: s['Source']?.split(' ')[0],
      depends: [...parseDepends(s['Pre-Depends']), ...parseDepends(s['Depends'])],
      provides: (s['Provides'] ?? '').split(',').map((p) => p.trim().replace(/\s*\(.*\)$/, '')).filter(Boolean),
      filename: s['Filename'],
      sha256: s['SHA256'],
      size: Number(s['Size'] ?? 0),
    });
  }
  return out;
}

/** `2:28.5.2+dfsg4-5` -> `28.5.2`: the upstream release a Debian version packs. */
export function upstreamVersion(debVersion: string): string {
  const noEpoch = debVersion.replace(/^\d+:/, '');
  const upstream = noEpoch.includes('-') ? noEpoch.slice(0, noEpoch.lastIndexOf('-')) : noEpoch;
  return /^\d+(?:\.\d+)*/.exec(upstream)?.[0] ?? upstream;
}

/** Whether a package version is the release asked for: `28.5.2` (upstream) or the exact `28.5.2+dfsg4-5`. */
export function versionMatches(debVersion: string, wanted: string): boolean {
  return debVersion === wanted || upstreamVersion(debVersion) === wanted;
}

/** The engine's package set in one suite: what it is made of, and from which packages. */
export interface EngineSelection {
  engine: PackageEntry;
  packages: PackageEntry[];
}

/** The packages that carry the engine's programs (beside docker.io): found by name in the suite. */
const ENGINE_PACKAGES = ['docker-cli', 'containerd', 'runc'];
/** docker-init: Debian's docker.io depends on one of these (tini-static in newer suites). */
const INIT_PACKAGES = ['tini-static', 'tini'];

/**
 * docker.io of `version` (any version when undefined) and what it needs to run with its own
 * suite's userland: the CLI, containerd, runc, docker-init, and every library package their
 * dependencies name, followed to the end (libc6, libseccomp2, libsystemd0 ...). Programs the
 * engine calls from the host (iptables, ip) are the host's, as on a real machine of that suite
 * they would be its own: they are not libraries linked into the engine.
 */
export function selectEngine(index: Map<string, PackageEntry>, version: string | undefined): EngineSelection | undefined {
  const engine = index.get('docker.io');
  if (!engine || (version !== undefined && !versionMatches(engine.version, version))) return undefined;
  const providers = new Map<string, string>();
  for (const p of index.values()) for (const v of p.provides) if (!providers.has(v)) providers.set(v, p.name);
  const resolve = (n: string) => index.get(n) ?? (providers.has(n) ? index.get(providers.get(n)!) : undefined);
  const chosen = new Map<string, PackageEntry>([[engine.name, engine]]);
  const queue: PackageEntry[] = [engine];
  const take = (p: PackageEntry | undefined) => {
    if (p && !chosen.has(p.name)) {
      chosen.set(p.name, p);
      queue.push(p);
    }
  };
  for (const n of ENGINE_PACKAGES) take(index.get(n));
  const init = INIT_PACKAGES.find((n) => engine.depends.some((alt) => alt.includes(n))) ?? INIT_PACKAGES.find((n) => index.has(n));
  if (init) take(index.get(init));
  while (queue.length) {
    const p = queue.shift()!;
    for (const alt of p.depends) {
      const libs = alt.map(resolve).filter((x): x is PackageEntry => !!x && x.name.startsWith('lib'));
      if (libs.length && !libs.some((l) => chosen.has(l.name))) take(libs[0]);
    }
  }
  return { engine, packages: [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name)) };
}

// -- fetching, on the chain of trust

/** A file of the archive, whole; a failure to read it is an ArchiveFetchError (nothing trusted or refused). */
export function fetchArchiveFile(url: string, signal?: AbortSignal): Promise<Buffer> {
  return fetchBytes(url, (m) => new ArchiveFetchError(m), signal);
}

export function sha256Of(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Refuses data whose hash or size is not what the signed chain says, naming the file. */
export function checkFile(url: string, data: Buffer, want: IndexedFile): void {
  const got = sha256Of(data);
  if (got !== want.sha256 || (want.size && data.length !== want.size)) {
    throw new ArchiveTrustError(`${url}: SHA-256 ${got} (${data.length} bytes) does not match the signed index's ${want.sha256} (${want.size} bytes): refused`, {
      hint: 'The file was changed after the archive signed it (a broken mirror, a proxy, or tampering). Nothing of it was used.',
    });
  }
}

/** The signed text of an InRelease file, checked with the keyring by gpgv; refused when the signature does not hold. */
export async function verifiedRelease(url: string, data: Buffer, keyring: string, signal?: AbortSignal): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'overlab-release-'));
  try {
    const file = join(dir, 'InRelease');
    const out = join(dir, 'Release');
    writeFileSync(file, data);
    const r = await execa('gpgv', ['--keyring', keyring, '--output', out, file], { reject: false, ...(signal ? { cancelSignal: signal } : {}) });
    signal?.throwIfAborted();
    if (r.exitCode !== 0) {
      if ((r as { code?: string }).code === 'ENOENT') throw new ArchiveTrustError('gpgv is not installed: the archive signature cannot be checked', { hint: 'Install gpgv (scripts/setup-host.sh does).' });
      const why = String(r.stderr).split('\n').filter((l) => /BAD signature|No public key|Can't check|no valid OpenPGP|not a detached|keyblock resource|error/i.test(l)).join('; ');
      throw new ArchiveTrustError(`${url}: signature not valid for keyring ${keyring}: ${why || `gpgv exit ${r.exitCode}`}`, {
        hint: 'The suite index is not signed by that archive key: nothing from it was used.',
      });
    }
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SuiteIndex {
  suite: ArchiveSuite;
  release: ReleaseInfo;
  packages: Map<string, PackageEntry>;
  /** Set when the signed index had expired and the caller accepted it: the date it expired. */
  expiredAccepted: string | undefined;
}

/**
 * A suite's package index for this machine's architecture, every byte on the chain of trust.
 * An index past its Valid-Until is refused (a replayed old index) unless `allowExpired`.
 */
export async function fetchSuiteIndex(s: ArchiveSuite, options: { allowExpired?: boolean; now?: Date; signal?: AbortSignal } = {}): Promise<SuiteIndex> {
  const base = `${s.url}/dists/${s.suite}`;
  const inRelease = `${base}/InRelease`;
  const text = await verifiedRelease(inRelease, await fetchArchiveFile(inRelease, options.signal), s.keyring, options.signal);
  const release = parseRelease(text);
  const now = options.now ?? new Date();
  let expiredAccepted: string | undefined;
  if (release.validUntil && release.validUntil < now) {
    if (!options.allowExpired) {
      throw new ArchiveTrustError(`${inRelease}: the signed index expired on ${release.validUntil.toISOString()}: refused (an old index may be replayed)`, {
        hint: 'Use a mirror that is current, or accept it knowingly with OVERLAB_ARCHIVE_ALLOW_EXPIRED=1 (reports then say so).',
      });
    }
    expiredAccepted = release.validUntil.toISOString();
  }
  const packages = new Map<string, PackageEntry>();
  for (const component of s.components) {
    const dir = `${component}/binary-${debianArch()}`;
    const gz = release.files.get(`${dir}/Packages.gz`);
    const plain = release.files.get(`${dir}/Packages`);
    const [path, want] = gz ? [`${dir}/Packages.gz`, gz] : plain ? [`${dir}/Packages`, plain] : [undefined, undefined];
    if (!path || !want) throw new ArchiveTrustError(`${inRelease}: names no ${dir}/Packages.gz or Packages: the suite has no ${component} for ${debianArch()}`);
    const url = `${base}/${path}`;
    const data = await fetchArchiveFile(url, options.signal);
    checkFile(url, data, want);
    const body = path.endsWith('.gz') ? gunzipSync(data).toString('utf8') : data.toString('utf8');
    for (const [k, v] of parsePackages(body)) if (!packages.has(k)) packages.set(k, v);
  }
  return { suite: s, release, packages, expiredAccepted };
}

/** A package file of the index, fetched and checked against it. */
export async function fetchPackage(s: ArchiveSuite, p: PackageEntry, signal?: AbortSignal): Promise<Buffer> {
  const url = `${s.url}/${p.filename}`;
  const data = await fetchArchiveFile(url, signal);
  checkFile(url, data, { sha256: p.sha256, size: p.size });
  return data;
}
