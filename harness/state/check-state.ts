// What a lab's state file must hold before anything is done from it: `down` stops the pids it
// records and deletes the namespaces and folders it names, `fault heal` starts dockerd from
// the engine tree it names, the ssh provider runs its proxy command. Every such field is
// checked for its type and grammar; paths of the lab's own must lie in the lab's state or
// runtime folder; pids are pids. Records of providers are open objects: a key that is not
// known here is kept and never used as one of these.
// What each host records is checked in check-host-state.ts, in the scope of check-scope.ts.
import { parseRemoteLibvirtUri } from '../lab/libvirt-uri.ts';
import { dirname, isAbsolute, normalize, relative, resolve } from 'node:path';
import { KV_TYPES, type ProviderId } from '../lab/types.ts';
import { labPrefix } from '../system/namespaces.ts';
import { engineCacheRoot } from '../system/engine-cache.ts';
import type { FaultRecord } from './faults.ts';
import { OWNER_NAME } from './owner.ts';
import { labRuntimeDir } from './paths.ts';
import { BOX, fingerprint, hostName, ipv4, labName, NAME, port, timestamp } from './rules.ts';
import {
  absolutePath,
  at,
  bool,
  dict,
  fail,
  finite,
  int,
  isInside,
  list,
  matches,
  notA,
  object,
  oneOf,
  opt,
  pathInside,
  pid,
  req,
  shown,
  str,
  type Check,
  type Obj,
} from './shape.ts';
import type { LabState } from './lab-state.ts';
import { inRuntime, labNamespace, processStart, type Scope } from './check-scope.ts';
import { hostState } from './check-host-state.ts';

export const PROVIDER_IDS: readonly ProviderId[] = ['vagrant', 'netns', 'ssh'];
export const LAB_PHASES: readonly LabState['phase'][] = ['creating', 'up', 'failed', 'destroying'];
const FAULT_KINDS: readonly FaultRecord['kind'][] = ['partition', 'kv-down', 'engine-killed', 'engine-stopped', 'latency', 'rate'];

/** The engine trees' cache, absolute: system/engine-cache.ts's for the same environment and user. */
export function engineCacheOf(env: NodeJS.ProcessEnv, uid: number | undefined): string {
  return resolve(engineCacheRoot(env, uid));
}

export interface StateCheckContext {
  /** The lab's state folder (where the state file is). */
  stateDir: string;
  /** Where the engine cache is ($OVERLAB_ENGINE_CACHE, $XDG_CACHE_HOME) ... */
  env: NodeJS.ProcessEnv;
  /** ... for this user (root has a cache of its own). */
  uid: number | undefined;
}

/** The state file's content as a LabState, or a ShapeProblem naming the first field that is not as overlab writes it. */
export function checkLabState(data: unknown, ctx: StateCheckContext): LabState {
  const o = object(data, '');
  req(o, '', 'version', oneOf([1]));
  const lab = req(o, '', 'lab', labName);
  const provider = req(o, '', 'provider', oneOf(PROVIDER_IDS));
  opt(o, '', 'mode', oneOf(['kv', 'swarm', 'alone'] as const)); // absent in states from before the mode was recorded
  req(o, '', 'file', str);
  opt(o, '', 'copyOf', labName);
  opt(o, '', 'owner', (v, p) => {
    const owner = object(v, p);
    req(owner, p, 'kind', oneOf(['user', 'group'] as const));
    req(owner, p, 'name', matches(OWNER_NAME, 'a user or group name (or id)'));
    req(owner, p, 'id', int(0, 2 ** 32 - 1, 'a uid or gid'));
  });
  req(o, '', 'phase', oneOf(LAB_PHASES));
  req(o, '', 'createdAt', timestamp);
  req(o, '', 'updatedAt', timestamp);
  opt(o, '', 'kv', (v, p) => {
    const kv = object(v, p);
    req(kv, p, 'type', oneOf(KV_TYPES));
    req(kv, p, 'clusterStore', str);
    opt(kv, p, 'announced', str);
  });
  opt(o, '', 'error', str);
  opt(o, '', 'notes', list(str));
  opt(o, '', 'faults', list(faultRecord));
  opt(o, '', 'timings', list((v, p) => {
    const t = object(v, p);
    req(t, p, 'step', matches(/^[^\n]{1,80}$/, 'a step title (one line, at most 80 characters)'));
    opt(t, p, 'host', hostName);
    opt(t, p, 'phase', matches(/^[a-zA-Z][a-zA-Z ()-]{0,59}$/, 'a phase name'));
    req(t, p, 'ms', finite(0));
  }));
  const scope: Scope = { lab, provider, stateDir: resolve(ctx.stateDir), runtimeDir: labRuntimeDir(lab), engineCache: engineCacheOf(ctx.env, ctx.uid), treeDir: undefined };
  req(o, '', 'resources', (v, p) => labResources(object(v, p), p, scope));
  req(o, '', 'hosts', (v, p) => {
    const hosts = object(v, p);
    for (const [key, h] of Object.entries(hosts)) hostState(key, h, at(p, key), scope);
  });
  return o as unknown as LabState;
}

