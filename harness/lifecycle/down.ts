// Taking a lab down: heal the faults that would outlive it, have its provider remove what it
// created (or sweep by the lab's name prefix when no state is left), then drop its state.
import { silentEvents, type Events } from '../events.ts';
import { LOCAL_PROVIDER, providerById, requireRoot, sweepOrphans, type ProviderOptions } from '../providers/index.ts';
import { emptyDestroyReport, type DestroyReport, type Provider } from '../providers/provider.ts';
import { labStateDir } from '../state/paths.ts';
import { StateFileError } from '../state/record-file.ts';
import { StateStore, type LabState } from '../state/store.ts';
import { checkAccessFirst, checkRecordedProvider } from './access.ts';
import { recordedPlan } from './lab.ts';

/** Removes everything of the lab; with no state and no `force`, there is nothing to do. */
export async function labDown(
  lab: string,
  options: {
    force: boolean;
    provider?: string;
    events?: Events;
    signal: AbortSignal;
    /** A provider instance to use instead of the registry's (tests: the fake provider); no command passes one. */
    using?: Provider;
    /** Where `--force` also looks for leftovers of a lab with no state (a server's libvirt). */
    providerOptions?: ProviderOptions;
  },
): Promise<DestroyReport & { wasUp: boolean }> {
  checkAccessFirst(lab, `taking lab ${lab} down`);
  const store = new StateStore(labStateDir(lab));
  const unlock = store.lock('down');
  try {
    const events = options.events ?? silentEvents;
    let state: LabState | undefined;
    let named: LabState['provider'] | undefined;
    try {
      state = store.read();
      // The plan too, before anything is done: a state that is fine beside a plan that is not is no lab to trust.
      if (state) await store.readPlanToRun({ lab });
    } catch (e) {
      // --force removes a lab whose records are not as overlab writes them by its name prefix,
      // as one with no state; nothing recorded in them is used (a pid, a path, a command).
      if (!(e instanceof StateFileError) || !options.force) throw e;
      const aside = store.setAside();
      named = aside.provider;
      state = undefined;
      events.emit({ type: 'warn', message: `${e.message}; set aside as ${aside.files.join(' and ')}, and lab ${lab} is removed by its name prefix` });
    }
    checkRecordedProvider(lab, state, options.provider);
    if (!state && !options.force) return { ...emptyDestroyReport(), wasUp: false };
    requireRoot(state?.provider ?? named ?? LOCAL_PROVIDER, `taking lab ${lab} down`);
    // Faults that would outlive the lab on a machine it does not own are undone first (bounded, never fatal).
    if (state?.phase === 'up' && state.faults?.length) {
      const { healBeforeDown } = await import('./fault.ts');
      await healBeforeDown(await recordedPlan(state), store, events, options.signal);
    }
    if (state) store.update((s) => (s.phase = 'destroying'));
    // Without a state file, leftovers are found by the lab's prefix: the embedded provider's
    // namespaces and processes here, then what libvirt defines under the lab's name below.
    const provider = options.using ?? (await providerById(state?.provider ?? named ?? LOCAL_PROVIDER));
    const ctx = { store, events, signal: options.signal };
    const report = await provider.destroy(lab, ctx, { force: options.force });
    if (!state) {
      const swept = await sweepOrphans(lab, ctx, options.providerOptions);
      report.processes.push(...swept.processes);
      // (The libvirt namespace may be counted once: the sweep above deletes it, this one makes and deletes it again.)
      report.namespaces.push(...swept.namespaces.filter((n) => !report.namespaces.includes(n)));
      report.paths.push(...swept.removed);
    }
    store.remove();
    return { ...report, wasUp: state !== undefined };
  } finally {
    unlock();
  }
}
