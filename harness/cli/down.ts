// overlab down: remove everything the lab created; idempotent, --force hunts leftovers.
import { UsageError } from '../errors.ts';
import { labDown } from '../lifecycle/down.ts';
import { parseLibvirtMode } from '../providers/index.ts';
import { labNameOf } from '../lifecycle/lab.ts';
import { downAll } from '../lifecycle/room.ts';
import { count } from '../plural.ts';
import type { DestroyReport } from '../providers/provider.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say, warn } from './output.ts';

export async function downCommand(ref: string | undefined, opts: GlobalOptions & { force?: boolean; all?: boolean; libvirt?: string }, signal: AbortSignal): Promise<number> {
  if (opts.all) {
    if (ref ?? opts.lab) throw new UsageError('--all takes every lab down: leave out the lab');
    const results = await downAll({ force: !!opts.force, signal });
    const failed = results.filter((r) => r.error);
    if (opts.json) printJson({ ok: failed.length === 0, labs: results });
    else {
      if (!opts.quiet) for (const r of results) if (r.report) say(`lab ${r.lab} is down: ${destroySummary(r.report)}`);
      for (const r of failed) warn(`lab ${r.lab} could not be taken down: ${r.error}`);
      if (!opts.quiet && !results.length) say('no labs on this machine; nothing to do');
    }
    return failed.length ? 70 : 0;
  }
  const lab = await labNameOf(ref ?? opts.lab);
  const started = Date.now();
  // A server's libvirt (--libvirt qemu+ssh://...) is where `--force` looks for what a lab whose state is gone left.
  const libvirt = parseLibvirtMode(opts.libvirt ?? process.env['OVERLAB_LIBVIRT']);
  const report = await labDown(lab, { force: !!opts.force, ...(opts.provider ? { provider: opts.provider } : {}), ...(libvirt ? { providerOptions: { libvirt } } : {}), signal });
  const seconds = (Date.now() - started) / 1000;
  if (opts.json) printJson({ ok: true, lab, seconds, ...report });
  else if (!opts.quiet) {
    say(
      report.wasUp || report.namespaces.length || report.processes.length || report.paths.length
        ? `lab ${lab} is down (${seconds.toFixed(1)} s): ${destroySummary(report)}`
        : `lab ${lab} is not up; nothing to do${opts.force ? ' (no leftovers found)' : ''}`,
    );
  }
  return 0;
}

/** "2 VMs destroyed, 6 processes stopped, 4 namespaces and 1 folder removed": each count of what was named. */
export function destroySummary(r: DestroyReport): string {
  const parts = [
    ...(r.vms.length ? [`${count(r.vms.length, 'VM')} destroyed`] : []),
    ...(r.containers.length ? [`${count(r.containers.length, 'container')} removed`] : []),
    `${count(r.processes.length, 'process')} stopped`,
    `${count(r.namespaces.length, 'namespace')} and ${count(r.paths.length, 'path')} removed`,
  ];
  return parts.join(', ');
}
