// The lab model: what a lab file says (Lab, defaults applied) and what overlab will do (Plan).
// Both are plain data; providers, engines and specs consume the Plan and never re-read YAML.
export type ProviderName = 'auto' | 'vagrant' | 'netns' | 'ssh';
/** A provider that creates hosts (`auto` resolves to one of these). */
export type ProviderId = Exclude<ProviderName, 'auto'>;
export type KvType = 'consul' | 'etcd' | 'zookeeper';
/** kv: --cluster-store (engines up to 20.10); swarm: swarm mode; alone: engines with no cluster (students make the swarm). */
export type EngineMode = 'kv' | 'swarm' | 'alone';
export type HostRole = 'kv' | 'docker';
export type EngineInstall = 'apt' | 'distro' | 'preinstalled';
/**
 * netns: this machine's engine binaries (system), Docker's static release archive of
 * engine.version (static), docker.io of that release from Debian's or Ubuntu's package archive
 * with its own suite's containerd, runc and C library (debian, ubuntu), or the release found
 * wherever it is: the cache, Debian's archive, Docker's static downloads (auto).
 */
export type EngineSource = 'system' | 'static' | 'debian' | 'ubuntu' | 'auto';
export const ENGINE_SOURCES: readonly EngineSource[] = ['system', 'static', 'debian', 'ubuntu', 'auto'];

export const KV_TYPES: readonly KvType[] = ['consul', 'etcd', 'zookeeper'];
export const DEFAULT_IMAGE = 'overlab/busybox:latest';

/** A source position in the lab file, for messages about a validated value. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export interface SshAccess {
  address: string;
  user: string;
  port: number;
  key?: string;
  /** The host key's fingerprint (`SHA256:...`, as `ssh-keygen -lf` prints it): the only key trusted. */
  hostKey?: string;
}

export interface LabHost {
  name: string;
  address: string;
  role: HostRole;
  box: string;
  cpus: number;
  memory: number;
  ssh: SshAccess;
}

export interface LabNetwork {
  name: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  encrypted: boolean;
  attachable: boolean;
}

export interface LabAttachment {
  network: string;
  aliases: string[];
  address?: string;
}

export interface LabContainer {
  name: string;
  host: string;
  image: string;
  networks: LabAttachment[];
  command: string[];
}

export type EndpointMode = 'vip' | 'dnsrr';
export type PublishMode = 'ingress' | 'host';
/** The tcp port a service's tasks answer on when the lab file names none. */
export const DEFAULT_SERVICE_PORT = 8080;

export interface LabService {
  name: string;
  image: string;
  replicas: number;
  networks: string[];
  endpointMode: EndpointMode;
  /** The tcp port each task's listener answers its hostname on. */
  port: number;
  publish: { published: number; mode: PublishMode }[];
  /** Docker hosts the tasks may run on; empty: any. */
  placement: string[];
}

export type FactVerb = 'can reach' | 'cannot reach' | 'resolves' | 'cannot resolve';

export interface LabFact {
  from: string;
  verb: FactVerb;
  to: string;
  text: string;
  pos: SourcePos;
}

/** One item of `specs.files`: a spec file's name or a glob, relative to the lab file's folder, and where it is written. */
export interface SpecFileRef {
  pattern: string;
  pos: SourcePos;
}

/** Which container pairs the reachability specs try (`specs.pairs`: all, cross-host, sample N). */
export type PairsPolicy = { kind: 'all' } | { kind: 'cross-host' } | { kind: 'sample'; n: number };

/** A lab file, checked and with every default filled in. */
export interface Lab {
  file: string;
  name: string;
  description: string;
  provider: ProviderName;
  box: string;
  subnet: string;
  hosts: LabHost[];
  kv: { type: KvType; fallback: KvType | undefined; host: string | undefined; port: number | undefined };
  engine: { version: string; mode: EngineMode; install: EngineInstall; advertisePort: number; source: EngineSource; suite: string | undefined; sha256: string | undefined; flags: string[] };
  networks: LabNetwork[];
  containers: LabContainer[];
  /** Swarm services (swarm mode only). */
  services: LabService[];
  /** How the acceptance specs run: which pairs of containers the pairwise facts cover; the lab's own spec files. */
  specs: { pairs: PairsPolicy; files: SpecFileRef[] };
  expect: LabFact[];
  /** The lab's own release matrix (`matrix:`), for `overlab matrix` without axis flags. */
  matrix?: { engines?: string[]; kv?: KvType[]; modes?: EngineMode[] };
}

// ---------------------------------------------------------------------------------------------
// Plan

/** How to run one kind of KV store on the kv host. */
export interface KvCandidate {
  type: KvType;
  port: number;
  /** The value of dockerd's --cluster-store. */
  clusterStore: string;
  /** Argument vector of the server process, with {dataDir} standing for its data folder. */
  command: string[];
  /** HTTP path answering 200 when the store is ready, or null when probed by a client call. */
  healthPath: string | null;
}

export interface KvPlan {
  host: string;
  address: string;
  /** Preferred store first, then the lab's declared fallback. */
  candidates: KvCandidate[];
}

/** The engine settings that come from the lab; paths, sockets and logging are the provider's. */
export interface DaemonPlan {
  /** --cluster-store for the preferred KV store (kv mode); engine/daemon.ts swaps in a fallback's. */
  clusterStore: string | undefined;
  /** --cluster-advertise, by address (Ubuntu boxes name the private NIC enp0s8, not eth1). */
  clusterAdvertise: string | undefined;
  labels: Record<string, string>;
}

export interface HostPlan {
  name: string;
  hostname: string;
  address: string;
  role: HostRole;
  box: string;
  cpus: number;
  memory: number;
  ssh: SshAccess;
  /** Present on docker hosts. */
  daemon: DaemonPlan | undefined;
}

