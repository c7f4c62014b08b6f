// Planning: a pure function from a validated Lab to the Plan every provider, engine step and
// spec consumes. No I/O.
import { kvCandidate } from './kv-stores.ts';
import { KV_PORTS } from './validate.ts';
import type { ContainerPlan, DaemonPlan, HostPlan, KvPlan, Lab, LabService, NetworkPlan, Plan, PlanFact, ServicePlan } from './types.ts';

/** VXLAN adds 50 bytes to every frame (libnetwork drivers/overlay: vxlanEncap). */
export const VXLAN_OVERHEAD = 50;
export const UNDERLAY_MTU = 1500;
export const LABEL_LAB = 'overlab.lab';
export const LABEL_HOST = 'overlab.host';

export function planLab(lab: Lab): Plan {
  const kv = planKv(lab);
  const hosts = lab.hosts.map((h): HostPlan => ({
    name: h.name,
    hostname: h.name,
    address: h.address,
    role: h.role,
    box: h.box,
    cpus: h.cpus,
    memory: h.memory,
    ssh: h.ssh,
    daemon: h.role === 'docker' ? planDaemon(lab, h.name, h.address, kv) : undefined,
  }));
  const dockerHosts = hosts.filter((h) => h.role === 'docker').map((h) => h.name);
  const networks = lab.networks.map((n): NetworkPlan => ({
    ...n,
    createOn: dockerHosts[0]!,
    create: {
      Name: n.name,
      Driver: 'overlay',
      CheckDuplicate: true,
      Internal: n.internal,
      Attachable: n.attachable,
      Options: n.encrypted ? { encrypted: '' } : {},
      IPAM: { Driver: 'default', Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
      Labels: { [LABEL_LAB]: lab.name },
    },
  }));
  const containers = lab.containers.map((c): ContainerPlan => ({ ...c }));
  const services = lab.services.map((v): ServicePlan => ({ ...v, createOn: dockerHosts[0]!, create: serviceCreate(lab, v, dockerHosts) }));
  const plan: Plan = {
    lab: lab.name,
    file: lab.file,
    description: lab.description,
    provider: lab.provider,
    subnet: lab.subnet,
    mode: lab.engine.mode,
    engine: {
      version: lab.engine.version,
      install: lab.engine.install,
      advertisePort: lab.engine.advertisePort,
      source: lab.engine.source,
      ...(lab.engine.suite ? { suite: lab.engine.suite } : {}),
      ...(lab.engine.sha256 ? { sha256: lab.engine.sha256 } : {}),
      flags: lab.engine.flags,
    },
    kv,
    hosts,
    dockerHosts,
    networks,
    containers,
    services,
    specs: { pairs: lab.specs.pairs, ...(lab.specs.files.length ? { files: lab.specs.files } : {}) },
    facts: [],
  };
  plan.facts = planFacts(plan, lab);
  return plan;
}

/** A task's hostname: the service and the task's slot ("web-2"), so an answer names the task that gave it. */
export const TASK_HOSTNAME = '{{.Service.Name}}-{{.Task.Slot}}';

/**
 * The engine API body that creates a service. Each task answers its hostname on the service's
 * port (busybox nc -ll forks per connection), so a probe knows which task it reached.
 * Placement on several hosts is "not on the others": swarm constraints are all ANDed.
 */
export function serviceCreate(lab: Lab, v: LabService, dockerHosts: string[]): Record<string, unknown> {
  const hostname = (h: string) => lab.hosts.find((x) => x.name === h)?.name ?? h;
  const constraints = v.placement.length === 0 ? [] : v.placement.length === 1 ? [`node.hostname==${hostname(v.placement[0]!)}`] : dockerHosts.filter((h) => !v.placement.includes(h)).map((h) => `node.hostname!=${hostname(h)}`);
  return {
    Name: v.name,
    Labels: { [LABEL_LAB]: lab.name },
    TaskTemplate: {
      ContainerSpec: {
        Image: v.image,
        Hostname: TASK_HOSTNAME,
        Command: ['sh', '-c', `trap 'exit 0' TERM; nc -ll -p ${v.port} -e hostname & wait`],
        Labels: { [LABEL_LAB]: lab.name },
      },
      Placement: { Constraints: constraints },
      Networks: v.networks.map((n) => ({ Target: n })),
      RestartPolicy: { Condition: 'any', Delay: 1_000_000_000 },
    },
    Mode: { Replicated: { Replicas: v.replicas } },
    EndpointSpec: {
      Mode: v.endpointMode,
      Ports: v.publish.map((p) => ({ Protocol: 'tcp', TargetPort: v.port, PublishedPort: p.published, PublishMode: p.mode })),
    },
  };
}

function planKv(lab: Lab): KvPlan | undefined {
  if (lab.engine.mode !== 'kv' || lab.kv.host === undefined) return undefined;
  const host = lab.hosts.find((h) => h.name === lab.kv.host)!;
  const types = [lab.kv.type, ...(lab.kv.fallback ? [lab.kv.fallback] : [])];
  return {
    host: host.name,
    address: host.address,
    // An explicit port applies to the preferred store; a fallback listens on its own default.
    candidates: types.map((t, i) => kvCandidate(t, host.name, host.address, i === 0 ? (lab.kv.port ?? KV_PORTS[t]) : KV_PORTS[t])),
  };
}

function planDaemon(lab: Lab, name: string, address: string, kv: KvPlan | undefined): DaemonPlan {
  return {
    clusterStore: kv?.candidates[0]?.clusterStore,
    clusterAdvertise: lab.engine.mode === 'kv' ? `${address}:${lab.engine.advertisePort}` : undefined,
    labels: { [LABEL_LAB]: lab.name, [LABEL_HOST]: name },
  };
}

/** The overlay MTU seen inside containers. */
export function overlayMtu(): number {
  return UNDERLAY_MTU - VXLAN_OVERHEAD;
}

/**
 * Every fact the specs prove, derived from the topology, then the lab's stated ones. Pairwise
 * facts are stated per network and per group of containers, so the plan grows linearly with
 * the lab; harness/lab/facts.ts expands them (expandFacts) when specs run.
 */
export function planFacts(plan: Plan, lab: Lab): PlanFact[] {
  const facts: PlanFact[] = [];
  const containers = plan.containers;
  const membersOf = new Map<string, ContainerPlan[]>(plan.networks.map((n) => [n.name, []]));
  for (const c of containers) for (const a of c.networks) membersOf.get(a.network)?.push(c);

  for (const n of plan.networks) {
    const members = membersOf.get(n.name)!;
    const memberHosts = new Set(members.map((c) => c.host));
    const hosts = plan.mode === 'kv' ? plan.dockerHosts : plan.dockerHosts.filter((h) => h === n.createOn || memberHosts.has(h));
    for (const host of hosts) facts.push({ kind: 'network-present', network: n.name, host });
  }

  for (const n of plan.networks) {
    const members = membersOf.get(n.name)!;
    if (members.length > 1) facts.push({ kind: 'network-reach', network: n.name, members: members.map((c) => c.name) });
  }
  // Containers that join the same networks share a group; groups that share no network are isolated.
  const groups = new Map<string, string[]>();
  for (const c of containers) {
    const key = JSON.stringify(c.networks.map((a) => a.network).sort());
    groups.set(key, [...(groups.get(key) ?? []), c.name]);
  }
  if (containers.length > 1) facts.push({ kind: 'isolation', groups: [...groups.values()] });

  for (const n of plan.networks) {
    if (n.encrypted) continue; // IPsec lowers the MTU by an amount that depends on the cipher.
    // The first member and the first member on another host (the first cross-host pair).
    const [a, ...rest] = membersOf.get(n.name)!;
    const b = a && rest.find((c) => c.host !== a.host);
    if (a && b) facts.push({ kind: 'mtu', from: a.name, to: b.name, network: n.name, mtu: overlayMtu() });
  }

  if (plan.mode === 'kv' && plan.kv) facts.push({ kind: 'kv-registered', hosts: plan.dockerHosts });
  if (plan.mode === 'swarm') facts.push({ kind: 'swarm-ready', hosts: plan.dockerHosts });
  if (plan.mode === 'alone') facts.push({ kind: 'engines-alone', hosts: plan.dockerHosts });

  const internalNetworks = new Set(plan.networks.filter((n) => n.internal).map((n) => n.name));
  for (const c of containers) {
    const internal = c.networks.filter((a) => internalNetworks.has(a.network));
    if (internal.length === c.networks.length) {
      for (const a of internal) facts.push({ kind: 'internal-no-route', container: c.name, network: a.network });
    }
  }

  facts.push(...serviceFacts(plan, membersOf));

  for (const fact of lab.expect) facts.push({ kind: 'stated', fact });
  return facts;
}

/**
 * The release specs of swarm mode: for each service, from the first standalone container on
 * each of its networks, its tasks are reached, its name and tasks.NAME resolve, connections to
 * a VIP spread over every replica, answers follow a scale, and its published ports answer; and
 * for each overlay with members on two hosts, what crosses the underlay (ESP or VXLAN).
 */
function serviceFacts(plan: Plan, membersOf: Map<string, ContainerPlan[]>): PlanFact[] {
  if (plan.mode !== 'swarm') return [];
  const facts: PlanFact[] = [];
  for (const v of plan.services) {
    let first: { from: string; network: string } | undefined;
    for (const network of v.networks) {
      const from = membersOf.get(network)?.[0]?.name;
      if (!from) continue;
      first ??= { from, network };
      facts.push(
        { kind: 'service-reach', service: v.name, from, network },
        { kind: 'service-name', service: v.name, from, network, endpointMode: v.endpointMode },
        { kind: 'service-tasks-name', service: v.name, from, network },
      );
    }
    if (first && v.endpointMode === 'vip' && v.replicas > 1) facts.push({ kind: 'service-vip-spread', service: v.name, ...first, replicas: v.replicas });
    // One more task of a service publishing in host mode may find no node with the port free.
    if (first && !v.publish.some((p) => p.mode === 'host')) facts.push({ kind: 'service-scale', service: v.name, ...first, replicas: v.replicas });
    const prober = plan.containers[0]?.name;
    if (prober) for (const p of v.publish) facts.push({ kind: 'service-published', service: v.name, from: prober, published: p.published, mode: p.mode });
  }
  if (plan.services.length) {
    for (const n of plan.networks) {
      const [a, ...rest] = membersOf.get(n.name)!;
      const b = a && rest.find((c) => c.host !== a.host);
      if (a && b) facts.push({ kind: 'overlay-wire', network: n.name, from: a.name, to: b.name, encrypted: n.encrypted });
    }
  }
  return facts;
}
