// Reports of a release matrix: the data (MatrixReport, in matrix-report.ts) read back and
// merged, what changed since a previous run (--compare), the closing line, and the JUnit
// rendering (a testsuite per cell). Pure.
import { hostname } from 'node:os';
import { attr, text } from './junit.ts';
import { UsageError } from '../errors.ts';
import { parseRecord, ReportFileError } from '../state/record-file.ts';
import { checkMatrixReport } from './check.ts';
import type { CellStatus, Change, FactChange, MatrixCellResult, MatrixReport } from './matrix-report.ts';

export type { CellStatus, Change, FactChange, MatrixCellResult, MatrixReport, MatrixSpec } from './matrix-report.ts';

/**
 * A matrix report read back (a part for `matrix merge`, the previous run for --compare): `text`
 * is the content of `file`; one that is not as overlab matrix writes it is a ReportFileError
 * naming the file (as `what`: "the part", "--compare") and its first bad field.
 */
export function parseMatrixReport(text: string, file: string, what = 'matrix report'): MatrixReport {
  return parseRecord(text, checkMatrixReport, (pointer, problem) => new ReportFileError({ what, file, pointer, problem, hint: 'Give a matrix.json that overlab matrix wrote.' }));
}

/**
 * Facts that differ between each cell and the cell of the next release asked for, in the same
 * mode and KV store; cells without facts (n/a, or never up) are passed over, so a release
 * compares with the nearest one that ran.
 */
export function adjacentFactChanges(cells: readonly MatrixCellResult[], engines: readonly string[]): FactChange[] {
  const out: FactChange[] = [];
  const order = (c: MatrixCellResult) => engines.indexOf(c.engine.requested);
  const groups = new Map<string, MatrixCellResult[]>();
  for (const c of cells) {
    if (!c.facts) continue;
    const k = `${c.mode}/${c.kv}`;
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => order(a) - order(b));
    for (let i = 1; i < sorted.length; i++) {
      const [a, b] = [sorted[i - 1]!, sorted[i]!];
      for (const fact of [...new Set([...Object.keys(a.facts!), ...Object.keys(b.facts!)])]) {
        if (a.facts![fact] !== b.facts![fact]) out.push({ from: a.id, to: b.id, fact, before: a.facts![fact], after: b.facts![fact] });
      }
    }
  }
  return out;
}

/**
 * Parts of one matrix (each run with --cell) as one report: every cell from the part that ran
 * it (an n/a cell from any part), in the matrix's order, the counts and fact changes made anew.
 * Parts of different labs or matrices, a cell run in two parts, or cells of the matrix that no
 * part ran are refused: the merge must say what a single run would have said.
 */
export function mergeMatrixReports(parts: { report: MatrixReport; name: string }[]): MatrixReport {
  const [first] = parts;
  if (!first) throw new UsageError('no parts to merge');
  const plan = first.report.plan;
  if (!plan) throw new UsageError(`${first.name} was written by an older overlab (no plan): run its cells again`);
  for (const p of parts) {
    if (p.report.lab !== first.report.lab || JSON.stringify(p.report.plan?.cells) !== JSON.stringify(plan.cells)) {
      throw new UsageError(`${p.name} is part of another matrix (lab ${p.report.lab}, cells ${p.report.plan?.cells.join(', ') ?? '?'}) than ${first.name} (lab ${first.report.lab}, cells ${plan.cells.join(', ')})`);
    }
  }
  const byId = new Map<string, { cell: MatrixCellResult; from: string }>();
  for (const p of parts) {
    for (const c of p.report.cells) {
      const had = byId.get(c.id);
      if (had && had.cell.status !== 'n/a' && c.status !== 'n/a') throw new UsageError(`cell ${c.id} ran in both ${had.from} and ${p.name}`);
      if (!had || had.cell.status === 'n/a') byId.set(c.id, { cell: c, from: p.name });
    }
  }
  const missing = plan.cells.filter((id) => !byId.has(id));
  if (missing.length) throw new UsageError(`no part ran cell${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: run ${missing.length > 1 ? 'them' : 'it'} (--cell) and merge again`);
  const cells = plan.cells.map((id) => byId.get(id)!.cell);
  const starts = parts.map((p) => Date.parse(p.report.startedAt));
  const ends = parts.map((p) => Date.parse(p.report.startedAt) + p.report.ms);
  return {
    lab: first.report.lab,
    file: first.report.file,
    provider: first.report.provider,
    startedAt: new Date(Math.min(...starts)).toISOString(),
    ms: Math.max(...ends) - Math.min(...starts),
    jobs: parts.reduce((n, p) => n + p.report.jobs, 0),
    cells,
    counts: cellCounts(cells),
    plan: { engines: plan.engines, cells: plan.cells },
    parts: parts.map((p) => p.name),
    factChanges: adjacentFactChanges(cells, plan.engines),
  };
}

