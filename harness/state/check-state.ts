// What a lab's state file must hold before anything is done from it: `down` stops the pids it
// records and deletes the namespaces and folders it names, `fault heal` starts dockerd from
// the engine tree it names, the ssh provider runs its proxy command. Every such field is
// checked for its type and grammar; paths of the lab's own must lie in the lab's state or
// runtime folder; pids are pids. Records of providers are open objects: a key that is not
// known here is kept and never used as one of these.
import { dirname, isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { KV_TYPES, type ProviderId } from '../lab/types.ts';
import { labPrefix, NETNS_DIR, NS_PREFIX } from '../system/namespaces.ts';
import { engineCacheRoot } from '../system/engine-cache.ts';
import type { FaultRecord } from './faults.ts';
import { OWNER_NAME } from './owner.ts';
import { labRuntimeDir } from './paths.ts';
import { BOX, fingerprint, hostName, ipv4, isHostAddress, isKeyPath, labName, NAME, port, SSH_USER, timestamp } from './rules.ts';
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

/** Where netns labs had their runtime folders before RUNTIME_ROOT: states of labs brought up then name it. */
const LEGACY_RUNTIME_ROOT = '/tmp/overlab';

/** A path in the lab's runtime folder (or, in an older state, where that folder was). */
function inRuntime(scope: Scope): Check<string> {
  const legacy = join(LEGACY_RUNTIME_ROOT, scope.lab);
  return (v, p) => {
    const path = absolutePath(v, p);
    return isInside(path, scope.runtimeDir) || isInside(path, legacy) ? path : fail(p, `is ${shown(path)}, outside the lab's runtime folder (${scope.runtimeDir})`);
  };
}

interface Scope {
  lab: string;
  provider: ProviderId;
  stateDir: string;
  runtimeDir: string;
  engineCache: string;
  /** The folder of the engine tree the lab runs, when it runs one. */
  treeDir: string | undefined;
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

function hostState(key: string, value: unknown, p: string, scope: Scope): void {
  if (!NAME.test(key)) fail(p, `is under the key ${shown(key)}, not a host name`);
  const h = object(value, p);
  const name = req(h, p, 'name', hostName);
  if (name !== key) fail(at(p, 'name'), `is ${shown(name)}, not the host's key ${shown(key)}`);
  req(h, p, 'address', ipv4);
  req(h, p, 'role', oneOf(['kv', 'docker'] as const));
  req(h, p, 'resources', (v, q) => hostResources(object(v, q), q, scope));
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

/** One of the lab's namespaces: `ovl.<lab>.` and a name. */
function labNamespace(scope: Scope): Check<string> {
  const prefix = labPrefix(scope.lab);
  return (v, p) =>
    typeof v === 'string' && v.startsWith(prefix) && /^[A-Za-z0-9_-]{1,64}$/.test(v.slice(prefix.length)) ? v : notA(p, v, `a namespace of lab ${scope.lab} (${prefix}NAME)`);
}

const word = (what: string): Check<string> => matches(/^[a-z][a-z0-9_-]{0,63}$/, what);
const processStart = int(0, Number.MAX_SAFE_INTEGER, 'a process start time (clock ticks after boot)');

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

/** The lab's own libvirt (vagrant --libvirt local): its daemons' pids are stopped on down. */
function libvirtRecord(r: Obj, p: string, scope: Scope): void {
  req(r, p, 'mode', oneOf(['local'] as const));
  req(r, p, 'namespace', labNamespace(scope));
  req(r, p, 'prefix', (v, q) => (v === labPrefix(scope.lab) ? v : notA(q, v, `lab ${scope.lab}'s prefix ${shown(labPrefix(scope.lab))}`)));
  // The box's name selects the volumes down removes: a box name, or empty for a sweep.
  req(r, p, 'box', (v, q) => (v === '' ? '' : matches(BOX, 'a box name (NAME or OWNER/NAME)')(v, q)));
  req(r, p, 'pids', dict(pid, { pattern: /^[a-z][a-z0-9_-]{0,63}$/, what: 'a daemon name' }));
  opt(r, p, 'starts', dict(processStart, { pattern: /^[a-z][a-z0-9_-]{0,63}$/, what: 'a daemon name' }));
  opt(r, p, 'boxVolumesBefore', list(matches(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/, 'a volume name')));
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

/** What a provider records per host. */
function hostResources(r: Obj, p: string, scope: Scope): void {
  const inState = pathInside(scope.stateDir, `the lab's state folder`);
  // netns: the host's namespaces, their holder process, its runtime folder and services.
  opt(r, p, 'namespace', labNamespace(scope));
  opt(r, p, 'holderPid', pid);
  opt(r, p, 'holderStart', processStart); // absent in older state files
  opt(r, p, 'runtimeDir', inRuntime(scope));
  opt(r, p, 'services', dict((v, q) => {
    const s = object(v, q);
    req(s, q, 'pid', pid);
    opt(s, q, 'start', processStart);
    req(s, q, 'argv', list(str));
    req(s, q, 'log', inState);
  }, { pattern: /^[a-z][a-z0-9-]{0,63}$/, what: 'a service name' }));
  // vagrant: the machine's name.
  opt(r, p, 'machine', hostName);
  // ssh and vagrant: how to reach the machine, and what overlab changed on it.
  opt(r, p, 'ssh', (v, q) => sshEndpoint(object(v, q), q, scope));
  opt(r, p, 'units', list(matches(/^overlab-[A-Za-z0-9_.@-]{1,200}\.service$/, 'a unit overlab started (overlab-NAME.service)')));
  opt(r, p, 'dropIn', absolutePath);
  opt(r, p, 'folders', list((v, q) => {
    // A folder made on the machine to put the engine tree there: the tree's folder or one above it.
    const folder = absolutePath(v, q);
    if (!scope.treeDir) return fail(q, `is ${shown(folder)}, but the state records no engine tree for it to hold`);
    if (folder === '/' || !isInside(scope.treeDir, folder)) fail(q, `is ${shown(folder)}, not the engine tree's folder (${scope.treeDir}) or a folder above it`);
    return folder;
  }));
}

function sshEndpoint(e: Obj, p: string, scope: Scope): void {
  req(e, p, 'host', (v, q) => (typeof v === 'string' && isHostAddress(v) ? v : notA(q, v, 'an IPv4 address or a DNS name')));
  req(e, p, 'port', port);
  req(e, p, 'username', (v, q) => (typeof v === 'string' && SSH_USER.test(v) ? v : notA(q, v, 'a user name')));
  req(e, p, 'privateKeyPath', keyPath);
  opt(e, p, 'proxy', (v, q) => proxyCommand(v, q, scope));
  // Absent in records from before host keys were checked.
  opt(e, p, 'hostKeys', (v, q) => {
    const k = object(v, q);
    req(k, q, 'knownHosts', list(keyPath));
    req(k, q, 'recordIn', pathInside(scope.stateDir, `the lab's state folder`));
    opt(k, q, 'pinned', (w, r) => {
      const pinned = object(w, r);
      req(pinned, r, 'fingerprint', fingerprint);
      req(pinned, r, 'source', str);
    });
    // Later connections never take a new key: a recorded policy that would is not one overlab wrote.
    opt(k, q, 'acceptNew', (w, r) => (w === false ? false : notA(r, w, 'false (a recorded policy never accepts a new host key)')));
    opt(k, q, 'vouchedBy', oneOf(['user', 'overlab'] as const));
  });
}

const keyPath: Check<string> = (v, p) => (typeof v === 'string' && isKeyPath(v) ? v : notA(p, v, 'a file path (no control characters, not starting with "-")'));

/**
 * Providers that ask for their hosts' proxy command afresh on every connection, never running
 * the one a state records (Provider.asksProxyAfresh, which this floor cannot import; the unit
 * spec provider-capabilities.spec.ts holds the two equal).
 */
export const PROXY_ASKED_AFRESH: readonly ProviderId[] = ['vagrant'];

/**
 * The command a recorded endpoint is reached through. The ssh provider runs it from the state,
 * so there it must be overlab's own: netcat in one of overlab's namespaces. Vagrant's (from
 * `vagrant ssh-config`) is asked afresh on every connection, never run from the state.
 */
function proxyCommand(v: unknown, p: string, scope: Scope): string[] {
  const argv = list(str, { min: 1 })(v, p);
  if (PROXY_ASKED_AFRESH.includes(scope.provider)) return argv;
  const [nsenter, net, dashes, busybox, nc, host, tcp, ...rest] = argv;
  const ns = net?.startsWith(`--net=${NETNS_DIR}/`) ? net.slice(`--net=${NETNS_DIR}/`.length) : undefined;
  const ok =
    nsenter === 'nsenter' &&
    ns !== undefined &&
    ns.startsWith(NS_PREFIX) &&
    /^[A-Za-z0-9_.-]{1,200}$/.test(ns) &&
    !ns.includes('..') &&
    dashes === '--' &&
    busybox === 'busybox' &&
    nc === 'nc' &&
    host !== undefined &&
    isHostAddress(host) &&
    tcp !== undefined &&
    /^[1-9][0-9]{0,4}$/.test(tcp) &&
    Number(tcp) <= 65535 &&
    rest.length === 0;
  return ok ? argv : notA(p, argv, `overlab's proxy (nsenter --net=${NETNS_DIR}/${NS_PREFIX}... -- busybox nc ADDRESS PORT)`);
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
