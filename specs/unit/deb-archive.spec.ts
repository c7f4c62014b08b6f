// Engines from a distribution's package archive: the pure parts of the chain of trust (deb822
// stanzas, Release and Packages indexes, sources lines, the engine's package set, hash checks)
// and the tree a .deb unpacks into (ar members, tar flags, links kept inside the tree, setuid
// bits dropped, trees joined). No network: packages are built here with dpkg-deb.
import { expect } from 'chai';
import fc from 'fast-check';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import { type ArchiveSuite, ArchiveTrustError, checkFile, sha256Of } from '../../harness/system/deb-archive.ts';
import { type PackageEntry, parseDepends, parsePackages, parseRelease, parseStanzas, selectEngine, upstreamVersion, versionMatches } from '../../harness/system/deb-index.ts';
import { archiveUrlFromSources, DEBIAN_KEYRING, DEBIAN_SUITES, defaultSuites, parseSourcesLine, UBUNTU_KEYRING, UBUNTU_SUITES } from '../../harness/system/deb-sources.ts';
import { checkLinksInside, linkTargetInTree, mergeInto, parseAr, pruneTree, tarCompressionFlag, unpackDeb, UNUSED_FOLDERS } from '../../harness/system/deb-tree.ts';

/** The error a call throws (or undefined when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Expects `f` to throw ArchiveTrustError whose message includes every one of `parts`. */
function expectTrustError(f: () => unknown, ...parts: string[]): void {
  const e = thrown(f);
  expect(e, 'an ArchiveTrustError').to.be.instanceOf(ArchiveTrustError);
  for (const p of parts) expect((e as Error).message).to.include(p);
}

const hex64 = (c: string) => c.repeat(64);

// -- deb822

describe('deb archive: deb822 stanzas', () => {
  it('joins continuation lines to their field with newlines, each trimmed', () => {
    const [s] = parseStanzas('Package: libc6\nDescription: GNU C Library\n Contains the standard libraries\n\tused by nearly all programs\n .\n');
    expect(s).to.deep.equal({ Package: 'libc6', Description: 'GNU C Library\nContains the standard libraries\nused by nearly all programs\n.' });
  });

  it('separates stanzas at blank lines (also several, leading, trailing, or of spaces only)', () => {
    const stanzas = parseStanzas('\n\nPackage: a\nVersion: 1\n\n\n  \nPackage: b\n \t\nPackage: c\n\n');
    expect(stanzas).to.deep.equal([{ Package: 'a', Version: '1' }, { Package: 'b' }, { Package: 'c' }]);
  });

  it('splits a field at its first colon only: values keep theirs', () => {
    const [s] = parseStanzas('Homepage: https://mobyproject.org:443/a:b\nVcs-Git: https://salsa.debian.org/go-team/packages/docker.git -b debian/sid\nDescription: ratio 1:2\n');
    expect(s).to.deep.equal({ Homepage: 'https://mobyproject.org:443/a:b', 'Vcs-Git': 'https://salsa.debian.org/go-team/packages/docker.git -b debian/sid', Description: 'ratio 1:2' });
  });

  it('skips lines without a field name, and continuation lines with no field before them', () => {
    expect(parseStanzas(' orphan continuation\nnot a field\n: no name\nPackage: a\n')).to.deep.equal([{ Package: 'a' }]);
    expect(parseStanzas('')).to.deep.equal([]);
  });

  it('reads CRLF line endings as LF ones', () => {
    expect(parseStanzas('A: 1\r\n more\r\n\r\nB: 2\r\n')).to.deep.equal([{ A: '1\nmore' }, { B: '2' }]);
  });

  it('reads back any stanzas it is written (names, values with colons, continuation lines)', () => {
    const chars = [...'abcXYZ019:.-+/()|,<>=~ '];
    const word = fc.array(fc.constantFrom(...chars), { maxLength: 20 }).map((a) => a.join('').trim());
    const field = fc.record({
      name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/),
      first: word,
      more: fc.array(word.filter((w) => w.length > 0), { maxLength: 3 }),
    });
    const stanza = fc.uniqueArray(field, { minLength: 1, maxLength: 6, selector: (f) => f.name });
    fc.assert(
      fc.property(fc.array(stanza, { maxLength: 5 }), (stanzas) => {
        const text = stanzas.map((s) => s.map((f) => [`${f.name}: ${f.first}`, ...f.more.map((m) => ` ${m}`)].join('\n')).join('\n')).join('\n\n');
        const want = stanzas.map((s) => Object.fromEntries(s.map((f) => [f.name, [f.first, ...f.more].join('\n')])));
        expect(parseStanzas(text)).to.deep.equal(want);
      }),
    );
  });
});

describe('deb archive: Release files', () => {
  const release = [
    'Origin: Debian',
    'Label: Debian',
    'Suite: unstable',
    'Codename: sid',
    'Date: Thu, 04 Dec 2025 08:12:34 UTC',
    'Valid-Until: Thu, 11 Dec 2025 08:12:34 UTC',
    'Architectures: all amd64 arm64',
    'Components: main contrib non-free-firmware non-free',
    'MD5Sum:',
    ` ${'0'.repeat(32)}  1234 main/binary-amd64/Packages`,
    'SHA256:',
    ` ${hex64('a')} 45678901 main/binary-amd64/Packages`,
    ` ${hex64('b')}  9876543 main/binary-amd64/Packages.gz`,
    ` ${hex64('c')}      17 main/binary-arm64/Release`,
    ` ${hex64('D')}      18 main/binary-arm64/Packages.uppercase`,
    ` ${'e'.repeat(63)}      19 main/binary-arm64/Packages.short`,
    ` ${hex64('f')}     xyz main/binary-arm64/Packages.nosize`,
    '',
  ].join('\n');

  it('lists the SHA-256 and size of each file the signed text names (not the MD5 list, nor malformed lines)', () => {
    const r = parseRelease(release);
    expect([...r.files.entries()]).to.deep.equal([
      ['main/binary-amd64/Packages', { sha256: hex64('a'), size: 45678901 }],
      ['main/binary-amd64/Packages.gz', { sha256: hex64('b'), size: 9876543 }],
      ['main/binary-arm64/Release', { sha256: hex64('c'), size: 17 }],
    ]);
  });

  it('reads the Date as given and Valid-Until as an instant', () => {
    const r = parseRelease(release);
    expect(r.date).to.equal('Thu, 04 Dec 2025 08:12:34 UTC');
    expect(r.validUntil).to.be.instanceOf(Date);
    expect(r.validUntil!.getTime()).to.equal(Date.UTC(2025, 11, 11, 8, 12, 34));
  });

  it('has no expiry when Valid-Until is missing or not a date, and no files without a SHA256 list', () => {
    const bare = parseRelease('Origin: Ubuntu\nSuite: noble\n');
    expect(bare.date).to.equal(undefined);
    expect(bare.validUntil).to.equal(undefined);
    expect(bare.files.size).to.equal(0);
    expect(parseRelease('Valid-Until: someday\n').validUntil).to.equal(undefined);
    expect(parseRelease('').files.size).to.equal(0);
  });
});

