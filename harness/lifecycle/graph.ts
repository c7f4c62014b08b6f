// `graph` as a library verb: the lab's topology from its plan, with its live addresses and
// states once it is up, as DOT, Mermaid or SVG.
import type { Plan } from '../lab/types.ts';
import { renderDot, renderMermaid, topologyGraph, type LiveTopology } from '../render/topology.ts';
import { dotToSvg } from '../system/graphviz.ts';
import { labStatus, type LabStatus } from './status.ts';

export const GRAPH_FORMATS = ['svg', 'dot', 'mermaid'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export function liveTopology(s: LabStatus): LiveTopology | undefined {
  if (s.phase !== 'up') return undefined;
  return {
    kv: s.kv,
    hosts: Object.fromEntries(s.hosts.map((h) => [h.name, { state: h.state, engine: h.engine }])),
    containers: Object.fromEntries(s.containers.map((c) => [c.name, { state: c.state, addresses: c.addresses }])),
  };
}

export async function labGraph(plan: Plan, format: GraphFormat, options: { live: boolean; signal: AbortSignal }): Promise<string> {
  const live = options.live ? liveTopology(await labStatus(plan, options.signal)) : undefined;
  const graph = topologyGraph(plan, live);
  if (format === 'mermaid') return renderMermaid(graph);
  const dot = renderDot(graph);
  return format === 'dot' ? dot : dotToSvg(dot, options.signal);
}
