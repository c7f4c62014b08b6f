// A lab's status: what its state records, what its provider says of its hosts and, for a lab
// that is up, what its hosts and engines answer within a bound (a host that does not is shown
// as unreachable, never waited for).
import { HostUnreachableError } from '../errors.ts';
import { silentEvents } from '../events.ts';
import { engineReader, type EngineReader } from '../engine/reader.ts';
import type { Plan } from '../lab/types.ts';
import { providerById } from '../providers/index.ts';
import type { HostAccess } from '../host.ts';
import { labStateDir } from '../state/paths.ts';
import { StateStore, type LabState, type UpTiming } from '../state/store.ts';
import type { FaultRecord } from '../state/faults.ts';
import { withDeadline } from '../wait.ts';
import { checkRecordedProvider, requireAccess } from './access.ts';

export interface LabStatus {
  lab: string;
  file: string;
  phase: LabState['phase'] | 'down';
  provider: string | undefined;
  /** Where the provider runs the hosts, when it says more than its name (the VMs' libvirt). */
  where?: string;
  mode: Plan['mode'];
  kv: { type: string; clusterStore: string; note?: string } | undefined;
  /** What `up` noted (fallbacks, warnings), also in .overlab/<lab>/logs/overlab.log. */
  notes: string[];
  hosts: { name: string; address: string; role: string; state: string | undefined; engine: string | undefined; error?: string }[];
  networks: { name: string; subnet: string; driver: string | undefined; scope: string | undefined }[];
  containers: { name: string; host: string; state: string | undefined; addresses: Record<string, string> }[];
  /** Faults in place on purpose (`overlab fault`), as recorded. */
  faults: FaultRecord[];
  /** Where `up` spent its time (each task per host, a provider's phases within), as recorded. */
  timings: UpTiming[];
}

/** The VMs' libvirt, as the lab state records it: the lab's own, or a server's. */
export function libvirtWhere(state: LabState): string | undefined {
  const r = state.resources['libvirt'] as { mode?: string; namespace?: string; uri?: string; driver?: string } | undefined;
  if (r?.mode === 'local') return `VMs on a libvirt of the lab's own (namespace ${r.namespace}), QEMU emulation`;
  if (r?.mode === 'remote') return `VMs on the libvirt server ${r.uri}, ${r.driver === 'kvm' ? 'KVM' : 'QEMU emulation'}`;
  return undefined;
}

/** How long `status` waits for a host or an engine before it shows it as unreachable. */
export const STATUS_WAIT_MS = 5_000;

export async function labStatus(plan: Plan, signal: AbortSignal, options: { provider?: string } = {}): Promise<LabStatus> {
  const store = new StateStore(labStateDir(plan.lab));
  const state = store.read();
  checkRecordedProvider(plan.lab, state, options.provider);
  if (state) requireAccess(state, `the status of lab ${plan.lab}`, 'see its status');
  const where = state && libvirtWhere(state);
  const base: LabStatus = {
    lab: plan.lab,
    file: plan.file,
    phase: state?.phase ?? 'down',
    provider: state?.provider,
    ...(where ? { where } : {}),
    mode: plan.mode,
    kv: state?.kv ? { type: state.kv.type, clusterStore: state.kv.clusterStore, ...(state.kv.announced ? { note: state.kv.announced } : {}) } : undefined,
    notes: state?.notes ?? [],
    hosts: plan.hosts.map((h) => ({ name: h.name, address: h.address, role: h.role, state: undefined, engine: undefined })),
    networks: plan.networks.map((n) => ({ name: n.name, subnet: n.subnet, driver: undefined, scope: undefined })),
    containers: plan.containers.map((c) => ({ name: c.name, host: c.host, state: undefined, addresses: {} })),
    faults: state?.faults ?? [],
    timings: state?.timings ?? [],
  };
  if (!state) return base;
  const provider = await providerById(state.provider);
  const hostStates = await provider.hostStates(plan, { store, events: silentEvents, signal }).catch(() => ({}) as Record<string, string>);
  for (const h of base.hosts) h.state = hostStates[h.name];
  if (state.phase !== 'up') return base;
  let access: HostAccess[];
  try {
    access = await withDeadline(provider.connect(plan, { store, events: silentEvents, signal }), STATUS_WAIT_MS * 3, () => new HostUnreachableError(`the hosts of lab ${plan.lab} did not answer within ${(STATUS_WAIT_MS * 3) / 1000} s`));
  } catch (e) {
    // A host that cannot be reached is what status must show, not a reason to show nothing.
    if (!(e instanceof HostUnreachableError)) throw e;
    for (const h of base.hosts) {
      if (h.state === 'running' && !e.message.includes(`host ${h.name} `)) continue;
      h.error = e.message;
      h.state = h.state === 'gone' ? 'gone (unreachable)' : 'unreachable';
    }
    return base;
  }
  const readers = new Map(await Promise.all(access.filter((h) => h.engine).map(async (h) => [h.name, await engineReader(h.engine!)] as const)));
  try {
    // A host that does not run a command within the bound is shown as unreachable, named; status
    // never hangs on it. The engines are asked meanwhile: neither waits for the other.
    // Where the provider's "running" already means a host runs commands (netns), none is run on
    // those (nor loaded to run one); a host it does not report running is still tried.
    const tried = access.filter((h) => !(provider.runningMeansReachable && hostStates[h.name] === 'running'));
    await Promise.all([
      ...tried.map(async (h) => {
        const row = base.hosts.find((x) => x.name === h.name);
        const r = await withDeadline(h.runner.exec(['true'], { timeoutMs: STATUS_WAIT_MS }), STATUS_WAIT_MS + 1000, () => new Error('timed out')).catch((e: Error) => e);
        if (row && (r instanceof Error || r.exitCode !== 0)) {
          row.state = 'unreachable';
          row.error = `${h.name} did not run a command within ${STATUS_WAIT_MS / 1000} s${r instanceof Error ? `: ${r.message}` : ` (exit ${r.exitCode})`}`;
        }
      }),
      fillLiveStatus(base, plan, readers),
    ]);
  } finally {
    for (const r of readers.values()) r.release();
    for (const h of access) h.close?.();
  }
  return base;
}

async function fillLiveStatus(base: LabStatus, plan: Plan, engines: Map<string, EngineReader>): Promise<void> {
  await Promise.all(
    base.hosts.map(async (h) => {
      const engine = engines.get(h.name);
      if (!engine) return;
      try {
        h.engine = await withDeadline(engine.version(), STATUS_WAIT_MS, () => new Error(`the engine on ${h.name} did not answer within ${STATUS_WAIT_MS / 1000} s`));
      } catch (e) {
        h.error ??= `engine not answering: ${(e as Error).message}`;
      }
    }),
  );
  const firstEngine = engines.get(plan.dockerHosts[0]!);
  if (firstEngine) {
    const nets = await withDeadline(firstEngine.networks(), STATUS_WAIT_MS, () => new Error('no answer')).catch(() => []);
    for (const n of base.networks) {
      const found = nets.find((x) => x.Name === n.name);
      if (found) [n.driver, n.scope] = [found.Driver, found.Scope];
    }
  }
  await Promise.all(
    base.containers.map(async (c) => {
      const engine = engines.get(c.host);
      if (!engine) return;
      try {
        const info = await withDeadline(engine.container(c.name), STATUS_WAIT_MS, () => new Error('no answer'));
        c.state = info.State.Status;
        c.addresses = Object.fromEntries(Object.entries(info.NetworkSettings.Networks).map(([n, v]) => [n, v.IPAddress]));
      } catch {
        c.state = 'missing';
      }
    }),
  );
}
