// overlab down: remove everything the lab created; idempotent, --force hunts leftovers.
import { labDown, resolveLabFile } from '../lifecycle/lab.ts';
import { loadLab } from '../lab/load.ts';
import type { GlobalOptions } from './main.ts';
import { printJson, say } from './output.ts';

/** The lab's name: from its file when it loads, else the reference itself (a broken file must not block down). */
async function labName(ref: string | undefined): Promise<string> {
  try {
    return (await loadLab(resolveLabFile(ref))).name;
  } catch (e) {
    if (ref && /^[a-z][a-z0-9-]*$/.test(ref)) return ref;
    throw e;
  }
}

export async function downCommand(ref: string | undefined, opts: GlobalOptions & { force?: boolean }, signal: AbortSignal): Promise<number> {
  const lab = await labName(ref ?? opts.lab);
  const started = Date.now();
  const report = await labDown(lab, { force: !!opts.force, ...(opts.provider ? { provider: opts.provider } : {}), signal });
  const seconds = (Date.now() - started) / 1000;
  if (opts.json) printJson({ ok: true, lab, seconds, ...report });
  else if (!opts.quiet) {
    say(
      report.wasUp || report.namespaces.length
        ? `lab ${lab} is down (${seconds.toFixed(1)} s): ${report.processes} processes stopped, ${report.namespaces.length} namespaces and ${report.paths.length} folders removed`
        : `lab ${lab} is not up; nothing to do${opts.force ? ' (no leftovers found)' : ''}`,
    );
  }
  return 0;
}
