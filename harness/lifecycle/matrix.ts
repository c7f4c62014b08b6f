// `matrix` as a library verb: every cell of a release matrix (engine x mode x KV store) as a
// lab of its own (`<lab>-<cell>`), brought up, tested and taken down, a few side by side; one
// report of all of them (JSON, JUnit, HTML), compared with a previous run when asked. Each cell's
// `up` and specs run in a child `overlab test CELL.yaml --json` (one mocha run per process, as
// `test --all` does: spec files register their tests as they load); `down` runs here, always,
// whatever happened to the child, so an interrupted matrix leaves nothing behind.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { escape } from 'glob';
import { LabNotFoundError, UsageError } from '../errors.ts';
import { loadLab } from '../lab/load.ts';
import { cellLabText, planMatrix, type MatrixAxes, type MatrixCellPlan } from '../lab/matrix.ts';
import { resolveSpecPattern, specFilesOf } from '../lab/spec-files.ts';
import type { Lab } from '../lab/types.ts';
import { planLab } from '../lab/plan.ts';
import type { ProviderName } from '../lab/types.ts';
import { resolveProvider } from '../providers/index.ts';
import type { Provider } from '../providers/provider.ts';
import type { SpecReport } from '../report/index.ts';
import { adjacentFactChanges, cellCounts, closingLine, compareReports, mergeMatrixReports, parseMatrixReport, renderMatrixJunit, type CellStatus, type MatrixCellResult, type MatrixReport } from '../report/matrix.ts';
import { renderMatrixPage } from '../render/matrix.ts';
import { labStateDir } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import { engineVersionString } from '../system/engines.ts';
import { describeOrigin, type EngineOrigin } from '../system/engine-sources.ts';
import type { RunningVersions } from '../engine/versions.ts';
import { findProgram } from '../system/programs.ts';
import { mapLimit } from '../wait.ts';
import { availableMemoryMiB, checkCapacity } from './copies.ts';
import { labDown } from './down.ts';
import { connectLab } from './connect.ts';
import { recordedPlan, resolveLabFile } from './lab.ts';
import { observeEngineFacts, type EngineFacts } from '../probes/engine-facts.ts';
import type { LabState } from '../state/store.ts';
import { lastReport } from './room.ts';

export type CellPhase = 'waiting' | 'running' | 'down' | CellStatus;

/** What the matrix tells its caller as it goes (the library never prints). */
export type MatrixEvent =
  | { type: 'start'; cells: MatrixCellPlan[]; jobs: number; jobsWhy: string; out: string }
  | { type: 'cell'; id: string; phase: CellPhase; ms?: number; detail?: string };

export interface MatrixRequest extends Partial<Pick<MatrixAxes, 'engines' | 'kv' | 'modes'>>, Omit<MatrixAxes, 'engines' | 'kv' | 'modes'> {
  ref: string | undefined;
  provider?: string;
  jobs?: number;
  failFast?: boolean;
  out: string;
  compare?: string;
  /** Folder URL holding docker-VERSION.tgz (http, https, file). */
  mirror?: string;
  /** --cell: only these cells run (ids of the matrix); n/a cells are listed all the same. */
  cells?: string[];
  /** The CLI that runs each cell: node, its flags and the entry script (`overlab test CELL --json`). */
  cli: { node: string; execArgv: string[]; script: string };
  signal: AbortSignal;
  onEvent?: (e: MatrixEvent) => void;
}

export interface MatrixFiles {
  json: string;
  junit: string;
  html: string;
}

/** Cells at once: what memory holds (80% of MemAvailable at the provider's estimate) and one per core; one where labs do not run side by side. */
export function defaultJobs(provider: Pick<Provider, 'id' | 'sideBySide'>, perCellMiB: number, availableMiB: number, cores: number, runnable: number): { jobs: number; why: string } {
  if (!provider.sideBySide) return { jobs: 1, why: `${provider.id} machines are made one cell at a time` };
  const { fits } = checkCapacity(perCellMiB, runnable, availableMiB);
  const jobs = Math.max(1, Math.min(fits, cores, runnable));
  return { jobs, why: `${cores} cores, ${availableMiB} MiB available at about ${perCellMiB} MiB per cell` };
}

