// What the lab puts into its engines, through dockerode: the swarm (swarm mode), the overlay
// networks and the containers, all from the plan.
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { LABEL_HOST, LABEL_LAB } from '../lab/plan.ts';
import type { ContainerPlan, NetworkPlan, Plan, ServicePlan } from '../lab/types.ts';
import { TimeoutError } from '../errors.ts';
import { FatalProbeError, waitFor } from '../wait.ts';

export const SWARM_PORT = 2377;

export async function initSwarm(manager: Docker, address: string): Promise<{ worker: string }> {
  const info = (await manager.info()) as { Swarm?: { LocalNodeState?: string } };
  if (info.Swarm?.LocalNodeState !== 'active') {
    await manager.swarmInit({ ListenAddr: `${address}:${SWARM_PORT}`, AdvertiseAddr: address, ForceNewCluster: false });
  }
  const swarm = (await manager.swarmInspect()) as { JoinTokens: { Worker: string } };
  return { worker: swarm.JoinTokens.Worker };
}

export async function joinSwarm(worker: Docker, address: string, managerAddress: string, token: string): Promise<void> {
  const info = (await worker.info()) as { Swarm?: { LocalNodeState?: string } };
  if (info.Swarm?.LocalNodeState === 'active') return;
  await worker.swarmJoin({ ListenAddr: `${address}:${SWARM_PORT}`, AdvertiseAddr: address, RemoteAddrs: [`${managerAddress}:${SWARM_PORT}`], JoinToken: token });
}

export async function swarmNodes(manager: Docker): Promise<{ hostname: string; state: string; role: string }[]> {
  const nodes = (await manager.listNodes()) as { Description: { Hostname: string }; Status: { State: string }; Spec: { Role: string } }[];
  return nodes.map((n) => ({ hostname: n.Description.Hostname, state: n.Status.State, role: n.Spec.Role }));
}

export async function waitForSwarmReady(manager: Docker, hostnames: string[], signal: AbortSignal): Promise<void> {
  await waitFor(
    async () => {
      const nodes = await swarmNodes(manager);
      return hostnames.every((h) => nodes.some((n) => n.hostname === h && n.state === 'ready')) ? true : undefined;
    },
    { what: `swarm nodes ${hostnames.join(', ')} to be ready`, timeoutMs: 30_000, intervalMs: 100, signal },
  );
}

/** Creates the network unless it exists; returns its id. */
export async function createNetwork(docker: Docker, n: NetworkPlan): Promise<string> {
  const existing = (await docker.listNetworks({ filters: { name: [n.name] } })) as { Name: string; Id: string }[];
  const found = existing.find((x) => x.Name === n.name);
  if (found) return found.Id;
  const net = await docker.createNetwork(n.create);
  return net.id;
}

/** Waits until a network is listed by an engine (kv mode: global scope, seen at once). */
export async function waitForNetwork(docker: Docker, name: string, host: string, signal: AbortSignal): Promise<void> {
  await waitFor(
    async () => {
      const nets = (await docker.listNetworks({ filters: { name: [name] } })) as { Name: string }[];
      return nets.some((x) => x.Name === name) ? true : undefined;
    },
    { what: `network ${name} to appear on ${host}`, timeoutMs: 20_000, intervalMs: 50, signal },
  );
}

function endpointConfig(a: ContainerPlan['networks'][number]) {
  return { Aliases: a.aliases, ...(a.address ? { IPAMConfig: { IPv4Address: a.address } } : {}) };
}

/** Creates, connects and starts a container unless it runs already; returns its addresses by network. */
export async function runContainer(docker: Docker, plan: Pick<Plan, 'lab'>, c: ContainerPlan, start: StartOptions = {}): Promise<Record<string, string>> {
  const existing = docker.getContainer(c.name);
  let running = false;
  try {
    const info = (await existing.inspect()) as { State: { Running: boolean } };
    running = info.State.Running;
  } catch {
    const [first, ...rest] = c.networks;
    await docker.createContainer({
      name: c.name,
      Hostname: c.name,
      Image: c.image,
      Cmd: c.command,
      Labels: { [LABEL_LAB]: plan.lab, [LABEL_HOST]: c.host },
      // unless-stopped: an engine that restarts or is killed and started again (`overlab fault`)
      // brings the lab's containers back by itself, as a production host would; a container the
      // user stops stays stopped.
      HostConfig: { NetworkMode: first!.network, Init: false, RestartPolicy: { Name: 'unless-stopped' } },
      NetworkingConfig: { EndpointsConfig: { [first!.network]: endpointConfig(first!) } },
    });
    for (const a of rest) await docker.getNetwork(a.network).connect({ Container: c.name, EndpointConfig: endpointConfig(a) });
  }
  // The plan's networks: made by up before its containers (or by the lab before a fault).
  if (!running) await startContainer(existing, { ...start, networksExist: true });
  return containerAddresses(docker, c.name);
}

