// overlab render: the lab's Vagrantfile in its state folder, with VirtualBox range warnings.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openPlan } from '../lifecycle/lab.ts';
import { renderVagrantfile } from '../render/vagrantfile.ts';
import { virtualboxRangeWarnings } from '../render/virtualbox.ts';
import { labStateDir } from '../state/paths.ts';
import { readTextIfThere } from '../system/files.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say, warn } from './output.ts';

export async function renderCommand(ref: string | undefined, opts: GlobalOptions & { vboxNetworksConf: string }): Promise<number> {
  const plan = await openPlan(ref ?? opts.lab);
  const dir = labStateDir(plan.lab);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'Vagrantfile');
  writeFileSync(path, renderVagrantfile(plan, { source: relative(process.cwd(), plan.file) }));
  const warnings = virtualboxRangeWarnings(plan, readTextIfThere(opts.vboxNetworksConf));
  if (opts.json) printJson({ ok: true, lab: plan.lab, vagrantfile: path, warnings });
  else {
    say(path);
    for (const w of warnings) warn(`warning: ${w}`);
  }
  return 0;
}