describe('deb archive: Depends and Packages', () => {
  it('reads Depends as groups of alternatives, names only', () => {
    expect(parseDepends('libc6 (>= 2.34), libseccomp2 (>= 2.5.0)')).to.deep.equal([['libc6'], ['libseccomp2']]);
    expect(parseDepends('a (>= 1) | b, c')).to.deep.equal([['a', 'b'], ['c']]);
    expect(parseDepends('default-mta | mail-transport-agent (<< 2), adduser')).to.deep.equal([['default-mta', 'mail-transport-agent'], ['adduser']]);
  });

  it('drops the :any qualifier, with or without a version', () => {
    expect(parseDepends('python3:any (>= 3.9~), perl:any')).to.deep.equal([['python3'], ['perl']]);
    expect(parseDepends('perl:any | python3:any')).to.deep.equal([['perl', 'python3']]);
  });

  it('reads nothing from an empty or missing field, and skips empty groups and continuation newlines', () => {
    expect(parseDepends(undefined)).to.deep.equal([]);
    expect(parseDepends('')).to.deep.equal([]);
    expect(parseDepends('a,, b ,\nc (= 1:2.3-4)')).to.deep.equal([['a'], ['b'], ['c']]);
  });

  it('reads each package of an index with its version, source, dependencies, provides, file, hash and size', () => {
    const index = parsePackages(
      [
        'Package: libgcc-s1',
        'Source: gcc-15 (15.2.0-9)',
        'Version: 15.2.0-9',
        'Pre-Depends: libc6 (>= 2.35)',
        'Depends: gcc-16-base (= 16-20251201-1), libc6:any (>= 2.35)',
        'Provides: libgcc1 (= 1:15.2.0-9), libgcc-s1-any',
        'Filename: pool/main/g/gcc-15/libgcc-s1_15.2.0-9_amd64.deb',
        'Size: 72080',
        `SHA256: ${hex64('1')}`,
        'Description: GCC support library',
        ' Shared version of the support library.',
        '',
        'Package: tini-static',
        'Version: 0.19.0-3',
        'Filename: pool/main/t/tini/tini-static_0.19.0-3_amd64.deb',
        `SHA256: ${hex64('2')}`,
        '',
      ].join('\n'),
    );
    expect([...index.keys()]).to.deep.equal(['libgcc-s1', 'tini-static']);
    expect(index.get('libgcc-s1')).to.deep.equal({
      name: 'libgcc-s1',
      version: '15.2.0-9',
      source: 'gcc-15',
      depends: [['libc6'], ['gcc-16-base'], ['libc6']],
      provides: ['libgcc1', 'libgcc-s1-any'],
      filename: 'pool/main/g/gcc-15/libgcc-s1_15.2.0-9_amd64.deb',
      sha256: hex64('1'),
      size: 72080,
    });
    expect(index.get('tini-static')).to.deep.include({ source: undefined, depends: [], provides: [], size: 0 });
  });

  it('leaves out stanzas without a Filename, SHA256 or Version (nothing to fetch or check)', () => {
    const full = { Package: 'p', Version: '1', Filename: 'pool/p.deb', SHA256: hex64('3') };
    const text = (omit?: keyof typeof full) =>
      Object.entries(full)
        .filter(([k]) => k !== omit)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n');
    expect(parsePackages(text()).size, 'the complete stanza').to.equal(1);
    for (const omit of ['Package', 'Version', 'Filename', 'SHA256'] as const) expect(parsePackages(text(omit)).size, `without ${omit}`).to.equal(0);
  });
});

describe('deb archive: versions', () => {
  it('finds the upstream release a Debian version packs', () => {
    expect(upstreamVersion('2:28.5.2+dfsg4-5')).to.equal('28.5.2');
    expect(upstreamVersion('1.7.24~ds1-6+deb13u1')).to.equal('1.7.24');
    expect(upstreamVersion('26.1.5+dfsg1-9+deb13u1+b1')).to.equal('26.1.5');
    expect(upstreamVersion('24.0.7-0ubuntu4')).to.equal('24.0.7');
    expect(upstreamVersion('1.0-rc1-2')).to.equal('1.0');
    expect(upstreamVersion('0.19')).to.equal('0.19');
  });

  it('matches the upstream release or the exact package version, not a prefix of either', () => {
    expect(versionMatches('28.5.2+dfsg4-5', '28.5.2')).to.equal(true);
    expect(versionMatches('28.5.2+dfsg4-5', '28.5.2+dfsg4-5')).to.equal(true);
    expect(versionMatches('2:28.5.2+dfsg4-5', '28.5.2')).to.equal(true);
    expect(versionMatches('28.5.2+dfsg4-5', '28.5')).to.equal(false);
    expect(versionMatches('28.5.21-1', '28.5.2')).to.equal(false);
    expect(versionMatches('28.5.2+dfsg4-5', '28.5.2+dfsg4')).to.equal(false);
    expect(versionMatches('27.5.1+dfsg4-5', '28.5.2')).to.equal(false);
  });
});

// -- sources