/** The matrix a request gives: its lab, the axes (flags, then the lab's matrix: block, then defaults) and every cell. */
export async function matrixCells(req: Pick<MatrixRequest, 'ref' | 'engines' | 'kv' | 'modes' | 'sha256' | 'cellFlags'>): Promise<{ lab: Lab; axes: MatrixAxes; cells: MatrixCellPlan[] }> {
  const lab = await loadLab(resolveLabFile(req.ref));
  // Flags first, then the lab's own `matrix:` block, then this machine's engine in both modes over etcd.
  const axes: MatrixAxes = {
    engines: req.engines ?? lab.matrix?.engines ?? ['system'],
    kv: req.kv ?? lab.matrix?.kv ?? ['etcd'],
    modes: req.modes ?? lab.matrix?.modes ?? ['kv', 'swarm'],
    ...(req.sha256 ? { sha256: req.sha256 } : {}),
    ...(req.cellFlags ? { cellFlags: req.cellFlags } : {}),
  };
  return { lab, axes, cells: planMatrix(lab, axes) };
}

/** The cells `--cell` names, in the matrix's order; an id the matrix does not have is refused with the list. */
export function selectCells(cells: MatrixCellPlan[], ids: readonly string[] | undefined): MatrixCellPlan[] {
  if (!ids?.length) return cells;
  const unknown = ids.filter((id) => !cells.some((c) => c.id === id));
  if (unknown.length) throw new UsageError(`--cell ${unknown.join(', ')}: no such cell in this matrix (cells: ${cells.map((c) => c.id).join(', ')})`);
  return cells.filter((c) => ids.includes(c.id));
}

export async function runMatrix(req: MatrixRequest): Promise<{ report: MatrixReport; files: MatrixFiles; line: string; exitCode: number }> {
  const started = Date.now();
  const emit = req.onEvent ?? (() => {});
  const { lab, axes, cells: all0 } = await matrixCells(req);
  const baseText = readFileSync(lab.file, 'utf8');
  // The lab's own spec files run in every cell, named absolutely (the cells' lab files are in the output folder).
  const specFiles = specFilesOf(lab.specs.files.map((r) => resolveSpecPattern(r.pattern, dirname(resolve(lab.file))))).map((f) => escape(f));
  const provider = await resolveProvider((req.provider ?? lab.provider) as ProviderName);
  const previous = req.compare ? readPrevious(req.compare) : undefined;
  // With --cell, the cells named run (a CI job per cell), and every n/a cell is listed with its
  // reason in each part, so a merge of the parts has the whole matrix.
  const chosen = selectCells(all0, req.cells);
  const cells = all0.filter((c) => chosen.includes(c) || c.notApplicable);
  const runnable = cells.filter((c) => !c.notApplicable);
  const perCellMiB = runnable.length ? provider.estimateMemoryMiB(planLab({ ...lab, name: runnable[0]!.lab })) : 0;
  const auto = defaultJobs(provider, perCellMiB, availableMemoryMiB(), availableParallelism(), runnable.length);
  const jobs = req.jobs ?? auto.jobs;
  const out = resolve(req.out);
  mkdirSync(join(out, 'cells'), { recursive: true });
  emit({ type: 'start', cells, jobs, jobsWhy: req.jobs ? '--jobs' : auto.why, out });

  let systemVersion: Promise<string> | undefined;
  const systemEngine = () => (systemVersion ??= engineVersionString(findProgram('dockerd', { systemDirs: true }) ?? 'dockerd'));
  let stopAfter: string | undefined;
  const results = new Map<string, MatrixCellResult>();

  await mapLimit(runnable, jobs, async (cell) => {
    if (req.signal.aborted) return;
    if (stopAfter) {
      results.set(cell.id, naResult(cell, provider.id, `not run: --fail-fast stopped the matrix after cell ${stopAfter} failed`));
      emit({ type: 'cell', id: cell.id, phase: 'n/a' });
      return;
    }
    const r = await runCell(cell, { ...req, providerId: provider.id, out, baseText, specFiles, systemEngine, emit });
    results.set(cell.id, r);
    if (req.failFast && (r.status === 'failed' || r.status === 'error')) stopAfter ??= cell.id;
  });
  req.signal.throwIfAborted();

  const all = cells.map((c) => results.get(c.id) ?? naResult(c, provider.id, c.notApplicable ?? 'not run'));
  const report: MatrixReport = {
    lab: lab.name,
    file: lab.file,
    provider: provider.id,
    startedAt: new Date(started).toISOString(),
    ms: Date.now() - started,
    jobs,
    cells: all,
    counts: cellCounts(all),
    plan: { engines: axes.engines, cells: all0.map((c) => c.id), ...(req.cells?.length ? { ran: chosen.map((c) => c.id) } : {}) },
  };
  report.factChanges = adjacentFactChanges(all, axes.engines);
  if (previous) compareReports(report, previous.report, previous.name);
  const files = writeMatrixReports(report, out);
  const failing = report.counts.failed + report.counts.error > 0;
  // With --compare, what was already failing is known: only what newly fails fails the run.
  const exitCode = report.compare ? (report.compare.newlyFailing > 0 ? 1 : 0) : failing ? 1 : 0;
  return { report, files, line: closingLine(report), exitCode };
}

