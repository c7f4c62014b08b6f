// The KV stores an engine can use as cluster store, as planned: the command line each one is
// started with on the kv host, its readiness path, the ports it takes, and its name in dockerd's
// --cluster-store. Pure data; kv/ starts and probes the stores from it.
import type { KvCandidate, KvType } from './types.ts';

/** Stands for the store's data folder in a command line; the host runner substitutes it. */
export const DATA_DIR = '{dataDir}';

export const KV_SCHEMES: Record<KvType, string> = { consul: 'consul', etcd: 'etcd', zookeeper: 'zk' };

/**
 * The server command of one store, bound to the kv host's private address. ZooKeeper's command
 * starts with the `zookeeper-server` placeholder: its Java class path depends on the install,
 * so the host runner resolves it (see kv/zookeeper.ts).
 */
export function kvCandidate(type: KvType, host: string, address: string, port: number): KvCandidate {
  const clusterStore = `${KV_SCHEMES[type]}://${address}:${port}`;
  switch (type) {
    case 'consul':
      return {
        type,
        port,
        clusterStore,
        command: [
          'consul', 'agent', '-server', '-bootstrap-expect=1', `-node=${host}`,
          `-bind=${address}`, `-client=${address}`, `-http-port=${port}`, `-data-dir=${DATA_DIR}`,
        ],
        healthPath: '/v1/status/leader',
      };
    case 'etcd':
      return {
        type,
        port,
        clusterStore,
        command: [
          'etcd', `--name=${host}`, `--data-dir=${DATA_DIR}`, '--enable-v2=true',
          `--listen-client-urls=http://${address}:${port}`, `--advertise-client-urls=http://${address}:${port}`,
          `--listen-peer-urls=http://${address}:${port + 1}`, `--initial-advertise-peer-urls=http://${address}:${port + 1}`,
          `--initial-cluster=${host}=http://${address}:${port + 1}`,
        ],
        healthPath: '/health',
      };
    case 'zookeeper':
      return {
        type,
        port,
        clusterStore,
        command: ['zookeeper-server', `clientPortAddress=${address}`, `clientPort=${port}`, `dataDir=${DATA_DIR}`],
        healthPath: null,
      };
  }
}

/** Consul's server ports that do not follow -http-port: server RPC, LAN and WAN gossip, DNS. */
export const CONSUL_FIXED_PORTS: readonly { port: number; use: string }[] = [
  { port: 8300, use: 'consul server RPC' },
  { port: 8301, use: 'consul LAN gossip' },
  { port: 8302, use: 'consul WAN gossip' },
  { port: 8600, use: 'consul DNS' },
];

/**
 * Every port a store listens on when started with client port `port` by kvCandidate: etcd's
 * peer port is the next one (`offset` says how each derives from `port`).
 */
export function kvPorts(type: KvType, port: number): { port: number; use: string; offset?: number }[] {
  switch (type) {
    case 'consul':
      return [{ port, use: 'consul HTTP', offset: 0 }, ...CONSUL_FIXED_PORTS];
    case 'etcd':
      return [
        { port, use: 'etcd client', offset: 0 },
        { port: port + 1, use: 'etcd peer', offset: 1 },
      ];
    case 'zookeeper':
      return [{ port, use: 'zookeeper client', offset: 0 }];
  }
}
