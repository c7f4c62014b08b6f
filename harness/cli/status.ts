// overlab status: a table (or --json) of the lab's hosts, engines, KV store, networks, containers.
import { labStatus, openPlan } from '../lifecycle/lab.ts';
import type { GlobalOptions } from './main.ts';
import { printJson, say } from './output.ts';

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function statusCommand(ref: string | undefined, opts: GlobalOptions, signal: AbortSignal): Promise<number> {
  const s = await labStatus(await openPlan(ref ?? opts.lab), signal, opts.provider ? { provider: opts.provider } : {});
  if (opts.json) {
    printJson(s);
    return 0;
  }
  say(`lab ${s.lab} (${s.file}): ${s.phase}${s.provider ? `, provider ${s.provider}` : ''}, mode ${s.mode}`);
  if (s.kv) say(`kv store: ${s.kv.type} at ${s.kv.clusterStore}${s.kv.note ? ` (${s.kv.note})` : ''}`);
  for (const n of s.notes) say(`note: ${n}`);
  say('');
  say(table([['HOST', 'ADDRESS', 'ROLE', 'STATE', 'ENGINE'], ...s.hosts.map((h) => [h.name, h.address, h.role, h.state ?? '-', h.engine ?? h.error ?? '-'])]));
  if (s.networks.length) {
    say('');
    say(table([['NETWORK', 'SUBNET', 'DRIVER', 'SCOPE'], ...s.networks.map((n) => [n.name, n.subnet, n.driver ?? '-', n.scope ?? '-'])]));
  }
  if (s.containers.length) {
    say('');
    say(
      table([
        ['CONTAINER', 'HOST', 'STATE', 'ADDRESSES'],
        ...s.containers.map((c) => [c.name, c.host, c.state ?? '-', Object.entries(c.addresses).map(([n, a]) => `${n}=${a}`).join(' ') || '-']),
      ]),
    );
  }
  return 0;
}