/** The engine facts of a live cell's lab, read through its own connection, closed after. */
async function observeCell(state: LabState): Promise<EngineFacts> {
  const plan = await recordedPlan(state);
  const live = await connectLab(plan, new AbortController().signal);
  try {
    return await observeEngineFacts(plan, live.hosts, live.engines);
  } finally {
    live.close();
  }
}

/**
 * One report of matrix parts run apart (`--cell` in separate CI jobs), read from their --out
 * folders: the same verdicts as one run, written to `out` as JSON, JUnit and HTML, compared with
 * a previous report when asked.
 */
export function mergeMatrix(dirs: string[], out: string, compare?: string): { report: MatrixReport; files: MatrixFiles; line: string; exitCode: number } {
  if (!dirs.length) throw new UsageError('overlab matrix merge needs the --out folders of the parts');
  const parts = dirs.map((d) => readPrevious(existsSync(join(d, 'matrix.json')) ? join(d, 'matrix.json') : d, 'the part'));
  const report = mergeMatrixReports(parts);
  if (compare) {
    const previous = readPrevious(compare);
    compareReports(report, previous.report, previous.name);
  }
  mkdirSync(resolve(out), { recursive: true });
  const files = writeMatrixReports(report, resolve(out));
  const failing = report.counts.failed + report.counts.error > 0;
  const exitCode = report.compare ? (report.compare.newlyFailing > 0 ? 1 : 0) : failing ? 1 : 0;
  return { report, files, line: closingLine(report), exitCode };
}

function readPrevious(path: string, what = '--compare'): { report: MatrixReport; name: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LabNotFoundError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { report: parseMatrixReport(text, path, what), name: path };
}

export function writeMatrixReports(report: MatrixReport, out: string): MatrixFiles {
  const files = { json: join(out, 'matrix.json'), junit: join(out, 'junit.xml'), html: join(out, 'matrix.html') };
  const write = (path: string, text: string) => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  };
  write(files.json, JSON.stringify(report, null, 2) + '\n');
  write(files.junit, renderMatrixJunit(report));
  write(files.html, renderMatrixPage(report));
  return files;
}

function naResult(cell: MatrixCellPlan, provider: string, reason: string): MatrixCellResult {
  return {
    id: cell.id,
    lab: cell.lab,
    engine: { requested: cell.engine.requested, source: cell.engine.source, version: undefined },
    kv: cell.kv,
    mode: cell.mode,
    provider,
    status: 'n/a',
    reason,
    durations: { totalMs: 0 },
    counts: { tests: 0, passed: 0, failed: 0, pending: 0 },
    specs: [],
  };
}

interface CellContext extends MatrixRequest {
  providerId: string;
  out: string;
  baseText: string;
  specFiles: string[];
  systemEngine: () => Promise<string>;
  emit: (e: MatrixEvent) => void;
}

/** Exit statuses of `overlab test` that mean the engine under test failed, not the harness: 1 specs failed, 71 an engine died. */
const CELL_FAILURES = new Set([1, 71]);

