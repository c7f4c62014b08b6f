// Putting faults in place on a live lab and taking them away, through the host contract only:
// commands run by each host's HostRunner (inside its namespaces on netns, over SSH on vagrant
// and ssh), services stopped and started by its ServiceManager. No provider is named here.
// Every command is bounded; a host that does not answer is named in a HostUnreachableError.
// This module is the faults' one entry (lifecycle/fault.ts and the fault specs import it whole):
// partition, KV outage and the engine's faults here, the link faults from link.ts.
import { UsageError } from '../errors.ts';
import { ENGINE_SERVICE, type HostAccess } from '../host.ts';
import { engineExecRoot, engineServiceSpec } from '../engine/daemon.ts';
import { engineClient, releaseEngine, waitForEngine } from '../engine/client.ts';
import { runContainer, startContainer } from '../engine/contents.ts';
import { KV_SERVICE, startKvStore } from '../kv/run.ts';
import type { KvCandidate } from '../lab/types.ts';
import type { FaultRecord } from '../state/faults.ts';
import { enginePidfile, partitionCommand, STALE_CONTAINERD_SCRIPT, unpartitionScript } from './commands.ts';
import { clearQdisc, restoreQdisc } from './link.ts';
import { savedQdiscOf } from './qdisc.ts';
import { dockerHost, hostOf, mustRun, underlayInterface, type FaultTarget } from './target.ts';

export { clearQdisc, latency, netemUnavailable, qdiscBefore, rate, restoreQdisc } from './link.ts';
export { FAULT_COMMAND_TIMEOUT_MS, hostOf, underlayInterface, type FaultTarget } from './target.ts';

/** Cuts a host off: from every other host, or from one; SSH stays open so overlab can heal it. */
export async function partition(t: FaultTarget, name: string, options: { from?: string; tcpPort?: number } = {}): Promise<FaultRecord> {
  const host = hostOf(t, name);
  if (options.from === name) throw new UsageError(`a host cannot be partitioned from itself (${name})`);
  const from = options.from ? { host: options.from, address: hostOf(t, options.from).address } : undefined;
  const iface = await underlayInterface(host);
  const command = partitionCommand({ iface, ...(from ? { from: from.address } : {}), ...(options.tcpPort ? { tcpPort: options.tcpPort } : {}) });
  await mustRun(host, command.argv, { input: command.script });
  return { kind: 'partition', host: name, ...(from ? { from } : {}), ...(options.tcpPort ? { tcpPort: options.tcpPort } : {}), since: new Date().toISOString() };
}

/** Removes overlab's chain from a host; nothing else of its firewall. */
export async function unpartition(host: HostAccess): Promise<void> {
  await mustRun(host, ['sh', '-s'], { input: unpartitionScript() });
}

function kvHost(t: FaultTarget): HostAccess {
  if (t.plan.mode !== 'kv' || !t.plan.kv) throw new UsageError(`lab ${t.plan.lab} has no KV store (mode ${t.plan.mode})`);
  return hostOf(t, t.plan.kv.host);
}

/** The store `up` chose (the preferred one, or the lab's fallback). */
function chosenKv(t: FaultTarget): KvCandidate | undefined {
  return t.plan.kv?.candidates.find((c) => c.type === t.state.kv?.type) ?? t.plan.kv?.candidates[0];
}

export async function kvDown(t: FaultTarget): Promise<FaultRecord> {
  const host = kvHost(t);
  await host.services.stop(KV_SERVICE);
  return { kind: 'kv-down', host: host.name, since: new Date().toISOString() };
}

/** Starts the KV store again (its data folder kept) and waits until it answers. */
export async function kvUp(t: FaultTarget): Promise<void> {
  const host = kvHost(t);
  if (await host.services.isRunning(KV_SERVICE)) return;
  await startKvStore(chosenKv(t)!, host, t.signal);
}

/** SIGKILL to the engine, by the pid in its pidfile (per host on netns; the machine's own on a VM). */
export async function killEngine(t: FaultTarget, name: string): Promise<FaultRecord> {
  const host = dockerHost(t, name);
  const pidfile = enginePidfile(host.engineFlags);
  await mustRun(host, ['sh', '-c', 'pid=$(cat "$1") && kill -KILL "$pid" && while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done', 'sh', pidfile]);
  return { kind: 'engine-killed', host: name, since: new Date().toISOString() };
}

/** What the engine says when a container's swarm network attachment went with a killed engine. */
const SWARM_ATTACHMENT_LOST = /network \S+ not found/;

/**
 * Starts the engine with the flags `up` gave it, waits for /_ping, and starts the lab's
 * containers on it that are not running; returns its version. An engine started after SIGKILL
 * (dockerd 20.10, no live-restore) stops the containers it finds still running and does not
 * restart them, whatever their restart policy: the lab is only whole again once they run.
 */
export async function startEngine(t: FaultTarget, name: string, timeoutMs = 60_000): Promise<string> {
  const host = dockerHost(t, name);
  const plan = t.plan.hosts.find((h) => h.name === name)!;
  const docker = engineClient(host.engine!);
  try {
    if (!(await host.services.isRunning(ENGINE_SERVICE))) {
      await mustRun(host, ['sh', '-c', STALE_CONTAINERD_SCRIPT, 'sh', engineExecRoot(host.engineFlags)]);
      // As up started it: the same flags, environment and engine tree.
      const tree = t.state.resources['engineTree'] as { bin?: string } | undefined;
      await host.services.start(
        engineServiceSpec({ providerFlags: host.engineFlags, daemon: plan.daemon!, kv: chosenKv(t), extraFlags: t.plan.engine.flags, treeBin: tree?.bin }),
      );
    }
    const version = await waitForEngine(host, docker, t.signal, timeoutMs);
    for (const c of t.plan.containers.filter((x) => x.host === name)) {
      const container = docker.getContainer(c.name);
      const info = (await container.inspect()) as { State: { Running: boolean } };
      if (info.State.Running) continue;
      try {
        await startContainer(container);
      } catch (e) {
        // A swarm-scoped (attachable) network's attachment does not survive the engine's kill:
        // the start fails with "network ... not found". The container is made again as `up`
        // made it; any other failure stands.
        if (!SWARM_ATTACHMENT_LOST.test(String((e as Error).message))) throw e;
        await container.remove({ force: true });
        await runContainer(docker, t.plan, c);
      }
    }
    return version;
  } finally {
    releaseEngine(docker);
  }
}

/** The engine's service stopped cleanly (SIGTERM); `startEngine` (or heal) starts it again. */
export async function stopEngine(t: FaultTarget, name: string): Promise<FaultRecord> {
  await dockerHost(t, name).services.stop(ENGINE_SERVICE);
  return { kind: 'engine-stopped', host: name, since: new Date().toISOString() };
}

/** A clean restart: the service stopped (SIGTERM), started again with the same flags. */
export async function restartEngine(t: FaultTarget, name: string): Promise<string> {
  await stopEngine(t, name);
  return startEngine(t, name);
}

/** Undoes one recorded fault. */
export async function undo(t: FaultTarget, f: FaultRecord): Promise<void> {
  switch (f.kind) {
    case 'partition':
      return unpartition(hostOf(t, f.host));
    case 'kv-down':
      return kvUp(t);
    case 'engine-killed':
    case 'engine-stopped':
      await startEngine(t, f.host);
      return;
    case 'latency':
    case 'rate': {
      const saved = savedQdiscOf(f);
      // A record from before overlab kept what it replaced: the kernel's default is all it can give back.
      return saved ? restoreQdisc(hostOf(t, f.host), saved) : clearQdisc(hostOf(t, f.host));
    }
  }
}