export function cellCounts(cells: readonly MatrixCellResult[]): MatrixReport['counts'] {
  const n = (s: CellStatus) => cells.filter((c) => c.status === s).length;
  return { cells: cells.length, passed: n('passed'), failed: n('failed'), error: n('error'), na: n('n/a') };
}

const bad = (s: string | undefined) => s === 'failed' || s === 'error';
const good = (s: string | undefined) => s === 'passed';

function changeOf(now: string, before: string | undefined, existed: boolean): Change | undefined {
  if (!existed) return 'new';
  if (bad(now) && !bad(before)) return 'newly failing';
  if (good(now) && bad(before)) return 'newly passing';
  return undefined;
}

/**
 * Marks what changed since `previous` in `report` (in place): each cell and each spec is new,
 * newly failing or newly passing; cells and specs only in the previous run are gone. Cells are
 * matched by id, specs by suite and title within a cell. An n/a cell changes nothing.
 */
export function compareReports(report: MatrixReport, previous: MatrixReport, previousName: string): MatrixReport {
  const before = new Map(previous.cells.map((c) => [c.id, c]));
  let newlyFailing = 0;
  let newlyPassing = 0;
  let added = 0;
  let gone = 0;
  const tally = (c: Change | undefined) => {
    if (c === 'newly failing') newlyFailing++;
    else if (c === 'newly passing') newlyPassing++;
    else if (c === 'new') added++;
  };
  for (const cell of report.cells) {
    const old = before.get(cell.id);
    const change = cell.status === 'n/a' ? (old ? undefined : 'new') : changeOf(cell.status, old?.status, old !== undefined);
    if (change) cell.change = change;
    tally(change);
    if (!old || cell.status === 'n/a') continue;
    const oldSpecs = new Map(old.specs.map((s) => [`${s.suite}\n${s.title}`, s]));
    for (const spec of cell.specs) {
      const o = oldSpecs.get(`${spec.suite}\n${spec.title}`);
      // A cell that could not run its specs before says nothing about each spec.
      const c = old.specs.length === 0 ? undefined : changeOf(spec.state, o?.state, o !== undefined);
      if (c) spec.change = c;
      tally(c);
      oldSpecs.delete(`${spec.suite}\n${spec.title}`);
    }
    // Specs of a cell that now ran none are not gone: the cell's own change says it.
    if (cell.specs.length) gone += oldSpecs.size;
  }
  const goneCells = previous.cells.filter((c) => !report.cells.some((n) => n.id === c.id)).map((c) => ({ id: c.id, status: c.status }));
  gone += goneCells.length;
  // The engine's observed behaviour, cell by cell, against the previous run's.
  const factChanges: FactChange[] = [];
  for (const cell of report.cells) {
    const old = before.get(cell.id);
    if (!cell.facts || !old?.facts) continue;
    for (const fact of [...new Set([...Object.keys(old.facts), ...Object.keys(cell.facts)])]) {
      if (old.facts[fact] !== cell.facts[fact]) factChanges.push({ from: cell.id, to: cell.id, fact, before: old.facts[fact], after: cell.facts[fact] });
    }
  }
  report.compare = { previous: previousName, newlyFailing, newlyPassing, new: added, gone, goneCells, factChanges };
  return report;
}

