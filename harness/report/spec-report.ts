// A spec run's report as data: each case with its state, time, failure and measurements, and
// the counts. index.ts writes and reads it; junit.ts renders it; check.ts checks it read back.

/** 'n/a': the fact cannot be checked on this lab (a host's kernel lacks a feature, e.g. IP_VS or netem); `reason` says why. Never passed, never dropped. */
export type CaseState = 'passed' | 'failed' | 'pending' | 'n/a';

export interface CaseFailure {
  /** The first line of the failure: what does not hold. */
  message: string;
  /** 'assertion' when the property is broken; 'error' when the check itself could not run. */
  kind: 'assertion' | 'error';
  /** The full text: the failing command, its exit code and output, engine log lines, network inspect. */
  detail: string;
}

export interface SpecCase {
  /** The describe block ("reachability"). */
  suite: string;
  /** The user's spec file the case comes from (relative to where `overlab test` ran); none for the built-in specs. */
  file?: string;
  title: string;
  state: CaseState;
  /** How long its check took (the probe's own time, not time spent waiting in the pool). */
  ms: number;
  /** The plan fact the case proves, and the commands its probe ran, as data. */
  fact?: unknown;
  steps?: unknown[];
  diagnostics?: unknown;
  failure?: CaseFailure;
  /** Why the case is n/a. */
  reason?: string;
  /** Times the probe measured, ms by name (e.g. `recovery.ms` after a fault is undone). */
  measured?: Record<string, number>;
}

export interface SpecReport {
  lab: string;
  file: string;
  /** Suite properties: lab, provider, engine, kv, mode and the like; shown in JUnit <properties>. */
  properties: Record<string, string>;
  startedAt: string;
  /**
   * The life of the lab the specs ran on: the `createdAt` its `up` recorded. A lab brought up
   * again is another life, and this report is none of its results. Absent in reports from before.
   */
  life?: string;
  ms: number;
  /** `na`: cases that are not applicable (0 in reports from before it existed). */
  counts: { tests: number; passed: number; failed: number; pending: number; na: number };
  cases: SpecCase[];
}
