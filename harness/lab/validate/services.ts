// services: swarm mode only; their names share the DNS with containers and hosts; a published
// port is taken on every node (ingress: the routing mesh listens everywhere) or on the nodes
// that may run a task (host mode), so it must not clash with the lab's own ports there.
import { imageProblem } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import { didYouMean, quote } from '../text.ts';
import { DEFAULT_IMAGE, DEFAULT_SERVICE_PORT, type Lab, type LabHost, type LabService } from '../types.ts';
import { DEFAULTS } from './defaults.ts';
import { hostsByName } from './hosts.ts';
import type { UsePort } from './ports.ts';
import { checkGrammar, type At } from './problems.ts';

export type ServiceContext = {
  mode: Lab['engine']['mode'];
  hosts: readonly LabHost[];
  /** The containers' and the networks' names (their first index in the file). */
  containerIndex: ReadonlyMap<string, number>;
  networkIndex: ReadonlyMap<string, number>;
  /** Network names in file order, for "did you mean". */
  networkNames: readonly string[];
  usePort: UsePort;
};

export function buildServices(raw: RawLab, ctx: ServiceContext, at: At): LabService[] {
  const { mode, containerIndex, networkIndex, networkNames, usePort } = ctx;
  const hostByName = hostsByName(ctx.hosts);
  const docker = ctx.hosts.filter((h) => h.role === 'docker');
  const d = DEFAULTS.service;
  const services: LabService[] = [];
  const serviceIndex = new Map<string, number>();
  (raw.services ?? []).forEach((v, i) => {
    if (mode !== 'swarm') return void at(['services', i], `service ${quote(v.name)}: services need engine.mode swarm (the swarm schedules their tasks)`);
    checkGrammar(at, ['services', i, 'image'], `services[${i}].image`, v.image, imageProblem);
    if (serviceIndex.has(v.name)) at(['services', i, 'name'], `duplicate service name ${quote(v.name)} (first at services[${serviceIndex.get(v.name)}])`);
    else serviceIndex.set(v.name, i);
    if (containerIndex.has(v.name) || hostByName.has(v.name)) {
      at(['services', i, 'name'], `service ${quote(v.name)} has the name of a ${containerIndex.has(v.name) ? 'container' : 'host'}; DNS would answer ${quote(v.name)} with either`);
    }
    v.networks.forEach((n, j) => {
      if (!networkIndex.has(n)) at(['services', i, 'networks', j], `service ${quote(v.name)}: network ${quote(n)} is not a network of this lab${didYouMean(n, networkNames)}`);
      else if (v.networks.indexOf(n) !== j) at(['services', i, 'networks', j], `service ${quote(v.name)} lists network ${quote(n)} twice`);
    });
    const placement = v.placement ?? [];
    placement.forEach((h, j) => {
      const host = hostByName.get(h);
      if (!host) at(['services', i, 'placement', j], `service ${quote(v.name)}: host ${quote(h)} is not a host of this lab${didYouMean(h, [...hostByName.keys()])}`);
      else if (host.role !== 'docker') at(['services', i, 'placement', j], `service ${quote(v.name)}: host ${quote(h)} has role ${host.role} and runs no engine`);
    });
    const endpointMode = v.endpointMode ?? d.endpointMode;
    const publish = (v.publish ?? []).map((p) => ({ published: p.published, mode: p.mode ?? d.publishMode }));
    publish.forEach((p, j) => {
      if (p.mode === 'ingress' && endpointMode === 'dnsrr') {
        at(['services', i, 'publish', j], `service ${quote(v.name)}: the routing mesh (ingress) needs a VIP; with endpointMode dnsrr publish in mode host`);
      }
      const on = p.mode === 'ingress' || placement.length === 0 ? docker.map((h) => h.name) : placement.filter((h) => hostByName.get(h)?.role === 'docker');
      for (const h of on) {
        usePort(h, { port: p.published, use: `service ${v.name}`, path: ['services', i, 'publish', j, 'published'], setting: `services[${i}].publish[${j}].published ${p.published} (${p.mode})` });
      }
    });
    services.push({
      name: v.name,
      image: v.image ?? DEFAULT_IMAGE,
      replicas: v.replicas ?? d.replicas,
      networks: v.networks,
      endpointMode,
      port: v.port ?? DEFAULT_SERVICE_PORT,
      publish,
      placement,
    });
  });
  return services;
}
