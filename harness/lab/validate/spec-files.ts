// specs.files: the lab's own spec files, as names or globs relative to the lab file's folder.
// Here only their grammar and where each is written; load.ts checks that each names a file.
import { keyPathProblem } from '../grammar.ts';
import type { RawLab } from '../raw-lab.ts';
import type { LabSource } from '../source.ts';
import type { SpecFileRef } from '../types.ts';
import { checkGrammar, type At } from './problems.ts';

export function readSpecFiles(src: LabSource, raw: RawLab, at: At): SpecFileRef[] {
  return (raw.specs?.files ?? []).map((pattern, i) => {
    checkGrammar(at, ['specs', 'files', i], `specs.files[${i}]`, pattern, keyPathProblem);
    return { pattern, pos: src.pos(['specs', 'files', i]) };
  });
}