describe('deb archive: sources lines and the archive address', () => {
  it('reads a sources.list line with signed-by, taking that keyring, the URL without trailing slashes, the suite and components', () => {
    expect(parseSourcesLine('deb [arch=amd64 signed-by=/etc/apt/keyrings/mirror.gpg] https://mirror.example/debian// trixie main contrib')).to.deep.equal({
      distribution: 'custom',
      url: 'https://mirror.example/debian',
      suite: 'trixie',
      components: ['main', 'contrib'],
      keyring: '/etc/apt/keyrings/mirror.gpg',
    });
  });

  it('defaults the keyring by the URL (Ubuntu for /ubuntu, else Debian) and the component to main', () => {
    expect(parseSourcesLine('deb http://archive.ubuntu.com/ubuntu/ noble universe')).to.deep.equal({
      distribution: 'custom',
      url: 'http://archive.ubuntu.com/ubuntu',
      suite: 'noble',
      components: ['universe'],
      keyring: UBUNTU_KEYRING,
    });
    expect(parseSourcesLine('  deb http://deb.debian.org/debian sid')).to.deep.equal({
      distribution: 'custom',
      url: 'http://deb.debian.org/debian',
      suite: 'sid',
      components: ['main'],
      keyring: DEBIAN_KEYRING,
    });
  });

  it('refuses what is not a deb line, naming it', () => {
    for (const line of ['deb-src http://deb.debian.org/debian sid main', 'http://deb.debian.org/debian sid main', 'deb http://deb.debian.org/debian', '# deb http://deb.debian.org/debian sid main', '']) {
      expectTrustError(() => parseSourcesLine(line), `"${line}" is not a sources.list line`);
    }
  });

  it('keeps a signed-by path that holds "=" whole', () => {
    expect(parseSourcesLine('deb [signed-by=/etc/apt/keyrings/a=b.gpg] http://x.example/debian sid main').keyring).to.equal('/etc/apt/keyrings/a=b.gpg');
  });

  it('for any text: refuses it with the trust error, or reads a URL, suite and components with no spaces in them', () => {
    const text = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.constantFrom('deb ', ' deb  ', 'deb [signed-by=/k.gpg] ', 'deb [] ', 'deb-src '), fc.array(fc.constantFrom('http://x/debian', 'sid', 'main', ' ', '[', ']', '\t', '='), { maxLength: 8 }))
        .map(([head, parts]) => head + parts.join('')),
    );
    let read = 0;
    fc.assert(
      fc.property(text, (line) => {
        let s: ArchiveSuite;
        try {
          s = parseSourcesLine(line);
        } catch (e) {
          expect(e).to.be.instanceOf(ArchiveTrustError);
          return;
        }
        read++;
        for (const v of [s.url, s.suite, ...s.components, s.keyring]) expect(v).to.match(/^\S+$/);
        expect(s.components.length).to.be.at.least(1);
        expect(s.url).not.to.match(/\/$/);
      }),
      { numRuns: 300 },
    );
    expect(read, 'the generator reaches lines that are read').to.be.at.least(10);
  });

  it('finds the archive in a deb822 sources file, not its debian-security neighbour', () => {
    const deb822 = [
      'Types: deb',
      'URIs: http://security.debian.org/debian-security',
      'Suites: trixie-security',
      'Components: main',
      '',
      'Types: deb',
      'URIs: http://mirror.example/debian/',
      'Suites: trixie trixie-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
    ].join('\n');
    expect(archiveUrlFromSources([deb822], 'debian')).to.equal('http://mirror.example/debian');
  });

  it('finds the archive in one-line deb sources (with options), skipping comments, deb-src and non-HTTP addresses', () => {
    const list = [
      '# deb http://commented.example/debian sid main',
      'deb-src http://source.example/debian sid main',
      'deb file:/srv/local/debian sid main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] https://mirror.example/debian bookworm main',
    ].join('\n');
    expect(archiveUrlFromSources([list], 'debian')).to.equal('https://mirror.example/debian');
    expect(archiveUrlFromSources(['deb http://de.archive.ubuntu.com/ubuntu/ noble main universe\n'], 'ubuntu')).to.equal('http://de.archive.ubuntu.com/ubuntu');
    expect(archiveUrlFromSources(['', 'deb http://second.example/debian sid main'], 'debian'), 'the first text that names one').to.equal('http://second.example/debian');
  });

  it('falls back to the public address when no source names the distribution', () => {
    const onlyOthers = ['deb http://de.archive.ubuntu.com/ubuntu noble main\n# deb http://x.example/debian sid main\ndeb http://deb.debian.org/debian-security sid main'];
    expect(archiveUrlFromSources(onlyOthers, 'debian')).to.equal('http://deb.debian.org/debian');
    expect(archiveUrlFromSources(['deb http://mirror.example/debian sid main'], 'ubuntu')).to.equal('http://archive.ubuntu.com/ubuntu');
    expect(archiveUrlFromSources([], 'debian')).to.equal('http://deb.debian.org/debian');
    expect(archiveUrlFromSources([], 'ubuntu')).to.equal('http://archive.ubuntu.com/ubuntu');
  });

  it('searches a distribution\'s suites oldest first, on the machine\'s mirror, with its keyring and components', () => {
    const debian = defaultSuites('debian', ['deb http://mirror.example/debian trixie main']);
    expect(debian.map((s) => s.suite)).to.deep.equal(DEBIAN_SUITES);
    expect(DEBIAN_SUITES).to.deep.equal(['bookworm', 'trixie', 'forky', 'sid']);
    for (const s of debian) expect(s).to.deep.include({ distribution: 'debian', url: 'http://mirror.example/debian', components: ['main'], keyring: DEBIAN_KEYRING });
    const ubuntu = defaultSuites('ubuntu', []);
    expect(ubuntu.map((s) => s.suite)).to.deep.equal(UBUNTU_SUITES);
    for (const s of ubuntu) expect(s).to.deep.include({ distribution: 'ubuntu', url: 'http://archive.ubuntu.com/ubuntu', components: ['main', 'universe'], keyring: UBUNTU_KEYRING });
  });
});

// -- the engine's package set

/** One Packages stanza (the file, hash and size are placeholders: selection does not read them). */
function stanza(name: string, version: string, fields: Record<string, string> = {}): string {
  const lines = [`Package: ${name}`, `Version: ${version}`, ...Object.entries(fields).map(([k, v]) => `${k}: ${v}`)];
  lines.push(`Filename: pool/main/${name[0]}/${name}/${name}_${version.replace(/^\d+:/, '')}_amd64.deb`, `Size: ${100 + name.length}`, `SHA256: ${sha256Of(Buffer.from(name))}`);
  return lines.join('\n');
}

