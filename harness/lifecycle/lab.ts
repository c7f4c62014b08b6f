// The lab verbs behind the CLI: open a lab file, bring it up, take it down, report its status.
// Each takes the lab's lock and keeps its state file true to what exists.
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { HostUnreachableError, LabNotFoundError, LabStateError, PermissionError, PrerequisiteError, UsageError } from '../errors.ts';
import { silentEvents, type Events } from '../events.ts';
import { engineReader, type EngineReader } from '../engine/reader.ts';
import { KERNEL_FEATURES, labNeeds } from '../lab/capabilities.ts';
import type { Plan } from '../lab/types.ts';
import { probeCapabilities } from '../probes/capabilities.ts';
import { providerById, requireRoot, resolveProvider, type ProviderOptions } from '../providers/index.ts';
import type { Provider } from '../providers/provider.ts';
import type { HostAccess } from '../host.ts';
import type { LabContext } from '../state/lab-context.ts';
import { labLogsDir, labPreviousLifeDir, labReportsDir, labStateDir, stateRoot } from '../state/paths.ts';
import { listDir } from '../system/files.ts';
import { describeOwner, mayUse, type LabOwner } from '../state/owner.ts';
import { StateStore, type LabState, type UpTiming } from '../state/store.ts';
import { currentCaller, type Caller } from '../system/users.ts';
import { timedSteps, type Step } from '../steps.ts';
import type { FaultRecord } from '../state/faults.ts';
import { withDeadline } from '../wait.ts';

// Heavy modules (the YAML and schema checks, dockerode, the steps of up) are imported where they
// are needed, so the quick commands (env, status) start quickly.

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_LAB = 'tutorial';

