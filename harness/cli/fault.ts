// overlab fault VERB [HOST]: put a fault in place on a live lab, or heal it. The verbs are
// harness/lifecycle/fault.ts; this parses flags and prints.
import { UsageError } from '../errors.ts';
import { labFault, type FaultAction } from '../lifecycle/fault.ts';
import { openLabPlan } from '../lifecycle/lab.ts';
import { describeFault } from '../state/faults.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say } from './output.ts';

export const FAULT_VERBS = ['partition', 'heal', 'kv-down', 'kv-up', 'restart-engine', 'kill-engine', 'latency', 'rate'] as const;
export type FaultVerb = (typeof FAULT_VERBS)[number];

export interface FaultOptions extends GlobalOptions {
  from?: string;
  ms?: number;
  loss?: number;
  mbit?: number;
}

/** The flags as a FaultAction; a missing host or figure is a usage error naming it. */
export function faultAction(verb: FaultVerb, host: string | undefined, opts: FaultOptions): FaultAction {
  const need = (what: string): string => {
    if (!host) throw new UsageError(`overlab fault ${verb} needs a ${what}`, { hint: `overlab fault ${verb} HOST` });
    return host;
  };
  const none = () => {
    if (host) throw new UsageError(`overlab fault ${verb} takes no host (the lab's KV host is the one)`);
  };
  switch (verb) {
    case 'partition':
      return { verb, host: need('host'), ...(opts.from ? { from: opts.from } : {}) };
    case 'heal':
      return { verb, ...(host ? { host } : {}) };
    case 'kv-down':
    case 'kv-up':
      none();
      return { verb };
    case 'restart-engine':
    case 'kill-engine':
      return { verb, host: need('docker host') };
    case 'latency':
      if (opts.ms === undefined) throw new UsageError('overlab fault latency needs --ms N');
      return { verb, host: need('host'), ms: opts.ms, ...(opts.loss !== undefined ? { loss: opts.loss } : {}) };
    case 'rate':
      if (opts.mbit === undefined) throw new UsageError('overlab fault rate needs --mbit N');
      return { verb, host: need('host'), mbit: opts.mbit };
  }
}

export async function faultCommand(verb: FaultVerb, host: string | undefined, opts: FaultOptions, signal: AbortSignal): Promise<number> {
  const action = faultAction(verb, host, opts);
  const r = await labFault(await openLabPlan(opts.lab), action, signal);
  if (opts.json) {
    printJson({ ok: true, ...r });
    return 0;
  }
  if (opts.quiet) return 0;
  const secs = `${(r.ms / 1000).toFixed(1)} s`;
  if (r.applied) say(`lab ${r.lab}: ${describeFault(r.applied)} (${secs})`);
  if (r.engine) say(`lab ${r.lab}: the engine on ${action.verb === 'restart-engine' ? action.host : ''} restarted and answers again (Docker ${r.engine}, ${secs})`);
  if (action.verb === 'heal' || action.verb === 'kv-up') {
    say(r.healed.length ? `lab ${r.lab}: healed ${r.healed.map(describeFault).join('; ')} (${secs})` : `lab ${r.lab}: nothing to heal${action.verb === 'kv-up' ? '; the KV store runs' : ''}`);
  }
  if (r.faults.length) say(`still in place: ${r.faults.map(describeFault).join('; ')}`);
  return 0;
}
