// Helpers for the lab unit specs: lab files written inline, and the problems a broken one yields.
import { expect } from 'chai';
import { LabFileError, type LabProblem } from '../../harness/errors.ts';
import { parseLab } from '../../harness/lab/load.ts';

/**
 * A lab file written inline: the common indentation and the first newline are removed, so
 * line 1 is the first line under the backtick and positions can be read off the test.
 */
export function labText(strings: TemplateStringsArray, ...values: unknown[]): string {
  const lines = String.raw(strings, ...values).replace(/^\n/, '').replace(/\n[ \t]*$/, '\n').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** Every problem parseLab reports for a lab text that must be invalid. */
export function problemsOf(text: string): LabProblem[] {
  try {
    parseLab(text, 'lab.yaml');
  } catch (e) {
    if (e instanceof LabFileError) return e.problems;
    throw e;
  }
  return expect.fail(`expected a LabFileError for:\n${text}`);
}

/** Asserts the lab text has exactly one problem, at line:column, whose message contains `text`. */
export function expectOnlyProblem(labSource: string, line: number, column: number, ...texts: string[]): LabProblem {
  const problems = problemsOf(labSource);
  expect(problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).to.have.lengthOf(1);
  return expectAt(problems[0]!, line, column, texts);
}

/** Asserts one of the problems contains every one of `texts`, and sits at line:column. */
export function expectProblem(labSource: string, line: number, column: number, ...texts: string[]): LabProblem {
  const problems = problemsOf(labSource);
  const p = problems.find((x) => x.message.includes(texts[0]!));
  expect(p, `no problem mentions ${JSON.stringify(texts[0])}; got:\n${problems.map((x) => x.message).join('\n')}`).to.exist;
  return expectAt(p!, line, column, texts);
}

function expectAt(p: LabProblem, line: number, column: number, texts: string[]): LabProblem {
  for (const t of texts) expect(p.message).to.include(t);
  expect({ file: p.file, line: p.line, column: p.column }, p.message).to.deep.equal({ file: 'lab.yaml', line, column });
  return p;
}
