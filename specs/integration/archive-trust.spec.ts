// Engines from a package archive, on apt's chain of trust, against a doctored local archive: a
// throwaway OpenPGP key (made in a temporary GNUPGHOME) signs the suite's InRelease; tiny fake
// packages (docker.io, docker-cli, containerd, runc: shell scripts, so patchelf takes them for
// static programs) are indexed in Packages(.gz) with their SHA-256 and size. The good archive
// resolves into the cache; each doctored copy (an index, a package or a signed text changed
// after signing, another key, an expired index) is refused, naming the file or the cause.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve as resolvePath, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { ArchiveFetchError, ArchiveTrustError, debianArch } from '../../harness/system/deb-archive.ts';
import { resolveEngine, type ResolvedEngine } from '../../harness/system/engine-sources.ts';
import { testEngineCache } from './support/labs.ts';

const SUITE = 'overlabtest';
const ARCH = debianArch();
const ENGINE_VERSION = '28.5.2+dfsg4-5';
const ENGINE_DEB = `pool/main/d/docker.io/docker.io_${ENGINE_VERSION}_${ARCH}.deb`;

interface FakePackage {
  name: string;
  version: string;
  depends?: string;
  /** Path in the package -> shell script body. */
  files: Record<string, string>;
}

const PACKAGES: FakePackage[] = [
  {
    name: 'docker.io',
    version: ENGINE_VERSION,
    depends: 'containerd (>= 1.7), runc (>= 1.1)',
    files: {
      'usr/sbin/dockerd': 'if [ "$1" = --version ]; then echo "Docker version 28.5.2+dfsg4, build test"; fi',
      'usr/sbin/docker-proxy': 'echo docker-proxy',
      'usr/bin/docker-init': 'echo "tini version 0.19.0"',
    },
  },
  { name: 'docker-cli', version: ENGINE_VERSION, files: { 'usr/bin/docker': 'echo "Docker version 28.5.2+dfsg4, build test"' } },
  {
    name: 'containerd',
    version: '1.7.24~ds1-10',
    files: { 'usr/bin/containerd': 'echo "containerd 1.7.24"', 'usr/bin/containerd-shim-runc-v2': 'echo shim' },
  },
  { name: 'runc', version: '1.1.15+ds1-2', files: { 'usr/sbin/runc': 'echo "runc version 1.1.15"' } },
];

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Where a package sits in the pool, as Debian lays it out. */
function poolPath(p: FakePackage): string {
  return `pool/main/${p.name[0]}/${p.name}/${p.name}_${p.version}_${ARCH}.deb`;
}