async function runCell(cell: MatrixCellPlan, ctx: CellContext): Promise<MatrixCellResult> {
  const started = Date.now();
  const file = join(ctx.out, 'cells', `${cell.id}.yaml`);
  const sha256 = cell.engine.source === 'static' ? ctx.sha256?.[cell.engine.version] : undefined;
  writeFileSync(file, cellLabText(ctx.baseText, cell, { provider: ctx.providerId, ...(sha256 ? { sha256 } : {}), specFiles: ctx.specFiles }));
  ctx.emit({ type: 'cell', id: cell.id, phase: 'running' });
  const result: MatrixCellResult = { ...naResult(cell, ctx.providerId, ''), status: 'error' };
  delete result.reason;
  // A lab of the cell's name that this cell did not make (a user's, another matrix's) is left
  // alone: the cell does not run, and nothing takes that lab down.
  const other = new StateStore(labStateDir(cell.lab)).read();
  if (other && other.file !== file) {
    result.reason = `a lab named ${cell.lab} is already there (from ${other.file}), not this cell's: the cell did not run, and that lab was left alone`;
    result.durations.totalMs = Date.now() - started;
    ctx.emit({ type: 'cell', id: cell.id, phase: 'error', ms: result.durations.totalMs, detail: result.reason });
    return result;
  }
  try {
    const child = await execa(ctx.cli.node, [...ctx.cli.execArgv, ctx.cli.script, 'test', file, '--json', '--destroy', 'never', '--provider', ctx.providerId], {
      reject: false,
      cancelSignal: ctx.signal,
      stdin: 'ignore',
      env: { ...(ctx.mirror ? { OVERLAB_ENGINE_MIRROR: ctx.mirror } : {}), OVERLAB_NO_SUDO: '1', FORCE_COLOR: '0' },
    });
    const childMs = Date.now() - started;
    if (ctx.signal.aborted) return result;
    const state = new StateStore(labStateDir(cell.lab)).read();
    const spec = state && readCellReport(state, started);
    const tree = state?.resources['engineTree'] as { version?: string; url?: string; sha256?: string; origin?: EngineOrigin } | undefined;
    const ran = Object.values((state?.resources['engineVersions'] ?? {}) as Record<string, RunningVersions>)[0];
    result.engine.version = spec?.properties['engine'] ?? ran?.engine ?? tree?.version ?? (cell.engine.source === 'system' ? await ctx.systemEngine() : undefined);
    if (tree?.url) result.engine.url = tree.url;
    if (tree?.sha256) result.engine.sha256 = tree.sha256;
    if (tree?.origin) result.engine.origin = describeOrigin(tree.origin);
    if (ran) result.engine.ran = { engine: ran.engine, api: ran.api, containerd: ran.containerd, runc: ran.runc };
    // The release's behaviour, read on the live cell before it goes down (a cell whose lab never came up has none).
    if (state?.phase === 'up' && !ctx.signal.aborted) {
      const facts = await observeCell(state).catch((e: unknown) => ({ error: `unreadable: ${(e as Error).message.split('\n')[0]}` }));
      if (facts) result.facts = facts;
    }
    if (spec) {
      result.counts = spec.counts;
      result.specs = spec.cases.map((c) => ({ suite: c.suite, title: c.title, state: c.state, ms: c.ms, ...(c.failure ? { failure: c.failure } : {}) }));
      result.durations.specsMs = spec.ms;
      result.durations.upMs = Math.max(0, childMs - spec.ms);
    } else result.durations.upMs = childMs;
    const code = child.exitCode ?? -1;
    if (code === 0 && spec && spec.counts.failed === 0) result.status = 'passed';
    else {
      result.status = CELL_FAILURES.has(code) ? 'failed' : 'error';
      if (!spec) result.reason = childMessage(String(child.stdout), String(child.stderr), code) + engineLogLines(cell.lab);
    }
  } finally {
    // Always taken down, interrupted or not: with a signal of its own, as the matrix's own may be aborted.
    ctx.emit({ type: 'cell', id: cell.id, phase: 'down' });
    const downStarted = Date.now();
    try {
      // Only the cell's own lab: its state names this cell's file (or there is none left to name anything).
      const now = new StateStore(labStateDir(cell.lab)).read();
      if (!now || now.file === file) await labDown(cell.lab, { force: true, signal: new AbortController().signal });
    } catch (e) {
      result.reason = `${result.reason ? `${result.reason}\n` : ''}down failed: ${(e as Error).message}`;
    }
    result.durations.downMs = Date.now() - downStarted;
    result.durations.totalMs = Date.now() - started;
    if (!ctx.signal.aborted) ctx.emit({ type: 'cell', id: cell.id, phase: result.status, ms: result.durations.totalMs, ...(result.reason ? { detail: result.reason.split('\n')[0]! } : {}) });
  }
  return result;
}

/** The cell's spec report, if its specs ran in this matrix on the lab's current life (not one left from an earlier run). */
function readCellReport(lab: LabState, since: number): SpecReport | undefined {
  const r = lastReport(lab);
  return r && Date.parse(r.startedAt) >= since - 1000 ? r : undefined;
}

/** What the child said when it could not run the specs: its error and hint (the engine's panic, quoted), else its stderr. */
function childMessage(stdout: string, stderr: string, code: number): string {
  try {
    const j = JSON.parse(stdout) as { message?: string; hint?: string };
    if (j.message) return `${j.message}${j.hint ? `\n${j.hint}` : ''}`;
  } catch {
    // not JSON: fall through
  }
  return stderr.trim() || `overlab test exited with status ${code}`;
}

/** Lines of the engines' logs from their panic on, read before `down` removes the logs: the page shows them under the cell. */
function engineLogLines(lab: string, max = 25): string {
  const dir = join(labStateDir(lab), 'logs');
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.dockerd.log'));
  } catch {
    return '';
  }
  const parts = files.flatMap((f) => {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    const at = lines.findIndex((l) => /^panic: |^fatal error: /.test(l));
    return at < 0 ? [] : [`\n\n${f} (from its panic on):\n${lines.slice(at, at + max).join('\n')}`];
  });
  return parts.join('');
}
