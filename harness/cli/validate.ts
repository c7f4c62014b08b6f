// overlab validate: every problem of a lab file, as file:line:column.
import { LabFileError, formatProblem } from '../errors.ts';
import { loadLab } from '../lab/load.ts';
import { count } from '../plural.ts';
import { resolveLabFile } from '../lifecycle/lab.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say, warn } from './output.ts';

export async function validateCommand(ref: string | undefined, opts: GlobalOptions): Promise<number> {
  const file = resolveLabFile(ref ?? opts.lab);
  try {
    const lab = await loadLab(file);
    if (opts.json) printJson({ ok: true, file, lab: lab.name, problems: [] });
    else say(`${file}: valid lab "${lab.name}" (${count(lab.hosts.length, 'host')}, ${count(lab.networks.length, 'network')}, ${count(lab.containers.length, 'container')}${lab.services.length ? `, ${count(lab.services.length, 'service')}` : ''})`);
    return 0;
  } catch (e) {
    if (!(e instanceof LabFileError)) throw e;
    if (opts.json) printJson({ ok: false, file, problems: e.problems });
    else {
      for (const p of e.problems) warn(formatProblem(p));
      warn(count(e.problems.length, 'problem'));
    }
    return e.exitCode;
  }
}