const index = (...stanzas: string[]) => parsePackages(stanzas.join('\n\n'));
const names = (ps: PackageEntry[] | undefined) => (ps ?? []).map((p) => p.name);

/** A Debian sid index, cut down to what docker.io touches and a few packages it must not take. */
const SID = [
  stanza('docker.io', '28.5.2+dfsg4-5', {
    'Pre-Depends': 'init-system-helpers (>= 1.54~)',
    Depends: 'adduser, containerd (>= 1.7.24~ds1), iptables, runc (>= 1.1.12+ds1), tini-static (>= 0.19.0), libc6 (>= 2.38), libsystemd0 (>= 246)',
    Recommends: 'apparmor, ca-certificates, cgroupfs-mount | cgroup-lite, docker-cli, git, needrestart, xz-utils',
  }),
  stanza('docker-cli', '28.5.2+dfsg4-5', { Source: 'docker.io (28.5.2+dfsg4-5)', Depends: 'libc6 (>= 2.34)' }),
  stanza('containerd', '1.7.24~ds1-6+b3', { Depends: 'runc (>= 1.1.0~), libc6 (>= 2.34)' }),
  stanza('runc', '1.3.3+ds1-1', { Depends: 'libc6 (>= 2.38), libseccomp2 (>= 2.5.0)' }),
  stanza('tini-static', '0.19.0-3'),
  stanza('tini', '0.19.0-3', { Depends: 'libc6 (>= 2.34)' }),
  stanza('libc6', '2.42-5', { Depends: 'libgcc-s1, libc-gconv-modules-extra' }),
  stanza('libgcc-s1', '15.2.0-9', { Depends: 'gcc-16-base (= 16-20251201-1), libc6 (>= 2.35)', Provides: 'libgcc1 (= 1:15.2.0-9)' }),
  stanza('libseccomp2', '2.6.0-2', { Depends: 'libc6 (>= 2.14)' }),
  stanza('libsystemd0', '258.2-1', { Depends: 'libc6 (>= 2.39)' }),
  stanza('iptables', '1.8.11-2', { Depends: 'libc6 (>= 2.38), libxtables12 (>= 1.8.11)' }),
  stanza('libxtables12', '1.8.11-2', { Depends: 'libc6 (>= 2.34)' }),
  stanza('adduser', '3.153', { Depends: 'passwd' }),
  stanza('gcc-16-base', '16-20251201-1'),
  stanza('init-system-helpers', '1.69'),
];

const SID_ENGINE = ['containerd', 'docker-cli', 'docker.io', 'libc6', 'libgcc-s1', 'libseccomp2', 'libsystemd0', 'runc', 'tini-static'];

describe('deb archive: the engine\'s packages', () => {
  it('takes docker.io, its CLI, containerd, runc, docker-init and the libraries they need, followed to the end', () => {
    const sel = selectEngine(index(...SID), undefined);
    expect(sel, 'a selection').not.to.equal(undefined);
    expect(sel!.engine.name).to.equal('docker.io');
    expect(sel!.engine.version).to.equal('28.5.2+dfsg4-5');
    expect(names(sel!.packages)).to.have.members(SID_ENGINE);
  });

  it('takes neither the programs the engine calls from the host, nor what only they need, nor non-library dependencies of libraries', () => {
    const chosen = names(selectEngine(index(...SID), undefined)?.packages);
    expect(chosen).to.include('docker.io');
    for (const n of ['iptables', 'libxtables12', 'adduser', 'passwd', 'gcc-16-base', 'init-system-helpers', 'tini']) expect(chosen, n).not.to.include(n);
  });

  it('skips a library the suite does not have (libc-gconv-modules-extra here), and takes it when it has it', () => {
    expect(names(selectEngine(index(...SID), undefined)?.packages)).not.to.include('libc-gconv-modules-extra');
    const withIt = selectEngine(index(...SID, stanza('libc-gconv-modules-extra', '2.42-5', { Depends: 'libc6 (>= 2.42)' })), undefined);
    expect(names(withIt?.packages)).to.have.members([...SID_ENGINE, 'libc-gconv-modules-extra']);
  });

  it('takes docker.io of the version asked for, by upstream release or exact package version, and nothing for another', () => {
    const sid = index(...SID);
    expect(names(selectEngine(sid, '28.5.2')?.packages)).to.have.members(SID_ENGINE);
    expect(names(selectEngine(sid, '28.5.2+dfsg4-5')?.packages)).to.have.members(SID_ENGINE);
    expect(selectEngine(sid, '27.5.1')).to.equal(undefined);
    expect(selectEngine(sid, '28.5')).to.equal(undefined);
  });

  it('has nothing for a suite without docker.io', () => {
    const sid = index(...SID.filter((s) => !s.startsWith('Package: docker.io\n')));
    expect(sid.has('docker-cli')).to.equal(true);
    expect(selectEngine(sid, undefined)).to.equal(undefined);
  });

  it('takes tini when docker.io depends on it (bookworm), though the suite also has tini-static', () => {
    const bookworm = index(
      stanza('docker.io', '20.10.24+dfsg1-1+deb12u1+b1', { Depends: 'adduser, containerd (>= 1.4.12~ds1), iptables, runc (>= 1.0.0~rc92~), tini (>= 0.19.0), libc6 (>= 2.34), libdevmapper1.02.1 (>= 2:1.02.97), libsystemd0 (>= 246)' }),
      stanza('containerd', '1.6.20~ds1-1+b1', { Depends: 'runc, libc6 (>= 2.34)' }),
      stanza('runc', '1.1.5+ds1-1+deb12u1', { Depends: 'libc6 (>= 2.34), libseccomp2 (>= 2.5.0)' }),
      stanza('tini', '0.19.0-1', { Depends: 'libc6 (>= 2.34)' }),
      stanza('tini-static', '0.19.0-1'),
      stanza('libc6', '2.36-9+deb12u13', { Depends: 'libgcc-s1' }),
      stanza('libgcc-s1', '12.2.0-14', { Depends: 'gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)' }),
      stanza('libseccomp2', '2.5.4-1+deb12u1', { Depends: 'libc6 (>= 2.14)' }),
      stanza('libsystemd0', '252.39-1~deb12u1', { Depends: 'libc6 (>= 2.34)' }),
      stanza('libdevmapper1.02.1', '2:1.02.185-2', { Depends: 'libc6 (>= 2.34), dmsetup (>= 2:1.02.185-2~)' }),
    );
    const chosen = names(selectEngine(bookworm, '20.10.24')?.packages);
    expect(chosen).to.have.members(['containerd', 'docker.io', 'libc6', 'libdevmapper1.02.1', 'libgcc-s1', 'libseccomp2', 'libsystemd0', 'runc', 'tini']);
  });

  it('takes docker-init from tini-static, then tini, when docker.io names neither', () => {
    const noInit = SID.map((s) => s.replace('tini-static (>= 0.19.0), ', ''));
    expect(noInit[0]).not.to.include('tini');
    expect(names(selectEngine(index(...noInit), undefined)?.packages)).to.include('tini-static');
    const onlyTini = noInit.filter((s) => !s.startsWith('Package: tini-static\n'));
    const chosen = names(selectEngine(index(...onlyTini), undefined)?.packages);
    expect(chosen).to.include('tini');
    expect(chosen).not.to.include('tini-static');
  });

  it('resolves a dependency only a package\'s Provides names (a t64 library)', () => {
    const t64 = SID.filter((s) => !s.startsWith('Package: libseccomp2\n'));
    t64.push(stanza('libseccomp2t64', '2.6.0-2.1', { Provides: 'libseccomp2 (= 2.6.0-2.1)', Depends: 'libc6 (>= 2.14)' }));
    const chosen = names(selectEngine(index(...t64), undefined)?.packages);
    expect(chosen).to.include('libseccomp2t64');
    expect(chosen).to.have.length(SID_ENGINE.length);
  });

  it('takes the first alternative the suite has, and none when one is already taken', () => {
    const base = SID.filter((s) => !s.startsWith('Package: runc\n'));
    const runc = (deps: string) => stanza('runc', '1.3.3+ds1-1', { Depends: deps });
    const missingFirst = names(selectEngine(index(...base, runc('libc6, libseccomp-nope | libseccomp2')), undefined)?.packages);
    expect(missingFirst).to.include('libseccomp2');
    const both = names(selectEngine(index(...base, stanza('libseccomp-alt', '1'), runc('libc6, libseccomp2 | libseccomp-alt')), undefined)?.packages);
    expect(both).to.include('libseccomp2');
    expect(both).not.to.include('libseccomp-alt');
    const taken = names(selectEngine(index(...base, stanza('libc6-alt', '1'), runc('libc6-alt | libc6, libseccomp2')), undefined)?.packages);
    expect(taken, 'libc6 is already taken by docker.io').not.to.include('libc6-alt');
  });
});

