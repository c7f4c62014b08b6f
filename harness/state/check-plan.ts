// What a lab's recorded plan (plan.json, beside its state) must hold before a command acts on
// it: its names become paths (the state folder, handouts), namespaces and hostnames; its
// addresses, flags and KV commands become command lines; its network and service bodies go
// to the engines as they are. Names and words follow the lab file's grammar; what the planner
// derives (KV commands, daemon settings, network bodies) must be what it would derive, and a
// service body holds only the fields the planner writes.
import { kvCandidate } from '../lab/kv-stores.ts';
import { ENGINE_SOURCES, KV_TYPES, type Plan } from '../lab/types.ts';
import {
  ALIAS,
  BOX,
  cidr,
  containerName,
  ENGINE_FLAG,
  ENGINE_VERSION,
  fingerprint,
  hostName,
  IMAGE,
  ipv4,
  isHostAddress,
  isKeyPath,
  labName,
  networkName,
  port,
  SHA256_HEX,
  SSH_USER,
  SUITE,
} from './rules.ts';
import { checkFact } from './check-plan-facts.ts';
import { at, bool, fail, int, list, matches, notA, object, oneOf, only, opt, req, sameAs, shown, str, text, type Check, type Obj } from './shape.ts';

/** The labels overlab puts on what it creates (lab/plan.ts LABEL_LAB and LABEL_HOST). */
const LABEL_LAB = 'overlab.lab';
const LABEL_HOST = 'overlab.host';

const image: Check<string> = matches(IMAGE, 'an image reference');
const alias: Check<string> = matches(ALIAS, 'a DNS alias (one lower-case label)');

/** One of `names` (hosts, docker hosts, networks of the plan); `what` says which. */
function member(names: ReadonlySet<string>, what: string, check: Check<string>): Check<string> {
  return (v, p) => {
    const name = check(v, p);
    return names.has(name) ? name : fail(p, `is ${shown(name)}, not ${what} of the plan (${[...names].join(', ') || 'none'})`);
  };
}

/**
 * The recorded plan as a Plan, or a ShapeProblem naming its first bad field. `lab`: the lab
 * whose folder it was read from, which it must name.
 */
export function checkPlan(data: unknown, expected: { lab?: string } = {}): Plan {
  const o = object(data, '');
  const lab = req(o, '', 'lab', labName);
  if (expected.lab !== undefined && lab !== expected.lab) fail('/lab', `is ${shown(lab)}, not the lab whose folder it is in (${expected.lab})`);
  req(o, '', 'file', str);
  req(o, '', 'description', text({ lines: true, max: 1000 }));
  req(o, '', 'provider', oneOf(['auto', 'vagrant', 'netns', 'ssh'] as const));
  req(o, '', 'subnet', cidr);
  const mode = req(o, '', 'mode', oneOf(['kv', 'swarm', 'alone'] as const));
  const engine = req(o, '', 'engine', (v, p) => {
    const e = object(v, p);
    req(e, p, 'version', matches(ENGINE_VERSION, 'an engine version (20.10, 20.10.24, distro, ...)'));
    req(e, p, 'install', oneOf(['apt', 'distro', 'preinstalled'] as const));
    const advertisePort = req(e, p, 'advertisePort', port);
    // source, suite, sha256 and flags: plans recorded by older versions lack them.
    opt(e, p, 'source', oneOf(ENGINE_SOURCES));
    opt(e, p, 'suite', matches(SUITE, 'a suite name'));
    opt(e, p, 'sha256', matches(SHA256_HEX, 'a SHA-256 (64 hex digits)'));
    opt(e, p, 'flags', list(matches(ENGINE_FLAG, 'a dockerd flag (--name or --name=value, no control characters)')));
    return { advertisePort };
  });

  const hosts = req(o, '', 'hosts', list((v, p) => hostPlan(object(v, p), p), { min: 1 }));
  const hostNames = new Set<string>();
  hosts.forEach((h, i) => {
    if (hostNames.has(h.name)) fail(at(at('/hosts', i), 'name'), `is ${shown(h.name)}, a host named twice`);
    hostNames.add(h.name);
  });
  const addressOf = new Map(hosts.map((h) => [h.name, h.address]));

  const kv = opt(o, '', 'kv', (v, p) => {
    const k = object(v, p);
    const host = req(k, p, 'host', member(hostNames, 'a host', hostName));
    const address = req(k, p, 'address', sameAs(addressOf.get(host)!, `the address of host ${host}`));
    // The stores' command lines are run on the kv host (and again by `fault kv-up`): only what the planner makes.
    const candidates = req(k, p, 'candidates', list((w, q) => {
      const c = object(w, q);
      const type = req(c, q, 'type', oneOf(KV_TYPES));
      const candidatePort = req(c, q, 'port', port);
      return sameAs(kvCandidate(type, host, address, candidatePort), `what overlab plans for ${type} on ${host}`)(c, q);
    }, { min: 1 }));
    return { candidates };
  });

  hosts.forEach((h, i) => {
    const p = at('/hosts', i);
    const daemon = opt(h.raw, p, 'daemon', object);
    if (!daemon) return;
    // Each becomes a dockerd flag: only what the planner derives from the kv store, the address and the lab.
    const expectedDaemon = {
      ...(kv?.candidates[0] ? { clusterStore: kv.candidates[0].clusterStore } : {}),
      ...(mode === 'kv' ? { clusterAdvertise: `${h.address}:${engine.advertisePort}` } : {}),
      labels: { [LABEL_LAB]: lab, [LABEL_HOST]: h.name },
    };
    sameAs(expectedDaemon, `the daemon settings overlab plans for host ${h.name}`)(daemon, at(p, 'daemon'));
  });

  const dockerHosts = new Set(req(o, '', 'dockerHosts', list(member(hostNames, 'a host', hostName))));
  const networks = req(o, '', 'networks', list((v, p) => networkPlan(object(v, p), p, lab, dockerHosts)));
  const networkNames = new Set(networks);
  req(o, '', 'containers', list((v, p) => containerPlan(object(v, p), p, hostNames, networkNames)));
  // services and specs: plans recorded by older versions lack them.
  opt(o, '', 'services', list((v, p) => servicePlan(object(v, p), p, lab, hostNames, dockerHosts, networkNames)));
  opt(o, '', 'specs', (v, p) => {
    const s = object(v, p);
    req(s, p, 'pairs', (w, q) => {
      const pairs = object(w, q);
      const kind = req(pairs, q, 'kind', oneOf(['all', 'cross-host', 'sample'] as const));
      if (kind === 'sample') req(pairs, q, 'n', int(1, 1_000_000));
    });
    // The lab's own spec files (absent before them): names or globs, as the lab file's grammar allows.
    opt(s, p, 'files', list((w, q) => {
      const ref = object(w, q);
      req(ref, q, 'pattern', (x, r) => (isKeyPath(str(x, r)) ? (x as string) : fail(r, `is ${shown(x)}, not a spec file's name or glob`)));
      req(ref, q, 'pos', (x, r) => {
        const pos = object(x, r);
        req(pos, r, 'file', str);
        req(pos, r, 'line', int(0));
        req(pos, r, 'column', int(0));
      });
    }));
  });
  req(o, '', 'facts', list(checkFact));
  return o as unknown as Plan;
}

