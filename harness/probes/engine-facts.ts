// What an engine release does, observed on a live lab rather than read from its documentation:
// the API version, the MTU a container gets on an overlay, the VXLAN port of the overlay's
// device, the address pools, the ingress network, the firewall tables and chains the engine made
// in its host, and what the embedded DNS answers for a container's name and for an unknown name.
// One reading per lab (its first docker host and a container there); the matrix puts them side
// by side per release. Each fact is a short string; a fact that cannot be read says why.
import type Docker from 'dockerode';
import type { HostAccess } from '../host.ts';
import type { Plan } from '../lab/types.ts';
import { engineExecRoot } from '../engine/daemon.ts';
import { execInContainer } from '../engine/client.ts';
import { containerAddresses } from '../engine/contents.ts';
import { runningVersions } from '../engine/versions.ts';
import { nslookupAnswers } from './busybox.ts';

/** Fact name -> observed value, in a fixed order (the report's rows). */
export type EngineFacts = Record<string, string>;

export const FACT_NAMES = [
  'API version',
  'overlay MTU',
  'VXLAN port',
  'address pools',
  'ingress network',
  'iptables (filter)',
  'iptables (nat)',
  'nftables',
  'DNS: a container name',
  'DNS: an unknown name',
] as const;

const BUILTIN_CHAINS = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

/** The chains each table has beyond the built-in ones, from `iptables-save`: `{ filter: ['DOCKER', ...] }`. */
export function iptablesChains(save: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let table: string | undefined;
  for (const line of save.split('\n')) {
    const t = /^\*(\S+)/.exec(line);
    if (t) {
      table = t[1]!;
      out[table] ??= [];
      continue;
    }
    const c = /^:(\S+)\s/.exec(line);
    if (c && table && !BUILTIN_CHAINS.has(c[1]!)) out[table]!.push(c[1]!);
  }
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
}

