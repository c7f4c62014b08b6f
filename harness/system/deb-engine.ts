// Engine trees from a distribution's package archive, cached per distribution and release
// ($cache/overlab/engines/debian-28.5.2/): found in the first suite (oldest first) whose
// docker.io is the release asked for, fetched on the chain of trust (deb-archive.ts), unpacked
// and bound to the suite's own C library (deb-tree.ts). Safe when several cells ask at once: one
// builds under the cache lock, the others wait and find it. A tree is built beside its place and
// renamed into it, then checked where it lives: a tree that fails the check is removed.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { ArchiveFetchError, ArchiveTrustError, debianArch, fetchPackage, fetchSuiteIndex, type ArchiveSuite, type SuiteIndex } from './deb-archive.ts';
import { selectEngine, upstreamVersion } from './deb-index.ts';
import { DEFAULT_ARCHIVE_URLS } from './deb-sources.ts';
import { bindToSuiteLibc, checkLibrariesInTree, checkLinksInside, findPrograms, linkBin, mergeInto, pruneTree, unpackDeb, UNUSED_FOLDERS } from './deb-tree.ts';
import { cacheLock, ENGINE_TREE_BINARIES, refuseIfInUse, writableCacheRoot } from './engines.ts';
import { mapLimit } from '../wait.ts';

/** Paths in an engine tree's folder that hosts are never sent (left in trees cached before pruneTree dropped them). */
export const UNSENT_PATHS = UNUSED_FOLDERS.map((f) => `root/${f}`);

/** What a tree from an archive is made of, as recorded beside it (overlab-engine.json). */
export interface ArchiveEngineRecord {
  version: string;
  /** docker.io's own version in the suite (`28.5.2+dfsg4-5`). */
  packageVersion: string;
  distribution: ArchiveSuite['distribution'];
  url: string;
  suite: string;
  /** The signed index's date. */
  indexDate: string | undefined;
  /** When the signed index had expired and was accepted anyway: the date it expired. */
  expiredAccepted?: string;
  packages: { name: string; version: string; sha256: string }[];
  fetchedAt: string;
}

export interface ArchiveEngineTree {
  version: string;
  bin: string;
  record: ArchiveEngineRecord;
  fetched: boolean;
}

export interface ArchiveFetchOptions {
  suites: ArchiveSuite[];
  allowExpired?: boolean;
  cacheRoot?: string;
  signal?: AbortSignal;
  /** Told of each suite looked at and why it was passed over. */
  onNote?: (message: string) => void;
}

/**
 * The cache folder of a release from an archive: `debian-28.5.2` from the distribution's own
 * archive, `debian-28.5.2-1a2b3c4d` from another (a mirror of one's own, a test archive), so
 * two archives' trees of one version never replace each other.
 */
export function archiveTreeDir(root: string, suite: Pick<ArchiveSuite, 'distribution' | 'url'>, version: string): string {
  const own = suite.url === DEFAULT_ARCHIVE_URLS[suite.distribution as 'debian' | 'ubuntu'];
  return join(root, own ? `${suite.distribution}-${version}` : `${suite.distribution}-${version}-${createHash('sha256').update(suite.url).digest('hex').slice(0, 8)}`);
}

export function readArchiveTree(dir: string, wanted?: string): ArchiveEngineTree | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dir, 'overlab-engine.json'), 'utf8')) as ArchiveEngineRecord;
    if (!record.packageVersion || (wanted && record.version !== wanted && record.packageVersion !== wanted)) return undefined;
    if (ENGINE_TREE_BINARIES.some((b) => !existsSync(join(dir, 'bin', b)))) return undefined;
    return { version: record.version, bin: join(dir, 'bin'), record, fetched: false };
  } catch {
    return undefined;
  }
}

/**
 * The engine `version` (X.Y.Z, or a package version such as 28.5.2+dfsg4-5) from the first of
 * `suites` that has it as docker.io, from the cache when built before. A suite the mirror does
 * not have is passed over (and said); a signature, an expiry or a hash that does not hold is an
 * error at once: a refused index is never skipped in favour of another.
 */
