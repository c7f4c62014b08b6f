// Pictures of a lab's topology, from its plan (so they exist before `up`) and, once it is up,
// its live state: the private network with every host's address, the KV store, each docker
// host with its containers, and each overlay with its subnet and the containers' addresses on
// it. Pure: text in the Graphviz DOT language and as a Mermaid flowchart.
import type { Plan } from '../lab/types.ts';

/** What a running lab adds to the picture (from `overlab status`); every field optional. */
export interface LiveTopology {
  /** The store the engines actually use (the lab's fallback when its first choice could not run). */
  kv?: { type: string; clusterStore: string } | undefined;
  hosts: Record<string, { state?: string | undefined; engine?: string | undefined }>;
  containers: Record<string, { state?: string | undefined; addresses: Record<string, string> }>;
}

interface Node {
  id: string;
  lines: string[];
  kind: 'kv' | 'host' | 'container' | 'network';
  /** ok: running; bad: missing or stopped; undefined: not known (before up). */
  health?: 'ok' | 'bad';
}

interface Edge {
  from: string;
  to: string;
  label: string;
  style: 'solid' | 'dashed';
  /** Live only: planned but not there ('missing'), or there but not planned ('extra'). */
  deviation?: 'missing' | 'extra';
}

/** The picture as data: clusters (the private network, each docker host) of nodes, and edges. */
export interface TopologyGraph {
  title: string;
  subnet: string;
  kv: Node | undefined;
  hosts: { node: Node; containers: Node[] }[];
  networks: Node[];
  edges: Edge[];
}

const id = (kind: string, name: string) => `${kind}_${name.replace(/[^A-Za-z0-9]/g, '_')}`;

function health(state: string | undefined): 'ok' | 'bad' | undefined {
  if (state === undefined) return undefined;
  return state === 'running' ? 'ok' : 'bad';
}

export function topologyGraph(plan: Plan, live?: LiveTopology): TopologyGraph {
  const kvHost = plan.kv?.host;
  const hostNode = (name: string): Node => {
    const h = plan.hosts.find((x) => x.name === name)!;
    const l = live?.hosts[name];
    const kvRole = live?.kv ? `KV store: ${live.kv.type} :${live.kv.clusterStore.split(':').pop()}` : `KV store (${plan.kv?.candidates.map((c) => `${c.type} :${c.port}`).join(', or ')})`;
    const role = name === kvHost ? kvRole : plan.mode === 'swarm' ? (name === plan.dockerHosts[0] ? 'docker (swarm manager)' : 'docker (swarm worker)') : 'docker';
    const lines = [name, h.address, role];
    if (l?.engine) lines.push(`engine ${l.engine}`);
    if (l?.state && l.state !== 'running') lines.push(l.state);
    return { id: id('host', name), lines, kind: name === kvHost ? 'kv' : 'host', ...(l ? { health: health(l.state) } : {}) };
  };
  const hosts = plan.dockerHosts.map((name) => ({
    node: hostNode(name),
    containers: plan.containers
      .filter((c) => c.host === name)
      .map((c): Node => {
        const l = live?.containers[c.name];
        const lines = [c.name, ...(l?.state && l.state !== 'running' ? [l.state] : [])];
        return { id: id('ctr', c.name), lines, kind: 'container', ...(l ? { health: health(l.state) } : {}) };
      }),
  }));
  const networks = plan.networks.map((n): Node => ({
    id: id('net', n.name),
    lines: [n.name, `overlay ${n.subnet}`, ...[n.internal ? 'internal' : '', n.encrypted ? 'encrypted' : ''].filter(Boolean)],
    kind: 'network',
  }));
  const edges: Edge[] = [];
  const planned = new Set(plan.networks.map((n) => n.name));
  for (const c of plan.containers) {
    const l = live?.containers[c.name];
    for (const a of c.networks) {
      const address = l?.addresses[a.network] || a.address;
      const label = [address, ...a.aliases.map((x) => `alias ${x}`)].filter(Boolean).join(', ');
      // A running container without an address on a network of its plan is drawn as a broken link.
      const missing = l?.state === 'running' && !l.addresses[a.network];
      edges.push({ from: id('ctr', c.name), to: id('net', a.network), label: missing ? 'not attached' : label, style: missing ? 'dashed' : 'solid', ...(missing ? { deviation: 'missing' as const } : {}) });
    }
    // Networks the container is on that the lab does not plan (someone connected it by hand).
    for (const [network, address] of Object.entries(l?.addresses ?? {})) {
      if (c.networks.some((a) => a.network === network)) continue;
      if (!planned.has(network) && !networks.some((n) => n.id === id('net', network))) networks.push({ id: id('net', network), lines: [network, 'not in the lab'], kind: 'network', health: 'bad' });
      edges.push({ from: id('ctr', c.name), to: id('net', network), label: address, style: 'solid', deviation: 'extra' });
    }
  }
  const kv = kvHost ? hostNode(kvHost) : undefined;
  if (kv && plan.mode === 'kv') for (const d of plan.dockerHosts) edges.push({ from: id('host', d), to: kv.id, label: 'cluster store', style: 'dashed' });
  if (plan.mode === 'swarm') for (const d of plan.dockerHosts.slice(1)) edges.push({ from: id('host', d), to: id('host', plan.dockerHosts[0]!), label: 'swarm join', style: 'dashed' });
  return { title: plan.description ? `${plan.lab}: ${plan.description}` : plan.lab, subnet: plan.subnet, kv, hosts, networks, edges };
}

