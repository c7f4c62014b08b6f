// Reading a file overlab wrote (a lab's state or plan, a spec or matrix report) as data that is
// checked before use: JSON first, then its shape (shape.ts). What does not pass is a typed
// error naming the file and its first bad field.
import { readFileSync } from 'node:fs';
import { LabStateError, oneLine, UsageError } from '../errors.ts';
import { ShapeProblem } from './shape.ts';

export interface RecordProblem {
  /** What the file is, for the message ("lab state", "matrix report"). */
  what: string;
  file: string;
  /** JSON pointer of the first bad field; empty for the file as a whole (not JSON, not an object). */
  pointer: string;
  problem: string;
  hint?: string;
}

function describe(p: RecordProblem): string {
  return oneLine(`${p.what} ${p.file} is not as overlab writes it: ${p.pointer || 'the file'} ${p.problem}`);
}

/** A lab's own record (state.json, plan.json, reports/report.json) does not hold what overlab writes: nothing is done from it. */
export class StateFileError extends LabStateError {
  readonly file: string;
  readonly pointer: string;

  constructor(p: RecordProblem) {
    super(describe(p), p.hint === undefined ? {} : { hint: p.hint });
    this.file = p.file;
    this.pointer = p.pointer;
  }
}

/** A report file named on the command line (a matrix part, --compare's) is not one overlab wrote. */
export class ReportFileError extends UsageError {
  readonly file: string;
  readonly pointer: string;

  constructor(p: RecordProblem) {
    super(describe(p), p.hint === undefined ? {} : { hint: p.hint });
    this.file = p.file;
    this.pointer = p.pointer;
  }
}

/** `text` (a file's content) parsed and checked; any problem goes to `problem` to make the error thrown. */
export function parseRecord<T>(text: string, check: (data: unknown) => T, problem: (pointer: string, problem: string) => Error): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw problem('', `is not JSON (${(e as Error).message})`);
  }
  try {
    return check(data);
  } catch (e) {
    if (e instanceof ShapeProblem) throw problem(e.pointer, e.problem);
    throw e;
  }
}

/** The file's text, or undefined when there is none; other read errors are thrown as they are. */
export function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
