// A suite's indexes read (deb822: the Release file's hashes and dates, the Packages index), and
// which packages make an engine (docker.io, its CLI, containerd, runc, docker-init and the
// libraries they link), chosen by small pure functions over the parsed index.
// Pure: no files, network or processes.

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
