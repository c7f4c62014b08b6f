// Preparing `up`: the lab's lock taken, a lab already up adopted or a half-made one refused, the
// kernel features it needs checked, the earlier life set aside, the new state recorded, and the
// steps of up returned for the caller to run. What up says goes to the lab's log too.
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LabStateError, PrerequisiteError, UsageError } from '../errors.ts';
import { silentEvents, type Events } from '../events.ts';
import { KERNEL_FEATURES, labNeeds } from '../lab/capabilities.ts';
import type { Plan } from '../lab/types.ts';
import { probeCapabilities } from '../probes/capabilities.ts';
import { providerById, requireRoot, resolveProvider, type ProviderOptions } from '../providers/index.ts';
import type { Provider } from '../providers/provider.ts';
import type { LabContext } from '../state/lab-context.ts';
import { labLogsDir, labPreviousLifeDir, labReportsDir, labStateDir } from '../state/paths.ts';
import { describeOwner, type LabOwner } from '../state/owner.ts';
import { StateStore } from '../state/store.ts';
import { timedSteps, type Step } from '../steps.ts';
import { checkAccessFirst, checkRecordedProvider } from './access.ts';
import type { LabRun } from './connect.ts';

/**
 * What `up` tells the caller also goes to the lab's own log (.overlab/<lab>/logs/overlab.log),
 * and its notes (warnings) to the state, where `status` shows them: `--quiet` loses nothing.
 */
function recordingEvents(store: StateStore, events: Events): Events {
  const log = join(store.dir, 'logs', 'overlab.log');
  return {
    emit(e) {
      events.emit(e);
      if (e.type === 'command') return;
      try {
        mkdirSync(join(store.dir, 'logs'), { recursive: true });
        appendFileSync(log, `${new Date().toISOString()} ${e.type === 'warn' ? 'note' : 'info'}: ${e.host ? `${e.host}: ` : ''}${e.message}\n`);
        if (e.type === 'warn') store.update((s) => (s.notes ??= []).push(e.message));
      } catch {
        // The log is a convenience; the event itself was delivered.
      }
    },
  };
}

export interface UpResult {
  alreadyUp: boolean;
  steps: Step[];
  /** Call after the steps ran (or failed) to record the outcome and release the lock. */
  finish(error?: unknown): void;
}

/**
 * Prepares `up`: takes the lock, refuses a half-made lab, records the new state and returns
 * the steps for the caller to run (with progress). `finish` records the outcome.
 */
