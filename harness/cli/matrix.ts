// overlab matrix: every cell of engines x modes x KV stores as a lab of its own, up, specs,
// down, a few side by side; a live table per cell, the reports (matrix.json, junit.xml,
// matrix.html) in --out, and a closing line. Exit 1 when a cell fails (with --compare: when
// anything newly fails).
import { thisOverlab } from '../lifecycle/child-test.ts';
import { UsageError } from '../errors.ts';
import { parseEngineList, parseKvList, parseModeList } from '../lab/matrix.ts';
import { matrixCells, mergeMatrix, runMatrix, selectCells } from '../lifecycle/matrix.ts';
import type { CellPhase, MatrixEvent } from '../lifecycle/matrix-request.ts';
import { extendExitDeadline } from './interrupt.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say, warn } from './output.ts';

export interface MatrixOptions extends GlobalOptions {
  engines?: string;
  kv?: string;
  modes?: string;
  jobs?: number;
  failFast?: boolean;
  out?: string;
  compare?: string;
  engineMirror?: string;
  engineSha256?: string[];
  cellFlag?: string[];
  list?: boolean;
  cell?: string[];
}

export interface MatrixMergeOptions extends GlobalOptions {
  out?: string;
  compare?: string;
}

/** overlab matrix merge DIR...: the parts' reports as one (JSON, JUnit, HTML), as a single run would have written it. */
export async function matrixMergeCommand(dirs: string[], opts: MatrixMergeOptions): Promise<number> {
  const { report, files, line, exitCode } = mergeMatrix(dirs, opts.out ?? '.overlab/matrix', opts.compare);
  if (opts.json) printJson({ ok: exitCode === 0, summary: line, files, counts: report.counts, parts: report.parts, compare: report.compare });
  else if (!opts.quiet || exitCode !== 0) {
    say(`merged ${dirs.length} part${dirs.length === 1 ? '' : 's'}: reports: ${files.json}, ${files.junit}, ${files.html}`);
    say(line);
  }
  return exitCode;
}

/** `VERSION=HEX` (--engine-sha256) or `CELL=--flag` (--cell-flag), repeatable. */
function pairs(values: string[] | undefined, flag: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values ?? []) {
    const at = v.indexOf('=');
    if (at < 1) throw new UsageError(`${flag} takes KEY=VALUE; got "${v}"`);
    (out[v.slice(0, at)] ??= []).push(v.slice(at + 1));
  }
  return out;
}