export async function resolveArchiveEngine(version: string, options: ArchiveFetchOptions): Promise<ArchiveEngineTree> {
  const root = writableCacheRoot(options.cacheRoot);
  const upstream = upstreamVersion(version);
  const cached = () => {
    for (const s of options.suites) {
      const hit = readArchiveTree(archiveTreeDir(root, s, upstream), version);
      if (hit && hit.record.url === s.url && options.suites.some((x) => x.suite === hit.record.suite && x.url === hit.record.url)) return hit;
    }
    return undefined;
  };
  const hit = cached();
  if (hit) return hit;

  const offers: string[] = [];
  let found: { index: SuiteIndex; selection: NonNullable<ReturnType<typeof selectEngine>> } | undefined;
  for (const suite of options.suites) {
    let index: SuiteIndex;
    try {
      index = await fetchSuiteIndex(suite, { ...(options.allowExpired ? { allowExpired: true } : {}), ...(options.signal ? { signal: options.signal } : {}) });
    } catch (e) {
      if (e instanceof ArchiveFetchError) {
        options.onNote?.(`${suite.url} ${suite.suite}: passed over: ${e.message}`);
        offers.push(`${suite.suite}: unreachable`);
        continue;
      }
      throw e;
    }
    const selection = selectEngine(index.packages, version);
    if (selection) {
      found = { index, selection };
      break;
    }
    offers.push(`${suite.suite}: ${index.packages.get('docker.io')?.version ?? 'no docker.io'}`);
  }
  if (!found) {
    throw new ArchiveFetchError(`engine ${version}: no suite offers docker.io ${version} (${offers.join('; ')})`, {
      hint: 'Pick a version a suite offers (`overlab engines --available`), or name another archive.',
    });
  }
  const { index, selection } = found;
  const distribution = index.suite.distribution;
  const dir = archiveTreeDir(root, index.suite, upstream);
  mkdirSync(root, { recursive: true });
  const unlock = await cacheLock(`${dir}.lock`, options.signal);
  try {
    const again = cached();
    if (again) return again;
    const base = basename(dir);
    const tmp = join(root, `.${base}.${process.pid}.tmp`);
    for (const stale of readdirSync(root).filter((f) => f.startsWith(`.${base}.`))) rmSync(join(root, stale), { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      // Every download ends before the folder goes: the first failure stops the others and is
      // thrown once all have settled (a late one would otherwise unpack into a removed folder).
      const stop = new AbortController();
      const signal = options.signal ? AbortSignal.any([stop.signal, options.signal]) : stop.signal;
      let failure: unknown;
      await mapLimit(selection.packages, 4, async (p) => {
        if (failure !== undefined) return;
        try {
          const deb = await fetchPackage(index.suite, p, signal);
          await unpackDeb(`${p.name}_${p.version}`, deb, join(tmp, 'pkgs', p.name), signal);
        } catch (e) {
          if (failure === undefined) failure = e;
          stop.abort();
        }
      });
      if (failure !== undefined) {
        options.signal?.throwIfAborted();
        throw failure;
      }
      for (const p of selection.packages) mergeInto(join(tmp, 'pkgs', p.name), join(tmp, 'root'));
      rmSync(join(tmp, 'pkgs'), { recursive: true, force: true });
      checkLinksInside(join(tmp, 'root'));
      const { found: programs, missing } = findPrograms(join(tmp, 'root'));
      if (missing.length) throw new ArchiveTrustError(`engine ${version} of ${index.suite.suite}: the packages ${selection.packages.map((p) => p.name).join(', ')} hold no ${missing.join(', ')}`);
      pruneTree(join(tmp, 'root'), programs);
      await bindToSuiteLibc(programs, join(tmp, 'root'), join(dir, 'root'), debianArch() === 'arm64' ? 'arm64' : 'x64');
      linkBin(join(tmp, 'bin'), programs, join(dir, 'root'), join(tmp, 'root'));
      const record: ArchiveEngineRecord = {
        version: upstream,
        packageVersion: selection.engine.version,
        distribution,
        url: index.suite.url,
        suite: index.suite.suite,
        indexDate: index.release.date,
        ...(index.expiredAccepted ? { expiredAccepted: index.expiredAccepted } : {}),
        packages: selection.packages.map((p) => ({ name: p.name, version: p.version, sha256: p.sha256 })),
        fetchedAt: new Date().toISOString(),
      };
      writeFileSync(join(tmp, 'overlab-engine.json'), JSON.stringify(record, null, 2) + '\n');
      refuseIfInUse(dir, `engine ${version}: cannot replace`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    try {
      // Where it lives now: every program's libraries resolve inside the tree.
      for (const b of ENGINE_TREE_BINARIES) await checkLibrariesInTree(b, join(dir, 'bin', b), join(dir, 'root'));
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const tree = readArchiveTree(dir, version);
    if (!tree) throw new ArchiveTrustError(`engine ${version}: the tree built in ${dir} cannot be read back`);
    return { ...tree, fetched: true };
  } finally {
    unlock();
  }
}
