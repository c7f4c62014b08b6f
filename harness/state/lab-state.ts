// What the per-lab state file holds: the lab's phase, its hosts and the resources each
// provider recorded, its owner, faults and timings. store.ts reads and writes it;
// check-state.ts checks it when read back.
import type { EngineMode, ProviderId } from '../lab/types.ts';
import type { FaultRecord } from './faults.ts';
import type { LabOwner } from './owner.ts';

export type LabPhase = 'creating' | 'up' | 'failed' | 'destroying';

export interface HostState {
  name: string;
  address: string;
  role: 'kv' | 'docker';
  /** Provider-specific records (namespaces, pids, paths, veths). */
  resources: Record<string, unknown>;
}

export interface LabState {
  version: 1;
  lab: string;
  /** Who created the hosts: `down`, `status` and `test` use it, never the lab file. */
  provider: ProviderId;
  /** The engines' mode when the lab came up (whether `down` leaves a swarm it formed). */
  mode: EngineMode;
  /** The lab file it was brought up from (for messages; nothing re-reads it). */
  file: string;
  /** For a copy made by `up --copies` or `--as`: the lab it is a copy of. */
  copyOf?: string;
  /** Who the lab is handed to (`up --owner`): that user or group may use it without root. */
  owner?: LabOwner;
  phase: LabPhase;
  createdAt: string;
  updatedAt: string;
  kv?: { type: string; clusterStore: string; announced?: string };
  hosts: Record<string, HostState>;
  /** Provider-wide records (switch namespace, runtime folder, ...). */
  resources: Record<string, unknown>;
  error?: string;
  /** Warnings `up` gave (a KV fallback, ...), for `status`. */
  notes?: string[];
  /** Faults put in place on purpose (`overlab fault`), until `heal` or `down` undoes them. */
  faults?: FaultRecord[];
  /** Where `up` spent its time: each step's task per host, and a provider's phases within (vagrant up's). */
  timings?: UpTiming[];
}

/** One task of `up` (or one phase of a provider's work inside it) and how long it took. */
export interface UpTiming {
  step: string;
  host?: string;
  phase?: string;
  ms: number;
}
