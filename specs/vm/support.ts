// What the VM specs share.
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { timingLines } from '../../harness/cli/status.ts';
import type { UpTiming } from '../../harness/state/lab-state.ts';
import type { Scratch } from '../integration/support/labs.ts';

/** The labs the VM specs bring up, each under a name of its own. */
export const VM_LABS = ['vm-leftovers', 'vm-services', 'vm-tutorial'] as const;

/**
 * What a killed earlier run of any VM spec left, found by the labs' prefixes with no state
 * file (a CI machine that keeps its state between runs may hold it): the local libvirt's
 * namespace, its daemons (which would own the machine's libvirt socket and refuse every other
 * lab's libvirtd) and what libvirt defines under the lab's name. `down --force` of each.
 */
export async function sweepVmLabs(scratch: Scratch): Promise<void> {
  for (const lab of VM_LABS) {
    const r = await scratch.run(['down', '--force', lab, '--provider', 'vagrant', '--libvirt', 'local'], { timeoutMs: 5 * 60_000 });
    expect(r.exitCode, `down --force ${lab}: ${r.all}`).to.equal(0);
  }
}

/**
 * How long a VM spec lets `up` run: less than the test's own timeout (45 min), so that the
 * spec, not mocha, ends a hung up (SIGTERM, as a user's Ctrl-C) and its progress so far is
 * printed; the after hook's `down` then finds no live up holding the lab's lock.
 */
export const UP_BUDGET = 38 * 60_000;

/**
 * Each step's time, from `up --json`'s task events, for the record; a task that started and
 * never ended (a hung or killed up) is named as still running.
 */
export function stepTimes(output: string): string[] {
  const events = output
    .split('\n')
    .filter((l) => l.startsWith('{"event":"task"'))
    .map((l) => JSON.parse(l) as { step: string; task: string; state: string; ms?: number; outcome?: string; error?: string });
  const key = (e: { step: string; task: string }) => `${e.step} / ${e.task}`;
  const ended = new Set(events.filter((e) => e.state !== 'started').map(key));
  return [
    ...events.filter((e) => e.ms !== undefined).map((e) => `${key(e)}: ${e.state} in ${((e.ms ?? 0) / 1000).toFixed(1)} s${e.outcome ? ` (${e.outcome})` : ''}${e.error ? ` (${e.error})` : ''}`),
    ...events.filter((e) => e.state === 'started' && !ended.has(key(e))).map((e) => `${key(e)}: started, never ended`),
  ];
}

/**
 * The phases of each machine's `vagrant up` (box import, define, boot until the DHCP lease, ...),
 * as `up` recorded them in the lab state and `overlab status` shows them, a line per machine.
 */
export function vagrantPhaseTimes(stateFile: string): string[] {
  if (!existsSync(stateFile)) return [];
  const timings = (JSON.parse(readFileSync(stateFile, 'utf8')) as { timings?: UpTiming[] }).timings ?? [];
  return timingLines(timings.filter((t) => t.step === 'vagrant up'));
}
