// Connecting to a lab that is up: its recorded state and provider checked, its hosts (and, when
// asked, engine clients) reached through the provider.
import type Docker from 'dockerode';
import { LabStateError } from '../errors.ts';
import { silentEvents } from '../events.ts';
import type { Plan } from '../lab/types.ts';
import { providerById } from '../providers/index.ts';
import type { Provider } from '../providers/provider.ts';
import type { HostAccess } from '../host.ts';
import type { LabContext } from '../state/lab-context.ts';
import { labStateDir } from '../state/paths.ts';
import { StateStore, type LabState } from '../state/store.ts';
import { checkRecordedProvider, requireAccess } from './access.ts';

export interface LabRun {
  plan: Plan;
  store: StateStore;
  provider: Provider;
  ctx: LabContext;
}

/** Connects to a lab that is up; `close` releases the connections (call it when done). */
export async function connectLab(
  plan: Plan,
  signal: AbortSignal,
  options: {
    provider?: string;
    /** false: hosts only, no engine clients (and no dockerode loaded) */ engines?: boolean;
    /** What the connection is for, when the owner of a lab handed over may do it too (`test`, `ssh`, `env`). */
    ownerMay?: string;
  } = {},
): Promise<LabRun & { state: LabState; hosts: Map<string, HostAccess>; engines: Map<string, Docker>; close(): void }> {
  const store = new StateStore(labStateDir(plan.lab));
  const state = store.read();
  checkRecordedProvider(plan.lab, state, options.provider);
  if (!state) throw new LabStateError(`lab ${plan.lab} is not up`, { hint: `Run \`overlab up --lab ${plan.lab}\`.` });
  requireAccess(state, `lab ${plan.lab}`, options.ownerMay);
  if (state.phase !== 'up') throw new LabStateError(`lab ${plan.lab} is not up (phase ${state.phase})`, { hint: `Run \`overlab down --lab ${plan.lab}\`, then \`overlab up --lab ${plan.lab}\`.` });
  const provider = await providerById(state.provider);
  const ctx: LabContext = { store, events: silentEvents, signal };
  const access = await provider.connect(plan, ctx);
  const hosts = new Map(access.map((h) => [h.name, h]));
  if (options.engines === false) return { plan, store, provider, ctx, state, hosts, engines: new Map(), close: () => access.forEach((h) => h.close?.()) };
  const { engineClient, releaseAll } = await import('../engine/client.ts');
  const engines = new Map(access.filter((h) => h.engine).map((h) => [h.name, engineClient(h.engine!)]));
  return { plan, store, provider, ctx, state, hosts, engines, close: () => releaseAll(hosts.values(), engines.values()) };
}
