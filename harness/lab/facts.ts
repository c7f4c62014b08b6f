// Expanding the plan's facts for the specs: the plan states pairwise facts per network and per
// group (linear in the lab); the specs need one fact per ordered pair of containers. The lab's
// `specs.pairs` bounds which pairs get them. Pure: no I/O.
import { formatPairs } from './grammar.ts';
import type { ContainerPlan, Fact, PairFact, PairsPolicy, Plan, PlanFact } from './types.ts';

/** The plan with its facts expanded: what the spec runtime reads. */
export type SpecPlan = Omit<Plan, 'facts'> & { facts: Fact[] };

export interface ExpandedFacts {
  /** Every fact for the specs, in the plan's order; the pair facts where the plan states its first one. */
  facts: Fact[];
  /** The pairs policy applied, as a lab file writes it ("all", "cross-host", "sample 50"). */
  policy: string;
  /** Ordered pairs of containers in the lab. */
  total: number;
  /** Ordered pairs whose facts were kept. */
  kept: number;
}

const isPairStatement = (f: PlanFact): f is Extract<PlanFact, { kind: 'network-reach' | 'isolation' }> =>
  f.kind === 'network-reach' || f.kind === 'isolation';

/**
 * The facts of `plan` with the pairwise statements expanded into one fact per ordered pair of
 * containers and property, for the pairs `pairs` keeps (by default the lab's `specs.pairs`):
 * - all: every ordered pair;
 * - cross-host: pairs on different hosts;
 * - sample N: N pairs spread evenly over all of them (all when there are no more than N).
 * For `all` this is exactly the list of facts the plan stated before it stated pairs in bulk.
 */
export function expandFacts(plan: Plan, pairs: PairsPolicy = plan.specs.pairs): ExpandedFacts {
  const containers = plan.containers;
  const n = containers.length;
  const total = n < 2 ? 0 : n * (n - 1);
  const chosen = choosePairs(containers, pairs, total);
  const facts: Fact[] = [];
  let kept = 0;
  let expanded = false;
  for (const f of plan.facts) {
    if (!isPairStatement(f)) {
      facts.push(f);
      continue;
    }
    if (expanded) continue;
    expanded = true;
    const pairFacts = pairFactsOf(plan);
    for (const [a, b] of chosen) {
      kept++;
      pairFacts(a, b, facts);
    }
  }
  return { facts, policy: formatPairs(pairs), total, kept: expanded ? kept : 0 };
}

/** The ordered pairs (as indices into plan.containers) a policy keeps, in a-major order. */
function* choosePairs(containers: ContainerPlan[], pairs: PairsPolicy, total: number): Generator<[number, number]> {
  const n = containers.length;
  const pairAt = (k: number): [number, number] => {
    const a = Math.floor(k / (n - 1));
    const r = k % (n - 1);
    return [a, r < a ? r : r + 1];
  };
  if (pairs.kind === 'sample' && pairs.n < total) {
    for (let i = 0; i < pairs.n; i++) yield pairAt(Math.floor((i * total) / pairs.n));
    return;
  }
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a === b) continue;
      if (pairs.kind === 'cross-host' && containers[a]!.host === containers[b]!.host) continue;
      yield [a, b];
    }
  }
}

/** A function that appends the facts of one ordered pair, from the plan's pair statements. */
function pairFactsOf(plan: Plan): (a: number, b: number, out: Fact[]) => void {
  const containers = plan.containers;
  const membersOf = new Map<string, Set<string>>();
  let isolationOf: Map<string, number> | undefined;
  for (const f of plan.facts) {
    if (f.kind === 'network-reach') membersOf.set(f.network, new Set(f.members));
    if (f.kind === 'isolation') isolationOf = new Map(f.groups.flatMap((g, i) => g.map((c) => [c, i] as const)));
  }
  /** Every name the embedded DNS answers on a network: its members' names and aliases there. */
  const namesOn = new Map<string, Set<string>>();
  for (const c of containers) {
    for (const x of c.networks) {
      const names = namesOn.get(x.network) ?? new Set<string>();
      names.add(c.name);
      for (const alias of x.aliases) names.add(alias);
      namesOn.set(x.network, names);
    }
  }
  return (ai, bi, out) => {
    const a = containers[ai]!;
    const b = containers[bi]!;
    const shared = a.networks.filter((x) => membersOf.get(x.network)?.has(a.name) && membersOf.get(x.network)?.has(b.name));
    if (shared.length === 0) {
      if (!isolationOf?.has(a.name) || !isolationOf.has(b.name)) return;
      const facts: PairFact[] = [
        { kind: 'isolated', from: a.name, to: b.name, proto: 'icmp' },
        { kind: 'isolated', from: a.name, to: b.name, proto: 'tcp' },
      ];
      if (!a.networks.some((x) => namesOn.get(x.network)?.has(b.name))) facts.push({ kind: 'no-resolve', from: a.name, name: b.name });
      out.push(...facts);
      return;
    }
    for (const s of shared) {
      out.push(
        { kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'address', proto: 'icmp' },
        { kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'name', proto: 'icmp' },
        { kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'name', proto: 'tcp' },
      );
      const bOn = b.networks.find((y) => y.network === s.network)!;
      for (const name of [b.name, ...bOn.aliases]) out.push({ kind: 'resolve', from: a.name, name, network: s.network, target: b.name });
    }
  };
}
