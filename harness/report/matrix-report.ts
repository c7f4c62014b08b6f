// A release matrix's report as data: every cell with its engine, KV store, mode, provider,
// durations and specs, the counts, what changed since a previous run. matrix.ts makes, merges,
// compares and renders it; check.ts checks it read back.
import type { EngineSource } from '../lab/types.ts';
import type { SpecCase } from './spec-report.ts';

/** passed: every spec passed; failed: a spec failed, or the engine under test died; error: the cell could not run (a download, a missing store); n/a: the cell cannot exist. */
export type CellStatus = 'passed' | 'failed' | 'error' | 'n/a';

export type Change = 'newly failing' | 'newly passing' | 'new' | 'gone';

export interface MatrixSpec {
  suite: string;
  title: string;
  /** The user's spec file it is from (the lab's specs.files), relative to the lab file; absent for the built-in specs. */
  file?: string;
  state: SpecCase['state'];
  ms: number;
  failure?: SpecCase['failure'];
  change?: Change;
}

export interface MatrixCellResult {
  id: string;
  lab: string;
  engine: {
    requested: string;
    source: EngineSource;
    /** The engine's own version string, as it reported it (API, else `dockerd --version`). */
    version: string | undefined;
    /** Engine trees: where the tree came from and its sum (a static archive's, or docker.io's package's). */
    url?: string;
    sha256?: string;
    /** Engine trees: one line naming the origin (`docker.io 28.5.2+dfsg4-5 of debian forky (URL)`). */
    origin?: string;
    /** What the engines ran, as the first docker host's daemon reported it (GET /version). */
    ran?: { engine: string; api: string; containerd?: string | undefined; runc?: string | undefined };
  };
  kv: string;
  mode: string;
  provider: string;
  status: CellStatus;
  /** n/a: why the cell cannot exist; error and failed without specs: what happened (quoted). */
  reason?: string;
  durations: { totalMs: number; upMs?: number; specsMs?: number; downMs?: number };
  counts: { tests: number; passed: number; failed: number; pending: number };
  specs: MatrixSpec[];
  change?: Change;
  /** The engine's behaviour, observed on the live cell (fact name -> value). */
  facts?: Record<string, string>;
}

/** A fact that differs between two cells of adjacent releases in one mode and KV store. */
export interface FactChange {
  from: string;
  to: string;
  fact: string;
  before: string | undefined;
  after: string | undefined;
}

export interface MatrixReport {
  lab: string;
  file: string;
  provider: string;
  startedAt: string;
  ms: number;
  jobs: number;
  cells: MatrixCellResult[];
  counts: { cells: number; passed: number; failed: number; error: number; na: number };
  /** The whole matrix this report is part of: the engines asked for, every cell id in order, and with --cell the ones run here. */
  plan?: { engines: string[]; cells: string[]; ran?: string[] };
  /** A merge: the parts it was made from. */
  parts?: string[];
  /** What changed between adjacent releases (the engines in the order asked), per mode and KV store. */
  factChanges?: FactChange[];
  /** With --compare: the previous report, and what changed (cells and specs counted alike). */
  compare?: { previous: string; newlyFailing: number; newlyPassing: number; new: number; gone: number; goneCells: { id: string; status: CellStatus }[]; factChanges?: FactChange[] };
}