export async function matrixCommand(ref: string | undefined, opts: MatrixOptions, signal: AbortSignal): Promise<number> {
  const json = !!opts.json;
  const quiet = !!opts.quiet;
  // After Ctrl-C every cell's child stops (up to 5 s) and every cell is taken down: give it the time.
  extendExitDeadline(60_000);
  const sha = pairs(opts.engineSha256, '--engine-sha256');
  const cellIds = opts.cell?.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean);
  const axes = {
    ref: ref ?? opts.lab,
    ...(opts.engines ? { engines: parseEngineList(opts.engines) } : {}),
    ...(opts.kv ? { kv: parseKvList(opts.kv) } : {}),
    ...(opts.modes ? { modes: parseModeList(opts.modes) } : {}),
  };
  if (opts.list) {
    // The cells as a CI job matrix takes them (e.g. a job per runnable id, `--cell ID` each).
    const cells = selectCells((await matrixCells(axes)).cells, cellIds);
    const rows = cells.map((c) => ({ id: c.id, lab: c.lab, engine: c.engine.requested, source: c.engine.source, version: c.engine.version, mode: c.mode, kv: c.kv, runnable: !c.notApplicable, ...(c.notApplicable ? { notApplicable: c.notApplicable } : {}) }));
    if (json) printJson(rows);
    else for (const r of rows) say(`${r.id.padEnd(14)} ${`${r.engine} ${r.mode}${r.kv === 'none' ? '' : ` + ${r.kv}`}`.padEnd(28)} ${r.runnable ? 'runs' : `n/a: ${r.notApplicable}`}`);
    return 0;
  }
  const table = new LiveTable(!json && !quiet && !!process.stdout.isTTY);
  const onEvent = (e: MatrixEvent) => {
    if (json || quiet) return;
    if (e.type === 'start') {
      const na = e.cells.filter((c) => c.notApplicable);
      say(`matrix of ${e.cells.length} cells (${e.cells.length - na.length} to run, ${na.length} n/a), ${e.jobs} at a time (${e.jobsWhy}); reports in ${e.out}`);
      for (const c of na) say(`  ${c.id}: n/a: ${c.notApplicable}`);
      table.start(e.cells.filter((c) => !c.notApplicable).map((c) => ({ id: c.id, what: `${c.engine.requested} ${c.mode}${c.kv === 'none' ? '' : ` + ${c.kv}`}` })));
    } else table.update(e.id, e.phase, e.ms, e.detail);
  };
  const { report, files, line, exitCode } = await runMatrix({
    ...axes,
    ...(cellIds?.length ? { cells: cellIds } : {}),
    ...(opts.provider ? { provider: opts.provider } : {}),
    ...(opts.jobs ? { jobs: opts.jobs } : {}),
    failFast: !!opts.failFast,
    out: opts.out ?? '.overlab/matrix',
    ...(opts.compare ? { compare: opts.compare } : {}),
    ...(opts.engineMirror ? { mirror: opts.engineMirror } : {}),
    sha256: Object.fromEntries(Object.entries(sha).map(([k, v]) => [k, v[v.length - 1]!])),
    cellFlags: pairs(opts.cellFlag, '--cell-flag'),
    cli: thisOverlab(),
    signal,
    onEvent,
  });
  if (json) printJson({ ok: exitCode === 0, summary: line, files, counts: report.counts, compare: report.compare, cells: report.cells.map((c) => ({ id: c.id, lab: c.lab, status: c.status, engine: c.engine.version, kv: c.kv, mode: c.mode, counts: c.counts, ...(c.change ? { change: c.change } : {}), ...(c.reason ? { reason: c.reason } : {}) })) });
  else if (!quiet || exitCode !== 0) {
    table.finish();
    for (const c of report.cells.filter((x) => x.status === 'failed' || x.status === 'error')) {
      warn(`${c.id} ${c.status}${c.change ? ` (${c.change})` : ''}: ${c.reason ? c.reason.split('\n')[0] : `${c.counts.failed} of ${c.counts.tests} specs failed`}`);
    }
    say(`reports: ${files.json}, ${files.junit}, ${files.html}`);
    say(line);
  }
  return exitCode;
}

/** The per-cell table: redrawn in place on a terminal, a line per change otherwise (CI logs). */
class LiveTable {
  private rows: { id: string; what: string; phase: CellPhase; ms?: number; detail?: string; since: number }[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly tty: boolean) {}

  start(rows: { id: string; what: string }[]): void {
    this.rows = rows.map((r) => ({ ...r, phase: 'waiting' as CellPhase, since: Date.now() }));
    if (this.tty) {
      this.draw();
      this.timer = setInterval(() => this.draw(), 1000).unref();
    }
  }

  update(id: string, phase: CellPhase, ms?: number, detail?: string): void {
    const row = this.rows.find((r) => r.id === id);
    if (!row) return;
    Object.assign(row, { phase, since: Date.now(), ...(ms !== undefined ? { ms } : {}), ...(detail ? { detail } : {}) });
    if (this.tty) this.draw();
    else say(`  ${id.padEnd(14)} ${phase}${ms !== undefined ? ` (${(ms / 1000).toFixed(1)} s)` : ''}${detail ? `: ${detail}` : ''}`);
  }

  finish(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.tty) this.draw();
  }

  private draw(): void {
    const lines = this.rows.map((r) => {
      const t = r.ms !== undefined ? `${(r.ms / 1000).toFixed(1)} s` : r.phase === 'waiting' ? '' : `${Math.round((Date.now() - r.since) / 1000)} s`;
      return `  ${r.id.padEnd(14)} ${r.what.padEnd(26)} ${r.phase.padEnd(8)} ${t.padStart(7)}${r.detail ? `  ${r.detail.slice(0, 60)}` : ''}`;
    });
    if (this.drawn) process.stdout.write(`\x1b[${this.drawn}A`);
    process.stdout.write(lines.map((l) => `\x1b[2K${l}\n`).join(''));
    this.drawn = lines.length;
  }
}
