// overlab handout: per lab, the lines a student types, as Markdown files and one printable
// HTML page (with each lab's topology when Graphviz is there).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../errors.ts';
import { labGraph } from '../lifecycle/graph.ts';
import { openLabPlan } from '../lifecycle/lab.ts';
import { labsUp } from '../lifecycle/room.ts';
import type { Plan } from '../lab/types.ts';
import { handoutHtml, handoutMarkdown, labHandout, type HandedTo } from '../render/handout.ts';
import { describeOwner } from '../state/owner.ts';
import { labStateDir, stateRoot } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say, warn } from './output.ts';
import { count } from '../plural.ts';

export async function handoutCommand(ref: string | undefined, opts: GlobalOptions & { all?: boolean; out?: string }, signal: AbortSignal): Promise<number> {
  if (opts.all && (ref ?? opts.lab)) throw new UsageError('--all writes a handout for every lab that is up: leave out the lab');
  const plans: Plan[] = opts.all ? labsUp().map((l) => l.plan) : [await openLabPlan(ref ?? opts.lab)];
  const handedTo = (p: Plan): HandedTo | undefined => {
    const owner = new StateStore(labStateDir(p.lab)).read()?.owner;
    return owner && { owner: describeOwner(owner), project: process.cwd(), home: stateRoot() };
  };
  if (!plans.length) throw new UsageError('no lab is up: nothing to hand out (overlab up --copies N first)');
  const dir = opts.out ?? join(stateRoot(), 'handouts');
  mkdirSync(dir, { recursive: true });
  const handouts = plans.map((p) => labHandout(p, undefined, handedTo(p)));
  const pictures: Record<string, string> = {};
  for (const p of plans) {
    try {
      pictures[p.lab] = await labGraph(p, 'svg', { live: false, signal });
    } catch (e) {
      if (signal.aborted) throw e;
      warn(`note: no picture of ${p.lab}: ${(e as Error).message}`);
      break; // The same reason holds for every lab (no Graphviz).
    }
  }
  const files = handouts.map((h) => {
    const file = join(dir, `${h.lab}.md`);
    writeFileSync(file, handoutMarkdown(h));
    return file;
  });
  const page = join(dir, opts.all ? 'handouts.html' : `${plans[0]!.lab}.html`);
  writeFileSync(page, handoutHtml(handouts, pictures));
  if (opts.json) printJson({ ok: true, markdown: files, html: page });
  else if (!opts.quiet) say(`${count(files.length, 'handout')}: ${relative(process.cwd(), dir) || '.'}/ (${page.split('/').pop()} prints them all)`);
  return 0;
}
