// docker-machine's verbs over labs: which lab a host is in, where its engine is (`env`,
// `config`), its address (`ip`), and every host of every lab in the state root (`ls`). The text
// `env`, `config` and `ssh` print is made here by pure functions, shell-quoted with the one
// POSIX quoting helper, so `eval "$(overlab env HOST)"` runs nothing a lab file's values contain.
import { LabStateError, UsageError } from '../errors.ts';
import { engineReader, type EngineReader } from '../engine/reader.ts';
import { silentEvents } from '../events.ts';
import type { Plan } from '../lab/types.ts';
import { count } from '../plural.ts';
import { providerById } from '../providers/index.ts';
import type { EngineEndpoint, HostAccess } from '../host.ts';
import { shellJoin, shellQuote } from '../quote.ts';
import { labStateDir } from '../state/paths.ts';
import { StateStore, type LabState } from '../state/store.ts';
import { withDeadline } from '../wait.ts';
import { connectLab } from './connect.ts';
import { DEFAULT_LAB, openLabPlan, recordedPlan, visibleLabs } from './lab.ts';

/** The DOCKER_HOST of an engine endpoint, as the stock docker CLI takes it. */
export function dockerHostUrl(engine: EngineEndpoint): string {
  return engine.kind === 'socket' ? `unix://${engine.socketPath}` : `ssh://${engine.ssh.username}@${engine.ssh.host}:${engine.ssh.port}`;
}

/**
 * The plan of the lab a host command (`env`, `config`, `ip`, `ssh`) is about. With `--lab`,
 * that lab. Without, host names are looked up as docker-machine's machine names are: the
 * default lab when it is up and has the host, else the one lab that is up and has it (so the
 * docker-machine tutorial's `config machine1` finds the docker-machine lab), else the default
 * lab (whose errors then say what is wrong).
 */
export async function openHostLab(host: string, ref: string | undefined): Promise<Plan> {
  if (ref !== undefined) return openLabPlan(ref);
  const labsUp = visibleLabs().filter((s) => s.phase === 'up');
  const withHost = labsUp.filter((s) => s.hosts[host] !== undefined);
  const fallback = await openLabPlan(DEFAULT_LAB).catch(() => undefined);
  if (fallback && withHost.some((s) => s.lab === fallback.lab)) return fallback;
  if (withHost.length === 1) return recordedPlan(withHost[0]!);
  if (withHost.length > 1) {
    throw new UsageError(`host ${host} is in ${count(withHost.length, 'lab')} that are up: ${withHost.map((s) => s.lab).join(', ')}`, { hint: `Name one: --lab ${withHost[0]!.lab}.` });
  }
  if (labsUp.length && !(fallback && labsUp.some((s) => s.lab === fallback.lab))) {
    throw new UsageError(`no lab that is up has a host "${host}" (up: ${labsUp.map((s) => `${s.lab} with ${Object.keys(s.hosts).join(', ')}`).join('; ')})`, {
      hint: 'Pass --lab LAB for a lab that is not up.',
    });
  }
  return fallback ?? openLabPlan(DEFAULT_LAB);
}

function findHost(plan: Plan, hosts: Map<string, HostAccess>, host: string): HostAccess {
  const h = hosts.get(host);
  if (!h) throw new UsageError(`lab ${plan.lab} has no host "${host}" (hosts: ${[...hosts.keys()].join(', ')})`);
  return h;
}

/** A host's engine, as `env` and `config` point the docker CLI at it. */
export interface EngineTarget {
  lab: string;
  host: string;
  /** DOCKER_HOST: unix://PATH, or ssh://USER@HOST:PORT. */
  dockerHost: string;
}

/** Where the engine of a host of a lab that is up listens; a kv host has none (UsageError). */
export async function engineTarget(plan: Plan, host: string, signal: AbortSignal, provider?: string): Promise<EngineTarget> {
  const { hosts, close } = await connectLab(plan, signal, { engines: false, ownerMay: 'use its engines', ...(provider ? { provider } : {}) });
  close(); // only the endpoint is needed
  const h = findHost(plan, hosts, host);
  if (!h.engine) throw new UsageError(`host ${host} runs no Docker engine (role kv); pick one of ${plan.dockerHosts.join(', ')}`);
  return { lab: plan.lab, host, dockerHost: dockerHostUrl(h.engine) };
}

/** The address of a host of a lab that is up, as the lab state recorded it. */
export function hostAddress(plan: Plan, host: string): string {
  const state = new StateStore(labStateDir(plan.lab)).read();
  if (!state || state.phase !== 'up') {
    throw new LabStateError(`lab ${plan.lab} is not up${state ? ` (phase ${state.phase})` : ''}`, { hint: `Run \`overlab up --lab ${plan.lab}\`.` });
  }
  const address = state.hosts[host]?.address ?? plan.hosts.find((h) => h.name === host)?.address;
  if (address === undefined) throw new UsageError(`lab ${plan.lab} has no host "${host}" (hosts: ${plan.hosts.map((h) => h.name).join(', ')})`);
  return address;
}

// -- what env, config and ssh print: pure, every value shell-quoted

export const UNSET_SCRIPT = 'unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_MACHINE_NAME';

