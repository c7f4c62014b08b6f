// How the section rules report: each takes an `at` that records a message at a path of the lab
// file (located file:line:column by the source), so a rule is a pure function of its input.
import type { LabProblem } from '../../errors.ts';
import { type LabSource, type Path } from '../source.ts';
import { quote } from '../text.ts';

export type At = (path: Path, message: string) => void;

/** A list of problems and the `at` that adds to it, located in `src`. */
export function collector(src: LabSource): { problems: LabProblem[]; at: At } {
  const problems: LabProblem[] = [];
  return { problems, at: (path, message) => void problems.push(src.problem(path, message)) };
}

/** Checks a free string against its grammar (grammar.ts): reports `what "value" <problem>`. */
export function checkGrammar(at: At, path: Path, what: string, value: string | undefined, check: (v: string) => string | undefined): void {
  if (value === undefined) return;
  const problem = check(value);
  if (problem) at(path, `${what} ${quote(value)} ${problem}`);
}
