// Engine trees: Docker's static release archives (docker-VERSION.tgz, the layout of
// download.docker.com/linux/static: docker/dockerd, docker/containerd, docker/runc, ...),
// fetched once into the engine cache (engineCacheRoot()/VERSION/), checked against the SHA-256
// given for it (refused without one unless the user says so), and unpacked as root runs it:
// no owners, no setuid bits, no link out. Providers only ever see the resolved tree.
// Ground floor: no engine, SSH or provider code here, only files, HTTP and tar.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { PrerequisiteError } from '../errors.ts';
import { sanitizeTree } from './deb-tree.ts';
import { engineCacheRoot, ROOT_ENGINE_CACHE, writableCacheRoot } from './engine-cache.ts';
import { fetchBytes } from './fetch.ts';
import { listDir } from './files.ts';
import { breakStaleLock, createLockFile, lockHolder, readLock, releaseLock } from './lock-file.ts';
import { isSameProcess } from './processes.ts';

export { breakStaleLock, createLockFile, lockHolder };
export { engineCacheRoot, ROOT_ENGINE_CACHE, writableCacheRoot };

/** Where Docker publishes its static builds for this machine's architecture. */
export const DOCKER_STATIC_URL = `https://download.docker.com/linux/static/stable/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}`;

/** The binaries a tree must hold for overlab to run an engine from it (dockerd finds the rest on its PATH). */
export const ENGINE_TREE_BINARIES = ['dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2', 'runc', 'docker-init', 'docker-proxy'];

/** Set to run a static archive no SHA-256 was given for; every report then says it ran unverified. */
export const ALLOW_UNVERIFIED_ENV = 'OVERLAB_ALLOW_UNVERIFIED_ENGINE';

/** The archive's address: the mirror (a folder URL holding docker-VERSION.tgz) or Docker's own. */
export function archiveUrl(version: string, mirror?: string): string {
  return `${(mirror || DOCKER_STATIC_URL).replace(/\/+$/, '')}/docker-${version}.tgz`;
}

/** A download, a checksum or an unpacking failed: names the URL and the cause. */
export class EngineFetchError extends PrerequisiteError {}

export interface EngineTree {
  version: string;
  /** The folder holding dockerd, containerd, runc...: the daemon's PATH starts here. */
  bin: string;
  url: string;
  sha256: string;
  /** True when this call downloaded it; false when the cache had it. */
  fetched: boolean;
  /** The archive was checked against a SHA-256 given for it; false only with allowUnverified. */
  verified: boolean;
}

export interface FetchOptions {
  mirror?: string;
  sha256?: string;
  /** Run an archive no SHA-256 was given for (ALLOW_UNVERIFIED_ENV): the tree is marked unverified. */
  allowUnverified?: boolean;
  cacheRoot?: string;
  signal?: AbortSignal;
}

interface Record_ {
  version: string;
  url: string;
  sha256: string;
  fetchedAt: string;
  /** The archive matched a SHA-256 given for it (absent in records of older versions: unverified). */
  verified?: boolean;
}

/**
 * The engine tree of `version`, from the cache or fetched into it. Safe when several cells ask
 * for one version at once: one fetches under a lock, the others wait and find it cached. The
 * tree is unpacked beside its final place and renamed into it, so a half-unpacked tree is never
 * seen, and an interrupted fetch leaves only a temporary folder the next fetch removes.
 */