export async function prepareUp(
  plan: Plan,
  options: {
    provider?: string;
    providerOptions?: ProviderOptions;
    copyOf?: string;
    owner?: LabOwner;
    events?: Events;
    signal: AbortSignal;
    allowMissing?: boolean;
    /** A provider instance to use instead of the registry's (tests: the fake provider); no command passes one. */
    using?: Provider;
  },
): Promise<UpResult & LabRun> {
  checkAccessFirst(plan.lab, `bringing lab ${plan.lab} up`);
  const store = new StateStore(labStateDir(plan.lab));
  const unlock = store.lock('up');
  try {
    const existing = store.read();
    const events = recordingEvents(store, options.events ?? silentEvents);
    if (existing) {
      // The same name is not the same lab: one up from another file (or, asked for a copy, a copy
      // of another lab) is never adopted. A lab's own plan (a copy's, read back by `test`) is its own.
      if (resolve(existing.file) !== resolve(plan.file) || (options.copyOf !== undefined && existing.copyOf !== options.copyOf)) {
        throw new LabStateError(`a lab named ${plan.lab} is already up from ${existing.copyOf ? `a copy of ${existing.copyOf} (${existing.file})` : existing.file}, not from ${plan.file}${options.copyOf ? ` as a copy of ${options.copyOf}` : ''}`, {
          hint: `Choose another name (\`--as NAME\`, or \`name:\` in the lab file), or take that lab down first (\`overlab down --lab ${plan.lab}\`).`,
        });
      }
      checkRecordedProvider(plan.lab, existing, options.provider);
      requireRoot(existing.provider, `lab ${plan.lab}`);
      if (options.owner && !sameOwner(existing.owner, options.owner)) {
        throw new LabStateError(`lab ${plan.lab} is already up, ${existing.owner ? `handed to ${describeOwner(existing.owner)}` : 'handed to nobody'}, not to ${describeOwner(options.owner)}`, {
          hint: `Take it down first (\`overlab down --lab ${plan.lab}\`), then bring it up for its new owner.`,
        });
      }
      const provider = options.using ?? (await providerById(existing.provider));
      const ctx: LabContext = { store, events, signal: options.signal };
      if (existing.phase === 'up') {
        const hosts = await provider.connect(plan, ctx); // throws when a host is gone
        for (const h of hosts) h.close?.();
        unlock();
        return { plan, store, provider, ctx, alreadyUp: true, steps: [], finish: () => {} };
      }
      throw new LabStateError(`lab ${plan.lab} is ${existing.phase === 'failed' ? 'half made (its last up failed)' : `in phase ${existing.phase}`}`, {
        hint: `Run \`overlab down --lab ${plan.lab}\` first.${existing.error ? `\nLast error: ${existing.error.split('\n')[0]}` : ''}`,
      });
    }
    const provider = options.using ?? (await resolveProvider((options.provider ?? plan.provider) as Plan['provider'], options.providerOptions));
    if (options.owner && !provider.handsOver) {
      throw new UsageError(`--owner: the ${provider.id} provider cannot hand a lab to a user of this machine (its engines and hosts are not here)`, {
        hint: 'Hand labs over on the netns provider, which runs them on this machine.',
      });
    }
    if (!options.allowMissing) await requireCapabilities(plan, provider);
    setAsideEarlierLife(plan.lab);
    const now = new Date().toISOString();
    store.write({ version: 1, lab: plan.lab, provider: provider.id, mode: plan.mode, file: plan.file, ...(options.copyOf ? { copyOf: options.copyOf } : {}), ...(options.owner ? { owner: options.owner } : {}), phase: 'creating', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
    store.writePlan(plan);
    const ctx: LabContext = { store, events, signal: options.signal };
    const { upSteps } = await import('./up.ts');
    const { steps: untimed, release } = upSteps(plan, { ...ctx, provider });
    // Each task's time, recorded as it ends (status and --json show where up spent it). A time
    // that cannot be recorded (the state already gone) never stands in for the task's outcome.
    const steps = timedSteps(untimed, (t) => {
      try {
        store.update((s) => void (s.timings ??= []).push(t));
      } catch {
        // Nothing to record it in.
      }
    });
    const finish = (error?: unknown) => {
      release();
      try {
        store.update((s) => {
          s.phase = error ? 'failed' : 'up';
          if (error) s.error = error instanceof Error ? error.message : String(error);
        });
      } finally {
        unlock();
      }
    };
    return { plan, store, provider, ctx, alreadyUp: false, steps, finish };
  } catch (e) {
    unlock();
    throw e;
  }
}

/**
 * A new life of the lab: an earlier life's spec reports and logs (the engine's panic, the notes
 * of its up) are not this one's, and status, the room and an engine's death never quote them as
 * such. They stay readable in previous/, in place of the life kept there before.
 */
function setAsideEarlierLife(lab: string): void {
  const left = [labReportsDir(lab), labLogsDir(lab)].filter((d) => existsSync(d));
  if (!left.length) return;
  const previous = labPreviousLifeDir(lab);
  rmSync(previous, { recursive: true, force: true });
  mkdirSync(previous);
  for (const d of left) renameSync(d, join(previous, basename(d)));
}

function sameOwner(a: LabOwner | undefined, b: LabOwner): boolean {
  return a !== undefined && a.kind === b.kind && a.id === b.id;
}

/**
 * Stops `up` before anything is created when the lab needs a kernel feature (IP_VS for VIPs and
 * the routing mesh, INET_ESP for encrypted overlays) that the provider can already tell is
 * missing. --allow-missing brings the lab up anyway; the specs that need it then report n/a.
 */
async function requireCapabilities(plan: Plan, provider: Provider): Promise<void> {
  const needs = labNeeds(plan);
  const runner = provider.kernelRunner?.();
  if (!needs.length || !runner) return;
  const caps = await probeCapabilities('this machine', runner);
  const missing = needs.filter((n) => caps.kernel[n.capability].present === false);
  if (!missing.length) return;
  throw new PrerequisiteError(
    `lab ${plan.lab} needs what the ${provider.id} hosts' kernel lacks: ${missing.map((m) => `${KERNEL_FEATURES[m.capability].name} (${caps.kernel[m.capability].evidence}) for ${m.why}`).join('; ')}`,
    { hint: 'Nothing was created. Bring it up anyway with --allow-missing (the specs that need it report n/a), or use a provider whose kernel has it (--provider vagrant).' },
  );
}
