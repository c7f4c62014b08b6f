// `matrix` as a library verb: every cell of a release matrix (engine x mode x KV store) as a
// lab of its own (`<lab>-<cell>`), brought up, tested and taken down, a few side by side; one
// report of all of them (JSON, JUnit, HTML), compared with a previous run when asked. Each
// cell runs in a child process of its own (matrix-cell.ts).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { escape } from 'glob';
import { LabNotFoundError, UsageError } from '../errors.ts';
import { loadLab } from '../lab/load.ts';
import { planMatrix, type MatrixAxes, type MatrixCellPlan } from '../lab/matrix.ts';
import { resolveSpecPattern, specFilesOf } from '../lab/spec-files.ts';
import type { Lab } from '../lab/types.ts';
import { planLab } from '../lab/plan.ts';
import type { ProviderName } from '../lab/types.ts';
import { resolveProvider } from '../providers/index.ts';
import type { Provider } from '../providers/provider.ts';
import { adjacentFactChanges, cellCounts, closingLine, compareReports, mergeMatrixReports, parseMatrixReport, renderMatrixJunit, type MatrixCellResult, type MatrixReport } from '../report/matrix.ts';
import { renderMatrixPage } from '../render/matrix.ts';
import { engineVersionString } from '../system/engines.ts';
import { findProgram } from '../system/programs.ts';
import { mapLimit } from '../wait.ts';
import { availableMemoryMiB, checkCapacity } from './copies.ts';
import { resolveLabFile } from './lab.ts';
import { naResult, runCell } from './matrix-cell.ts';
import type { MatrixRequest } from './matrix-request.ts';

// The events' types, where the CLI imports them from.

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