/** `ip -d -o link show type vxlan` lines -> the UDP ports their VXLAN devices use. */
export function vxlanPorts(output: string): number[] {
  return [...new Set([...output.matchAll(/\bdstport (\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
}

/** busybox `ip -o -4 addr` lines -> the interface that holds `address`. */
export function interfaceWith(output: string, address: string): string | undefined {
  for (const line of output.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet ([0-9.]+)\//.exec(line.trim());
    if (m && m[2] === address) return m[1]!.replace(/@.*$/, '');
  }
  return undefined;
}

/** What busybox nslookup said when there was no answer: the resolver's word for it. */
export function lookupFailure(out: string): string {
  if (/NXDOMAIN/.test(out)) return 'NXDOMAIN';
  if (/SERVFAIL/.test(out)) return 'SERVFAIL';
  if (/REFUSED/.test(out)) return 'REFUSED';
  if (/timed out|no response|connection refused/i.test(out)) return 'no answer';
  return out.trim().split('\n').pop()?.trim() || 'no answer';
}

async function fact(f: () => Promise<string>): Promise<string> {
  try {
    return await f();
  } catch (e) {
    return `unreadable: ${((e as Error).message ?? String(e)).split('\n')[0]}`;
  }
}

/** The facts of the lab's first docker host and its first container with a network. */
export async function observeEngineFacts(plan: Plan, hosts: Map<string, HostAccess>, engines: Map<string, Docker>): Promise<EngineFacts> {
  const hostName = plan.dockerHosts[0]!;
  const host = hosts.get(hostName)!;
  const docker = engines.get(hostName)!;
  const container = plan.containers.find((c) => c.host === hostName && c.networks.length);
  const network = container?.networks[0]?.network;
  const peer = plan.containers.find((c) => c !== container && network && c.networks.some((n) => n.network === network));
  const sh = async (script: string) => {
    const r = await host.runner.exec(['sh', '-c', script]);
    return r.stdout;
  };
  const facts: EngineFacts = {};
  facts['API version'] = await fact(async () => (await runningVersions(docker)).api);
  facts['overlay MTU'] = await fact(async () => {
    if (!container || !network) return 'no container on an overlay';
    const addr = (await containerAddresses(docker, container.name))[network];
    if (!addr) return `${container.name} has no address on ${network}`;
    const ifs = await execInContainer(docker, container.name, ['ip', '-o', '-4', 'addr']);
    const dev = interfaceWith(ifs.stdout, addr);
    if (!dev) return `no interface of ${container.name} holds ${addr}`;
    const mtu = await execInContainer(docker, container.name, ['cat', `/sys/class/net/${dev}/mtu`]);
    return `${mtu.stdout.trim()} (${network})`;
  });
  facts['VXLAN port'] = await fact(async () => {
    const root = engineExecRoot(host.engineFlags);
    const out = await sh(`for f in ${root}/netns/*-*; do [ -e "$f" ] && nsenter --net="$f" ip -d -o link show type vxlan; done; true`);
    const ports = vxlanPorts(out);
    return ports.length ? ports.join(', ') : 'no VXLAN device';
  });
  const networks = (await docker.listNetworks()) as { Name: string; Driver: string; IPAM?: { Config?: { Subnet?: string }[] | null } }[];
  const subnetOf = (n: { IPAM?: { Config?: { Subnet?: string }[] | null } }) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter(Boolean).join(' ');
  facts['address pools'] = await fact(async () => {
    const local = networks.filter((n) => n.Name === 'bridge' || n.Name === 'docker_gwbridge').map((n) => `${n.Name} ${subnetOf(n) || '-'}`);
    let swarm = '';
    if (plan.mode === 'swarm') {
      const s = (await docker.swarmInspect()) as { DefaultAddrPool?: string[]; SubnetSize?: number };
      swarm = s.DefaultAddrPool?.length ? `swarm ${s.DefaultAddrPool.join(' ')} /${s.SubnetSize ?? '?'}` : 'swarm: not reported';
    }
    return [...local, ...(swarm ? [swarm] : [])].join('; ') || 'none';
  });
  facts['ingress network'] = await fact(async () => {
    const ingress = networks.find((n) => n.Name === 'ingress');
    return ingress ? `ingress ${subnetOf(ingress)}` : 'none';
  });
  const chains = await fact(async () => JSON.stringify(iptablesChains(await sh('iptables-save 2>/dev/null || true'))));
  const parsed = chains.startsWith('{') ? (JSON.parse(chains) as Record<string, string[]>) : undefined;
  facts['iptables (filter)'] = parsed ? (parsed['filter']?.join(' ') || 'none') : chains;
  facts['iptables (nat)'] = parsed ? (parsed['nat']?.join(' ') || 'none') : chains;
  facts['nftables'] = await fact(async () => {
    const out = await sh('command -v nft >/dev/null && nft list tables 2>/dev/null || echo "nft not installed"');
    const tables = out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('table ')).map((l) => l.slice(6));
    return out.includes('nft not installed') ? 'nft not installed' : tables.length ? tables.join(', ') : 'none';
  });
  facts['DNS: a container name'] = await fact(async () => {
    if (!container || !peer) return 'no two containers on one network';
    const r = await execInContainer(docker, container.name, ['nslookup', peer.name, '127.0.0.11']);
    const answers = nslookupAnswers(r.stdout);
    if (!answers.length) return `${peer.name}: ${lookupFailure(r.stdout + r.stderr)}`;
    // Said against the peer's own address, so the fact does not change with address allocation.
    const own = (await containerAddresses(engines.get(peer.host)!, peer.name))[network!];
    return answers.length === 1 && answers[0] === own ? `its address on ${network}` : `${answers.join(' ')} (its address on ${network}: ${own ?? 'none'})`;
  });
  facts['DNS: an unknown name'] = await fact(async () => {
    if (!container) return 'no container';
    const r = await execInContainer(docker, container.name, ['nslookup', 'no-such-name.overlab.invalid', '127.0.0.11']);
    const answers = nslookupAnswers(r.stdout);
    return answers.length ? `answered ${answers.join(' ')}` : lookupFailure(r.stdout + r.stderr);
  });
  return facts;
}