/** The error a promise rejects with (fails when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, but it resolved');
}

describe('engines from a package archive: the chain of trust (a doctored local archive)', function () {
  this.timeout(60_000);

  let dir: string;
  let gnupg: string;
  let keyring: string;
  let archives: string;
  let caches = 0;
  const gpgEnv = () => ({ ...process.env, GNUPGHOME: gnupg });
  const gpg = (args: string[]) => execa('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { env: gpgEnv() });

  const archive = (name: string) => join(archives, name);
  const line = (name: string, key = keyring) => `deb [signed-by=${key}] ${pathToFileURL(archive(name)).href} ${SUITE} main`;
  const freshCache = () => join(dir, 'caches', String(++caches));
  const resolve = (name: string, cacheRoot: string, extra: { version?: string; allowExpired?: boolean } = {}): Promise<ResolvedEngine> =>
    resolveEngine(extra.version ?? '28.5.2', 'debian', { archives: [line(name)], cacheRoot, ...(extra.allowExpired ? { allowExpired: true } : {}) });

  const indexDir = (name: string) => join(archive(name), 'dists', SUITE, 'main', `binary-${ARCH}`);

  /** The Release text of an archive as it stands (hashes of its Packages files), with Valid-Until. */
  function releaseText(name: string, validUntil: Date | undefined): string {
    const entry = (file: string) => {
      const data = readFileSync(join(indexDir(name), file));
      return ` ${sha256(data)} ${String(data.length).padStart(8)} main/binary-${ARCH}/${file}`;
    };
    const debianDate = (d: Date) => d.toUTCString().replace(/GMT$/, 'UTC');
    return [
      'Origin: overlab-test',
      'Label: overlab-test',
      `Suite: ${SUITE}`,
      `Codename: ${SUITE}`,
      `Date: ${debianDate(new Date(Date.now() - 3600_000))}`,
      ...(validUntil ? [`Valid-Until: ${debianDate(validUntil)}`] : []),
      `Architectures: ${ARCH}`,
      'Components: main',
      'Description: a doctored archive for overlab tests',
      'SHA256:',
      entry('Packages'),
      entry('Packages.gz'),
      '',
    ].join('\n');
  }

  /** Writes dists/SUITE/Release and signs it into InRelease with the key of `signer`. */
  async function signRelease(name: string, text: string, signer: string): Promise<void> {
    const d = join(archive(name), 'dists', SUITE);
    writeFileSync(join(d, 'Release'), text);
    rmSync(join(d, 'InRelease'), { force: true });
    await gpg(['--local-user', signer, '--digest-algo', 'SHA256', '--clearsign', '--output', join(d, 'InRelease'), join(d, 'Release')]);
  }

  /** A copy of the good archive to doctor. */
  function copyGood(name: string): string {
    cpSync(archive('good'), archive(name), { recursive: true });
    return archive(name);
  }

  /** The engines CLI's cache (root's must be a folder only root can change), removed after. */
  let cliCache: string | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-archive-trust-'));
    gnupg = join(dir, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    archives = join(dir, 'archives');

    // Two throwaway keys: the archive's (exported as the signed-by keyring) and another.
    await gpg(['--quick-gen-key', 'overlab test <t@example.invalid>', 'ed25519', 'sign', 'never']);
    await gpg(['--quick-gen-key', 'overlab other <o@example.invalid>', 'ed25519', 'sign', 'never']);
    keyring = join(dir, 'archive-keyring.gpg');
    await gpg(['--output', keyring, '--export', 't@example.invalid']);

    // The packages, the pool and the index.
    const good = archive('good');
    const stanzas: string[] = [];
    for (const p of PACKAGES) {
      const root = join(dir, 'build', p.name);
      mkdirSync(join(root, 'DEBIAN'), { recursive: true });
      for (const [path, body] of Object.entries(p.files)) {
        mkdirSync(join(root, dirname(path)), { recursive: true });
        writeFileSync(join(root, path), `#!/bin/sh\n${body}\n`);
        chmodSync(join(root, path), 0o755);
      }
      const control = [
        `Package: ${p.name}`,
        `Version: ${p.version}`,
        `Architecture: ${ARCH}`,
        'Maintainer: overlab test <t@example.invalid>',
        ...(p.depends ? [`Depends: ${p.depends}`] : []),
        `Description: fake ${p.name} for overlab tests`,
        ' Shell scripts standing in for the programs.',
      ];
      writeFileSync(join(root, 'DEBIAN', 'control'), control.join('\n') + '\n');
      const deb = join(good, poolPath(p));
      mkdirSync(dirname(deb), { recursive: true });
      await execa('dpkg-deb', ['--build', '--root-owner-group', root, deb]);
      const data = readFileSync(deb);
      stanzas.push(
        [
          ...control.slice(0, -2),
          `Filename: ${poolPath(p)}`,
          `Size: ${data.length}`,
          `SHA256: ${sha256(data)}`,
          ...control.slice(-2),
        ].join('\n'),
      );
    }
    mkdirSync(indexDir('good'), { recursive: true });
    const packages = stanzas.join('\n\n') + '\n';
    writeFileSync(join(indexDir('good'), 'Packages'), packages);
    writeFileSync(join(indexDir('good'), 'Packages.gz'), gzipSync(Buffer.from(packages)));
    await signRelease('good', releaseText('good', new Date(Date.now() + 7 * 86400_000)), 't@example.invalid');

    // Doctored copies, each changed after signing (or signed otherwise).
    // A package's Version changed in the index and recompressed: a well-formed Packages.gz the signature does not cover.
    copyGood('index-changed');
    const gz = join(indexDir('index-changed'), 'Packages.gz');
    const edited = gunzipSync(readFileSync(gz)).toString('utf8').replace(`Version: ${ENGINE_VERSION}`, 'Version: 28.5.3+dfsg1-1');
    writeFileSync(gz, gzipSync(Buffer.from(edited)));

    // One byte of docker.io's package flipped.
    copyGood('deb-changed');
    const deb = join(archive('deb-changed'), ENGINE_DEB);
    const bytes = readFileSync(deb);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    writeFileSync(deb, bytes);

    // The index changed and the InRelease's signed text edited to match it, without signing again.
    copyGood('release-edited');
    const gz2 = join(indexDir('release-edited'), 'Packages.gz');
    const before2 = readFileSync(gz2);
    const after2 = gzipSync(Buffer.from(gunzipSync(before2).toString('utf8').replace(`Version: ${ENGINE_VERSION}`, 'Version: 28.5.3+dfsg1-1')));
    writeFileSync(gz2, after2);
    const inRelease = join(archive('release-edited'), 'dists', SUITE, 'InRelease');
    const signed = readFileSync(inRelease, 'utf8');
    const doctored = signed.replace(
      ` ${sha256(before2)} ${String(before2.length).padStart(8)} main/binary-${ARCH}/Packages.gz`,
      ` ${sha256(after2)} ${String(after2.length).padStart(8)} main/binary-${ARCH}/Packages.gz`,
    );
    if (doctored === signed) throw new Error('test setup: the Packages.gz line was not found in the signed InRelease');
    writeFileSync(inRelease, doctored);

    // Signed by another key than the keyring's.
    copyGood('other-key');
    await signRelease('other-key', readFileSync(join(archive('good'), 'dists', SUITE, 'Release'), 'utf8'), 'o@example.invalid');

    // A signed index whose Valid-Until has passed.
    copyGood('expired');
    await signRelease('expired', releaseText('expired', new Date(Date.now() - 86400_000)), 't@example.invalid');
  });

  after(async () => {
    try {
      if (gnupg) await execa('gpgconf', ['--kill', 'all'], { env: gpgEnv(), reject: false });
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (cliCache) rmSync(cliCache, { recursive: true, force: true });
    }
  });

  it('resolves the good archive into the cache; a second resolve is a cache hit, even with the archive gone', async () => {
    copyGood('served');
    const cacheRoot = freshCache();
    const first = await resolve('served', cacheRoot);
    // A line given is the distribution's archive at another address: cached as debian-X.Y.Z-<hash of the address>.
    const [treeName] = readdirSync(cacheRoot);
    expect(treeName).to.match(/^debian-28\.5\.2-[0-9a-f]{8}$/);
    const treeDir = join(cacheRoot, treeName!);
    expect(first.fetched).to.equal(true);
    expect(first.version).to.equal('28.5.2');
    expect(first.bin).to.equal(join(treeDir, 'bin'));
    expect(first.origin).to.include({ kind: 'debian', packageVersion: ENGINE_VERSION, suite: SUITE, url: `${pathToFileURL(archive('served')).href} dists/${SUITE}` });
    expect(first.origin.expiredAccepted).to.equal(undefined);
    expect(first.origin.sha256).to.equal(sha256(readFileSync(join(archive('served'), ENGINE_DEB))));
    expect(first.origin.packages?.map((p) => p.name)).to.deep.equal(['containerd', 'docker-cli', 'docker.io', 'runc']);
    for (const b of ['dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2', 'runc', 'docker-init', 'docker-proxy']) {
      expect(statSync(join(first.bin, b)).mode & 0o111, b).to.not.equal(0);
    }
    const version = await execa(join(first.bin, 'dockerd'), ['--version']);
    expect(version.stdout).to.equal('Docker version 28.5.2+dfsg4, build test');
    expect(readdirSync(cacheRoot).sort()).to.deep.equal([treeName]);

    rmSync(archive('served'), { recursive: true, force: true });
    const second = await resolve('served', cacheRoot);
    expect(second.fetched).to.equal(false);
    expect(second.bin).to.equal(first.bin);
    expect(second.origin).to.include({ kind: 'debian', packageVersion: ENGINE_VERSION, suite: SUITE });
    // Asked by its package version, the same tree.
    const third = await resolve('served', cacheRoot, { version: ENGINE_VERSION });
    expect(third.fetched).to.equal(false);
    expect(third.bin).to.equal(first.bin);
  });

  it('refuses a Packages.gz changed after signing, naming it', async () => {
    const cacheRoot = freshCache();
    const e = await rejection(resolve('index-changed', cacheRoot));
    expect(e).to.be.instanceOf(ArchiveTrustError);
    expect(e.message).to.contain(`${pathToFileURL(indexDir('index-changed')).href}/Packages.gz: SHA-256`);
    expect(e.message).to.contain('does not match the signed index');
    expect((existsSync(cacheRoot) ? readdirSync(cacheRoot) : []).filter((f) => f.startsWith('debian-28.5.2'))).to.deep.equal([]);
  });

  it('refuses a package changed after indexing, naming its pool file, and leaves nothing in the cache', async () => {
    const cacheRoot = freshCache();
    const e = await rejection(resolve('deb-changed', cacheRoot));
    expect(e).to.be.instanceOf(ArchiveTrustError);
    expect(e.message).to.contain(`${pathToFileURL(archive('deb-changed')).href}/${ENGINE_DEB}: SHA-256`);
    expect(e.message).to.contain('does not match the signed index');
    expect(readdirSync(cacheRoot)).to.deep.equal([]);
    // The other packages' unpacking, still under way when the refusal came, leaves nothing either.
    await new Promise((r) => setTimeout(r, 1000));
    expect(readdirSync(cacheRoot)).to.deep.equal([]);
  });

  it('refuses a changed package served over HTTP while the others are still downloading, and nothing unpacks into the cache afterwards', async () => {
    // The archive folder served on loopback only; every package but docker.io's (the changed one,
    // refused at once) answers ~400 ms late, so the refusal comes while the others are in flight.
    const served = archive('deb-changed');
    const server: Server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      const file = resolvePath(served, '.' + path);
      const rel = relative(served, file);
      if (req.method !== 'GET' || rel.startsWith('..') || rel.startsWith(sep) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404).end();
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        const data = readFileSync(file);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length }).end(data);
      };
      if (file.endsWith('.deb') && !file.endsWith(`/${ENGINE_DEB}`)) setTimeout(send, 400);
      else send();
    });
    server.on('clientError', (_e, socket) => socket.destroy());
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => ok());
    });
    try {
      const { port } = server.address() as AddressInfo;
      const url = `http://127.0.0.1:${port}`;
      const cacheRoot = freshCache();
      const e = await rejection(resolveEngine('28.5.2', 'debian', { archives: [`deb [signed-by=${keyring}] ${url} ${SUITE} main`], cacheRoot }));
      expect(e).to.be.instanceOf(ArchiveTrustError);
      expect(e.message).to.contain(`${url}/${ENGINE_DEB}: SHA-256`);
      expect(e.message).to.contain('does not match the signed index');
      // Long after the late packages were due: no temporary folder (.debian-28.5.2-*.tmp) came
      // back, no tree, no lock; readdirSync lists hidden entries too.
      await new Promise((r) => setTimeout(r, 1500));
      expect(existsSync(cacheRoot) ? readdirSync(cacheRoot) : []).to.deep.equal([]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  it('refuses an InRelease whose signed text was edited without signing again', async () => {
    const cacheRoot = freshCache();
    const e = await rejection(resolve('release-edited', cacheRoot));
    expect(e).to.be.instanceOf(ArchiveTrustError);
    expect(e.message).to.contain(`${pathToFileURL(archive('release-edited')).href}/dists/${SUITE}/InRelease: signature not valid for keyring ${keyring}`);
    expect(e.message).to.match(/BAD signature/);
    expect((existsSync(cacheRoot) ? readdirSync(cacheRoot) : []).filter((f) => f.startsWith('debian-28.5.2'))).to.deep.equal([]);
  });

  it('refuses an InRelease signed by another key than the keyring\'s', async () => {
    const cacheRoot = freshCache();
    const e = await rejection(resolve('other-key', cacheRoot));
    expect(e).to.be.instanceOf(ArchiveTrustError);
    expect(e.message).to.contain(`${pathToFileURL(archive('other-key')).href}/dists/${SUITE}/InRelease: signature not valid for keyring ${keyring}`);
    expect(e.message).to.match(/No public key/);
  });

  it('refuses an index past its Valid-Until, and takes it when told to, saying so', async () => {
    const cacheRoot = freshCache();
    const e = await rejection(resolve('expired', cacheRoot));
    expect(e).to.be.instanceOf(ArchiveTrustError);
    expect(e.message).to.contain(`${pathToFileURL(archive('expired')).href}/dists/${SUITE}/InRelease: the signed index expired on`);
    expect((existsSync(cacheRoot) ? readdirSync(cacheRoot) : []).filter((f) => f.startsWith('debian-28.5.2'))).to.deep.equal([]);

    const taken = await resolve('expired', cacheRoot, { allowExpired: true });
    expect(taken.fetched).to.equal(true);
    expect(taken.origin.packageVersion).to.equal(ENGINE_VERSION);
    expect(taken.origin.expiredAccepted).to.be.a('string');
    expect(new Date(taken.origin.expiredAccepted!).getTime()).to.be.below(Date.now());
  });

  it('names what the suite offers when no suite has the version asked for', async () => {
    const cacheRoot = freshCache();
    const e = await rejection(resolve('good', cacheRoot, { version: '9.9.9' }));
    expect(e).to.be.instanceOf(ArchiveFetchError);
    expect(e.message).to.contain(`no suite offers docker.io 9.9.9 (${SUITE}: ${ENGINE_VERSION})`);
    expect(existsSync(cacheRoot) ? readdirSync(cacheRoot) : []).to.deep.equal([]);
  });

  it('overlab engines: --available lists what the suite offers, fetch builds a release into the cache, list shows it, prune removes it', async () => {
    copyGood('cli');
    // Root's cache must be a folder only root can change: one of this test's own.
    const cache = (cliCache = testEngineCache(`trust-${process.pid}`));
    const cli = (args: string[]) =>
      execa('node', [join(import.meta.dirname, '../../bin/overlab.js'), 'engines', ...args], { reject: false, env: { OVERLAB_ENGINE_CACHE: cache, OVERLAB_ENGINE_ARCHIVES: line('cli'), FORCE_COLOR: '0' } });
    const offers = await cli(['--available', '--json']);
    expect(offers.exitCode, offers.stderr).to.equal(0);
    expect(JSON.parse(offers.stdout)).to.deep.equal([
      { distribution: 'debian', url: pathToFileURL(archive('cli')).href, suite: SUITE, engine: ENGINE_VERSION, containerd: '1.7.24~ds1-10', runc: '1.1.15+ds1-2', libc: undefined },
    ].map((o) => JSON.parse(JSON.stringify(o))));
    const fetched = await cli(['fetch', '28.5.2', '--source', 'debian', '--json']);
    expect(fetched.exitCode, fetched.stderr).to.equal(0);
    const [f] = JSON.parse(fetched.stdout) as { version: string; fetched: boolean; bin: string; origin: { kind: string; packageVersion: string } }[];
    expect(f).to.deep.include({ version: '28.5.2', fetched: true });
    expect(f!.origin).to.deep.include({ kind: 'debian', packageVersion: ENGINE_VERSION });
    expect(f!.bin.startsWith(join(cache, 'debian-28.5.2-'))).to.equal(true);
    const listed = JSON.parse((await cli(['--json'])).stdout) as { engines: { version: string; origin: string; dir: string }[] };
    expect(listed.engines.map((e) => [e.version, e.origin])).to.deep.equal([['28.5.2', 'debian']]);
    const pruned = await cli(['prune', '28.5.2']);
    expect(pruned.stdout).to.match(/^removed debian-28\.5\.2-[0-9a-f]{8} \(\d+ MiB\)$/m);
    expect(JSON.parse((await cli(['--json'])).stdout).engines).to.deep.equal([]);
  });

  it('auto: a release from the cache first (an archive tree or a static one, with no download), else the archive', async () => {
    copyGood('auto');
    const cacheRoot = freshCache();
    const first = await resolveEngine('28.5.2', 'auto', { archives: [line('auto')], cacheRoot });
    expect(first).to.deep.include({ fetched: true });
    expect(first.origin.kind).to.equal('debian');
    rmSync(archive('auto'), { recursive: true, force: true });
    const again = await resolveEngine('28.5.2', 'auto', { archives: [line('auto')], cacheRoot });
    expect(again).to.deep.include({ fetched: false, bin: first.bin });
    // A static tree in the cache (as Docker's static archive leaves it): auto takes it, asking no archive or mirror.
    const staticDir = join(cacheRoot, '9.8.7');
    mkdirSync(join(staticDir, 'docker'), { recursive: true });
    for (const b of ['dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2', 'runc', 'docker-init', 'docker-proxy']) writeFileSync(join(staticDir, 'docker', b), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(staticDir, 'overlab-engine.json'), JSON.stringify({ version: '9.8.7', url: 'file:///gone/docker-9.8.7.tgz', sha256: 'a'.repeat(64), fetchedAt: new Date().toISOString(), verified: true }));
    // The archive given would be refused (another key signs it): asked at all, the call would fail.
    const st = await resolveEngine('9.8.7', 'auto', { archives: [line('other-key')], mirror: 'file:///nowhere', cacheRoot });
    expect(st).to.deep.include({ fetched: false, bin: join(staticDir, 'docker') });
    expect(st.origin).to.deep.include({ kind: 'static', url: 'file:///gone/docker-9.8.7.tgz' });
  });
});