function hostPlan(h: Obj, p: string): { raw: Obj; name: string; address: string } {
  const name = req(h, p, 'name', hostName);
  req(h, p, 'hostname', sameAs(name, "the host's name"));
  const address = req(h, p, 'address', ipv4);
  req(h, p, 'role', oneOf(['kv', 'docker'] as const));
  req(h, p, 'box', matches(BOX, 'a box name (NAME or OWNER/NAME)'));
  req(h, p, 'cpus', int(1, 64));
  req(h, p, 'memory', int(128, 262144));
  req(h, p, 'ssh', (v, q) => {
    const s = object(v, q);
    req(s, q, 'address', (w, r) => (typeof w === 'string' && isHostAddress(w) ? w : notA(r, w, 'an IPv4 address or a DNS name')));
    req(s, q, 'user', (w, r) => (typeof w === 'string' && SSH_USER.test(w) ? w : notA(r, w, 'a user name')));
    req(s, q, 'port', port);
    opt(s, q, 'key', (w, r) => (typeof w === 'string' && isKeyPath(w) ? w : notA(r, w, 'a file path (no control characters, not starting with "-")')));
    opt(s, q, 'hostKey', fingerprint);
  });
  return { raw: h, name, address };
}

function networkPlan(n: Obj, p: string, lab: string, dockerHosts: ReadonlySet<string>): string {
  const name = req(n, p, 'name', networkName);
  const subnet = req(n, p, 'subnet', cidr);
  const gateway = req(n, p, 'gateway', ipv4);
  const internal = req(n, p, 'internal', bool);
  const encrypted = req(n, p, 'encrypted', bool);
  const attachable = req(n, p, 'attachable', bool);
  req(n, p, 'createOn', member(dockerHosts, 'a docker host', hostName));
  // The body POST /networks/create gets: what the planner makes of the fields above.
  const create = {
    Name: name,
    Driver: 'overlay',
    CheckDuplicate: true,
    Internal: internal,
    Attachable: attachable,
    Options: encrypted ? { encrypted: '' } : {},
    IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gateway }] },
    Labels: { [LABEL_LAB]: lab },
  };
  req(n, p, 'create', sameAs(create, `the body overlab plans for network ${name}`));
  return name;
}

function containerPlan(c: Obj, p: string, hosts: ReadonlySet<string>, networks: ReadonlySet<string>): void {
  req(c, p, 'name', containerName);
  req(c, p, 'host', member(hosts, 'a host', hostName));
  req(c, p, 'image', image);
  req(c, p, 'command', list(str));
  req(c, p, 'networks', list((v, q) => {
    const a = object(v, q);
    req(a, q, 'network', member(networks, 'a network', networkName));
    req(a, q, 'aliases', list(alias));
    opt(a, q, 'address', ipv4);
  }));
}

