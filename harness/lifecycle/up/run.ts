// What every step definition of `up` shares: the plan, the context, and what `up` learns as it
// goes (hosts, engines, KV store, test image, swarm token), which later steps read.
import type Docker from 'dockerode';
import type { HostAccess } from '../../host.ts';
import type { KvCandidate, Plan } from '../../lab/types.ts';
import type { Provider } from '../../providers/provider.ts';
import type { LabContext } from '../../state/lab-context.ts';
import type { Step } from '../../steps.ts';
import type { EngineTree } from './engine-tree.ts';

export interface UpContext extends LabContext {
  provider: Provider;
}

/** What `up` learns as it goes; later steps read what earlier ones found. */
export interface Live {
  hosts: Map<string, HostAccess>;
  engines: Map<string, Docker>;
  kv: KvCandidate | undefined;
  imageTar: string | undefined;
  swarmToken: string | undefined;
  /** The slowest engine's start, test image included (ms): how slow these hosts are. */
  slowestEngineMs: number;
}

/** One run of `up`: the plan, the context, what is learnt, and the engine tree when the lab runs one. */
export interface UpRun {
  plan: Plan;
  ctx: UpContext;
  live: Live;
  /** The engine tree the hosts' engines run (engine.source other than system), else undefined. */
  tree: EngineTree | undefined;
  host(name: string): HostAccess;
  engine(name: string): Docker;
  /** The docker hosts' access, for guardEngine. */
  dockerAccess(): HostAccess[];
}

/** A step of `up`, given the run; undefined when the lab has nothing for it (no KV store, no services, ...). */
export type StepDefinition = (run: UpRun) => Step | undefined;

export function newRun(plan: Plan, ctx: UpContext, tree: EngineTree | undefined): UpRun {
  const live: Live = { hosts: new Map(), engines: new Map(), kv: undefined, imageTar: undefined, swarmToken: undefined, slowestEngineMs: 0 };
  const host = (name: string) => live.hosts.get(name)!;
  return {
    plan,
    ctx,
    live,
    tree,
    host,
    engine: (name) => live.engines.get(name)!,
    dockerAccess: () => plan.dockerHosts.map(host),
  };
}
