// The names of the fault specs (`overlab test --faults KINDS`): small on purpose, so the CLI's
// help can list them without loading the planner.
import { UsageError } from '../errors.ts';
import type { FaultFact } from './types.ts';

export type FaultSpecKind = FaultFact['kind'];

/** Every fault spec's kind, in the order the specs run. */
export const FAULT_SPEC_KINDS: readonly FaultSpecKind[] = [
  'kv-outage-reach',
  'kv-outage-create',
  'kv-recovered-create',
  'manager-outage-reach',
  'partition-heal',
  'engine-restart',
  'engine-kill',
  'latency',
];

/** `--faults latency,partition-heal`: the kinds named, checked; an unknown one is a usage error listing them all. */
export function faultSpecKindsFrom(list: string): FaultSpecKind[] {
  const words = list.split(',').map((w) => w.trim()).filter(Boolean);
  const unknown = words.filter((w) => !(FAULT_SPEC_KINDS as readonly string[]).includes(w));
  if (unknown.length || !words.length) {
    throw new UsageError(`${unknown.length ? `unknown fault spec ${unknown.map((u) => `"${u}"`).join(', ')}` : 'no fault spec named'}: the fault specs are ${FAULT_SPEC_KINDS.join(', ')}`);
  }
  return [...new Set(words)] as FaultSpecKind[];
}

/**
 * Set to `keep-fault` (by the tests that prove the fault specs can fail), each fault spec leaves
 * its fault in place instead of undoing it; what must be back afterwards then is not, and the
 * spec fails. The run's reports say so (property `mutation`).
 */
export const FAULT_MUTATION_ENV = 'OVERLAB_FAULT_MUTATION';
