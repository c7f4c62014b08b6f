// What a report read back must hold: a lab's spec report (the room page, `status --all`, a
// matrix cell) and a matrix report (--compare, `matrix merge`). Their texts are shown escaped
// wherever they go; here every count and duration is checked to be a finite number, every
// state one of the states, and the lab a lab name, so that nothing a page or a sum does with
// them meets a string, NaN or an object.
import { ENGINE_SOURCES } from '../lab/types.ts';
import { labName, timestamp } from '../state/rules.ts';
import { dict, finite, int, list, object, oneOf, opt, req, str, type Check, type Obj } from '../state/shape.ts';
import type { CellStatus, Change, MatrixReport } from './matrix-report.ts';
import type { CaseState, SpecReport } from './spec-report.ts';

const CASE_STATES: readonly CaseState[] = ['passed', 'failed', 'pending', 'n/a'];
const CELL_STATUSES: readonly CellStatus[] = ['passed', 'failed', 'error', 'n/a'];
const CHANGES: readonly Change[] = ['newly failing', 'newly passing', 'new', 'gone'];

const count = int(0);
const ms = finite(0);

function failure(v: unknown, p: string): void {
  const f = object(v, p);
  req(f, p, 'message', str);
  req(f, p, 'kind', oneOf(['assertion', 'error'] as const));
  req(f, p, 'detail', str);
}

function specCase(v: unknown, p: string): void {
  const c = object(v, p);
  req(c, p, 'suite', str);
  req(c, p, 'title', str);
  opt(c, p, 'file', str); // a user's spec file; absent for the built-in specs
  req(c, p, 'state', oneOf(CASE_STATES));
  req(c, p, 'ms', ms);
  opt(c, p, 'failure', failure);
  opt(c, p, 'reason', str);
  opt(c, p, 'measured', dict(finite()));
  // fact, steps and diagnostics are data for people and tools; nothing renders them into a page.
}

/** A spec report (reports/report.json) as overlab test writes it. */
export function checkSpecReport(data: unknown): SpecReport {
  const o = object(data, '');
  req(o, '', 'lab', labName);
  req(o, '', 'file', str);
  req(o, '', 'properties', dict(str));
  req(o, '', 'startedAt', timestamp);
  opt(o, '', 'life', timestamp); // absent in reports from before lives were named
  req(o, '', 'ms', ms);
  req(o, '', 'counts', (v, p) => {
    const c = object(v, p);
    for (const k of ['tests', 'passed', 'failed', 'pending']) req(c, p, k, count);
    opt(c, p, 'na', count); // absent in reports from before n/a existed
  });
  req(o, '', 'cases', list(specCase));
  return o as unknown as SpecReport;
}

function matrixSpec(v: unknown, p: string): void {
  const s = object(v, p);
  req(s, p, 'suite', str);
  req(s, p, 'title', str);
  opt(s, p, 'file', str); // a user's spec file; absent for the built-in specs
  req(s, p, 'state', oneOf(CASE_STATES));
  req(s, p, 'ms', ms);
  opt(s, p, 'failure', failure);
  opt(s, p, 'change', oneOf(CHANGES));
}

function matrixCell(v: unknown, p: string): void {
  const c = object(v, p);
  req(c, p, 'id', str);
  req(c, p, 'lab', str);
  req(c, p, 'engine', (w, q) => {
    const e = object(w, q);
    req(e, q, 'requested', str);
    req(e, q, 'source', oneOf(ENGINE_SOURCES));
    for (const k of ['version', 'url', 'sha256', 'origin']) opt(e, q, k, str);
    opt(e, q, 'ran', (x, r) => {
      const ran = object(x, r);
      req(ran, r, 'engine', str);
      req(ran, r, 'api', str);
      opt(ran, r, 'containerd', str);
      opt(ran, r, 'runc', str);
    });
  });
  req(c, p, 'kv', str);
  req(c, p, 'mode', str);
  req(c, p, 'provider', str);
  req(c, p, 'status', oneOf(CELL_STATUSES));
  opt(c, p, 'reason', str);
  req(c, p, 'durations', (w, q) => {
    const d = object(w, q);
    req(d, q, 'totalMs', ms);
    for (const k of ['upMs', 'specsMs', 'downMs']) opt(d, q, k, ms);
  });
  req(c, p, 'counts', (w, q) => {
    const n = object(w, q);
    for (const k of ['tests', 'passed', 'failed', 'pending']) req(n, q, k, count);
  });
  req(c, p, 'specs', list(matrixSpec));
  opt(c, p, 'change', oneOf(CHANGES));
  opt(c, p, 'facts', dict(str));
}

const factChange: Check<void> = (v, p) => {
  const f = object(v, p);
  req(f, p, 'from', str);
  req(f, p, 'to', str);
  req(f, p, 'fact', str);
  opt(f, p, 'before', str);
  opt(f, p, 'after', str);
};

/** A matrix report (matrix.json) as overlab matrix writes it. */
export function checkMatrixReport(data: unknown): MatrixReport {
  const o: Obj = object(data, '');
  req(o, '', 'lab', str);
  req(o, '', 'file', str);
  req(o, '', 'provider', str);
  req(o, '', 'startedAt', timestamp);
  req(o, '', 'ms', ms);
  req(o, '', 'jobs', count);
  req(o, '', 'cells', list(matrixCell));
  req(o, '', 'counts', (v, p) => {
    const c = object(v, p);
    for (const k of ['cells', 'passed', 'failed', 'error', 'na']) req(c, p, k, count);
  });
  opt(o, '', 'plan', (v, p) => {
    const plan = object(v, p);
    req(plan, p, 'engines', list(str));
    req(plan, p, 'cells', list(str));
    opt(plan, p, 'ran', list(str));
  });
  opt(o, '', 'parts', list(str));
  opt(o, '', 'factChanges', list(factChange));
  opt(o, '', 'compare', (v, p) => {
    const k = object(v, p);
    req(k, p, 'previous', str);
    for (const n of ['newlyFailing', 'newlyPassing', 'new', 'gone']) req(k, p, n, count);
    req(k, p, 'goneCells', list((w, q) => {
      const g = object(w, q);
      req(g, q, 'id', str);
      req(g, q, 'status', oneOf(CELL_STATUSES));
    }));
    opt(k, p, 'factChanges', list(factChange));
  });
  return o as unknown as MatrixReport;
}
