// Loading a lab: read the file, parse it with positions, check it against the schema and the
// topology rules, fill in defaults. Every problem is collected and reported at once.
import { readFile } from 'node:fs/promises';
import { LabFileError, type LabProblem } from '../errors.ts';
import { LabSource } from './source.ts';
import { schemaProblems } from './schema.ts';
import { buildLab } from './validate.ts';
import type { Lab } from './types.ts';

/** Parses and validates lab text (no I/O); throws LabFileError listing every problem found. */
export function parseLab(text: string, file: string): Lab {
  const source = new LabSource(file, text);
  const syntax = source.syntaxProblems();
  if (syntax.length) throw new LabFileError(sortProblems(syntax));
  const parsed = source.toData();
  if ('problem' in parsed) throw new LabFileError([parsed.problem]);
  const data = parsed.data;
  if (data === null || data === undefined) {
    throw new LabFileError([{ file, line: 1, column: 1, message: 'the lab file is empty' }]);
  }
  const structural = schemaProblems(source, data);
  if (structural.length) throw new LabFileError(sortProblems(structural));
  const { lab, problems } = buildLab(source, data as RawLab);
  if (problems.length) throw new LabFileError(sortProblems(problems));
  return lab;
}

export async function loadLab(file: string): Promise<Lab> {
  return parseLab(await readFile(file, 'utf8'), file);
}

function sortProblems(problems: LabProblem[]): LabProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** The shape the schema guarantees, before defaults. */
export interface RawLab {
  name: string;
  description?: string;
  provider?: Lab['provider'];
  box?: string;
  network?: { subnet?: string };
  hosts: {
    name: string;
    address?: string;
    role?: 'kv' | 'docker';
    box?: string;
    cpus?: number;
    memory?: number;
    ssh?: { address?: string; user?: string; port?: number; key?: string; hostKey?: string };
  }[];
  kv?: { type?: Lab['kv']['type']; fallback?: Lab['kv']['type']; host?: string; port?: number };
  engine?: { version?: string; mode?: Lab['engine']['mode']; install?: Lab['engine']['install']; advertisePort?: number };
  networks?: { name: string; subnet: string; gateway?: string; internal?: boolean; encrypted?: boolean; attachable?: boolean }[];
  containers?: {
    name: string;
    host: string;
    image?: string;
    networks: (string | { name: string; aliases?: string[]; address?: string })[];
    aliases?: string[];
    command?: string | string[];
  }[];
  expect?: string[];
}
