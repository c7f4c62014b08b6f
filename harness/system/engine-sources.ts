// Where an engine tree comes from, by the lab's engine.source: `static` (Docker's static
// archives), `debian` or `ubuntu` (that distribution's package archive, its suites oldest first,
// or the one suite named), `auto` (an exact release found wherever it is: the cache, then
// Debian's archive, then Docker's static downloads). One answer for `up`, the matrix and
// `overlab engines`: the tree's bin folder and where it came from, said so reports can name it.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { folderUsage } from './files.ts';
import { ArchiveFetchError, fetchSuiteIndex, type ArchiveSuite } from './deb-archive.ts';
import { defaultSuites, machineAptSources, parseSourcesLine } from './deb-sources.ts';
import { readArchiveTree, resolveArchiveEngine, type ArchiveEngineRecord } from './deb-engine.ts';
import { ALLOW_UNVERIFIED_ENV, engineCacheRoot, refuseIfInUse, resolveEngineTree, writableCacheRoot, type EngineTree } from './engines.ts';

export type TreeSource = 'static' | 'debian' | 'ubuntu' | 'auto';

/** Where a tree came from, as reports show it. */
export interface EngineOrigin {
  kind: 'static' | 'debian' | 'ubuntu' | 'custom';
  /** The archive file (static) or the suite's address (`URL dists/SUITE`). */
  url: string;
  /** static: the archive's SHA-256; archives: docker.io's package SHA-256. */
  sha256: string;
  suite?: string;
  packageVersion?: string;
  packages?: ArchiveEngineRecord['packages'];
  expiredAccepted?: string;
  /** static: no SHA-256 was given, and the user let it run unchecked (OVERLAB_ALLOW_UNVERIFIED_ENGINE=1). */
  unverified?: boolean;
}

export interface ResolvedEngine {
  version: string;
  bin: string;
  fetched: boolean;
  origin: EngineOrigin;
}

export interface ResolveOptions {
  /** engine.suite: only this suite of the distribution. */
  suite?: string;
  /** static: the archive's SHA-256 the lab names. */
  sha256?: string;
  /** static: a folder URL holding docker-VERSION.tgz. */
  mirror?: string;
  /** Archive suites to use instead of the distribution's defaults (sources.list lines). */
  archives?: string[];
  allowExpired?: boolean;
  /** static: run an archive no SHA-256 was given for. */
  allowUnverified?: boolean;
  cacheRoot?: string;
  signal?: AbortSignal;
  onNote?: (message: string) => void;
}

/** The settings a command reads from its environment: OVERLAB_ENGINE_MIRROR, OVERLAB_ENGINE_ARCHIVES (lines), OVERLAB_ARCHIVE_ALLOW_EXPIRED=1, OVERLAB_ALLOW_UNVERIFIED_ENGINE=1. */
export function sourceOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<ResolveOptions, 'mirror' | 'archives' | 'allowExpired' | 'allowUnverified'> {
  const archives = (env['OVERLAB_ENGINE_ARCHIVES'] ?? '').split(/\n|;/).map((l) => l.trim()).filter(Boolean);
  return {
    ...(env['OVERLAB_ENGINE_MIRROR'] ? { mirror: env['OVERLAB_ENGINE_MIRROR'] } : {}),
    ...(archives.length ? { archives } : {}),
    ...(env['OVERLAB_ARCHIVE_ALLOW_EXPIRED'] === '1' ? { allowExpired: true } : {}),
    ...(env[ALLOW_UNVERIFIED_ENV] === '1' ? { allowUnverified: true } : {}),
  };
}

/** The suites a source searches: the lines given, else the distribution's defaults on this machine's mirror, cut to `suite` when named. */
export function suitesFor(distribution: 'debian' | 'ubuntu', options: Pick<ResolveOptions, 'archives' | 'suite'>): ArchiveSuite[] {
  // Lines given are that distribution's archive (a mirror, a test archive): reports name it so.
  const all = options.archives?.length ? options.archives.map((l) => ({ ...parseSourcesLine(l), distribution })) : defaultSuites(distribution, machineAptSources());
  if (!options.suite) return all;
  const named = all.filter((s) => s.suite === options.suite);
  if (named.length) return named;
  const base = all[0]!;
  return [{ ...base, suite: options.suite }];
}

/** One line for reports: `docker.io 28.5.2+dfsg4-5 of debian forky (URL)` or the static archive's address. */
export function describeOrigin(o: EngineOrigin): string {
  if (o.kind === 'static') return `${o.url} (sha256 ${o.sha256.slice(0, 12)}…${o.unverified ? `, unverified: no SHA-256 was given, run with ${ALLOW_UNVERIFIED_ENV}=1` : ''})`;
  return `docker.io ${o.packageVersion} of ${o.kind} ${o.suite} (${o.url.split(' ')[0]})${o.expiredAccepted ? `, its index expired on ${o.expiredAccepted.slice(0, 10)} and accepted (OVERLAB_ARCHIVE_ALLOW_EXPIRED=1)` : ''}`;
}

function fromArchive(t: Awaited<ReturnType<typeof resolveArchiveEngine>>): ResolvedEngine {
  const r = t.record;
  const engine = r.packages.find((p) => p.name === 'docker.io');
  return {
    version: t.version,
    bin: t.bin,
    fetched: t.fetched,
    origin: {
      kind: r.distribution,
      url: `${r.url} dists/${r.suite}`,
      sha256: engine?.sha256 ?? '',
      suite: r.suite,
      packageVersion: r.packageVersion,
      packages: r.packages,
      ...(r.expiredAccepted ? { expiredAccepted: r.expiredAccepted } : {}),
    },
  };
}

