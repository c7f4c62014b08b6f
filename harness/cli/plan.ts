// overlab plan: the plan a lab file gives, as JSON (what providers and specs consume).
import { openPlan } from '../lifecycle/lab.ts';
import type { GlobalOptions } from './options.ts';
import { printJson } from './output.ts';

export async function planCommand(ref: string | undefined, opts: GlobalOptions): Promise<number> {
  printJson(await openPlan(ref ?? opts.lab));
  return 0;
}