/** "9 cells: 6 passed, 1 failed, 2 n/a; 1 newly failing since PREVIOUS" */
export function closingLine(r: MatrixReport): string {
  const c = r.counts;
  const parts = [`${c.passed} passed`, `${c.failed} failed`, ...(c.error ? [`${c.error} could not run`] : []), `${c.na} n/a`];
  let line = `${c.cells} ${c.cells === 1 ? 'cell' : 'cells'}: ${parts.join(', ')}`;
  if (r.compare) {
    const k = r.compare;
    const changes = [
      `${k.newlyFailing} newly failing`,
      ...(k.newlyPassing ? [`${k.newlyPassing} newly passing`] : []),
      ...(k.new ? [`${k.new} new`] : []),
      ...(k.gone ? [`${k.gone} gone`] : []),
    ];
    line += `; ${changes.join(', ')} since ${k.previous}`;
  }
  return line;
}

/** JUnit: one testsuite per cell (its properties: engine, kv, mode, provider, status, change); an n/a cell is one skipped case with its reason; a cell that ran no spec is one case failing (or erring) with what happened. */
export function renderMatrixJunit(r: MatrixReport): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const suites = r.cells.map((cell) => {
    const cases: string[] = [];
    let tests = 0;
    let failures = 0;
    let errors = 0;
    let skipped = 0;
    if (cell.specs.length === 0) {
      tests = 1;
      const name = cell.status === 'n/a' ? 'not applicable' : 'the cell runs its specs';
      const open = `    <testcase classname="${attr(`overlab.matrix.${cell.id}`)}" name="${attr(name)}" time="${attr(seconds(cell.durations.totalMs))}"`;
      if (cell.status === 'passed') cases.push(`${open}/>`);
      else if (cell.status === 'n/a') {
        skipped = 1;
        cases.push(`${open}>`, `      <skipped message="${attr(cell.reason ?? 'not applicable')}"/>`, '    </testcase>');
      } else {
        const tag = cell.status === 'error' ? 'error' : 'failure';
        if (tag === 'error') errors = 1;
        else failures = 1;
        cases.push(`${open}>`, `      <${tag} message="${attr((cell.reason ?? cell.status).split('\n')[0]!)}" type="Cell${cell.status === 'error' ? 'Error' : 'Failure'}">${text(cell.reason ?? '')}</${tag}>`, '    </testcase>');
      }
    }
    for (const s of cell.specs) {
      tests++;
      const open = `    <testcase classname="${attr(`overlab.matrix.${cell.id}.${s.suite}`)}" name="${attr(s.title)}"${s.file ? ` file="${attr(s.file)}"` : ''} time="${attr(seconds(s.ms))}"`;
      if (s.state === 'passed' && !s.change) {
        cases.push(`${open}/>`);
        continue;
      }
      cases.push(`${open}>`);
      if (s.change) cases.push(`      <properties><property name="change" value="${attr(s.change)}"/></properties>`);
      if (s.state === 'pending') {
        skipped++;
        cases.push('      <skipped/>');
      } else if (s.state === 'failed' && s.failure) {
        const tag = s.failure.kind === 'error' ? 'error' : 'failure';
        if (tag === 'error') errors++;
        else failures++;
        cases.push(`      <${tag} message="${attr(s.failure.message)}" type="${tag === 'error' ? 'ProbeError' : 'AssertionError'}">${text(s.failure.detail)}</${tag}>`);
      }
      cases.push('    </testcase>');
    }
    const props: Record<string, string> = {
      cell: cell.id,
      lab: cell.lab,
      status: cell.status,
      'engine.requested': cell.engine.requested,
      'engine.source': cell.engine.source,
      engine: cell.engine.version ?? 'unknown',
      kv: cell.kv,
      mode: cell.mode,
      provider: cell.provider,
      ...(cell.change ? { change: cell.change } : {}),
      ...(cell.reason ? { reason: cell.reason.split('\n')[0]! } : {}),
    };
    return [
      `  <testsuite name="${attr(`overlab matrix ${cell.id}`)}" tests="${attr(String(tests))}" failures="${attr(String(failures))}" errors="${attr(String(errors))}" skipped="${attr(String(skipped))}" time="${attr(seconds(cell.durations.totalMs))}" hostname="${attr(hostname())}">`,
      '    <properties>',
      ...Object.entries(props).map(([k, v]) => `      <property name="${attr(k)}" value="${attr(v)}"/>`),
      '    </properties>',
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  out.push(`<testsuites name="${attr(`overlab matrix ${r.lab}`)}" time="${attr(seconds(r.ms))}">`, ...suites, '</testsuites>', '');
  return out.join('\n');
}