function fromStatic(t: EngineTree): ResolvedEngine {
  return { version: t.version, bin: t.bin, fetched: t.fetched, origin: { kind: 'static', url: t.url, sha256: t.sha256, ...(t.verified ? {} : { unverified: true }) } };
}

/** The engine tree of `version` from `source`. */
export async function resolveEngine(version: string, source: TreeSource, options: ResolveOptions = {}): Promise<ResolvedEngine> {
  const common = {
    ...(options.cacheRoot ? { cacheRoot: options.cacheRoot } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const archive = (distribution: 'debian' | 'ubuntu') =>
    resolveArchiveEngine(version, {
      suites: suitesFor(distribution, options),
      ...(options.allowExpired ? { allowExpired: true } : {}),
      ...(options.onNote ? { onNote: options.onNote } : {}),
      ...common,
    }).then(fromArchive);
  const statics = () =>
    resolveEngineTree(version, {
      ...(options.mirror ? { mirror: options.mirror } : {}),
      ...(options.sha256 ? { sha256: options.sha256 } : {}),
      ...(options.allowUnverified ? { allowUnverified: true } : {}),
      ...common,
    }).then(fromStatic);
  if (source === 'static') return statics();
  if (source === 'debian' || source === 'ubuntu') return archive(source);
  // auto: what the cache has, then Debian's suites, then Docker's static download.
  const cached = cachedTrees(options.cacheRoot).find((c) => c.version === version);
  if (cached) {
    const a = readArchiveTree(join(options.cacheRoot ?? engineCacheRoot(), cached.dir));
    if (a) return fromArchive(a);
    if (cached.origin === 'static') return statics(); // the cache has it: no download
  }
  try {
    return await archive('debian');
  } catch (e) {
    if (!(e instanceof ArchiveFetchError)) throw e;
    options.onNote?.(`engine ${version}: ${(e as Error).message}; trying Docker's static download`);
    return statics();
  }
}

export interface CachedEngine {
  dir: string;
  version: string;
  origin: string;
  detail: string;
  bytes: number;
}

/** The trees in the cache, from their records (no sizes: reading those walks every file). */
function cachedTrees(cacheRoot?: string): Omit<CachedEngine, 'bytes'>[] {
  const root = cacheRoot ?? engineCacheRoot();
  if (!existsSync(root)) return [];
  const out: Omit<CachedEngine, 'bytes'>[] = [];
  for (const dir of readdirSync(root).sort()) {
    if (dir.startsWith('.') || dir.endsWith('.lock')) continue;
    const a = readArchiveTree(join(root, dir));
    if (a) {
      out.push({ dir, version: a.version, origin: a.record.distribution, detail: `docker.io ${a.record.packageVersion} of ${a.record.suite}` });
      continue;
    }
    try {
      const rec = JSON.parse(readFileSync(join(root, dir, 'overlab-engine.json'), 'utf8')) as { version: string; url: string };
      out.push({ dir, version: rec.version, origin: 'static', detail: rec.url });
    } catch {
      // Not a tree.
    }
  }
  return out;
}

/** The trees in the cache, from their records, with the bytes each holds. */
export function listCachedEngines(cacheRoot?: string): CachedEngine[] {
  const root = cacheRoot ?? engineCacheRoot();
  return cachedTrees(cacheRoot).map((c) => ({ ...c, bytes: folderUsage(join(root, c.dir)).bytes }));
}

/** Removes cached trees (all, or those of the versions named); returns what went. */
export function pruneEngines(versions: string[] | undefined, cacheRoot?: string): CachedEngine[] {
  const root = writableCacheRoot(cacheRoot);
  const gone = listCachedEngines(cacheRoot).filter((c) => !versions?.length || versions.includes(c.version) || versions.includes(c.dir));
  // All checked first: a prune that would remove a tree engines run from removes nothing.
  for (const c of gone) refuseIfInUse(join(root, c.dir), 'not removed:');
  for (const c of gone) rmSync(join(root, c.dir), { recursive: true, force: true });
  return gone;
}

/** What one suite of an archive offers: docker.io and the containerd, runc and libc beside it. */
export interface SuiteOffer {
  distribution: string;
  url: string;
  suite: string;
  engine: string | undefined;
  containerd: string | undefined;
  runc: string | undefined;
  libc: string | undefined;
  /** Why the suite could not be read (unreachable, refused). */
  error?: string;
  expiredAccepted?: string;
}

/** What each suite of a distribution's archive offers, read on the chain of trust. */
export async function availableEngines(distribution: 'debian' | 'ubuntu', options: Pick<ResolveOptions, 'archives' | 'suite' | 'allowExpired' | 'signal'> = {}): Promise<SuiteOffer[]> {
  const out: SuiteOffer[] = [];
  for (const s of suitesFor(distribution, options)) {
    const base = { distribution: s.distribution, url: s.url, suite: s.suite };
    try {
      const index = await fetchSuiteIndex(s, { ...(options.allowExpired ? { allowExpired: true } : {}), ...(options.signal ? { signal: options.signal } : {}) });
      const v = (n: string) => index.packages.get(n)?.version;
      out.push({ ...base, engine: v('docker.io'), containerd: v('containerd'), runc: v('runc'), libc: v('libc6'), ...(index.expiredAccepted ? { expiredAccepted: index.expiredAccepted } : {}) });
    } catch (e) {
      options.signal?.throwIfAborted();
      out.push({ ...base, engine: undefined, containerd: undefined, runc: undefined, libc: undefined, error: (e as Error).message });
    }
  }
  return out;
}
