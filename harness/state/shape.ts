// Reading back what overlab wrote (a lab's state and plan, spec and matrix reports): a file is
// data to check before anything is done with it, never trusted because overlab wrote it once.
// Small checks, each naming the first field that does not hold what it should by its JSON
// pointer (RFC 6901: `/hosts/d0/resources/holderPid`) and saying what it holds instead.
import { isAbsolute, normalize } from 'node:path';
import { oneLine } from '../errors.ts';

/** The first field of a record that is not what it should be: where, and what is wrong. */
export class ShapeProblem extends Error {
  readonly pointer: string;
  readonly problem: string;

  constructor(pointer: string, problem: string) {
    super(`${pointer || 'the file'} ${problem}`);
    this.pointer = pointer;
    this.problem = problem;
  }
}

export type Check<T> = (value: unknown, pointer: string) => T;
export type Obj = Record<string, unknown>;

/** The pointer of `key` inside `pointer`. */
export function at(pointer: string, key: string | number): string {
  return `${pointer}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

export function fail(pointer: string, problem: string): never {
  throw new ShapeProblem(pointer, problem);
}

/** A value as a message quotes it: JSON, on one line, cut short. */
export function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  const chars = [...text];
  return oneLine(chars.length > 60 ? `${chars.slice(0, 60).join('')}…` : text);
}

/** "is X, not WHAT": the usual problem. */
export function notA(pointer: string, value: unknown, what: string): never {
  return fail(pointer, value === undefined ? `is missing (${what})` : `is ${shown(value)}, not ${what}`);
}

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const object: Check<Obj> = (v, p) => (isObject(v) ? v : notA(p, v, 'an object'));

/** A field that must be there. */
export function req<T>(o: Obj, pointer: string, key: string, check: Check<T>): T {
  const p = at(pointer, key);
  if (!Object.hasOwn(o, key) || o[key] === undefined) fail(p, 'is missing');
  return check(o[key], p);
}

/** A field that may be left out (undefined is never written: JSON drops it). */
export function opt<T>(o: Obj, pointer: string, key: string, check: Check<T>): T | undefined {
  if (!Object.hasOwn(o, key) || o[key] === undefined) return undefined;
  return check(o[key], at(pointer, key));
}

/** Any string (shown escaped wherever it goes) without a NUL, which no file name or argument can hold. */
export const str: Check<string> = (v, p) => (typeof v === 'string' && !v.includes('\0') ? v : notA(p, v, 'a string without NUL'));

/** A string of one line for a person: no control characters (but newlines and tabs with `lines`). */
export function text(options: { lines?: boolean; max?: number } = {}): Check<string> {
  const control = options.lines ? /[\x00-\x08\x0b-\x1f\x7f]/ : /[\x00-\x1f\x7f]/;
  const max = options.max ?? 100_000;
  return (v, p) => (typeof v === 'string' && !control.test(v) && v.length <= max ? v : notA(p, v, `text (at most ${max} characters${options.lines ? '' : ', one line'}, no control characters)`));
}

export function matches(pattern: RegExp, what: string): Check<string> {
  return (v, p) => (typeof v === 'string' && pattern.test(v) ? v : notA(p, v, what));
}

export function oneOf<T extends string | number | boolean>(values: readonly T[]): Check<T> {
  return (v, p) => ((values as readonly unknown[]).includes(v) ? (v as T) : notA(p, v, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`));
}

export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : notA(p, v, 'true or false'));

/** A whole number from `min` to `max`. */
export function int(min: number, max: number = Number.MAX_SAFE_INTEGER, what?: string): Check<number> {
  return (v, p) => (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : notA(p, v, what ?? `a whole number from ${min} to ${max}`));
}

/** A finite number, at least `min` when given (never NaN, Infinity or a string of digits). */
export function finite(min = -Infinity, max = Infinity): Check<number> {
  const range = min === -Infinity ? (max === Infinity ? '' : ` at most ${max}`) : max === Infinity ? ` of at least ${min}` : ` from ${min} to ${max}`;
  return (v, p) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : notA(p, v, `a finite number${range}`));
}

