// Engines from a distribution's package archive (Debian, Ubuntu), on apt's chain of trust: the
// suite's InRelease is checked with the archive keyring (gpgv) and only its signed text is read;
// the package index is checked against the SHA-256 and size that text gives; each package file
// against the SHA-256 and size the index gives. Anything that does not match is refused, naming
// the file. Where to look is deb-sources.ts; reading the indexes and choosing an engine's
// packages, deb-index.ts.
// Ground floor: files, HTTP and gpgv; no engine, SSH or provider code.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { PrerequisiteError } from '../errors.ts';
import { fetchBytes } from './fetch.ts';
import { parsePackages, parseRelease, type IndexedFile, type PackageEntry, type ReleaseInfo } from './deb-index.ts';

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

/** The architecture name Debian uses for this machine. */
export function debianArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : arch;
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