// ---------------------------------------------------------------------------------------------
// Graphviz DOT

const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\r\n]+/g, ' ')}"`;
const FILL: Record<Node['kind'], string> = { kv: '#fde7c8', host: '#dbe8fb', container: '#ffffff', network: '#e3f4e1' };
const HEALTH: Record<'ok' | 'bad', string> = { ok: '#2e7d32', bad: '#c62828' };

function dotNode(n: Node, indent: string): string {
  const shape = n.kind === 'network' ? 'ellipse' : n.kind === 'container' ? 'box' : 'box3d';
  const color = n.health ? HEALTH[n.health] : '#555555';
  const width = n.health === 'bad' ? 3 : 1;
  // Graphviz reads \n inside a string as a line break: each line is escaped on its own.
  const label = `"${n.lines.map((l) => dotString(l).slice(1, -1)).join('\\n')}"`;
  return `${indent}${n.id} [label=${label}, shape=${shape}, style="filled,rounded", fillcolor="${FILL[n.kind]}", color="${color}", penwidth=${width}];`;
}

export function renderDot(g: TopologyGraph): string {
  const out = [
    'digraph overlab {',
    `  label=${dotString(g.title)}; labelloc=t; fontname="Helvetica"; rankdir=LR;`,
    '  node [fontname="Helvetica", fontsize=11]; edge [fontname="Helvetica", fontsize=9];',
    `  subgraph cluster_private { label=${dotString(`private network ${g.subnet}`)}; style="rounded,dashed"; color="#888888";`,
  ];
  if (g.kv) out.push(dotNode(g.kv, '    '));
  for (const h of g.hosts) {
    out.push(`    subgraph cluster_${h.node.id} { label=""; style="rounded"; color="#bbbbbb";`, dotNode(h.node, '      '));
    for (const c of h.containers) out.push(dotNode(c, '      '), `      ${h.node.id} -> ${c.id} [style=invis];`);
    out.push('    }');
  }
  out.push('  }');
  for (const n of g.networks) out.push(dotNode(n, '  '));
  for (const e of g.edges) {
    const color = e.deviation ? HEALTH.bad : e.style === 'dashed' ? '#888888' : '#333333';
    out.push(`  ${e.from} -> ${e.to} [label=${dotString(e.label)}, dir=none, color="${color}", fontcolor="${color}"${e.style === 'dashed' ? ', style=dashed' : ''}${e.deviation ? ', penwidth=2' : ''}];`);
  }
  out.push('}', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Mermaid

/** Mermaid label text: quotes and angle brackets as entity codes, lines as <br/>. */
const mermaidText = (lines: string[]) => lines.map((l) => l.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;')).join('<br/>');

function mermaidNode(n: Node): string {
  const text = `"${mermaidText(n.lines)}"`;
  const shape = n.kind === 'network' ? `([${text}])` : n.kind === 'container' ? `[${text}]` : `[[${text}]]`;
  return `${n.id}${shape}`;
}

export function renderMermaid(g: TopologyGraph): string {
  const out = ['flowchart LR', `  subgraph private["${mermaidText([`private network ${g.subnet}`])}"]`];
  if (g.kv) out.push(`    ${mermaidNode(g.kv)}`);
  for (const h of g.hosts) {
    out.push(`    subgraph ${h.node.id}_box[" "]`, `      ${mermaidNode(h.node)}`, ...h.containers.map((c) => `      ${mermaidNode(c)}`), '    end');
  }
  out.push('  end');
  for (const n of g.networks) out.push(`  ${mermaidNode(n)}`);
  for (const e of g.edges) out.push(`  ${e.from} ${e.style === 'dashed' ? '-.-' : '---'}${e.label ? `|"${mermaidText([e.label])}"|` : ''} ${e.to}`);
  const classes: [string, (n: Node) => boolean, string][] = [
    ['ok', (n) => n.health === 'ok', 'stroke:#2e7d32,stroke-width:2px'],
    ['bad', (n) => n.health === 'bad', 'stroke:#c62828,stroke-width:3px'],
  ];
  const all = [...(g.kv ? [g.kv] : []), ...g.hosts.flatMap((h) => [h.node, ...h.containers]), ...g.networks];
  for (const [name, test, style] of classes) {
    const ids = all.filter(test).map((n) => n.id);
    if (ids.length) out.push(`  classDef ${name} ${style}`, `  class ${ids.join(',')} ${name}`);
  }
  const broken = g.edges.flatMap((e, i) => (e.deviation ? [i] : []));
  if (broken.length) out.push(`  linkStyle ${broken.join(',')} stroke:#c62828,stroke-width:2px`);
  return out.join('\n') + '\n';
}
