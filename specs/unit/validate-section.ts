// Helpers for the specs of the lab rules section by section (harness/lab/validate/): a lab
// text parsed with positions, given to one section's rules, and the problems they located.
import { LabSource } from '../../harness/lab/source.ts';
import type { RawLab } from '../../harness/lab/raw-lab.ts';
import { collector, type At } from '../../harness/lab/validate/problems.ts';
import type { LabProblem } from '../../harness/errors.ts';

export type Section = { src: LabSource; raw: RawLab; at: At; problems: LabProblem[]; located: () => string[] };

/** A lab text (schema-valid in shape: the rules assume it) ready for one section's rules. */
export function section(text: string): Section {
  const src = new LabSource('lab.yaml', text);
  const parsed = src.toData();
  if ('problem' in parsed) throw new Error(`not YAML: ${parsed.problem.message}`);
  const { problems, at } = collector(src);
  return { src, raw: parsed.data as RawLab, at, problems, located: () => problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`) };
}