/**
 * A start that met a busy swarm manager: the engine gives the manager 20 s to allocate the
 * container's attachment to an attachable overlay and deliver it to the node, then gives up
 * (moby/moby#41841) in one of two words: "Could not attach to network ID: context deadline
 * exceeded" (no allocation yet) or "attaching to network failed ...: context deadline exceeded"
 * (allocated, not delivered). Nothing has run; the container is still created.
 */
const ATTACHMENT_TIMEOUT = /(?:attaching to network failed|could not attach to network \S+:).*context deadline exceeded/is;
/**
 * The start right after such a timeout: the engine kept its half-made attachment, finds no local
 * network behind it, drops the attachment and answers "network NAME not found" (daemon
 * findAndAttachNetwork; 20.10 says just that, 28.x puts "failed to set up container networking:
 * could not find a network matching network mode NAME: " before it). The next start asks the
 * manager afresh. On its own (not after a timeout) the same words mean the network is really
 * gone, and the start is not tried again.
 */
const STALE_ATTACHMENT = /no such container - (?:[^\n]*?: )?network \S+ not found/i;
/** How long starts are tried again by default while the swarm manager is slow to attach (s. ATTACHMENT_TIMEOUT). */
export const START_BUDGET_MS = 90_000;
const START_PAUSE_MS = 2_000;

export interface StartOptions {
  /** Tries again while less than this has passed since the first try (default START_BUDGET_MS). */
  budgetMs?: number;
  /** Between tries (default 2 s). */
  pauseMs?: number;
  signal?: AbortSignal;
  /** Told each time a start is tried again, with the engine's words. */
  onRetry?: (attempt: number, message: string) => void;
  now?: () => number;
  /**
   * The container's networks exist (the lab just made them): "network NAME not found" then
   * means the swarm manager does not know a fresh attachable overlay yet (a loaded machine, a
   * matrix of swarm cells), and the start is tried again within the budget, after a pause.
   */
  networksExist?: boolean;
}

/**
 * Starts a created container. A start that failed only because the swarm manager did not attach
 * it in time is tried again, as long as the budget lasts: on emulated VMs of a busy 2-core
 * machine, where a plain container took a minute to start, the engine's fixed 20 s was not enough
 * three times running (the services VM spec), although the swarm was healthy.
 */
export async function startContainer(container: { start(): Promise<unknown> }, opts: StartOptions = {}): Promise<void> {
  const now = opts.now ?? Date.now;
  const budgetMs = opts.budgetMs ?? START_BUDGET_MS;
  const began = now();
  let afterTimeout = false;
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      await container.start();
      return;
    } catch (e) {
      const message = String((e as Error).message);
      const timedOut = ATTACHMENT_TIMEOUT.test(message);
      const notFound = STALE_ATTACHMENT.test(message);
      const stale = afterTimeout && notFound;
      const notYet = !afterTimeout && notFound && opts.networksExist === true;
      if ((!timedOut && !stale && !notYet) || now() - began >= budgetMs) throw e;
      afterTimeout = timedOut;
      opts.onRetry?.(attempt, message);
      // The stale attachment is gone at once; a timeout, or a manager that does not know the network yet, gets a moment more.
      if (!stale) await sleep(opts.pauseMs ?? START_PAUSE_MS, undefined, { signal: opts.signal });
    }
  }
}

/** A container's attachment to one network, as its engine reports it. */
export interface ContainerEndpoint {
  ip: string;
  mac: string;
  networkId: string;
}

/** A container's endpoint on each of its networks: address, MAC and network id, as its engine reports them. */
export async function containerEndpoints(docker: Docker, name: string): Promise<Record<string, ContainerEndpoint>> {
  const info = (await docker.getContainer(name).inspect()) as { NetworkSettings: { Networks: Record<string, { IPAddress: string; MacAddress: string; NetworkID: string }> } };
  return Object.fromEntries(Object.entries(info.NetworkSettings.Networks).map(([n, v]) => [n, { ip: v.IPAddress, mac: v.MacAddress, networkId: v.NetworkID }]));
}

export async function containerAddresses(docker: Docker, name: string): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await containerEndpoints(docker, name)).map(([n, e]) => [n, e.ip]));
}

// ---------------------------------------------------------------------------------------------
// Swarm services

export interface ServiceTask {
  id: string;
  slot: number;
  /** The docker host (node hostname) the task runs on. */
  node: string;
  state: string;
  /** What the swarm says went wrong with the task ("No such image", "host-mode port already in use"), or ''. */
  error: string;
  /** The task's address on each network it joined. */
  addresses: Record<string, string>;
}

/** Creates the service unless it exists; returns its id. */
export async function createService(docker: Docker, v: ServicePlan): Promise<string> {
  const existing = (await docker.listServices({ filters: { name: [v.name] } })) as { ID: string; Spec: { Name: string } }[];
  const found = existing.find((s) => s.Spec.Name === v.name);
  if (found) return found.ID;
  const created = (await docker.createService(v.create as never)) as { id?: string; ID?: string };
  return created.id ?? created.ID ?? '';
}

