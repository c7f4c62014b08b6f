// overlab down: remove everything the lab created; idempotent, --force hunts leftovers.
import { labDown, labNameOf } from '../lifecycle/lab.ts';
import type { DestroyReport } from '../providers/provider.ts';
import type { GlobalOptions } from './main.ts';
import { printJson, say } from './output.ts';

export async function downCommand(ref: string | undefined, opts: GlobalOptions & { force?: boolean }, signal: AbortSignal): Promise<number> {
  const lab = await labNameOf(ref ?? opts.lab);
  const started = Date.now();
  const report = await labDown(lab, { force: !!opts.force, signal });
  const seconds = (Date.now() - started) / 1000;
  if (opts.json) printJson({ ok: true, lab, seconds, ...report });
  else if (!opts.quiet) {
    say(
      report.wasUp || report.namespaces.length
        ? `lab ${lab} is down (${seconds.toFixed(1)} s): ${destroySummary(report)}`
        : `lab ${lab} is not up; nothing to do${opts.force ? ' (no leftovers found)' : ''}`,
    );
  }
  return 0;
}

/** "2 VMs destroyed, 6 processes stopped, 4 namespaces and 1 folder removed": each count of what was named. */
export function destroySummary(r: DestroyReport): string {
  const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;
  const parts = [
    ...(r.vms.length ? [`${n(r.vms.length, 'VM', 'VMs')} destroyed`] : []),
    ...(r.containers.length ? [`${n(r.containers.length, 'container', 'containers')} removed`] : []),
    `${n(r.processes.length, 'process', 'processes')} stopped`,
    `${n(r.namespaces.length, 'namespace', 'namespaces')} and ${n(r.paths.length, 'path', 'paths')} removed`,
  ];
  return parts.join(', ');
}
