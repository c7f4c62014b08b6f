// The facts `overlab test --faults` proves, planned from the lab (pure): for one cross-host pair
// of containers, what must hold while the KV store is down (kv mode) or the manager is
// unreachable (swarm mode), and that reach comes back within a bound once a partition is
// healed, an engine restarted, or a killed engine started again; and reach under added delay.
import { UsageError } from '../errors.ts';
import { FAULT_SPEC_KINDS, type FaultSpecKind } from './fault-spec-kinds.ts';
import { SWARM_PORT } from './validate.ts';
import type { Fact, FaultFact, Plan } from './types.ts';

export function isFaultFact(f: Fact): f is FaultFact {
  return (FAULT_SPEC_KINDS as readonly string[]).includes(f.kind);
}

/** How long what a fault broke may take to come back once it is undone (times the lab's pace), unless the run sets another bound. */
export const DEFAULT_RECOVERY_BOUND_S = 20;
/** The most the recovery bound may be set to, in seconds. */
export const MAX_RECOVERY_BOUND_S = 600;

/**
 * The recovery bound `overlab test --faults --recovery-bound S` sets, in whole seconds (1-600)
 * instead of 20: tighter for a user who wants recovery proven faster than that (recovery took
 * 0.1-6 s on netns), looser for a slow lab; short for a run whose faults are left in place on
 * purpose, where nothing comes back and waiting longer proves nothing more. The titles of the
 * measured fault specs name the bound. A UsageError for anything else.
 */
export function recoveryBoundFrom(value: string): number {
  const text = value.trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_RECOVERY_BOUND_S) {
    throw new UsageError(`--recovery-bound ${JSON.stringify(value)}: the recovery bound is a whole number of seconds from 1 to ${MAX_RECOVERY_BOUND_S}`);
  }
  return n;
}

/** The delay the latency fact adds on the subject host's underlay. */
export const LATENCY_MS = 100;

/**
 * The subject of the faults: the last docker host with a container that shares a network with
 * a container elsewhere (never the swarm manager, whose outage has a fact of its own), that
 * container (`to`) and its peer (`from`, on another host). Undefined when no two containers on
 * different hosts share a network: then there is nothing a fault could break.
 */
export function faultSubject(plan: Pick<Plan, 'mode' | 'dockerHosts' | 'containers'>): { host: string; from: string; to: string; network: string } | undefined {
  const manager = plan.mode === 'swarm' ? plan.dockerHosts[0] : undefined;
  const hosts = [...plan.dockerHosts].reverse().filter((h) => h !== manager);
  for (const host of hosts) {
    for (const to of plan.containers.filter((c) => c.host === host)) {
      for (const from of plan.containers.filter((c) => c.host !== host)) {
        const shared = to.networks.find((n) => from.networks.some((m) => m.network === n.network));
        if (shared) return { host, from: from.name, to: to.name, network: shared.network };
      }
    }
  }
  return undefined;
}

/**
 * The fault facts of the lab; only those of the kinds given, when given (the order stays the
 * specs'); `boundS`: the run's recovery bound.
 */
export function faultFacts(plan: Pick<Plan, 'mode' | 'kv' | 'dockerHosts' | 'containers'>, kinds?: readonly FaultSpecKind[], boundS = DEFAULT_RECOVERY_BOUND_S): FaultFact[] {
  const all = allFaultFacts(plan, boundS);
  return kinds ? all.filter((f) => kinds.includes(f.kind)) : all;
}

function allFaultFacts(plan: Pick<Plan, 'mode' | 'kv' | 'dockerHosts' | 'containers'>, boundS: number): FaultFact[] {
  const s = faultSubject(plan);
  if (!s) return [];
  const pair = { from: s.from, to: s.to, network: s.network };
  const facts: FaultFact[] = [];
  if (plan.mode === 'kv' && plan.kv) {
    const kvHost = plan.kv.host;
    facts.push(
      { kind: 'kv-outage-reach', kvHost, ...pair, boundS },
      { kind: 'kv-outage-create', kvHost, host: plan.dockerHosts[0]!, boundS },
      { kind: 'kv-recovered-create', kvHost, host: plan.dockerHosts[0]!, boundS },
    );
  }
  if (plan.mode === 'swarm') facts.push({ kind: 'manager-outage-reach', host: plan.dockerHosts[0]!, port: SWARM_PORT, ...pair });
  facts.push(
    { kind: 'partition-heal', host: s.host, ...pair, boundS },
    { kind: 'engine-restart', host: s.host, ...pair, boundS },
    { kind: 'engine-kill', host: s.host, ...pair, boundS },
    { kind: 'latency', host: s.host, ms: LATENCY_MS, ...pair, boundS },
  );
  return facts;
}