// -- hashes

describe('deb archive: files checked against the signed index', () => {
  const url = 'http://deb.debian.org/debian/pool/main/r/runc/runc_1.3.3+ds1-1_amd64.deb';

  it('accepts data of the SHA-256 and size the index gives', () => {
    const data = Buffer.from('a package');
    expect(thrown(() => checkFile(url, data, { sha256: sha256Of(data), size: data.length }))).to.equal(undefined);
    expect(sha256Of(Buffer.from('abc'))).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('refuses data whose SHA-256 differs, naming the URL and both sums', () => {
    const data = Buffer.from('a package');
    expectTrustError(() => checkFile(url, data, { sha256: hex64('0'), size: data.length }), url, sha256Of(data), hex64('0'), 'refused');
  });

  it('refuses data whose size differs though its SHA-256 is the one given', () => {
    const data = Buffer.from('a package');
    expectTrustError(() => checkFile(url, data, { sha256: sha256Of(data), size: data.length + 1 }), url, `(${data.length} bytes)`, `(${data.length + 1} bytes)`);
  });

  it('refuses any change of one byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, flip) => {
        const data = Buffer.from(bytes);
        const want = { sha256: sha256Of(data), size: data.length };
        const changed = Buffer.from(data);
        changed.writeUInt8(changed.readUInt8(at % changed.length) ^ flip, at % changed.length);
        expect(thrown(() => checkFile(url, data, want))).to.equal(undefined);
        expect(thrown(() => checkFile(url, changed, want))).to.be.instanceOf(ArchiveTrustError);
      }),
    );
  });
});

// -- ar members and tar flags

