// Engine trees from static archives: fetched once into the cache (file:// mirror here, a
// stand-in archive in Docker's static layout), checked against a SHA-256, shared by
// concurrent callers under a lock, and failures naming the URL and the cause.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { ALLOW_UNVERIFIED_ENV, archiveUrl, breakStaleLock, cacheLock, createLockFile, engineCacheRoot, ENGINE_TREE_BINARIES, EngineFetchError, lockHolder, processesRunningFrom, resolveEngineTree, ROOT_ENGINE_CACHE } from '../../harness/system/engines.ts';
import { pruneEngines } from '../../harness/system/engine-sources.ts';
import { processRef } from '../../harness/system/processes.ts';

describe('engine sources: static archives', () => {
  let dir: string;
  let mirror: string;
  let sum: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-engines-'));
    const tree = join(dir, 'build', 'docker');
    mkdirSync(tree, { recursive: true });
    for (const b of ENGINE_TREE_BINARIES) {
      writeFileSync(join(tree, b), `#!/bin/sh\necho "${b} 1.2.3"\n`);
      chmodSync(join(tree, b), 0o755);
    }
    mkdirSync(join(dir, 'mirror'));
    await execa('tar', ['-czf', join(dir, 'mirror', 'docker-1.2.3.tgz'), '-C', join(dir, 'build'), 'docker']);
    sum = createHash('sha256').update(readFileSync(join(dir, 'mirror', 'docker-1.2.3.tgz'))).digest('hex');
    mirror = pathToFileURL(join(dir, 'mirror')).href;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('names the archive in Docker\'s static location by default, or in the mirror folder', () => {
    expect(archiveUrl('20.10.24')).to.match(/^https:\/\/download\.docker\.com\/linux\/static\/stable\/[a-z0-9_]+\/docker-20\.10\.24\.tgz$/);
    expect(archiveUrl('20.10.24', 'file:///srv/m/')).to.equal('file:///srv/m/docker-20.10.24.tgz');
  });

  it('fetches once, checks the sum, unpacks; a second call reuses the cache', async () => {
    const cacheRoot = join(dir, 'cache1');
    const first = await resolveEngineTree('1.2.3', { mirror, sha256: sum, cacheRoot });
    expect(first).to.include({ fetched: true, sha256: sum, bin: join(cacheRoot, '1.2.3', 'docker') });
    expect(statSync(join(first.bin, 'dockerd')).mode & 0o111).to.not.equal(0);
    const second = await resolveEngineTree('1.2.3', { mirror: 'file:///nowhere', cacheRoot });
    expect(second.fetched).to.equal(false);
  });

  it('fetches once when several callers ask for the same version at once (a lock)', async () => {
    const cacheRoot = join(dir, 'cache2');
    const all = await Promise.all([1, 2, 3, 4].map(() => resolveEngineTree('1.2.3', { mirror, sha256: sum, cacheRoot })));
    expect(all.filter((t) => t.fetched)).to.have.length(1);
  });

  it('takes over a lock whose pid another process now has (its start time differs), and reads older locks (a bare pid)', async () => {
    const cacheRoot = join(dir, 'cache5');
    mkdirSync(cacheRoot, { recursive: true });
    const me = processRef(process.pid);
    // This process holds the pid, but did not start when the lock says: its owner is gone.
    writeFileSync(join(cacheRoot, '1.2.3.lock'), JSON.stringify({ pid: me.pid, start: me.start! + 1 }));
    const tree = await resolveEngineTree('1.2.3', { mirror, sha256: sum, cacheRoot });
    expect(tree.fetched).to.equal(true);
    expect(lockHolder('123')).to.deep.equal({ pid: 123 });
    expect(lockHolder('{"pid":123,"start":456}')).to.deep.equal({ pid: 123, start: 456 });
    expect(lockHolder('')).to.equal(undefined);
    expect(lockHolder('{"pid":-1}')).to.equal(undefined);
  });

  it('refuses an archive whose SHA-256 differs, naming the URL and both sums', async () => {
    const err = await resolveEngineTree('1.2.3', { mirror, sha256: '0'.repeat(64), cacheRoot: join(dir, 'cache3') }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EngineFetchError);
    expect((err as Error).message).to.include(`${mirror}/docker-1.2.3.tgz: SHA-256 is ${sum}, expected ${'0'.repeat(64)}`);
  });

  it('a failing download names the URL and the cause', async () => {
    const sha256 = '0'.repeat(64);
    const e1 = (await resolveEngineTree('9.9.9', { mirror, sha256, cacheRoot: join(dir, 'cache4') }).catch((e: unknown) => e)) as Error;
    expect(e1.message).to.equal(`cannot fetch ${mirror}/docker-9.9.9.tgz: ENOENT`);
    const e2 = (await resolveEngineTree('9.9.9', { mirror: 'http://127.0.0.1:59999', sha256, cacheRoot: join(dir, 'cache4') }).catch((e: unknown) => e)) as Error;
    expect(e2.message).to.equal('cannot fetch http://127.0.0.1:59999/docker-9.9.9.tgz: ECONNREFUSED');
  });

  it('refuses an archive no SHA-256 was given for, before downloading anything, and says the ways out', async () => {
    // A download would answer ECONNREFUSED: the refusal comes first.
    const err = (await resolveEngineTree('1.2.3', { mirror: 'http://127.0.0.1:59999', cacheRoot: join(dir, 'cache6') }).catch((e: unknown) => e)) as EngineFetchError;
    expect(err).to.be.instanceOf(EngineFetchError);
    expect(err.message).to.equal('engine 1.2.3 from http://127.0.0.1:59999/docker-1.2.3.tgz: no SHA-256 was given to check the archive, and root runs only engines it checked');
    expect(err.hint).to.include('engine.sha256').and.include('--engine-sha256 1.2.3=HEX').and.include('engine.source debian').and.include(`${ALLOW_UNVERIFIED_ENV}=1`);
  });

  it('runs it unchecked only when allowed, marked unverified; the cached tree stays unverified for a later run that is not allowed', async () => {
    const cacheRoot = join(dir, 'cache7');
    const tree = await resolveEngineTree('1.2.3', { mirror, allowUnverified: true, cacheRoot });
    expect(tree).to.include({ fetched: true, verified: false });
    const later = (await resolveEngineTree('1.2.3', { mirror, cacheRoot }).catch((e: unknown) => e)) as Error;
    expect(later.message).to.include('(the cached tree was never checked either)');
    // Given the archive's sum now, the cached tree is the one asked for.
    expect(await resolveEngineTree('1.2.3', { mirror, sha256: sum, cacheRoot })).to.include({ fetched: false, verified: true });
  });

  it("unpacks without the archive's owners and setuid bits, and refuses a link that leads out of the tree", async () => {
    const build = join(dir, 'build2');
    mkdirSync(join(build, 'docker'), { recursive: true });
    for (const b of ENGINE_TREE_BINARIES) writeFileSync(join(build, 'docker', b), '#!/bin/sh\n', { mode: 0o755 });
    chmodSync(join(build, 'docker', 'runc'), 0o4755);
    mkdirSync(join(dir, 'mirror2'), { recursive: true });
    const pack = async (name: string) => {
      await execa('tar', ['-czf', join(dir, 'mirror2', name), '--owner=1234', '--group=1234', '-C', build, 'docker']);
      return createHash('sha256').update(readFileSync(join(dir, 'mirror2', name))).digest('hex');
    };
    const m2 = pathToFileURL(join(dir, 'mirror2')).href;
    const tree = await resolveEngineTree('2.0.0', { mirror: m2, sha256: await pack('docker-2.0.0.tgz'), cacheRoot: join(dir, 'cache8') });
    const runc = statSync(join(tree.bin, 'runc'));
    expect(runc.mode & 0o6000).to.equal(0);
    if (process.getuid?.() === 0) expect(runc.uid).to.equal(0);
    symlinkSync('../../../../etc/shadow', join(build, 'docker', 'shadow'));
    const err = (await resolveEngineTree('2.0.1', { mirror: m2, sha256: await pack('docker-2.0.1.tgz'), cacheRoot: join(dir, 'cache8') }).catch((e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(EngineFetchError);
    expect(err.message, err.message).to.match(/docker-2\.0\.1\.tgz: link \/docker\/shadow -> \.\.\/\.\.\/\.\.\/\.\.\/etc\/shadow leaves the archive's tree: refused$/);
    expect(existsSync(join(dir, 'cache8', '2.0.1'))).to.equal(false);
  });

  describe('the cache lock', () => {
    it('is never seen half written: a lock file appears whole, naming pid, start time and a nonce', async () => {
      const path = join(dir, 'whole.lock');
      const text = createLockFile(path)!;
      expect(JSON.parse(readFileSync(path, 'utf8'))).to.deep.include({ pid: process.pid });
      expect(readFileSync(path, 'utf8')).to.equal(text);
      expect(createLockFile(path)).to.equal(undefined);
      expect(readdirSync(dir).filter((f) => f.startsWith('whole.lock.'))).to.deep.equal([]);
      rmSync(path);
    });

    it('of two waiters who both saw a dead owner, only one takes the lock: the second does not remove the first one\'s', () => {
      const path = join(dir, 'race.lock');
      const me = processRef(process.pid);
      const stale = JSON.stringify({ pid: me.pid, start: me.start! + 1 });
      writeFileSync(path, stale);
      // Waiter A breaks the stale lock and takes it; waiter B, who read the same stale text, comes after.
      breakStaleLock(path, stale);
      const a = createLockFile(path);
      expect(a).to.be.a('string');
      breakStaleLock(path, stale);
      expect(readFileSync(path, 'utf8')).to.equal(a);
      expect(createLockFile(path)).to.equal(undefined);
      rmSync(path);
    });

    it('is waited for while its owner lives, however long ago it was taken (a slow fetch is not a dead one)', async () => {
      const path = join(dir, 'live.lock');
      const text = createLockFile(path)!;
      utimesSync(path, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 400);
      const err = await cacheLock(path, ac.signal).catch((e: unknown) => e);
      expect(String(err)).to.match(/abort/i);
      expect(readFileSync(path, 'utf8')).to.equal(text);
      rmSync(path);
    });

    it('releases only its own lock, never one taken over from it', async () => {
      const path = join(dir, 'own.lock');
      const release = await cacheLock(path);
      writeFileSync(path, '{"pid":1,"nonce":"someone else"}');
      release();
      expect(readFileSync(path, 'utf8')).to.equal('{"pid":1,"nonce":"someone else"}');
      rmSync(path);
    });
  });

  it('never removes or replaces a tree engines run from: prune refuses it, naming the processes', async () => {
    const cacheRoot = join(dir, 'cache9');
    const tree = await resolveEngineTree('1.2.3', { mirror, sha256: sum, cacheRoot });
    copyFileSync('/bin/sleep', join(tree.bin, 'sleep'));
    const child = spawn(join(tree.bin, 'sleep'), ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      expect(processesRunningFrom(join(cacheRoot, '1.2.3'))).to.deep.equal([child.pid]);
      expect(() => pruneEngines(['1.2.3'], cacheRoot)).to.throw(EngineFetchError, `not removed: ${join(cacheRoot, '1.2.3')}: engines run from it (pid ${child.pid})`);
      expect(existsSync(tree.bin)).to.equal(true);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    expect(pruneEngines(['1.2.3'], cacheRoot).map((c) => c.version)).to.deep.equal(['1.2.3']);
  });

  it("root's cache is /var/cache/overlab/engines, never a user's ~/.cache (sudo -E keeps HOME); OVERLAB_ENGINE_CACHE names another", () => {
    expect(engineCacheRoot({ HOME: '/home/ann', XDG_CACHE_HOME: '/home/ann/.cache' }, 0)).to.equal(ROOT_ENGINE_CACHE);
    expect(ROOT_ENGINE_CACHE).to.equal('/var/cache/overlab/engines');
    expect(engineCacheRoot({ XDG_CACHE_HOME: '/home/ann/.cache' }, 1000)).to.equal('/home/ann/.cache/overlab/engines');
    expect(engineCacheRoot({ OVERLAB_ENGINE_CACHE: '/srv/engines', XDG_CACHE_HOME: '/x' }, 0)).to.equal('/srv/engines');
  });
});
