// Engine trees from static archives: fetched once into the cache (file:// mirror here, a
// stand-in archive in Docker's static layout), checked against a SHA-256, shared by
// concurrent callers under a lock, and failures naming the URL and the cause.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { archiveUrl, ENGINE_TREE_BINARIES, EngineFetchError, lockHolder, resolveEngineTree } from '../../harness/system/engines.ts';
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
    const all = await Promise.all([1, 2, 3, 4].map(() => resolveEngineTree('1.2.3', { mirror, cacheRoot })));
    expect(all.filter((t) => t.fetched)).to.have.length(1);
  });

  it('takes over a lock whose pid another process now has (its start time differs), and reads older locks (a bare pid)', async () => {
    const cacheRoot = join(dir, 'cache5');
    mkdirSync(cacheRoot, { recursive: true });
    const me = processRef(process.pid);
    // This process holds the pid, but did not start when the lock says: its owner is gone.
    writeFileSync(join(cacheRoot, '1.2.3.lock'), JSON.stringify({ pid: me.pid, start: me.start! + 1 }));
    const tree = await resolveEngineTree('1.2.3', { mirror, cacheRoot });
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
    const e1 = (await resolveEngineTree('9.9.9', { mirror, cacheRoot: join(dir, 'cache4') }).catch((e: unknown) => e)) as Error;
    expect(e1.message).to.equal(`cannot fetch ${mirror}/docker-9.9.9.tgz: ENOENT`);
    const e2 = (await resolveEngineTree('9.9.9', { mirror: 'http://127.0.0.1:59999', cacheRoot: join(dir, 'cache4') }).catch((e: unknown) => e)) as Error;
    expect(e2.message).to.equal('cannot fetch http://127.0.0.1:59999/docker-9.9.9.tgz: ECONNREFUSED');
  });
});
