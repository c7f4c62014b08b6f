// Planning: a pure function from a validated Lab to the Plan every provider, engine step and
// spec consumes. No I/O.
import { kvCandidate } from '../kv/stores.ts';
import { KV_PORTS } from './validate.ts';
import type { ContainerPlan, DaemonPlan, Fact, HostPlan, KvPlan, Lab, NetworkPlan, Plan } from './types.ts';

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
  const plan: Plan = {
    lab: lab.name,
    file: lab.file,
    description: lab.description,
    provider: lab.provider,
    subnet: lab.subnet,
    mode: lab.engine.mode,
    engine: { version: lab.engine.version, install: lab.engine.install, advertisePort: lab.engine.advertisePort },
    kv,
    hosts,
    dockerHosts,
    networks,
    containers,
    facts: [],
  };
  plan.facts = planFacts(plan, lab);
  return plan;
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

/** Every fact the specs prove, derived from the topology, then the lab's stated ones. */
export function planFacts(plan: Plan, lab: Lab): Fact[] {
  const facts: Fact[] = [];
  const containers = plan.containers;
  /** Every name the embedded DNS answers on a network: its members' names and aliases there. */
  const namesOn = (network: string) =>
    containers.flatMap((c) => c.networks.filter((a) => a.network === network).flatMap((a) => [c.name, ...a.aliases]));

  for (const n of plan.networks) {
    const members = containers.filter((c) => c.networks.some((a) => a.network === n.name));
    const hosts =
      plan.mode === 'kv' ? plan.dockerHosts : plan.dockerHosts.filter((h) => h === n.createOn || members.some((c) => c.host === h));
    for (const host of hosts) facts.push({ kind: 'network-present', network: n.name, host });
  }

  for (const a of containers) {
    const visibleToA = new Set(a.networks.flatMap((x) => namesOn(x.network)));
    for (const b of containers) {
      if (a === b) continue;
      const shared = a.networks.filter((x) => b.networks.some((y) => y.network === x.network));
      if (shared.length === 0) {
        facts.push({ kind: 'isolated', from: a.name, to: b.name, proto: 'icmp' });
        facts.push({ kind: 'isolated', from: a.name, to: b.name, proto: 'tcp' });
        if (!visibleToA.has(b.name)) facts.push({ kind: 'no-resolve', from: a.name, name: b.name });
        continue;
      }
      for (const s of shared) {
        facts.push({ kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'address', proto: 'icmp' });
        facts.push({ kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'name', proto: 'icmp' });
        facts.push({ kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'name', proto: 'tcp' });
        const bOn = b.networks.find((y) => y.network === s.network)!;
        for (const name of [b.name, ...bOn.aliases]) facts.push({ kind: 'resolve', from: a.name, name, network: s.network, target: b.name });
      }
    }
  }

  for (const n of plan.networks) {
    if (n.encrypted) continue; // IPsec lowers the MTU by an amount that depends on the cipher.
    const members = containers.filter((c) => c.networks.some((a) => a.network === n.name));
    const pair = members.flatMap((a) => members.filter((b) => b.host !== a.host).map((b) => [a, b] as const))[0];
    if (pair) facts.push({ kind: 'mtu', from: pair[0].name, to: pair[1].name, network: n.name, mtu: overlayMtu() });
  }

  if (plan.mode === 'kv' && plan.kv) facts.push({ kind: 'kv-registered', hosts: plan.dockerHosts });
  if (plan.mode === 'swarm') facts.push({ kind: 'swarm-ready', hosts: plan.dockerHosts });

  for (const c of containers) {
    const internal = c.networks.filter((a) => plan.networks.find((n) => n.name === a.network)?.internal);
    if (internal.length === c.networks.length) {
      for (const a of internal) facts.push({ kind: 'internal-no-route', container: c.name, network: a.network });
    }
  }

  for (const fact of lab.expect) facts.push({ kind: 'stated', fact });
  return facts;
}