/** The service's tasks the swarm wants running, with their node's hostname and addresses. */
export async function serviceTasks(manager: Docker, service: string): Promise<ServiceTask[]> {
  const [tasks, nodes] = await Promise.all([
    manager.listTasks({ filters: { service: [service], 'desired-state': ['running'] } }) as Promise<
      { ID: string; Slot?: number; NodeID?: string; Status: { State: string; Err?: string }; NetworksAttachments?: { Network: { Spec: { Name: string } }; Addresses?: string[] }[] }[]
    >,
    manager.listNodes() as Promise<{ ID: string; Description: { Hostname: string } }[]>,
  ]);
  const hostname = new Map(nodes.map((n) => [n.ID, n.Description.Hostname]));
  return tasks.map((t) => ({
    id: t.ID,
    slot: t.Slot ?? 0,
    node: hostname.get(t.NodeID ?? '') ?? '',
    state: t.Status.State,
    error: t.Status.Err ?? '',
    addresses: Object.fromEntries((t.NetworksAttachments ?? []).map((a) => [a.Network.Spec.Name, (a.Addresses?.[0] ?? '').replace(/\/\d+$/, '')])),
  }));
}

/** The service's virtual IP on each network (vip mode), from its endpoint. */
export async function serviceVips(manager: Docker, service: string): Promise<Record<string, string>> {
  const info = (await manager.getService(service).inspect()) as { Endpoint?: { VirtualIPs?: { NetworkID: string; Addr: string }[] } };
  const nets = (await manager.listNetworks()) as { Id: string; Name: string }[];
  const name = new Map(nets.map((n) => [n.Id, n.Name]));
  return Object.fromEntries((info.Endpoint?.VirtualIPs ?? []).map((v) => [name.get(v.NetworkID) ?? v.NetworkID, v.Addr.replace(/\/\d+$/, '')]));
}

/** Sets the service's replica count (docker service scale). */
export async function scaleService(manager: Docker, service: string, replicas: number): Promise<void> {
  const s = manager.getService(service);
  const info = (await s.inspect()) as { Version: { Index: number }; Spec: { Mode: { Replicated?: { Replicas: number } } } };
  await s.update({ version: info.Version.Index, ...info.Spec, Mode: { Replicated: { Replicas: replicas } } } as never);
}

/** A service's tasks may sit in one state this long before the wait gives up on them. */
export const SERVICE_STALL_MS = 90_000;
/** However much the tasks move, the wait ends after this long. */
export const SERVICE_DEPLOY_CAP_MS = 10 * 60_000;

/**
 * Waits, bounded, until `replicas` tasks of the service run (with an address on each of its
 * networks). The bound is on progress: the wait gives up once no task has changed state for
 * `stallMs` (an image that is missing, a placement no node meets), however long a slow host takes
 * to move its tasks along (in a VM under QEMU emulation a task sits a minute in "starting" while
 * its sandbox and the ingress are set up), and after `capMs` in any case.
 */
export async function waitForServiceTasks(
  manager: Docker,
  v: { name: string; replicas: number; networks: string[] },
  signal: AbortSignal,
  bounds: { stallMs?: number; capMs?: number } = {},
): Promise<ServiceTask[]> {
  const stallMs = bounds.stallMs ?? SERVICE_STALL_MS;
  // Which task is stuck where, and why: the state a timeout leaves is the diagnosis.
  const detail = async () =>
    (await serviceTasks(manager, v.name).catch(() => []))
      .map((t) => `  ${v.name}-${t.slot} on ${t.node || '(no node)'}: ${t.state}${t.error ? ` (${t.error})` : ''}`)
      .join('\n') || '  no task listed';
  let seen = '';
  let changedAt = Date.now();
  return waitFor(
    async () => {
      const tasks = await serviceTasks(manager, v.name);
      const running = tasks.filter((t) => t.state === 'running' && v.networks.every((n) => t.addresses[n]));
      if (running.length === v.replicas && tasks.length === v.replicas) return running;
      const now = tasks.map((t) => `${t.id} ${t.state} ${Object.keys(t.addresses).length}`).sort().join(',');
      if (now !== seen) [seen, changedAt] = [now, Date.now()];
      if (Date.now() - changedAt > stallMs) {
        throw new FatalProbeError(new TimeoutError(`no task of service ${v.name} changed state for ${(stallMs / 1000).toFixed(0)} s; ${running.length} of ${v.replicas} running\n${await detail()}`));
      }
      return undefined;
    },
    { what: `${v.replicas} tasks of service ${v.name} to run`, timeoutMs: bounds.capMs ?? SERVICE_DEPLOY_CAP_MS, intervalMs: 250, signal, detail },
  );
}