export async function resolveEngineTree(version: string, options: FetchOptions = {}): Promise<EngineTree> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new EngineFetchError(`engine version "${version}" names no static archive: it must be X.Y.Z`);
  const root = writableCacheRoot(options.cacheRoot);
  const dir = join(root, version);
  const url = archiveUrl(version, options.mirror);
  const cached = () => readCached(dir, version, url, options.sha256);
  const hit = cached();
  if (hit && (hit.verified || options.allowUnverified)) return hit;
  // Docker publishes no checksums beside its static archives: without one, root would run whatever the mirror served.
  if (!options.sha256 && !options.allowUnverified) {
    throw new EngineFetchError(`engine ${version} from ${url}: no SHA-256 was given to check the archive${hit ? ' (the cached tree was never checked either)' : ''}, and root runs only engines it checked`, {
      hint: `Give engine.sha256 in the lab (--engine-sha256 ${version}=HEX for a matrix), or take the release from a signed package archive (engine.source debian or ubuntu), or set ${ALLOW_UNVERIFIED_ENV}=1 to run it unchecked: the reports then say so.`,
    });
  }
  mkdirSync(root, { recursive: true });
  const unlock = await cacheLock(join(root, `${version}.lock`), options.signal);
  try {
    const again = cached(); // another cell may have fetched it while this one waited
    if (again) return again;
    const tmp = join(root, `.${version}.${process.pid}.tmp`);
    for (const stale of readdirSync(root).filter((f) => f.startsWith(`.${version}.`))) rmSync(join(root, stale), { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    try {
      const archive = join(tmp, `docker-${version}.tgz`);
      writeFileSync(archive, await download(url, options.signal));
      const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
      if (options.sha256 && options.sha256 !== sha256) {
        throw new EngineFetchError(`${url}: SHA-256 is ${sha256}, expected ${options.sha256}`, { hint: 'The archive is not the one the lab names: check the mirror, or the sha256 given.' });
      }
      // Root unpacks: without the archive's owners and setuid bits, and no link may lead out.
      const r = await execa('tar', ['-xzf', archive, '--no-same-owner', '--no-same-permissions', '-C', tmp], { reject: false, ...(options.signal ? { cancelSignal: options.signal } : {}) });
      if (r.exitCode !== 0) throw new EngineFetchError(`${url}: cannot unpack it: ${String(r.stderr).trim() || `tar exit ${r.exitCode}`}`);
      rmSync(archive);
      try {
        sanitizeTree(url, tmp);
      } catch (e) {
        throw new EngineFetchError((e as Error).message);
      }
      const missing = ENGINE_TREE_BINARIES.filter((b) => !existsSync(join(tmp, 'docker', b)));
      if (missing.length) throw new EngineFetchError(`${url}: not a Docker static archive: docker/${missing.join(', docker/')} missing`);
      const verified = options.sha256 === sha256;
      const record: Record_ = { version, url, sha256, fetchedAt: new Date().toISOString(), verified };
      writeFileSync(join(tmp, 'overlab-engine.json'), JSON.stringify(record, null, 2) + '\n');
      refuseIfInUse(dir, `engine ${version}: cannot replace`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(tmp, dir);
      return { version, bin: join(dir, 'docker'), url, sha256, fetched: true, verified };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  } finally {
    unlock();
  }
}

function readCached(dir: string, version: string, url: string, sha256: string | undefined): EngineTree | undefined {
  try {
    const rec = JSON.parse(readFileSync(join(dir, 'overlab-engine.json'), 'utf8')) as Record_;
    // A cached tree of another checksum than the one asked for is not the engine wanted.
    if (sha256 && rec.sha256 !== sha256) return undefined;
    if (ENGINE_TREE_BINARIES.some((b) => !existsSync(join(dir, 'docker', b)))) return undefined;
    return { version, bin: join(dir, 'docker'), url: rec.url ?? url, sha256: rec.sha256, fetched: false, verified: rec.verified === true || sha256 === rec.sha256 };
  } catch {
    return undefined;
  }
}

function download(url: string, signal?: AbortSignal): Promise<Buffer> {
  // Only a network failure gets the hint: a missing file or a 404 says what is wrong by itself.
  return fetchBytes(url, (m, what) => new EngineFetchError(m, what === 'network' ? { hint: 'No internet here? Serve the archives from a folder and pass --engine-mirror file:///that/folder.' } : {}), signal);
}

/**
 * The cache's lock for one tree (lock-file.ts: whole or absent, taken over from a dead owner
 * only). One whose owner lives is waited for, however long: a slow fetch is not a dead one.
 */
export async function cacheLock(path: string, signal?: AbortSignal): Promise<() => void> {
  for (;;) {
    const mine = createLockFile(path);
    if (mine !== undefined) {
      // Only our own: never a lock that someone took over from us meanwhile.
      return () => releaseLock(path, mine);
    }
    const seen = readLock(path);
    const holder = lockHolder(seen);
    if (holder && !isSameProcess(holder)) breakStaleLock(path, seen);
    signal?.throwIfAborted();
    await sleep(100);
  }
}

/**
 * The processes running a program from inside `dir` (their /proc/PID/exe): a tree they run from
 * is in use and is never removed or replaced under them.
 */
export function processesRunningFrom(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of listDir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const exe = readlinkSync(`/proc/${entry}/exe`);
      if (exe === dir || exe.startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // Gone, a kernel thread, or not ours to read.
    }
  }
  return pids;
}

/** Refuses to remove or replace a tree engines run from, naming them. */
export function refuseIfInUse(dir: string, what: string): void {
  const pids = processesRunningFrom(dir);
  if (pids.length) {
    throw new EngineFetchError(`${what} ${dir}: engines run from it (pid ${pids.join(', ')})`, { hint: 'Take the labs that run it down first (`overlab status` lists them).' });
  }
}



/**
 * The engine's exact version string as its API reports it (`20.10.24+dfsg1`), read from the
 * tree's `dockerd --version` (`Docker version 20.10.24+dfsg1, build 5d6db84`), so a cell whose
 * engine never answered is named the same way as one that did.
 */
export async function engineVersionString(dockerd: string): Promise<string> {
  const r = await execa(dockerd, ['--version'], { reject: false });
  const out = String(r.stdout).trim();
  return /^Docker version ([^\s,]+)/.exec(out)?.[1] ?? (out || `unknown (${dockerd} --version: exit ${r.exitCode})`);
}
