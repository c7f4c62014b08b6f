// One cell of a matrix, run: its lab file written, its `up` and specs run in a child `overlab
// test CELL.yaml --json` (child-test.ts, as `test --all` runs each copy), its engine and facts
// read from the live lab, its result made from the child's report. `down` runs here, always, whatever happened to the child, so an
// interrupted matrix leaves nothing behind.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cellLabText, type MatrixCellPlan } from '../lab/matrix.ts';
import type { SpecReport } from '../report/index.ts';
import type { MatrixCellResult } from '../report/matrix.ts';
import { labStateDir } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import { describeOrigin, type EngineOrigin } from '../system/engine-sources.ts';
import type { RunningVersions } from '../engine/versions.ts';
import { connectLab } from './connect.ts';
import { labDown } from './down.ts';
import { recordedPlan } from './lab.ts';
import type { MatrixEvent, MatrixRequest } from './matrix-request.ts';
import { observeEngineFacts, type EngineFacts } from '../probes/engine-facts.ts';
import type { LabState } from '../state/store.ts';
import { lastReport } from './room.ts';
import { testInChild } from './child-test.ts';

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

export function naResult(cell: MatrixCellPlan, provider: string, reason: string): MatrixCellResult {
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

export interface CellContext extends MatrixRequest {
  providerId: string;
  out: string;
  baseText: string;
  specFiles: string[];
  systemEngine: () => Promise<string>;
  emit: (e: MatrixEvent) => void;
}

/** Exit statuses of `overlab test` that mean the engine under test failed, not the harness: 1 specs failed, 71 an engine died. */
const CELL_FAILURES = new Set([1, 71]);

export async function runCell(cell: MatrixCellPlan, ctx: CellContext): Promise<MatrixCellResult> {
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
    const child = await testInChild(file, {
      cli: ctx.cli,
      args: ['--provider', ctx.providerId],
      env: { ...(ctx.mirror ? { OVERLAB_ENGINE_MIRROR: ctx.mirror } : {}), OVERLAB_NO_SUDO: '1', FORCE_COLOR: '0' },
      signal: ctx.signal,
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
      result.specs = spec.cases.map((c) => ({ suite: c.suite, title: c.title, ...(c.file ? { file: c.file } : {}), state: c.state, ms: c.ms, ...(c.failure ? { failure: c.failure } : {}) }));
      result.durations.specsMs = spec.ms;
      result.durations.upMs = Math.max(0, childMs - spec.ms);
    } else result.durations.upMs = childMs;
    const code = child.exitCode;
    if (code === 0 && spec && spec.counts.failed === 0) result.status = 'passed';
    else {
      result.status = CELL_FAILURES.has(code) ? 'failed' : 'error';
      if (!spec) result.reason = childMessage(child.stdout, child.stderr, code) + engineLogLines(cell.lab);
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