function faultRecord(value: unknown, p: string): FaultRecord {
  const f = object(value, p);
  const kind = req(f, p, 'kind', oneOf(FAULT_KINDS));
  // A kv-down of a lab that has no kv host is recorded with an empty host.
  req(f, p, 'host', kind === 'kv-down' ? (v, q) => (v === '' ? '' : hostName(v, q)) : hostName);
  req(f, p, 'since', timestamp);
  if (kind === 'partition') {
    opt(f, p, 'from', (v, q) => {
      const from = object(v, q);
      req(from, q, 'host', hostName);
      req(from, q, 'address', ipv4);
    });
    opt(f, p, 'tcpPort', port);
  }
  if (kind === 'latency') {
    req(f, p, 'ms', finite(0));
    opt(f, p, 'loss', finite(0, 100));
  }
  if (kind === 'rate') req(f, p, 'mbit', (v, q) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : notA(q, v, 'a rate in Mbit/s (a finite number above 0)')));
  if (kind === 'latency' || kind === 'rate') {
    // The root qdisc the fault replaced, as tc showed it (faults/commands.ts reads it again before use).
    opt(f, p, 'qdisc', (v, q) => {
      const qdisc = object(v, q);
      req(qdisc, q, 'iface', str);
      req(qdisc, q, 'shown', str);
    });
  }
  return f as unknown as FaultRecord;
}

const word = (what: string): Check<string> => matches(/^[a-z][a-z0-9_-]{0,63}$/, what);

/** The provider-wide records (state.resources). */
function labResources(r: Obj, p: string, scope: Scope): void {
  const inState = pathInside(scope.stateDir, `the lab's state folder`);
  opt(r, p, 'switch', labNamespace(scope));
  opt(r, p, 'runtimeDir', inRuntime(scope));
  opt(r, p, 'switchAddress', ipv4);
  opt(r, p, 'sshDir', inState);
  opt(r, p, 'hostKey', fingerprint);
  opt(r, p, 'kind', word('a kind of provider record'));
  opt(r, p, 'vagrantDir', inState);
  opt(r, p, 'hypervisor', word('a hypervisor (a Vagrant provider name)'));
  opt(r, p, 'libvirt', (v, q) => libvirtRecord(object(v, q), q, scope));
  const tree = opt(r, p, 'engineTree', (v, q) => engineTree(object(v, q), q, scope));
  if (tree) scope.treeDir = dirname(tree);
  opt(r, p, 'engineVersions', dict((v, q) => {
    const ran = object(v, q);
    for (const k of ['engine', 'api', 'containerd', 'runc', 'init']) opt(ran, q, k, str);
  }, { pattern: NAME, what: 'a host name' }));
}

/**
 * The lab's libvirt: its own (vagrant --libvirt local), whose daemons' pids are stopped on down;
 * or a server's (--libvirt qemu+ssh://...), whose URI down connects to.
 */
function libvirtRecord(r: Obj, p: string, scope: Scope): void {
  const mode = req(r, p, 'mode', oneOf(['local', 'remote'] as const));
  req(r, p, 'prefix', (v, q) => (v === labPrefix(scope.lab) ? v : notA(q, v, `lab ${scope.lab}'s prefix ${shown(labPrefix(scope.lab))}`)));
  // The box's name selects the volumes down removes: a box name, or empty for a sweep.
  req(r, p, 'box', (v, q) => (v === '' ? '' : matches(BOX, 'a box name (NAME or OWNER/NAME)')(v, q)));
  opt(r, p, 'boxVolumesBefore', list(matches(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/, 'a volume name')));
  if (mode === 'remote') {
    req(r, p, 'uri', (v, q) => {
      try {
        return parseRemoteLibvirtUri(str(v, q)).uri;
      } catch (e) {
        return notA(q, v, `a server's libvirt URI (${(e as Error).message})`);
      }
    });
    req(r, p, 'driver', oneOf(['kvm', 'qemu'] as const));
    opt(r, p, 'claimed', bool);
    return;
  }
  req(r, p, 'namespace', labNamespace(scope));
  req(r, p, 'pids', dict(pid, { pattern: /^[a-z][a-z0-9_-]{0,63}$/, what: 'a daemon name' }));
  opt(r, p, 'starts', dict(processStart, { pattern: /^[a-z][a-z0-9_-]{0,63}$/, what: 'a daemon name' }));
  opt(r, p, 'createdPool', bool);
}

/** The engine tree the lab's engines run from: `fault heal` starts dockerd from its folder. */
function engineTree(t: Obj, p: string, scope: Scope): string {
  const bin = req(t, p, 'bin', (v, q) => {
    // Recorded as the cache root joined with the tree's folder: relative when $OVERLAB_ENGINE_CACHE is.
    const path = typeof v === 'string' && !isAbsolute(v) && v !== '' && normalize(v) === v ? v : absolutePath(v, q);
    const rel = relative(scope.engineCache, resolve(path));
    if (!isInside(resolve(path), scope.engineCache) || !/^[A-Za-z0-9][^/]*\/(?:docker|bin)$/.test(rel)) {
      fail(q, `is ${shown(path)}, not the bin folder of an engine tree in the engine cache (${scope.engineCache}/VERSION/docker or .../bin)`);
    }
    return resolve(path);
  });
  for (const k of ['url', 'sha256', 'version']) opt(t, p, k, str);
  opt(t, p, 'origin', (v, q) => {
    const origin = object(v, q);
    req(origin, q, 'kind', str);
    opt(origin, q, 'url', str);
  });
  return bin;
}

/** The lock file's holder, or undefined when it is not one overlab wrote (then the lock is taken over, as a broken one). */
export function lockHolder(data: unknown): { pid: number; start?: number; command: string } | undefined {
  try {
    const o = object(data, '');
    req(o, '', 'pid', pid);
    opt(o, '', 'start', processStart);
    req(o, '', 'command', str);
    return o as unknown as { pid: number; start?: number; command: string };
  } catch {
    return undefined;
  }
}
