// Loading a lab: read the file, parse it with positions, check it against the schema and the
// topology rules, fill in defaults. Every problem is collected and reported at once.
import { constants, type Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LabFileError, LabNotFoundError, type LabProblem } from '../errors.ts';
import { LabSource } from './source.ts';
import { labSchema, schemaProblems } from './schema.ts';
import { resolveSpecPattern } from './spec-files.ts';
import { buildLab } from './validate.ts';
import type { RawLab } from './raw-lab.ts';
import type { Lab } from './types.ts';
import { count } from '../plural.ts';

const TOP_LEVEL_KEYS = new Set(Object.keys((labSchema['properties'] ?? {}) as Record<string, unknown>));

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses and validates lab text; throws LabFileError listing every problem found. No I/O, but
 * with `specFiles`, which lists the lab file's folder to check that each of `specs.files`
 * names a spec file there (loadLab does; a lab text shown in the docs has no folder).
 */
export function parseLab(text: string, file: string, options: { specFiles?: boolean } = {}): Lab {
  const source = new LabSource(file, text);
  const syntax = source.syntaxProblems();
  if (syntax.length) throw new LabFileError(sortProblems(syntax));
  const parsed = source.toData();
  if ('problem' in parsed) throw new LabFileError([parsed.problem]);
  const data = parsed.data;
  if (data === null || data === undefined) {
    throw new LabFileError([{ file, line: 1, column: 1, message: 'the lab file is empty' }]);
  }
  // A mapping with not one lab key is some other file (a credentials file parses as YAML too):
  // said in one line, quoting none of it.
  if (isPlainObject(data) && Object.keys(data).length && !Object.keys(data).some((k) => TOP_LEVEL_KEYS.has(k))) {
    const n = Object.keys(data).length;
    throw new LabFileError([{ file, line: 1, column: 1, message: `not a lab file: none of its ${count(n, 'top-level key')} is a lab key (a lab file has at least name and hosts)` }]);
  }
  const structural = schemaProblems(source, data);
  if (structural.length) throw new LabFileError(sortProblems(structural));
  const { lab, problems } = buildLab(source, data as RawLab);
  if (options.specFiles) {
    lab.specs.files.forEach(({ pattern }, i) => {
      const { problem } = resolveSpecPattern(pattern, dirname(resolve(file)));
      if (problem) problems.push(source.problem(['specs', 'files', i], `specs.files[${i}] ${problem}`));
    });
  }
  if (problems.length) throw new LabFileError(sortProblems(problems));
  return lab;
}

export async function loadLab(file: string): Promise<Lab> {
  return parseLab(await readLabText(file), file, { specFiles: true });
}

/** The largest lab file overlab reads: a lab of a thousand containers is a tenth of it. */
export const MAX_LAB_BYTES = 1024 * 1024;

/**
 * The text of a lab file, refused in one line when it cannot be one: missing, unreadable or not
 * a regular file (a directory, a FIFO, a device) is LabNotFoundError (exit 66); bigger than
 * MAX_LAB_BYTES, or not UTF-8 text, is LabFileError (exit 65). The file is checked by stat
 * before it is opened, opened non-blocking (a FIFO swapped in meanwhile never blocks) and
 * checked again by fstat, and at most MAX_LAB_BYTES + 1 bytes are ever read.
 */
export async function readLabText(file: string): Promise<string> {
  const problem = (message: string) => new LabFileError([{ file, line: 1, column: 1, message }]);
  checkRegular(file, await stat(file).catch((e: unknown) => cannotRead(file, e)));
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: unknown) => cannotRead(file, e));
  try {
    const st = await handle.stat();
    checkRegular(file, st);
    if (st.size > MAX_LAB_BYTES) throw problem(`the file is ${st.size} bytes; ${LIMIT}`);
    const buffer = Buffer.alloc(MAX_LAB_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_LAB_BYTES) throw problem(`the file is more than ${MAX_LAB_BYTES} bytes; ${LIMIT}`);
    const bytes = buffer.subarray(0, length);
    if (bytes.includes(0)) throw problem('not a lab file: it holds binary data (a NUL byte); a lab file is YAML text');
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw problem('not a lab file: it is not UTF-8 text; a lab file is YAML text');
    }
  } finally {
    await handle.close();
  }
}

const LIMIT = `a lab file is at most 1 MiB (${MAX_LAB_BYTES} bytes)`;

function checkRegular(file: string, st: Stats): void {
  if (st.isFile()) return;
  const what = st.isDirectory()
    ? 'a directory'
    : st.isFIFO()
      ? 'a FIFO'
      : st.isCharacterDevice()
        ? 'a character device'
        : st.isBlockDevice()
          ? 'a block device'
          : st.isSocket()
            ? 'a socket'
            : 'not a regular file';
  throw new LabNotFoundError(`${file} is ${what}, not a lab file`, { hint: 'Pass --lab FILE (a YAML file) or a name from labs/.' });
}

function cannotRead(file: string, e: unknown): never {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ELOOP' ? 'too many symbolic links' : code === 'ENOTDIR' ? 'a part of the path is not a directory' : (code ?? 'unreadable');
  throw new LabNotFoundError(`cannot read lab file ${file}: ${why}`, { hint: 'Pass --lab FILE (a YAML file) or a name from labs/.' });
}

function sortProblems(problems: LabProblem[]): LabProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}
