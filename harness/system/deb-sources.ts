// Where engines' packages are looked for: this machine's apt sources (so a machine behind its
// own mirror uses it), sources.list lines given, and the distributions' default suites with
// their archive keyrings.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveTrustError, type ArchiveSuite } from './deb-archive.ts';

/** The distributions' own archives (their public addresses). */
export const DEFAULT_ARCHIVE_URLS = { debian: 'http://deb.debian.org/debian', ubuntu: 'http://archive.ubuntu.com/ubuntu' } as const;
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
export const UBUNTU_KEYRING = '/usr/share/keyrings/ubuntu-archive-keyring.gpg';
/** Oldest first: a version is taken from the oldest suite that has it (the one its users run). */
export const DEBIAN_SUITES = ['bookworm', 'trixie', 'forky', 'sid'];
export const UBUNTU_SUITES = ['jammy-updates', 'jammy', 'noble-updates', 'noble'];

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