export interface NetworkPlan {
  name: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  encrypted: boolean;
  attachable: boolean;
  /** The docker host whose engine creates it (any host in kv mode; the manager in swarm mode). */
  createOn: string;
  /** The engine API body for POST /networks/create. */
  create: {
    Name: string;
    Driver: 'overlay';
    CheckDuplicate: true;
    Internal: boolean;
    Attachable: boolean;
    Options: Record<string, string>;
    IPAM: { Driver: 'default'; Config: { Subnet: string; Gateway: string }[] };
    Labels: Record<string, string>;
  };
}

export interface ContainerPlan {
  name: string;
  host: string;
  image: string;
  command: string[];
  networks: LabAttachment[];
}

export interface ServicePlan extends LabService {
  /** The manager, whose engine creates the service. */
  createOn: string;
  /** The engine API body for POST /services/create. */
  create: Record<string, unknown>;
}

/**
 * A fact the specs prove, one `it` each. Derived facts come from the topology, stated ones from
 * `expect`. The plan states the pairwise ones (reach, resolve, no-resolve, isolated) per network
 * and per group (PlanFact); harness/lab/facts.ts expands them into these when specs run.
 */
export type Fact =
  | { kind: 'network-present'; network: string; host: string }
  | { kind: 'reach'; from: string; to: string; network: string; by: 'address' | 'name'; proto: 'icmp' | 'tcp' }
  | { kind: 'resolve'; from: string; name: string; network: string; target: string }
  | { kind: 'no-resolve'; from: string; name: string }
  | { kind: 'isolated'; from: string; to: string; proto: 'icmp' | 'tcp' }
  | { kind: 'mtu'; from: string; to: string; network: string; mtu: number }
  | { kind: 'kv-registered'; hosts: string[] }
  | { kind: 'swarm-ready'; hosts: string[] }
  // Engines alone: each answers, and its host reaches the other docker hosts (before and after the students' swarm).
  | { kind: 'engines-alone'; hosts: string[] }
  | { kind: 'internal-no-route'; container: string; network: string }
  | { kind: 'stated'; fact: LabFact }
  // Services (swarm mode): `from` is a standalone container on the service's network.
  | { kind: 'service-reach'; service: string; from: string; network: string }
  | { kind: 'service-name'; service: string; from: string; network: string; endpointMode: EndpointMode }
  | { kind: 'service-tasks-name'; service: string; from: string; network: string }
  | { kind: 'service-scale'; service: string; from: string; network: string; replicas: number }
  | { kind: 'service-vip-spread'; service: string; from: string; network: string; replicas: number }
  | { kind: 'service-published'; service: string; from: string; published: number; mode: PublishMode }
  // What crosses the underlay between two hosts for traffic on an overlay: ESP when encrypted, VXLAN (udp 4789) when not.
  | { kind: 'overlay-wire'; network: string; from: string; to: string; encrypted: boolean }
  | FaultFact;

/**
 * What must survive a fault put in place on purpose (`overlab test --faults`), planned by
 * harness/lab/fault-facts.ts. `from` and `to` are containers on different hosts; `host` is the
 * one the fault is put on; `boundS` is how long recovery may take once the fault is undone (and
 * the lab to be whole before it is put), the run's recovery bound.
 */
export type FaultFact =
  | { kind: 'kv-outage-reach'; kvHost: string; from: string; to: string; network: string; boundS: number }
  | { kind: 'kv-outage-create'; kvHost: string; host: string; boundS: number }
  | { kind: 'kv-recovered-create'; kvHost: string; host: string; boundS: number }
  | { kind: 'manager-outage-reach'; host: string; port: number; from: string; to: string; network: string }
  | { kind: 'partition-heal'; host: string; from: string; to: string; network: string; boundS: number }
  | { kind: 'engine-restart'; host: string; from: string; to: string; network: string; boundS: number }
  | { kind: 'engine-kill'; host: string; from: string; to: string; network: string; boundS: number }
  | { kind: 'latency'; host: string; ms: number; from: string; to: string; network: string; boundS: number };

/** The facts that concern one ordered pair of containers. */
export type PairFact = Extract<Fact, { kind: 'reach' | 'resolve' | 'no-resolve' | 'isolated' }>;

/**
 * What the plan states: every fact that is not about a pair as it is, and the pairwise ones in
 * a size linear in the lab.
 * - `network-reach`: every ordered pair of the network's members reaches the other over it (by
 *   address and by name over ICMP, by name over TCP) and resolves its names there.
 * - `isolation`: containers grouped by the networks they join; two containers that share no
 *   network cannot reach each other (ICMP, TCP) and do not resolve each other's name.
 */
export type PlanFact =
  | Exclude<Fact, PairFact>
  | { kind: 'network-reach'; network: string; members: string[] }
  | { kind: 'isolation'; groups: string[][] };

export interface Plan {
  lab: string;
  file: string;
  description: string;
  provider: ProviderName;
  subnet: string;
  mode: EngineMode;
  // source, suite, sha256 and flags are optional: plans recorded by older versions lack them.
  engine: { version: string; install: EngineInstall; advertisePort: number; source?: EngineSource; suite?: string; sha256?: string; flags?: string[] };
  kv: KvPlan | undefined;
  hosts: HostPlan[];
  /** Docker hosts in lab order; in swarm mode the first is the manager. */
  dockerHosts: string[];
  networks: NetworkPlan[];
  containers: ContainerPlan[];
  services: ServicePlan[];
  /** How the specs run: which pairs of containers the pairwise facts are expanded for; the lab's own spec files (absent in plans recorded before them). */
  specs: { pairs: PairsPolicy; files?: SpecFileRef[] };
  facts: PlanFact[];
}
