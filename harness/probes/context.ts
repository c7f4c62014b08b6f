// The live lab the acceptance specs run against, and what the spec files register for it.
// harness/lifecycle/test.ts sets the lab before mocha loads specs/lab/*.spec.ts; the specs read
// the Plan and the live engines from here and never re-read the lab file.
import type { Fact } from '../lab/types.ts';
import type { LabUnderTest } from './lab-under-test.ts';
import type { Probe, ProbeOutcome } from './probe.ts';

export type FactOf<K extends Fact['kind']> = Extract<Fact, { kind: K }>;
export type ProbeFn = (fact: Fact, probe: Probe) => Promise<void>;

/** What the runner reads back about one `it`: its fact and the probe's outcome. */
export interface SpecRecord {
  fact: Fact;
  index: number;
  outcome?: ProbeOutcome;
  /** Set when the fact is not applicable on this lab's hosts. */
  notApplicable?: string;
}

export interface SpecRun {
  lab: LabUnderTest;
  /** How each fact kind is probed, registered by the spec file that owns the kind. */
  probes: Map<Fact['kind'], ProbeFn>;
  /** Every `it`, by the mocha Test object (the runner's events carry the same object). */
  records: WeakMap<object, SpecRecord>;
  /** Indices of plan.facts that got an `it`. */
  covered: Set<number>;
  /** Facts a host cannot run, by index, with the reason: they get an `it` reported n/a and no probe. */
  notApplicable: Map<number, string>;
  /** Outcome per fact index, started on the first `it` (every file is loaded by then). */
  outcomes?: Promise<ProbeOutcome>[];
}

let current: SpecRun | undefined;

/** Sets the lab for the next mocha run; returns the run's registries for the reporter. */
export function setLabUnderTest(lab: LabUnderTest, notApplicable: Map<number, string> = new Map()): SpecRun {
  current = { lab, probes: new Map(), records: new WeakMap(), covered: new Set(), notApplicable };
  return current;
}

export function clearLabUnderTest(): void {
  current = undefined;
}

/** The current run, or undefined when a spec file is loaded outside `overlab test`. */
export function specRun(): SpecRun | undefined {
  return current;
}