export function list<T>(each: Check<T>, options: { min?: number; max?: number } = {}): Check<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) return notA(p, v, 'a list');
    if (v.length < (options.min ?? 0)) fail(p, `has ${v.length} entries, fewer than ${options.min}`);
    if (v.length > (options.max ?? 100_000)) fail(p, `has ${v.length} entries, more than ${options.max ?? 100_000}`);
    return v.map((x, i) => each(x, at(p, i)));
  };
}

/** An object used as a map: every key checked by `key` (a problem names the key), every value by `each`. */
export function dict<T>(each: Check<T>, key?: { pattern: RegExp; what: string }): Check<Record<string, T>> {
  return (v, p) => {
    const o = object(v, p);
    for (const [k, x] of Object.entries(o)) {
      if (key && !key.pattern.test(k)) fail(at(p, k), `is under the key ${shown(k)}, not ${key.what}`);
      each(x, at(p, k));
    }
    return o as Record<string, T>;
  };
}

/** A pid of a process this machine could run: never 0 (the caller's group), 1 (init) or negative (a group). */
export const PID_MAX = 4_194_304; // the kernel's PID_MAX_LIMIT
export const pid: Check<number> = int(2, PID_MAX, `a pid (a whole number from 2 to ${PID_MAX})`);

/** An absolute path with nothing to resolve (no `.`, `..`, `//` or trailing `/`), no control characters. */
export const absolutePath: Check<string> = (v, p) =>
  typeof v === 'string' && isAbsolute(v) && normalize(v) === v && (v === '/' || !v.endsWith('/')) && !/[\x00-\x1f\x7f]/.test(v) ? v : notA(p, v, 'an absolute path (nothing to resolve, no control characters)');

/** Whether `path` (absolute, normalized) is `root` or below it. */
export function isInside(path: string, root: string): boolean {
  const r = root.endsWith('/') ? root.slice(0, -1) : root;
  return path === r || path.startsWith(`${r}/`);
}

/** An absolute path inside `root` (the lab's state or runtime folder); `what` names the folder. */
export function pathInside(root: string, what: string): Check<string> {
  return (v, p) => {
    const path = absolutePath(v, p);
    return isInside(path, root) ? path : fail(p, `is ${shown(path)}, outside ${what} (${root})`);
  };
}

/** Where `actual` first differs from `expected` (the order of keys aside), or undefined when it does not. */
export function firstDifference(actual: unknown, expected: unknown, pointer: string): { pointer: string; actual: unknown; expected: unknown } | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return { pointer, actual, expected };
    for (let i = 0; i < Math.max(actual.length, expected.length); i++) {
      const d = firstDifference(actual[i], expected[i], at(pointer, i));
      if (d) return d;
    }
    return undefined;
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return { pointer, actual, expected };
    for (const key of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      const d = firstDifference(actual[key], expected[key], at(pointer, key));
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(actual, expected) ? undefined : { pointer, actual, expected };
}

/** A value that must be exactly what overlab derives from the rest of the record (`what` says from what). */
export function sameAs<T>(expected: T, what: string): Check<T> {
  return (v, p) => {
    const d = firstDifference(v, expected, p);
    if (!d) return v as T;
    return fail(d.pointer, d.actual === undefined ? `is missing (${what} has ${shown(d.expected)})` : d.expected === undefined ? `is ${shown(d.actual)}, a field ${what} does not have` : `is ${shown(d.actual)}, not ${shown(d.expected)} (${what})`);
  };
}

/** Fails on a key of `o` that is not among `keys`: a field overlab never writes there. */
export function only(o: Obj, pointer: string, keys: readonly string[]): void {
  const extra = Object.keys(o).find((k) => !keys.includes(k));
  if (extra !== undefined) fail(at(pointer, extra), `is a field overlab does not write here (it writes ${keys.join(', ')})`);
}
