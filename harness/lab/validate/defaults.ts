// The values that make a short lab file complete, and the ports and limits the rules check
// against: every default of the lab file in one place (the schema's descriptions name them).
import { DEFAULT_IMAGE, DEFAULT_SERVICE_PORT, type KvType } from '../types.ts';

export { DEFAULT_IMAGE, DEFAULT_SERVICE_PORT };
export const DEFAULT_SUBNET = '172.28.128.0/24';
export const DEFAULT_BOX = 'ubuntu/focal64';
export const FIRST_HOST_OFFSET = 5;
export const KV_PORTS: Record<KvType, number> = { consul: 8500, etcd: 2379, zookeeper: 2181 };
/** Idles, and exits at once on SIGTERM so engines stop fast. */
export const IDLE_COMMAND = ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"];

/** What a lab file may leave out, section by section. */
export const DEFAULTS = {
  provider: 'auto',
  pairs: 'all',
  host: { role: 'docker', cpus: 1, memory: 1024, sshUser: 'root', sshPort: 22 },
  engine: { mode: 'kv', version: '20.10', source: 'system', install: 'apt' },
  kv: { type: 'consul' },
  network: { internal: false, encrypted: false, attachable: true },
  service: { replicas: 1, endpointMode: 'vip', publishMode: 'ingress' },
} as const;

/** The Docker release that removed --cluster-store and --cluster-advertise. */
export const KV_MODE_REMOVED_IN = { major: 23, minor: 0 };
/** Multi-host overlay networking with a KV store came in Docker 1.9. */
export const KV_MODE_SINCE = { major: 1, minor: 9 };
/** Attachable overlays, which standalone containers need in swarm mode, came in Docker 1.13. */
export const SWARM_MODE_SINCE = { major: 1, minor: 13 };
/** Names of the networks every engine already has (and the swarm's ingress network). */
export const RESERVED_NETWORK_NAMES = ['bridge', 'host', 'none', 'ingress', 'docker_gwbridge'];
/** The subnet `docker swarm init` gives the ingress network; an overlay on it cannot be created. */
export const SWARM_INGRESS_SUBNET = '10.0.0.0/24';
/** Ports the lab uses on its hosts besides the ones a lab file sets. */
export const SSHD_PORT = 22;
export const DEFAULT_ADVERTISE_PORT = 2376;
export const SWARM_PORT = 2377;
export const GOSSIP_PORT = 7946;
export const VXLAN_PORT = 4789;
export const MAX_PORT = 65535;
/** A /30 holds the gateway and one container; anything smaller holds no container. */
export const MAX_OVERLAY_PREFIX = 30;