/**
 * `overlab env`'s script, as `docker-machine env` printed it. `labRef` is the --lab the user
 * gave, repeated in the hint; the hint is left out when it could not be one comment line.
 * Each command ends in `;`: the tutorials' unquoted `eval $(docker-machine env H)` joins the
 * lines into one, where `unset` would otherwise take `export` and the rest as its arguments.
 */
export function envScript(target: EngineTarget, labRef?: string): string {
  const again = shellJoin(['overlab', 'env', ...(labRef === undefined ? [] : ['--lab', labRef]), target.host]);
  return [
    `export DOCKER_HOST=${shellQuote(target.dockerHost)};`,
    'unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH;',
    `export DOCKER_MACHINE_NAME=${shellQuote(target.host)};`,
    ...(/[\r\n]/.test(again) ? [] : ['# Run this command to configure your shell:', `# eval "$(${again})"`]),
  ].join('\n');
}

/**
 * `overlab config`'s flags for `docker $(overlab config HOST) ...`, as `docker-machine config`
 * printed them: one `-H=URL` word. Plain paths print bare, so the unquoted `$(...)` of the
 * tutorials splits them right; others are quoted for `eval "docker $(overlab config HOST) ..."`.
 */
export function configFlags(target: EngineTarget): string {
  return shellQuote(`-H=${target.dockerHost}`);
}

/** An ssh argv as one shell line (`overlab ssh --dry-run`). */
export function sshCommandLine(argv: readonly string[]): string {
  return shellJoin(argv);
}

// -- ls

/** One row of `overlab ls`: docker-machine's columns, plus the lab the host is in. */
export interface MachineRow {
  name: string;
  lab: string;
  /** DOCKER_HOST points at this host's engine. */
  active: boolean;
  /** The provider (docker-machine's DRIVER). */
  driver: string;
  /** The host's state as its provider sees it ("running", "gone", "poweroff"...), or "unknown". */
  state: string;
  /** The engine's DOCKER_HOST; undefined for a kv host or a lab that is not up. */
  url: string | undefined;
  /** The engine's version, when it answered. */
  docker: string | undefined;
  error?: string;
}

/** ACTIVE: DOCKER_HOST is exactly this engine's URL. */
export function isActive(url: string | undefined, dockerHost: string | undefined): boolean {
  return url !== undefined && dockerHost !== undefined && dockerHost === url;
}

/**
 * Every host of every lab in the state root, in lab then host order. Engines are asked for
 * their version at most `timeoutMs`; one that does not answer gets an error, not a hang.
 */
export async function listMachines(options: { signal: AbortSignal; dockerHost?: string | undefined; timeoutMs?: number }): Promise<MachineRow[]> {
  const rows = await Promise.all(visibleLabs().map((s) => labMachines(s, options.dockerHost, options.signal, options.timeoutMs ?? 5000)));
  return rows.flat();
}

async function labMachines(state: LabState, dockerHost: string | undefined, signal: AbortSignal, timeoutMs: number): Promise<MachineRow[]> {
  const row = (name: string, extra: Partial<MachineRow> = {}): MachineRow => ({
    name,
    lab: state.lab,
    active: false,
    driver: state.provider,
    state: 'unknown',
    url: undefined,
    docker: undefined,
    ...extra,
  });
  let plan: Plan;
  try {
    plan = await recordedPlan(state);
  } catch (e) {
    // The file moved or broke: the state still names the hosts.
    return Object.keys(state.hosts).map((name) => row(name, { error: `lab file ${state.file}: ${(e as Error).message.split('\n')[0]}` }));
  }
  const provider = await providerById(state.provider);
  const store = new StateStore(labStateDir(plan.lab));
  const states = await provider.hostStates(plan, { store, events: silentEvents, signal }).catch(() => ({}) as Record<string, string>);
  const rows = plan.hosts.map((h) => row(h.name, { state: states[h.name] ?? 'unknown' }));
  if (state.phase !== 'up') {
    for (const r of rows) r.error = `lab ${plan.lab} is ${state.phase === 'failed' ? 'half made' : `in phase ${state.phase}`}`;
    return rows;
  }
  // Hosts only: each engine is asked its version by engineReader (no dockerode for a local socket).
  const connecting = connectLab(plan, signal, { ownerMay: 'list its hosts', engines: false });
  let lab: Awaited<typeof connecting>;
  try {
    lab = await withDeadline(connecting, timeoutMs, () => new Error(`its hosts gave no answer in ${timeoutMs / 1000} s`));
  } catch (e) {
    // A connection that comes after the deadline is released, not kept open.
    connecting.then((l) => l.close(), () => {});
    for (const r of rows) r.error = (e as Error).message.split('\n')[0];
    return rows;
  }
  try {
    await Promise.all(
      rows.map(async (r) => {
        const engine = lab.hosts.get(r.name)?.engine;
        if (!engine) return;
        r.url = dockerHostUrl(engine);
        r.active = isActive(r.url, dockerHost);
        let reader: EngineReader | undefined;
        try {
          reader = await engineReader(engine);
          r.docker = await withDeadline(reader.version(), timeoutMs, () => new Error(`the engine gave no version in ${timeoutMs / 1000} s`));
        } catch (e) {
          r.error = (e as Error).message.split('\n')[0];
        } finally {
          reader?.release();
        }
      }),
    );
  } finally {
    lab.close();
  }
  return rows;
}