/** A lab reference is a file path, or the name of a lab in ./labs or the package's labs/. */
export function resolveLabFile(ref: string = DEFAULT_LAB): string {
  const candidates = /\.ya?ml$/.test(ref) || ref.includes('/') ? [resolve(ref)] : [resolve('labs', `${ref}.yaml`), join(PACKAGE_ROOT, 'labs', `${ref}.yaml`)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new LabNotFoundError(`no lab file for "${ref}" (looked at ${candidates.join(', ')})`, { hint: 'Pass --lab FILE or a name from labs/.' });
  return found;
}

/**
 * The name of the lab a reference means, for commands that act on a lab that is up (`down`):
 * a lab name is itself; a file is looked up among the recorded states by path, so a lab comes
 * down even when its file has since changed or broken. Only a file no state names is read.
 */
export async function labNameOf(ref: string = DEFAULT_LAB): Promise<string> {
  const isName = /^[a-z][a-z0-9-]*$/.test(ref);
  try {
    const file = resolveLabFile(ref);
    return recordedLabs().find((s) => s.file === file && !s.copyOf)?.lab ?? (await labNameInFile(file));
  } catch (e) {
    // A lab whose file is gone or broken still comes down by its name.
    if (isName) return ref;
    throw e;
  }
}

/** The state of every lab under the state root ($OVERLAB_HOME or ./.overlab), by name; unreadable ones skipped. */
export function recordedLabs(): LabState[] {
  return listDir(stateRoot())
    .flatMap((name) => {
      try {
        const state = new StateStore(labStateDir(name)).read();
        // A state naming another lab than its folder's is not this lab's: acting on it by that name would touch the other.
        return state && state.lab === name ? [state] : [];
      } catch {
        return []; // A broken state file is `down --force`'s business, not a listing's.
      }
    })
    .sort((a, b) => a.lab.localeCompare(b.lab));
}

/** The labs this caller may see: every one for root; for anyone else, none handed to another user. */
export function visibleLabs(caller: Caller = currentCaller()): LabState[] {
  return recordedLabs().filter((s) => !s.owner || mayUse(s.owner, caller));
}

/** The plan of a lab file, read, checked and planned afresh (validate, plan, render, a lab not yet up). */
export async function openPlan(ref?: string): Promise<Plan> {
  return planFile(resolveLabFile(ref));
}

async function planFile(file: string): Promise<Plan> {
  const [{ loadLab }, { planLab }] = await Promise.all([import('../lab/load.ts'), import('../lab/plan.ts')]);
  return planLab(await loadLab(file));
}

async function labNameInFile(file: string): Promise<string> {
  return (await (await import('../lab/load.ts')).loadLab(file)).name;
}

/**
 * Refuses to act on a lab that is recorded under another provider than the one the caller
 * named (`--provider`); `auto` and no provider accept any.
 */
export function checkRecordedProvider(lab: string, state: LabState | undefined, expected: string | undefined): void {
  if (!state || !expected || expected === 'auto' || expected === state.provider) return;
  throw new LabStateError(`lab ${lab} is ${state.phase === 'up' ? 'up' : `recorded (phase ${state.phase})`} on provider ${state.provider}, not ${expected}`, {
    hint: `Leave out --provider, or pass --provider ${state.provider}; \`overlab down --lab ${lab}\` removes it from ${state.provider}.`,
  });
}

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

/** The plan a lab that has a state was brought up from: recorded beside the state, else (older labs) its file's. */
export async function recordedPlan(state: LabState): Promise<Plan> {
  return (await new StateStore(labStateDir(state.lab)).readPlanToRun({ lab: state.lab })) ?? planFile(state.file);
}

/**
 * The plan of a lab as commands on a live lab need it (up, status, test, env, ssh ...): the plan
 * recorded when it came up, found by name or by its file's path, so a copy (which has no file
 * of its own) and a lab whose file changed since are seen as they are, and quick commands
 * never parse YAML; else the lab file's.
 */
export async function openLabPlan(ref: string = DEFAULT_LAB): Promise<Plan> {
  const byName = /^[a-z][a-z0-9-]*$/.test(ref) ? await new StateStore(labStateDir(ref)).readPlanToRun({ lab: ref }) : undefined;
  if (byName) return byName;
  const file = resolveLabFile(ref);
  const recorded = recordedLabs().find((s) => s.file === file && !s.copyOf);
  return (recorded && (await new StateStore(labStateDir(recorded.lab)).readPlanToRun({ lab: recorded.lab }))) || planFile(file);
}

export interface LabRun {
  plan: Plan;
  store: StateStore;
  provider: Provider;
  ctx: LabContext;
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

/**
 * Root may do anything with a lab; the owner of a lab handed over may do `ownerMay` (when
 * given) and nothing else; any other user is refused, naming the owner, or told it needs root.
 */
export function requireAccess(state: LabState, what: string, ownerMay: string | undefined, caller: Caller = currentCaller()): void {
  if (caller.uid === 0) return;
  if (!state.owner) return requireRoot(state.provider, what, caller.uid);
  if (mayUse(state.owner, caller)) {
    if (ownerMay !== undefined) return;
    throw new PermissionError(`lab ${state.lab} is handed to ${describeOwner(state.owner)}, who may use it, not change it: ${what} needs root`, {
      root: true,
      hint: 'Ask whoever runs the room (root) to do it.',
    });
  }
  throw new PermissionError(`lab ${state.lab} is handed to ${describeOwner(state.owner)}; you (uid ${caller.uid}) may not ${ownerMay ?? 'use it'}`, {
    root: false,
    hint: 'Use the lab handed to you (`overlab status --all` lists those you may see), or ask whoever runs the room.',
  });
}

/**
 * Before a command takes a lab's lock: a user who is not root is told here what the lab allows
 * it (naming the owner of a lab handed over), not by the lock's folder. `ownerMay`: what the
 * owner may do with it, when the command is one of those.
 */
export function checkAccessFirst(lab: string, what: string, ownerMay?: string): void {
  const caller = currentCaller();
  if (caller.uid === 0) return;
  const state = new StateStore(labStateDir(lab)).read();
  // A lab handed to nobody: the lock (its folder's owner) or the provider (root) says it, as before.
  if (state?.owner) requireAccess(state, what, ownerMay, caller);
}

/** Whether this (non-root) caller tests a lab that is up and handed over (to it or not: connecting checks that). */
export function handedOverAndUp(lab: string): boolean {
  if (currentCaller().uid === 0) return false;
  const state = new StateStore(labStateDir(lab)).read();
  return state?.phase === 'up' && state.owner !== undefined;
}

function sameOwner(a: LabOwner | undefined, b: LabOwner): boolean {
  return a !== undefined && a.kind === b.kind && a.id === b.id;
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

export interface LabStatus {
  lab: string;
  file: string;
  phase: LabState['phase'] | 'down';
  provider: string | undefined;
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

/** How long `status` waits for a host or an engine before it shows it as unreachable. */
export const STATUS_WAIT_MS = 5_000;

export async function labStatus(plan: Plan, signal: AbortSignal, options: { provider?: string } = {}): Promise<LabStatus> {
  const store = new StateStore(labStateDir(plan.lab));
  const state = store.read();
  checkRecordedProvider(plan.lab, state, options.provider);
  if (state) requireAccess(state, `the status of lab ${plan.lab}`, 'see its status');
  const base: LabStatus = {
    lab: plan.lab,
    file: plan.file,
    phase: state?.phase ?? 'down',
    provider: state?.provider,
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
    await Promise.all([
      ...access.map(async (h) => {
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
