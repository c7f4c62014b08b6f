// Ports: each one the lab listens on or connects to is used once per host. The preferred store
// and its fallback are alternatives (one of them runs), so they may share ports. A clash is
// reported at the setting that made it (the later one when both are settings).
import { kvPorts } from '../kv-stores.ts';
import type { RawLab } from '../raw-lab.ts';
import { type Path } from '../source.ts';
import { quote } from '../text.ts';
import type { Lab, LabHost } from '../types.ts';
import { DEFAULT_ADVERTISE_PORT, GOSSIP_PORT, KV_PORTS, MAX_PORT, SSHD_PORT, SWARM_PORT, VXLAN_PORT } from './defaults.ts';
import { hostsByName } from './hosts.ts';
import type { At } from './problems.ts';

/** One use of a port on a host; `path` and `setting` when a lab file setting chose the port. */
export type PortUse = { port: number; use: string; path?: Path; setting?: string; store?: string };
export type UsePort = (host: string, entry: PortUse) => void;

/** A table of the ports in use per host; adding one that is taken reports the clash. */
export function portTable(at: At): UsePort {
  const portUses = new Map<string, PortUse[]>();
  return (host, entry) => {
    const earlier = portUses.get(host) ?? [];
    const clash = earlier.find((e) => e.port === entry.port && !(e.store && entry.store && e.store !== entry.store));
    if (clash) {
      const [later, first] = entry.path ? [entry, clash] : [clash, entry];
      if (later.path) at(later.path, `${later.setting} clashes with ${first.setting ?? `${first.use} (port ${first.port})`} on host ${quote(host)}; pick another port`);
    }
    portUses.set(host, [...earlier, entry]);
  };
}

/** Claims the ports of the lab itself: the cluster's, the KV store's, sshd's and the engine's. */
export function claimLabPorts(raw: RawLab, hosts: readonly LabHost[], mode: Lab['engine']['mode'], kv: Lab['kv'], usePort: UsePort, at: At): void {
  const docker = hosts.filter((h) => h.role === 'docker');
  for (const h of docker) {
    // In mode alone the students' swarm will take it.
    if (mode !== 'kv') usePort(h.name, { port: SWARM_PORT, use: 'swarm management' });
    usePort(h.name, { port: GOSSIP_PORT, use: 'overlay gossip' });
    usePort(h.name, { port: VXLAN_PORT, use: 'VXLAN' });
  }
  const kvHost = kv.host;
  if (mode === 'kv' && kvHost !== undefined && hostsByName(hosts).get(kvHost)?.role === 'kv') {
    const stores = [kv.type, ...(raw.kv?.fallback !== undefined && raw.kv.fallback !== kv.type ? [raw.kv.fallback] : [])];
    const explicit = raw.kv?.port;
    stores.forEach((type, s) => {
      for (const p of kvPorts(type, s === 0 ? (explicit ?? KV_PORTS[type]) : KV_PORTS[type])) {
        const fromSetting = s === 0 && explicit !== undefined && p.offset !== undefined;
        const setting = p.offset ? `kv.port ${explicit ?? KV_PORTS[type]}: the ${p.use} port ${p.port} (kv.port + ${p.offset})` : `kv.port ${p.port}`;
        if (p.port > MAX_PORT) {
          at(['kv', 'port'], `${setting} is past ${MAX_PORT}; use kv.port ${MAX_PORT - p.offset!} or lower`);
          continue;
        }
        usePort(kvHost, { port: p.port, use: p.use, store: type, ...(fromSetting ? { path: ['kv', 'port'], setting } : {}) });
      }
    });
  }
  raw.hosts.forEach((h, i) => {
    const port = h.ssh?.port;
    usePort(h.name, { port: port ?? SSHD_PORT, use: 'sshd', ...(port === undefined ? {} : { path: ['hosts', i, 'ssh', 'port'], setting: `hosts[${i}].ssh.port ${port}` }) });
  });
  if (mode === 'kv') {
    const port = raw.engine?.advertisePort;
    for (const h of docker) {
      usePort(h.name, { port: port ?? DEFAULT_ADVERTISE_PORT, use: 'the engine (engine.advertisePort)', ...(port === undefined ? {} : { path: ['engine', 'advertisePort'], setting: `engine.advertisePort ${port}` }) });
    }
  }
}
