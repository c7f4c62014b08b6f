// overlab status: a table (or --json) of the lab's hosts, engines, KV store, networks, containers.
import { openLabPlan } from '../lifecycle/lab.ts';
import { labStatus } from '../lifecycle/status.ts';
import type { LabSummary } from '../lifecycle/room.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say } from './output.ts';
import { currentUid } from '../errors.ts';
import { describeFault } from '../state/faults.ts';
import type { UpTiming } from '../state/store.ts';

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export async function statusCommand(ref: string | undefined, opts: GlobalOptions & { all?: boolean }, signal: AbortSignal): Promise<number> {
  if (opts.all) return roomStatus(!!opts.json, signal);
  const s = await labStatus(await openLabPlan(ref ?? opts.lab), signal, opts.provider ? { provider: opts.provider } : {});
  if (opts.json) {
    printJson(s);
    return 0;
  }
  say(`lab ${s.lab} (${s.file}): ${s.phase}${s.provider ? `, provider ${s.provider}` : ''}, mode ${s.mode}`);
  if (s.where) say(s.where);
  if (s.kv) say(`kv store: ${s.kv.type} at ${s.kv.clusterStore}${s.kv.note ? ` (${s.kv.note})` : ''}`);
  for (const n of s.notes) say(`note: ${n}`);
  for (const f of s.faults) say(`fault: ${describeFault(f)} since ${f.since} (\`overlab fault heal\` undoes it)`);
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
  const times = timingLines(s.timings);
  if (times.length) {
    say('');
    say('up took, in seconds:');
    for (const l of times) say(`  ${l}`);
  }
  return 0;
}

/**
 * `up`'s time per host, one line each: every step in order, a provider's phases (vagrant up's)
 * in brackets after their step: `node1: vagrant up 250.1 (disk 1.2, boot until the DHCP lease
 * 40.2, ...), Start the engines 26.0`. Tasks of no host (the lab's own) on a line of their own.
 */
export function timingLines(timings: readonly UpTiming[]): string[] {
  const seconds = (ms: number) => (ms / 1000).toFixed(1);
  const hosts = [...new Set(timings.map((t) => t.host ?? '(lab)'))];
  return hosts.map((host) => {
    const mine = timings.filter((t) => (t.host ?? '(lab)') === host);
    const steps = [...new Set(mine.map((t) => t.step))];
    const parts = steps.map((step) => {
      const whole = mine.filter((t) => t.step === step && t.phase === undefined).reduce((a, t) => a + t.ms, 0);
      const phases = mine.filter((t) => t.step === step && t.phase !== undefined);
      const total = whole || phases.reduce((a, t) => a + t.ms, 0);
      return `${step} ${seconds(total)}${phases.length ? ` (${phases.map((p) => `${p.phase} ${seconds(p.ms)}`).join(', ')})` : ''}`;
    });
    return `${host}: ${parts.join(', ')}`;
  });
}

/** `status --all`: every lab on this machine, one line each. */
async function roomStatus(json: boolean, signal: AbortSignal): Promise<number> {
  // Loaded here: the room reads lab files and draws graphs, which one lab's status never does.
  const { labSummaries } = await import('../lifecycle/room.ts');
  const labs = await labSummaries(signal);
  if (json) {
    printJson({ labs });
    return 0;
  }
  if (!labs.length) {
    say(currentUid() === 0 ? 'no labs on this machine (overlab up, or overlab up --copies N)' : 'no labs on this machine that you may see (labs handed to other users are not listed)');
    return 0;
  }
  // OWNER only in a room whose labs are handed to users.
  const owners = labs.some((l) => l.owner);
  say(
    table([
      ['LAB', 'PROVIDER', 'STATE', 'HOSTS UP', 'CONTAINERS', 'LAST TEST', 'AGE', 'MEMORY', ...(owners ? ['OWNER'] : [])],
      ...labs.map((l) => [
        l.lab, l.provider, l.phase, `${l.hosts.running}/${l.hosts.total}`, String(l.containers), lastTest(l), age(l.ageSeconds), l.memoryMiB === undefined ? '-' : `${l.memoryMiB} MiB`,
        ...(owners ? [l.owner ?? '-'] : []),
      ]),
    ]),
  );
  return 0;
}

function lastTest(l: LabSummary): string {
  if (!l.lastTest) return 'never';
  const t = l.lastTest;
  return `${t.failed ? `${t.failed} failed` : `${t.passed}/${t.tests} passed`} ${age(Math.round((Date.now() - Date.parse(t.at)) / 1000))} ago`;
}

/** "42 s", "7 min", "3 h", "2 d". */
export function age(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