/** An ar archive of these members (GNU style names end in "/"), odd sizes padded with "\n". */
function writeAr(members: { name: string; data: Uint8Array }[], gnuNames = true): Buffer {
  const parts: Buffer[] = [Buffer.from('!<arch>\n', 'latin1')];
  for (const m of members) {
    const name = gnuNames ? `${m.name}/` : m.name;
    const header = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(m.data.length).padEnd(10)}\`\n`;
    expect(header).to.have.length(60);
    parts.push(Buffer.from(header, 'latin1'), Buffer.from(m.data));
    if (m.data.length % 2) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

const plain = (ms: { name: string; data: Uint8Array }[]) => ms.map((m) => ({ name: m.name, data: [...m.data] }));

describe('deb tree: ar archives', () => {
  it('reads back any members it is given (names up to 15 characters, any data, odd sizes padded)', () => {
    const member = fc.record({ name: fc.stringMatching(/^[a-z0-9._-]{1,15}$/), data: fc.uint8Array({ maxLength: 257 }) });
    let odd = 0;
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), fc.boolean(), (members, gnu) => {
        odd += members.filter((m) => m.data.length % 2).length;
        expect(plain(parseAr(writeAr(members, gnu)))).to.deep.equal(plain(members));
      }),
      { numRuns: 200 },
    );
    expect(odd, 'members of odd size were tried').to.be.greaterThan(20);
  });

  it('skips the padding byte after a member of odd size', () => {
    const ar = writeAr([
      { name: 'debian-binary', data: Buffer.from('2.0\n') },
      { name: 'control.tar.xz', data: Buffer.from('abc') },
      { name: 'data.tar.xz', data: Buffer.from('defg') },
    ]);
    expect(plain(parseAr(ar))).to.deep.equal([
      { name: 'debian-binary', data: [...Buffer.from('2.0\n')] },
      { name: 'control.tar.xz', data: [...Buffer.from('abc')] },
      { name: 'data.tar.xz', data: [...Buffer.from('defg')] },
    ]);
  });

  it('refuses a buffer without the ar magic, naming what it is', () => {
    expectTrustError(() => parseAr(Buffer.from('not an archive, though long enough'), 'runc_1.3.3+ds1-1_amd64.deb'), 'runc_1.3.3+ds1-1_amd64.deb', 'no ar header');
    expectTrustError(() => parseAr(Buffer.from('!<arch>'), 'short.deb'), 'short.deb', 'no ar header');
    expectTrustError(() => parseAr(Buffer.alloc(0)), 'no ar header');
  });

  it('refuses a member whose size runs past the end, naming the member', () => {
    const whole = writeAr([{ name: 'data.tar.xz', data: Buffer.alloc(100, 7) }]);
    expect(parseAr(whole)).to.have.length(1);
    expectTrustError(() => parseAr(whole.subarray(0, whole.length - 1), 'p.deb'), 'p.deb', 'ar member "data.tar.xz" runs past the end');
    const negative = Buffer.from(writeAr([{ name: 'x', data: Buffer.alloc(4) }]).toString('latin1').replace('4         `', '-4        `'), 'latin1');
    expectTrustError(() => parseAr(negative), 'ar member "x" runs past the end');
  });

  it('refuses a member header without its end marker', () => {
    const ar = writeAr([{ name: 'debian-binary', data: Buffer.from('2.0\n') }]);
    ar[8 + 58] = 0x20;
    expectTrustError(() => parseAr(ar, 'p.deb'), 'p.deb', 'damaged ar member header at byte 8');
  });
});

describe('deb tree: tar flags', () => {
  it('gives tar the flag for each data member\'s compression', () => {
    expect(tarCompressionFlag('data.tar.xz')).to.deep.equal(['-J']);
    expect(tarCompressionFlag('data.tar.zst')).to.deep.equal(['--zstd']);
    expect(tarCompressionFlag('data.tar.gz')).to.deep.equal(['-z']);
    expect(tarCompressionFlag('data.tar.bz2')).to.deep.equal(['-j']);
    expect(tarCompressionFlag('data.tar')).to.deep.equal([]);
  });

  it('refuses a member it does not know, naming it', () => {
    expectTrustError(() => tarCompressionFlag('data.tar.lzma'), 'unknown package data member data.tar.lzma');
    expectTrustError(() => tarCompressionFlag('data.tarx'), 'data.tarx');
  });
});

// -- links

/** Where a link points, resolved by a stack of folders from the tree root; undefined once it climbs above it. */
function modelTarget(linkPath: string, target: string): string | undefined {
  const stack = target.startsWith('/') ? [] : linkPath.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!stack.length) return undefined;
      stack.pop();
    } else stack.push(seg);
  }
  return stack.join('/') || '.';
}