/**
 * A swarm service. Its body goes to POST /services/create as it is, so it may hold only the
 * fields the planner writes, each agreeing with the service's own: no mounts, no privileges.
 */
function servicePlan(v: Obj, p: string, lab: string, hosts: ReadonlySet<string>, dockerHosts: ReadonlySet<string>, networks: ReadonlySet<string>): void {
  const name = req(v, p, 'name', containerName);
  const img = req(v, p, 'image', image);
  const replicas = req(v, p, 'replicas', int(1, 1000));
  const own = new Set(req(v, p, 'networks', list(member(networks, 'a network', networkName), { min: 1 })));
  const endpointMode = req(v, p, 'endpointMode', oneOf(['vip', 'dnsrr'] as const));
  const servicePort = req(v, p, 'port', port);
  req(v, p, 'publish', list((w, q) => {
    const pub = object(w, q);
    req(pub, q, 'published', port);
    req(pub, q, 'mode', oneOf(['ingress', 'host'] as const));
  }));
  req(v, p, 'placement', list(member(hosts, 'a host', hostName)));
  req(v, p, 'createOn', member(dockerHosts, 'a docker host', hostName));
  const labels = { [LABEL_LAB]: lab };
  req(v, p, 'create', (w, q) => {
    const body = object(w, q);
    only(body, q, ['Name', 'Labels', 'TaskTemplate', 'Mode', 'EndpointSpec']);
    req(body, q, 'Name', sameAs(name, "the service's name"));
    req(body, q, 'Labels', sameAs(labels, "the lab's label"));
    req(body, q, 'TaskTemplate', (x, r) => {
      const task = object(x, r);
      only(task, r, ['ContainerSpec', 'Placement', 'Networks', 'RestartPolicy']);
      req(task, r, 'ContainerSpec', (y, s) => {
        const spec = object(y, s);
        only(spec, s, ['Image', 'Hostname', 'Command', 'Labels']);
        req(spec, s, 'Image', sameAs(img, "the service's image"));
        opt(spec, s, 'Hostname', text({ max: 253 }));
        opt(spec, s, 'Command', list(str));
        opt(spec, s, 'Labels', sameAs(labels, "the lab's label"));
      });
      opt(task, r, 'Placement', (y, s) => {
        const placement = object(y, s);
        only(placement, s, ['Constraints']);
        opt(placement, s, 'Constraints', list(matches(/^node\.hostname(?:==|!=)[a-z][a-z0-9-]{0,30}$/, 'a placement on a host (node.hostname==NAME or !=NAME)')));
      });
      opt(task, r, 'Networks', list((y, s) => {
        const target = object(y, s);
        only(target, s, ['Target']);
        req(target, s, 'Target', member(own, "a network of the service's", networkName));
      }));
      opt(task, r, 'RestartPolicy', (y, s) => {
        const policy = object(y, s);
        only(policy, s, ['Condition', 'Delay']);
        opt(policy, s, 'Condition', oneOf(['any', 'on-failure', 'none'] as const));
        opt(policy, s, 'Delay', int(0));
      });
    });
    req(body, q, 'Mode', sameAs({ Replicated: { Replicas: replicas } }, "the service's replicas"));
    req(body, q, 'EndpointSpec', (x, r) => {
      const spec = object(x, r);
      only(spec, r, ['Mode', 'Ports']);
      req(spec, r, 'Mode', sameAs(endpointMode, "the service's endpoint mode"));
      opt(spec, r, 'Ports', list((y, s) => {
        const port_ = object(y, s);
        only(port_, s, ['Protocol', 'TargetPort', 'PublishedPort', 'PublishMode']);
        req(port_, s, 'Protocol', oneOf(['tcp'] as const));
        req(port_, s, 'TargetPort', sameAs(servicePort, "the service's port"));
        req(port_, s, 'PublishedPort', port);
        req(port_, s, 'PublishMode', oneOf(['ingress', 'host'] as const));
      }));
    });
  });
}

/**
 * The plan's engine flags against the lab file's allowlist (lab/engine-flags.ts), as `validate`
 * checks them: dockerd is started with them as root (`fault heal`, restart-engine), so a flag
 * overlab sets itself or one pointing the engine outside the lab is refused here too. Loaded
 * only for a plan that has flags: that module loads the YAML parser, which quick commands do
 * without.
 */
export async function checkPlanEngineFlags(plan: Plan): Promise<void> {
  const flags = plan.engine.flags ?? [];
  if (!flags.length) return;
  const { engineFlagProblem } = await import('../lab/engine-flags.ts');
  flags.forEach((flag, i) => {
    const problem = engineFlagProblem(flag, flags[i - 1]);
    if (problem) fail(at('/engine/flags', i), `is ${shown(flag)}, which ${problem}`);
  });
}
