// Structural checks of a lab file against labs/lab.schema.json (the same schema editors use),
// with ajv's errors turned into located, human messages.
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import type { LabProblem } from '../errors.ts';
import { engineFlagProblem } from './engine-flags.ts';
import { formatPath, type LabSource, type Path } from './source.ts';
import { didYouMean, quote } from './text.ts';
import { count } from '../plural.ts';
import { packagePath } from '../system/package-root.ts';

export const SCHEMA_PATH = packagePath('labs', 'lab.schema.json');
export const labSchema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
const validateSchema = ajv.compile(labSchema);

const FACT_HELP = 'write "A can reach B", "A cannot reach B", "A resolves B" or "A cannot resolve B"';
const NAME_HELP = 'use lower-case letters, digits and dashes, starting with a letter';
const HOST_KEY_HELP = 'write the fingerprint as `ssh-keygen -lf` prints it: SHA256: and 43 base64 characters';

export function schemaProblems(source: LabSource, data: unknown): LabProblem[] {
  if (validateSchema(data)) return [];
  const errors = resolveOneOf(validateSchema.errors ?? [], data);
  const problems: LabProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const p = describe(source, e, data);
    const key = `${p.line}:${p.column}:${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(p);
    }
  }
  return problems;
}

function toPath(instancePath: string): Path {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * A value as a message shows it: strings quoted, escaped and cut short (see quote()); the
 * document itself only by its type, so a file that is not a lab (a secrets file, a password
 * file) never has its text echoed back.
 */
function show(v: unknown, path: Path = ['value']): string {
  const t = jsonType(v);
  if (t === 'array') return 'a list';
  if (t === 'object') return 'a mapping';
  if (t === 'null') return 'empty';
  if (path.length === 0) return t === 'string' ? 'a string (a lab file is a mapping that starts with name: and hosts:)' : `${article(t)}`;
  if (typeof v === 'number' && !Number.isFinite(v)) return `the number ${Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf'}`;
  return `${t === 'string' ? 'the string' : 'the ' + t} ${t === 'string' ? quote(v) : JSON.stringify(v)}`;
}

function typeMatches(schemaType: string, v: unknown): boolean {
  const t = jsonType(v);
  return t === schemaType || (schemaType === 'number' && t === 'integer');
}

/**
 * A oneOf failure reports every branch's errors. Keep only the branch whose type matches the
 * value (so `{name: x, alias: []}` reports the unknown key), or one error naming the choices.
 */
function resolveOneOf(errors: ErrorObject[], data: unknown): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  let out = errors;
  for (const o of oneOfs) {
    const branches = (o.schema as { type?: string }[]) ?? [];
    const value = valueAt(data, toPath(o.instancePath));
    const idx = branches.findIndex((b) => b.type !== undefined && typeMatches(b.type, value));
    const prefix = `${o.schemaPath}/`;
    // schemaPath is the same for every list item, so also match the item by instancePath.
    const within = (e: ErrorObject) => e.instancePath === o.instancePath || e.instancePath.startsWith(`${o.instancePath}/`);
    out = out.filter((e) => {
      if (e === o) return idx < 0;
      if (!e.schemaPath.startsWith(prefix) || !within(e)) return true;
      return idx >= 0 && e.schemaPath.startsWith(`${prefix}${idx}/`);
    });
  }
  return out;
}

function valueAt(data: unknown, path: Path): unknown {
  let v: unknown = data;
  for (const k of path) v = (v as Record<string | number, unknown> | undefined)?.[k];
  return v;
}

/** engine.flags[N]: an item of the engine's extra dockerd flags. */
function isFlagItem(path: Path): boolean {
  return path.length === 3 && path[0] === 'engine' && path[1] === 'flags' && typeof path[2] === 'number';
}

function describe(source: LabSource, e: ErrorObject, data: unknown): LabProblem {
  const path = toPath(e.instancePath);
  const where = path.length ? formatPath(path) : 'the lab file';
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      const inside = path.length ? ` in ${where}` : '';
      return source.keyProblem(path, key, `unknown key ${quote(key)}${inside}${didYouMean(key, allowed)}`);
    }
    case 'required': {
      const key = (e.params as { missingProperty: string }).missingProperty;
      return source.problem(path, `${where} is missing the required key "${key}"`);
    }
    case 'type': {
      const expected = (e.params as { type: string }).type;
      // YAML reads 20.10 as the number 20.1 and yes as a string only in quotes; say how to write it.
      const written = source.scalarSource(path);
      const quoteIt = expected === 'string' && written && (typeof e.data === 'number' || typeof e.data === 'boolean') ? `; write it in quotes: ${quote(written)}` : '';
      return source.problem(path, `${where} must be ${article(expected)}, not ${show(e.data, path)}${quoteIt}`);
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      return source.problem(
        path,
        `${where} must be one of ${allowed.join(', ')}, not ${show(e.data, path)}${didYouMean(String(e.data), allowed).replace(/ \(known.*$/, '')}`,
      );
    }
    case 'pattern': {
      const pattern = (e.params as { pattern: string }).pattern;
      const length = /\{(\d+),(\d+)\}\$$/.exec(pattern);
      const [min, max] = length ? [Number(length[1]) + 1, Number(length[2]) + 1] : [0, 0];
      const limits = !length ? '' : min === 1 ? `, at most ${max} characters` : `, ${min} to ${max} characters`;
      if (isFlagItem(path)) {
        // The item before it may be the `--name` of a two-item `--name VALUE`.
        const previous = valueAt(data, [...path.slice(0, -1), (path[path.length - 1] as number) - 1]);
        return source.problem(path, `${where} ${quote(e.data)} ${engineFlagProblem(String(e.data), typeof previous === 'string' ? previous : undefined) ?? 'is not valid'}`);
      }
      const help = path[0] === 'expect' ? FACT_HELP : path[path.length - 1] === 'hostKey' ? HOST_KEY_HELP : `${NAME_HELP}${limits}`;
      return source.problem(path, `${where} ${quote(e.data)} is not valid: ${help}`);
    }
    case 'minimum':
      return source.problem(path, `${where} must be at least ${(e.params as { limit: number }).limit}, not ${show(e.data, path)}`);
    case 'maximum':
      return source.problem(path, `${where} must be at most ${(e.params as { limit: number }).limit}, not ${show(e.data, path)}`);
    case 'minItems': {
      const limit = (e.params as { limit: number }).limit;
      return source.problem(path, `${where} must list at least ${count(limit, 'item')}, not an empty list`);
    }
    case 'oneOf': {
      const types = ((e.schema as { type?: string }[]) ?? []).map((b) => article(b.type ?? 'value'));
      return source.problem(path, `${where} must be ${types.join(' or ')}, not ${show(e.data, path)}`);
    }
    default:
      return source.problem(path, `${where} ${e.message ?? 'is not valid'}`);
  }
}

function article(type: string): string {
  const words: Record<string, string> = {
    string: 'a string',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a mapping',
  };
  return words[type] ?? type;
}