describe('deb tree: links kept inside the tree', () => {
  it('takes an absolute target as the tree\'s own, and a relative one from the link\'s folder', () => {
    expect(linkTargetInTree('usr/sbin/docker-init', '/usr/bin/tini-static')).to.equal('usr/bin/tini-static');
    expect(linkTargetInTree('usr/bin/runc', '../sbin/runc')).to.equal('usr/sbin/runc');
    expect(linkTargetInTree('usr/lib/x86_64-linux-gnu/libseccomp.so.2', 'libseccomp.so.2.6.0')).to.equal('usr/lib/x86_64-linux-gnu/libseccomp.so.2.6.0');
    expect(linkTargetInTree('lib64', 'usr/lib64')).to.equal('usr/lib64');
    expect(linkTargetInTree('usr/bin/x', '/')).to.equal('.');
    expect(linkTargetInTree('usr/bin/x', '/usr/./bin//../sbin/')).to.equal('usr/sbin/');
  });

  it('has no target for a link that leaves the tree', () => {
    expect(linkTargetInTree('usr/bin/evil', '../../../etc/shadow')).to.equal(undefined);
    expect(linkTargetInTree('usr/bin/evil', '../../../../etc/passwd')).to.equal(undefined);
    expect(linkTargetInTree('evil', '..')).to.equal(undefined);
    expect(linkTargetInTree('usr/bin/evil', '/..')).to.equal(undefined);
    expect(linkTargetInTree('usr/bin/evil', '/../etc/shadow')).to.equal(undefined);
    expect(linkTargetInTree('usr/bin/evil', '/usr/../../etc/shadow')).to.equal(undefined);
    expect(linkTargetInTree('usr/bin/evil', '//etc/shadow')).to.equal(undefined);
  });

  it('for any link and target of a, b, . and ..: no target, or a normalized relative path that stays inside', () => {
    const seg = fc.constantFrom('a', 'b', '..', '.');
    const path = fc.array(seg, { minLength: 1, maxLength: 6 }).map((s) => s.join('/'));
    let inside = 0;
    let outside = 0;
    fc.assert(
      fc.property(path, path, fc.boolean(), (link, t, absolute) => {
        const target = absolute ? `/${t}` : t;
        const r = linkTargetInTree(link, target);
        if (r === undefined) {
          outside++;
          return;
        }
        inside++;
        expect(posix.isAbsolute(r), r).to.equal(false);
        expect(r === '..' || r.startsWith('../'), r).to.equal(false);
        expect(posix.normalize(r)).to.equal(r);
      }),
      { numRuns: 500 },
    );
    expect(inside).to.be.at.least(50);
    expect(outside).to.be.at.least(50);
  });

  it('for a link in a folder of the tree: the target a stack of folders from the root finds', () => {
    const name = fc.constantFrom('a', 'b', 'c');
    const link = fc.array(name, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
    const target = fc.tuple(fc.boolean(), fc.array(fc.constantFrom('a', 'b', '..', '.'), { minLength: 1, maxLength: 6 })).map(([abs, s]) => (abs ? '/' : '') + s.join('/'));
    fc.assert(
      fc.property(link, target, (l, t) => {
        expect(linkTargetInTree(l, t), `${l} -> ${t}`).to.equal(modelTarget(l, t));
      }),
      { numRuns: 500 },
    );
  });
});

// -- unpacking and joining real packages

describe('deb tree: unpacking packages and joining their trees', function () {
  this.timeout(30_000);
  let dir = '';
  const debs: Record<string, Buffer> = {};

  /** Builds a .deb with dpkg-deb from `make`'s files under its root. */
  async function build(name: string, compression: string, make: (root: string) => void): Promise<void> {
    const root = join(dir, 'src', name);
    mkdirSync(join(root, 'DEBIAN'), { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(join(root, 'DEBIAN'), 0o755);
    writeFileSync(join(root, 'DEBIAN', 'control'), `Package: ${name}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: Overlab Tests <tests@example.org>\nDescription: test package ${name}\n`);
    make(root);
    const out = join(dir, `${name}_1.0-1_all.deb`);
    await execa('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', root, out]);
    debs[name] = readFileSync(out);
  }

  const file = (root: string, rel: string, text: string, mode = 0o644) => {
    mkdirSync(join(root, posix.dirname(rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
    chmodSync(join(root, rel), mode);
  };
  const link = (root: string, rel: string, target: string) => {
    mkdirSync(join(root, posix.dirname(rel)), { recursive: true });
    symlinkSync(target, join(root, rel));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-deb-tree-'));
    await build('engine-a', 'xz', (r) => {
      file(r, 'usr/bin/y', '#!/bin/sh\necho y\n', 0o755);
      file(r, 'usr/bin/suid', 'setuid\n', 0o4755);
      file(r, 'usr/bin/sgid', 'setgid\n', 0o2755);
      link(r, 'usr/sbin/x', '/usr/bin/y');
      link(r, 'usr/bin/rel', 'y');
      link(r, 'usr/lib/share-link', '/usr/share');
      file(r, 'usr/share/shared/a.txt', 'from a\n');
      file(r, 'usr/share/common.txt', 'common from a\n');
    });
    await build('engine-b', 'gzip', (r) => {
      file(r, 'usr/share/shared/b.txt', 'from b\n');
      file(r, 'usr/share/common.txt', 'common from b\n');
      file(r, 'usr/lib/x86_64-linux-gnu/libb.so.1', 'lib b\n');
    });
    await build('evil', 'none', (r) => link(r, 'usr/bin/evil', '../../../../etc/passwd'));
    await build('evil-absolute', 'zstd', (r) => link(r, 'usr/bin/evil', '/../../etc/shadow'));
    // Each link alone stays inside the textual tree; followed in turn, q/.. is the tree's parent.
    await build('chain', 'gzip', (r) => {
      link(r, 'q', '.');
      link(r, 'e', 'q/..');
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let unpacks = 0;
  const unpacked = async (name: string) => {
    const to = join(dir, 'out', `${name}-${++unpacks}`);
    await unpackDeb(`${name}_1.0-1_all.deb`, debs[name]!, to);
    return to;
  };

  it('reads a dpkg-deb package as its three ar members', () => {
    const members = parseAr(debs['engine-a']!);
    expect(members.map((m) => m.name)).to.deep.equal(['debian-binary', 'control.tar.xz', 'data.tar.xz']);
    expect(members[0]!.data.toString()).to.equal('2.0\n');
    expect(parseAr(debs['evil']!).map((m) => m.name)).to.include('data.tar');
  });

  it('drops setuid and setgid bits, keeping the rest of the mode', async () => {
    const data = parseAr(debs['engine-a']!).find((m) => m.name === 'data.tar.xz')!;
    const listing = (await execa('tar', ['-tvJ'], { input: data.data })).stdout;
    expect(listing, 'the package carries the bits').to.match(/^-rwsr-xr-x .*\.\/usr\/bin\/suid$/m);
    expect(listing).to.match(/^-rwxr-sr-x .*\.\/usr\/bin\/sgid$/m);
    const to = await unpacked('engine-a');
    expect(statSync(join(to, 'usr/bin/suid')).mode & 0o7777).to.equal(0o755);
    expect(statSync(join(to, 'usr/bin/sgid')).mode & 0o7777).to.equal(0o755);
    expect(statSync(join(to, 'usr/bin/y')).mode & 0o7777).to.equal(0o755);
    expect(statSync(join(to, 'usr/share/shared/a.txt')).mode & 0o7777).to.equal(0o644);
    expect(readFileSync(join(to, 'usr/bin/suid'), 'utf8')).to.equal('setuid\n');
  });

  it('makes absolute links relative, resolving inside the tree; leaves relative ones as they are', async () => {
    const to = await unpacked('engine-a');
    const real = realpathSync(to);
    expect(readlinkSync(join(to, 'usr/sbin/x'))).to.equal('../bin/y');
    expect(realpathSync(join(to, 'usr/sbin/x'))).to.equal(join(real, 'usr/bin/y'));
    expect(readFileSync(join(to, 'usr/sbin/x'), 'utf8')).to.equal('#!/bin/sh\necho y\n');
    expect(readlinkSync(join(to, 'usr/lib/share-link'))).to.equal('../share');
    expect(realpathSync(join(to, 'usr/lib/share-link'))).to.equal(join(real, 'usr/share'));
    expect(readlinkSync(join(to, 'usr/bin/rel'))).to.equal('y');
  });

  it('unpacks data.tar of each compression (xz, gzip, zstd, none)', async () => {
    expect(readFileSync(join(await unpacked('engine-b'), 'usr/share/shared/b.txt'), 'utf8')).to.equal('from b\n');
    expect(parseAr(debs['evil-absolute']!).map((m) => m.name)).to.include('data.tar.zst');
  });

  it('refuses a package with a link that leaves its tree, naming the package and the link', async () => {
    for (const [name, target] of [
      ['evil', '../../../../etc/passwd'],
      ['evil-absolute', '/../../etc/shadow'],
    ] as const) {
      const e = await unpacked(name).catch((x: unknown) => x);
      expect(e, name).to.be.instanceOf(ArchiveTrustError);
      expect((e as Error).message).to.equal(`${name}_1.0-1_all.deb: link /usr/bin/evil -> ${target} leaves the package's tree: refused`);
    }
  });

  it('refuses links that leave the tree only when followed through another link (q -> ., e -> q/..), in one package and across two joined', async () => {
    const e = await unpacked('chain').catch((x: unknown) => x);
    expect(e).to.be.instanceOf(ArchiveTrustError);
    expect((e as Error).message).to.match(/^chain_1\.0-1_all\.deb: link \/\S+ -> \S+ leads out of the engine tree \(to \//);
    // Two packages each fine alone: one has q -> ., the other e -> q/..; joined they climb out.
    const root = join(dir, 'joined-chain');
    mkdirSync(join(root, 'usr'), { recursive: true });
    symlinkSync('.', join(root, 'usr', 'q'));
    expect(() => checkLinksInside(root)).to.not.throw();
    symlinkSync('q/../..', join(root, 'usr', 'e'));
    expect(() => checkLinksInside(root)).to.throw(ArchiveTrustError, /link \/usr\/e -> q\/\.\.\/\.\. leads out of the engine tree/);
  });

  it('refuses what is not a package, one without data.tar, and data tar cannot read', async () => {
    const to = join(dir, 'out', 'refused');
    const err = (buf: Buffer) => unpackDeb('p.deb', buf, to).catch((x: unknown) => x as Error);
    const notAr = await err(Buffer.from('#!/bin/sh\necho not a package\n'));
    expect(notAr).to.be.instanceOf(ArchiveTrustError);
    expect(notAr!.message).to.equal('p.deb: not a Debian package (no ar header)');
    const noData = await err(writeAr([{ name: 'debian-binary', data: Buffer.from('2.0\n') }, { name: 'control.tar.xz', data: Buffer.from('x') }]));
    expect(noData).to.be.instanceOf(ArchiveTrustError);
    expect(noData!.message).to.equal('p.deb: no data.tar member');
    const garbage = await err(writeAr([{ name: 'data.tar.gz', data: Buffer.from('not gzip at all') }]));
    expect(garbage).to.be.instanceOf(ArchiveTrustError);
    expect(garbage!.message).to.match(/^p\.deb: cannot unpack data\.tar\.gz: /);
    const unknown = await err(writeAr([{ name: 'data.tar.lzma', data: Buffer.from('x') }]));
    expect(unknown).to.be.instanceOf(ArchiveTrustError);
    expect(unknown!.message).to.equal('unknown package data member data.tar.lzma');
  });

  it('joins two trees: files of a folder both have survive, a later file replaces an earlier one, links still resolve', async () => {
    const a = await unpacked('engine-a');
    const b = await unpacked('engine-b');
    const root = join(dir, 'merged');
    mergeInto(a, root);
    mergeInto(b, root);
    expect(readFileSync(join(root, 'usr/share/shared/a.txt'), 'utf8')).to.equal('from a\n');
    expect(readFileSync(join(root, 'usr/share/shared/b.txt'), 'utf8')).to.equal('from b\n');
    expect(readFileSync(join(root, 'usr/share/common.txt'), 'utf8')).to.equal('common from b\n');
    expect(readFileSync(join(root, 'usr/lib/x86_64-linux-gnu/libb.so.1'), 'utf8')).to.equal('lib b\n');
    expect(lstatSync(join(root, 'usr/sbin/x')).isSymbolicLink()).to.equal(true);
    expect(realpathSync(join(root, 'usr/sbin/x'))).to.equal(join(realpathSync(root), 'usr/bin/y'));
    expect(statSync(join(root, 'usr/bin/suid')).mode & 0o7777).to.equal(0o755);
    expect(existsSync(join(b, 'usr/share/shared/b.txt')), 'moved, not copied').to.equal(false);
  });

  it('replaces a link in the joined tree with a later folder, and a folder with a later file', () => {
    const base = join(dir, 'replace');
    const into = join(base, 'into');
    const from = join(base, 'from');
    mkdirSync(join(into, 'usr/lib'), { recursive: true });
    symlinkSync('usr/lib', join(into, 'lib'));
    mkdirSync(join(into, 'opt/thing'), { recursive: true });
    writeFileSync(join(into, 'opt/thing/old'), 'old');
    mkdirSync(join(from, 'lib'), { recursive: true });
    writeFileSync(join(from, 'lib/new'), 'new');
    mkdirSync(join(from, 'opt'), { recursive: true });
    writeFileSync(join(from, 'opt/thing'), 'a file now');
    mergeInto(from, into);
    expect(lstatSync(join(into, 'lib')).isDirectory()).to.equal(true);
    expect(readFileSync(join(into, 'lib/new'), 'utf8')).to.equal('new');
    expect(existsSync(join(into, 'usr/lib/new')), 'not written through the old link').to.equal(false);
    expect(readFileSync(join(into, 'opt/thing'), 'utf8')).to.equal('a file now');
  });
});

describe('deb tree: pruning to what an engine runs', () => {
  it('keeps the programs and their libraries, and drops the other programs, docs, config and containerd 2\'s failpoint test programs', () => {
    const root = mkdtempSync(join(tmpdir(), 'overlab-prune-'));
    try {
      const file = (path: string) => {
        mkdirSync(join(root, posix.dirname(path)), { recursive: true });
        writeFileSync(join(root, path), path);
        return join(root, path);
      };
      const dockerd = file('usr/sbin/dockerd');
      file('usr/bin/ctr');
      file('usr/share/doc/docker.io/README');
      file('etc/docker/daemon.json');
      file('usr/lib/x86_64-linux-gnu/libc.so.6');
      file('usr/lib/containerd/containerd-shim-runc-fp-v1');
      file('usr/lib/cni/cni-bridge-fp');
      pruneTree(root, { dockerd });
      const left = (dir: string): string[] =>
        readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? left(posix.join(dir, e.name)) : [posix.join(dir, e.name)]));
      expect(left('').sort()).to.deep.equal(['usr/lib/x86_64-linux-gnu/libc.so.6', 'usr/sbin/dockerd']);
      for (const dir of UNUSED_FOLDERS) expect(existsSync(join(root, dir)), dir).to.equal(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
