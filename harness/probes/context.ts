// The live lab the acceptance specs run against, and what the spec files register for it.
// harness/lifecycle/test.ts sets the lab before mocha loads specs/lab/*.spec.ts and the users'
// own spec files; the specs read the Plan and the live engines from here and never re-read the
// lab file.
//
// The run is kept on globalThis under Symbol.for('overlab.specRun'), not in a module variable:
// a user's spec imports `overlab/spec` by package name, which may load a second instance of
// these modules (another copy of overlab in the user's node_modules, a symlink, a URL with a
// query); Symbol.for gives every instance the same key, so each finds the run the harness set.
import type { HostCapabilities } from '../lab/capabilities.ts';
import type { Fact } from '../lab/types.ts';
import type { LabUnderTest } from './lab-under-test.ts';
import type { Probe, ProbeOutcome, ProbeStep } from './probe.ts';

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
  /** What each docker host can run (kernel features, tcpdump, engine), read before the specs. */
  capabilities: HostCapabilities[];
  /** What the users' own specs leave for the reports, by mocha runnable (test, hook or suite). */
  user: UserSpecRecords;
}

export interface UserSpecRecords {
  /** The test or hook running now (mocha's runner sets it; the handle's n/a and steps go to it). */
  current: () => object | undefined;
  /** Why a test, or every test of a suite, is not applicable (`lab.notApplicable(reason)`). */
  notApplicable: WeakMap<object, string>;
  /** The commands the handle ran for a test, as a probe records them. */
  steps: WeakMap<object, ProbeStep[]>;
  /** Probes the handle started, for each its own listener port. */
  probes: number;
}

/** Where the run lives: one key for every instance of this module (see the header). */
export const SPEC_RUN_KEY = Symbol.for('overlab.specRun');

const slot = globalThis as typeof globalThis & { [SPEC_RUN_KEY]?: SpecRun };

/** Sets the lab for the next mocha run; returns the run's registries for the reporter. */
export function setLabUnderTest(lab: LabUnderTest, notApplicable: Map<number, string> = new Map(), capabilities: HostCapabilities[] = []): SpecRun {
  const run: SpecRun = { lab, probes: new Map(), records: new WeakMap(), covered: new Set(), notApplicable, capabilities, user: { current: () => undefined, notApplicable: new WeakMap(), steps: new WeakMap(), probes: 0 } };
  slot[SPEC_RUN_KEY] = run;
  return run;
}

export function clearLabUnderTest(): void {
  delete slot[SPEC_RUN_KEY];
}

/** The current run, or undefined when a spec file is loaded outside `overlab test`. */
export function specRun(): SpecRun | undefined {
  return slot[SPEC_RUN_KEY];
}
