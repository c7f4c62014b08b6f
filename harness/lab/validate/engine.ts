// engine: a version the mode can run (kv mode lives from Docker 1.9 to 22.x, swarm mode needs
// 1.13), a version the source can name, settings that belong to the source, allowlisted
// flags; and mode alone, where the students make the cluster, so the lab declares none of it.
import { engineFlagProblem } from '../engine-flags.ts';
import type { RawLab } from '../raw-lab.ts';
import { quote } from '../text.ts';
import type { Lab, LabHost } from '../types.ts';
import { DEFAULT_ADVERTISE_PORT, DEFAULTS, KV_MODE_REMOVED_IN, KV_MODE_SINCE, SWARM_MODE_SINCE } from './defaults.ts';
import { checkGrammar, type At } from './problems.ts';

type Version = { major: number; minor: number };
const older = (v: Version, than: Version) => v.major < than.major || (v.major === than.major && v.minor < than.minor);

export function parseEngineVersion(v: string): { major: number; minor: number; patch?: number } | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), ...(m[3] === undefined ? {} : { patch: Number(m[3]) }) };
}

export function buildEngine(raw: RawLab, hosts: readonly LabHost[], at: At): Lab['engine'] {
  const d = DEFAULTS.engine;
  const mode = raw.engine?.mode ?? d.mode;
  const version = raw.engine?.version ?? d.version;
  const source = raw.engine?.source ?? d.source;
  // A package archive may be asked for a package version (28.5.2+dfsg4-5): its release is 28.5.2.
  const archive = source === 'debian' || source === 'ubuntu';
  const parsed = parseEngineVersion(archive ? version.replace(/^(\d+\.\d+\.\d+)[+~-].*$/, '$1') : version);
  if (!parsed && version !== 'distro' && version !== 'latest') {
    at(['engine', 'version'], `engine.version ${quote(version)} is not a version: write e.g. "20.10", "20.10.24", "distro" or "latest"`);
  }
  if (mode === 'kv') checkKvMode(version, parsed, at);
  if (mode === 'alone') checkAlone(raw, hosts, at);
  if (mode === 'swarm' && parsed && older(parsed, SWARM_MODE_SINCE)) {
    at(
      ['engine', 'version'],
      `engine.version ${version} cannot run mode swarm: standalone containers need attachable overlays, which came in Docker 1.13; use engine.version "20.10" or newer`,
    );
  }
  checkSource(raw, source, version, at);
  // Extra dockerd flags go last on the command line of an engine root runs: an allowlist.
  (raw.engine?.flags ?? []).forEach((f, i) => checkGrammar(at, ['engine', 'flags', i], `engine.flags[${i}]`, f, engineFlagProblem));
  return {
    version,
    mode,
    install: raw.engine?.install ?? d.install,
    advertisePort: raw.engine?.advertisePort ?? DEFAULT_ADVERTISE_PORT,
    source,
    suite: raw.engine?.suite,
    sha256: raw.engine?.sha256,
    flags: raw.engine?.flags ?? [],
  };
}

function checkKvMode(version: string, parsed: Version | undefined, at: At): void {
  const tooNew = version === 'latest' || (parsed !== undefined && !older(parsed, KV_MODE_REMOVED_IN));
  if (parsed && older(parsed, KV_MODE_SINCE)) {
    at(['engine', 'version'], `engine.version ${version} has no overlay networks: multi-host networking came in Docker 1.9; use engine.version "20.10"`);
  }
  if (tooNew) {
    at(
      ['engine', 'version'],
      `engine.version ${version} cannot run mode kv: --cluster-store and --cluster-advertise were deprecated in Docker 20.10 ` +
        `and removed in 23.0; use engine.version "20.10" (or older), or engine.mode "swarm"`,
    );
  }
}

/** Engines alone: a room's students make the cluster themselves (docker swarm init, join,
 * network create), so the lab has no KV store and nothing that needs a cluster. */
function checkAlone(raw: RawLab, hosts: readonly LabHost[], at: At): void {
  if (raw.kv !== undefined) at(['kv'], 'engine.mode alone runs no KV store: leave kv out (or use engine.mode kv)');
  for (const [i, h] of hosts.entries()) {
    if (h.role === 'kv') at(['hosts', i, 'role'], `host ${quote(h.name)} has role kv, but engine.mode alone runs no KV store: give it role docker, or remove it`);
  }
  const byHand = 'the engines run alone, and the overlays and their containers are what the students make (docker swarm init, join, network create)';
  if (raw.networks?.length) at(['networks'], `engine.mode alone has no networks: ${byHand}; leave networks out, or use engine.mode swarm`);
  if (raw.containers?.length) at(['containers'], `engine.mode alone has no containers: ${byHand}; leave containers out, or use engine.mode swarm`);
}

function checkSource(raw: RawLab, source: Lab['engine']['source'], version: string, at: At): void {
  const archive = source === 'debian' || source === 'ubuntu';
  // A static archive is one exact release (docker-X.Y.Z.tgz): a series or a moving name names no file.
  if (source === 'static' && !/^\d+\.\d+\.\d+$/.test(version)) {
    at(['engine', 'version'], `engine.source static needs an exact engine.version X.Y.Z (the archive docker-X.Y.Z.tgz); got ${quote(version)}`);
  }
  // An archive names packages by their exact version: 28.5.2 (the release) or 28.5.2+dfsg4-5 (the package).
  if ((archive || source === 'auto') && !/^\d+\.\d+\.\d+(?:[+~][A-Za-z0-9.+~-]*|-[A-Za-z0-9.+~]+)?$/.test(version)) {
    at(['engine', 'version'], `engine.source ${source} needs an exact engine.version: a release X.Y.Z (or a package version such as 28.5.2+dfsg4-5); got ${quote(version)}`);
  }
  if (source === 'auto' && !/^\d+\.\d+\.\d+$/.test(version)) {
    at(['engine', 'version'], `engine.source auto finds a release X.Y.Z (a package version names one archive: use engine.source debian or ubuntu); got ${quote(version)}`);
  }
  if (raw.engine?.suite !== undefined && !archive) {
    at(['engine', 'suite'], `engine.suite names a suite of a package archive: it needs engine.source debian or ubuntu (not ${source})`);
  }
  if (source !== 'static' && raw.engine?.sha256 !== undefined) at(['engine', 'sha256'], 'engine.sha256 checks a static archive: it needs engine.source static');
}
