// What a lab's state file records per host, checked as check-state.ts checks the rest: the
// netns namespaces, holder and services, the vagrant machine, the SSH endpoint (its key, host
// keys and proxy command) and what overlab changed on the machine.
import { NETNS_DIR, NS_PREFIX } from '../system/namespaces.ts';
import type { ProviderId } from '../lab/types.ts';
import { fingerprint, hostName, ipv4, isHostAddress, isKeyPath, NAME, port, SSH_USER } from './rules.ts';
import { absolutePath, at, dict, fail, isInside, list, matches, notA, object, oneOf, opt, pathInside, pid, req, shown, str, type Check, type Obj } from './shape.ts';
import { inRuntime, labNamespace, processStart, type Scope } from './check-scope.ts';

export function hostState(key: string, value: unknown, p: string, scope: Scope): void {
  if (!NAME.test(key)) fail(p, `is under the key ${shown(key)}, not a host name`);
  const h = object(value, p);
  const name = req(h, p, 'name', hostName);
  if (name !== key) fail(at(p, 'name'), `is ${shown(name)}, not the host's key ${shown(key)}`);
  req(h, p, 'address', ipv4);
  req(h, p, 'role', oneOf(['kv', 'docker'] as const));
  req(h, p, 'resources', (v, q) => hostResources(object(v, q), q, scope));
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

