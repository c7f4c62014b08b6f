// overlab graph: the lab's topology as SVG (Graphviz), DOT or Mermaid, before or after `up`.
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { GRAPH_FORMATS, labGraph, type GraphFormat } from '../lifecycle/graph.ts';
import { openLabPlan } from '../lifecycle/lab.ts';
import type { GlobalOptions } from './options.ts';
import { say } from './output.ts';

export async function graphCommand(ref: string | undefined, opts: GlobalOptions & { format?: string; out?: string; live?: boolean }, signal: AbortSignal): Promise<number> {
  const format = (opts.format ?? 'svg') as GraphFormat;
  if (!GRAPH_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${GRAPH_FORMATS.join(', ')}; got "${opts.format}"`);
  const plan = await openLabPlan(ref ?? opts.lab);
  const text = await labGraph(plan, format, { live: opts.live !== false, signal });
  if (opts.out) {
    writeFileSync(opts.out, text);
    if (!opts.quiet) say(opts.out);
  } else process.stdout.write(text);
  return 0;
}
