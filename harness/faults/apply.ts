// Putting faults in place on a live lab and taking them away, through the host contract only:
// commands run by each host's HostRunner (inside its namespaces on netns, over SSH on vagrant
// and ssh), services stopped and started by its ServiceManager. No provider is named here.
// Every command is bounded; a host that does not answer is named in a HostUnreachableError.
import { CommandFailedError, HostUnreachableError, PrerequisiteError, UsageError } from '../errors.ts';
import { ENGINE_SERVICE, type ExecResult, type HostAccess } from '../host.ts';
import { engineExecRoot, engineServiceSpec } from '../engine/daemon.ts';
import { shellJoin } from '../quote.ts';
import { engineClient, releaseEngine, waitForEngine } from '../engine/client.ts';
import { runContainer, startContainer } from '../engine/contents.ts';
import { KV_SERVICE, startKvStore } from '../kv/run.ts';
import type { KvCandidate, Plan } from '../lab/types.ts';
import type { FaultRecord } from '../state/faults.ts';
import type { LabState } from '../state/store.ts';
import {
  clearQdiscArgv,
  DEFAULT_QDISC_ARGV,
  defaultQdiscFrom,
  enginePidfile,
  FAULT_QDISC_KINDS,
  STALE_CONTAINERD_SCRIPT,
  interfaceNameProblem,
  interfaceWithAddress,
  kernelLacksQdisc,
  type LinkFaultRecord,
  NETEM_CONFIG,
  netemArgv,
  netemInConfig,
  nothingToDelete,
  parseQdiscs,
  partitionCommand,
  qdiscRestore,
  qdiscTree,
  recreateQdiscArgv,
  rootQdiscLine,
  type SavedQdisc,
  savedQdiscOf,
  showQdiscArgv,
  tbfArgv,
  unpartitionScript,
} from './commands.ts';

/** How long one command of a fault may take on a host before the host counts as unreachable. */
export const FAULT_COMMAND_TIMEOUT_MS = 20_000;

/** The live lab a fault acts on. */
export interface FaultTarget {
  plan: Pick<Plan, 'lab' | 'mode' | 'kv' | 'hosts' | 'dockerHosts' | 'containers' | 'engine'>;
  state: LabState;
  hosts: Map<string, HostAccess>;
  signal: AbortSignal;
}

export function hostOf(t: FaultTarget, name: string): HostAccess {
  const h = t.hosts.get(name);
  if (!h) throw new UsageError(`lab ${t.plan.lab} has no host ${name}; its hosts are ${[...t.hosts.keys()].join(', ')}`);
  return h;
}

function dockerHost(t: FaultTarget, name: string): HostAccess {
  const h = hostOf(t, name);
  if (!t.plan.dockerHosts.includes(name)) throw new UsageError(`${name} runs no Docker engine in lab ${t.plan.lab}; its docker hosts are ${t.plan.dockerHosts.join(', ')}`);
  return h;
}

async function run(host: HostAccess, argv: string[], options: { input?: string } = {}): Promise<ExecResult> {
  const r = await host.runner.exec(argv, { timeoutMs: FAULT_COMMAND_TIMEOUT_MS, ...(options.input === undefined ? {} : { input: options.input }) });
  if (r.exitCode === 124) {
    throw new HostUnreachableError(`host ${host.name} did not answer within ${FAULT_COMMAND_TIMEOUT_MS / 1000} s (running ${argv.join(' ')})`, {
      hint: 'Check it with `overlab status`; `overlab down` removes the lab even so.',
    });
  }
  return r;
}

async function mustRun(host: HostAccess, argv: string[], options: { input?: string } = {}): Promise<ExecResult> {
  const r = await run(host, argv, options);
  if (r.exitCode !== 0) throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: host.name });
  return r;
}

/**
 * The interface that holds the host's lab address: its underlay (eth1 on netns, whatever a VM
 * or machine calls it). Refused unless it is a name Linux could give an interface; even then it
 * goes to the host only as an argv word or a script's positional parameter.
 */
export async function underlayInterface(host: HostAccess): Promise<string> {
  const r = await mustRun(host, ['ip', '-o', '-4', 'addr', 'show']);
  const iface = interfaceWithAddress(r.stdout, host.address);
  if (!iface) throw new CommandFailedError({ command: 'ip -o -4 addr show', exitCode: 0, output: `no interface holds ${host.address}\n${r.stdout}`, host: host.name });
  checkInterfaceName(host, iface, `the interface that holds ${host.address}`);
  return iface;
}

function checkInterfaceName(host: HostAccess, iface: string, what: string): void {
  const problem = interfaceNameProblem(iface);
  if (problem) {
    throw new PrerequisiteError(`host ${host.name}: ${what} is named ${JSON.stringify(iface)}, which is no Linux interface name (${problem}); overlab will not use it in a command`, {
      hint: 'Check `ip -o -4 addr show` on the host; a fault needs the lab address on an interface with an ordinary name.',
    });
  }
}

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

/** What the kernel attaches by default on the host (net.core.default_qdisc); undefined where it cannot be read. */
async function defaultQdisc(host: HostAccess): Promise<string | undefined> {
  return defaultQdiscFrom(await run(host, DEFAULT_QDISC_ARGV));
}

/**
 * The root qdisc the host's underlay has before a latency or rate fault replaces it, for the
 * lab's state: read and checked before anything changes. Refused, naming the interface and the
 * qdisc, when heal could not put it back as it is (a tree someone built, parameters overlab
 * cannot set): it is left as it is. `recorded`: what an earlier fault on the host that is still
 * in place recorded (the root qdisc there now is overlab's own), kept as it is.
 */
export async function qdiscBefore(t: FaultTarget, name: string, recorded?: SavedQdisc): Promise<SavedQdisc> {
  const host = hostOf(t, name);
  if (recorded) {
    checkInterfaceName(host, recorded.iface, "the interface the lab's state records a fault on");
    return recorded;
  }
  const iface = await underlayInterface(host);
  const shown = (await mustRun(host, showQdiscArgv(iface))).stdout;
  const restore = qdiscRestore(shown, await defaultQdisc(host));
  if (restore.how === 'refuse') {
    throw new PrerequisiteError(
      `host ${host.name}: a latency or rate fault would replace the root qdisc of ${iface} (${rootQdiscLine(shown)}), and overlab could not put it back as it is: ${restore.why}; nothing was changed`,
      {
        hint: FAULT_QDISC_KINDS.some((k) => rootQdiscLine(shown).startsWith(`qdisc ${k} `))
          ? `If it is overlab's own from an earlier fault the lab's state no longer records, \`${shellJoin(['tc', 'qdisc', 'del', 'dev', iface, 'root'])}\` on ${host.name} removes it.`
          : `These faults replace the root qdisc of the lab's interface; use them on a host whose ${iface} has the kernel's default qdisc, or a noqueue, pfifo, pfifo_fast or fq_codel one.`,
      },
    );
  }
  return { iface, shown };
}

/**
 * Delay (and loss) on the host's underlay with netem; refused, naming the kernel option, where
 * the kernel has none. `before`: the qdisc there, as recorded in the lab's state (read here when
 * not given); the record returned carries it, for heal.
 */
export async function latency(t: FaultTarget, name: string, ms: number, loss?: number, before?: SavedQdisc): Promise<LinkFaultRecord> {
  const host = hostOf(t, name);
  const qdisc = before ?? (await qdiscBefore(t, name));
  checkInterfaceName(host, qdisc.iface, 'the interface of the fault');
  const argv = netemArgv(qdisc.iface, ms, loss);
  const r = await run(host, argv);
  if (r.exitCode !== 0) {
    if (kernelLacksQdisc(r.stderr)) throw await netemMissing(host, r.stderr);
    throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: host.name });
  }
  return { kind: 'latency', host: name, ms, ...(loss ? { loss } : {}), since: new Date().toISOString(), qdisc };
}

/** Whether the host's kernel can add delay (netem), and if not why: for the specs' n/a. */
export async function netemUnavailable(host: HostAccess): Promise<string | undefined> {
  const iface = await underlayInterface(host);
  // A qdisc on lo tells without touching the underlay; removed at once.
  const r = await run(host, ['sh', '-c', 'tc qdisc add dev lo root netem delay 1ms && tc qdisc del dev lo root']);
  if (r.exitCode === 0) return undefined;
  if (kernelLacksQdisc(r.stderr)) return (await netemMissing(host, r.stderr)).message;
  return `netem could not be tried on ${host.name} (${iface}): ${r.stderr.trim()}`;
}

async function netemMissing(host: HostAccess, stderr: string): Promise<PrerequisiteError> {
  const config = await run(host, ['sh', '-c', 'zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) 2>/dev/null']);
  const setting = config.exitCode === 0 && config.stdout ? (netemInConfig(config.stdout) ?? 'not set') : 'unknown (no /proc/config.gz)';
  return new PrerequisiteError(
    `the kernel of ${host.name} has no netem qdisc (${NETEM_CONFIG} ${setting}), so no delay or loss can be added: ${stderr.trim().split('\n')[0]}`,
    { hint: `A kernel with ${NETEM_CONFIG}=y or =m (and the module loaded) has it, as the VMs' Debian kernel does; \`overlab fault rate\` (tbf) works here.` },
  );
}

/** A rate limit on the host's underlay (token bucket); `before` as for latency. */
export async function rate(t: FaultTarget, name: string, mbit: number, before?: SavedQdisc): Promise<LinkFaultRecord> {
  const host = hostOf(t, name);
  const qdisc = before ?? (await qdiscBefore(t, name));
  checkInterfaceName(host, qdisc.iface, 'the interface of the fault');
  await mustRun(host, tbfArgv(qdisc.iface, mbit));
  return { kind: 'rate', host: name, mbit, since: new Date().toISOString(), qdisc };
}

/** Deletes the root qdisc of `iface`, so the kernel attaches its default; none of anyone's there is fine. */
async function deleteRootQdisc(host: HostAccess, iface: string): Promise<void> {
  const argv = clearQdiscArgv(iface);
  const r = await run(host, argv);
  if (r.exitCode !== 0 && !nothingToDelete(r.stderr)) {
    throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: r.stderr, host: host.name });
  }
}

/**
 * Removes the root qdisc from the underlay, so the kernel attaches its default: right only where
 * that is what was there (hosts the lab created: netns, vagrant). For a fault whose record
 * carries what was there, restoreQdisc puts exactly that back.
 */
export async function clearQdisc(host: HostAccess): Promise<void> {
  await deleteRootQdisc(host, await underlayInterface(host));
}

/**
 * Puts back the root qdisc a latency or rate fault replaced, as recorded: deleting overlab's
 * where the kernel's default was there, else making the recorded one again with its handle and
 * parameters. Done already when the interface has what was recorded; left alone when its root
 * qdisc is neither that nor overlab's (someone has set another since).
 */
export async function restoreQdisc(host: HostAccess, saved: SavedQdisc): Promise<void> {
  checkInterfaceName(host, saved.iface, "the interface the lab's state records a fault on");
  const was = qdiscTree(saved.shown);
  const now = (await mustRun(host, showQdiscArgv(saved.iface))).stdout;
  if (was !== undefined && qdiscTree(now) === was) return;
  const lines = parseQdiscs(now);
  const root = typeof lines === 'string' ? undefined : lines.find((l) => l.parent === 'root');
  if (!root || !FAULT_QDISC_KINDS.includes(root.kind)) return;
  const restore = qdiscRestore(saved.shown, await defaultQdisc(host));
  switch (restore.how) {
    case 'delete':
      return deleteRootQdisc(host, saved.iface);
    case 'recreate':
      // overlab's qdisc holding the recorded handle (tc numbers its own from 8001:) is deleted
      // first: a replace with that handle would change it, not make the recorded kind.
      if (restore.args[0] === 'handle' && restore.args[1] === root.handle) await deleteRootQdisc(host, saved.iface);
      await mustRun(host, recreateQdiscArgv(saved.iface, restore.args));
      return;
    case 'refuse':
      // The kernel's default has changed since, or the record was altered: overlab's qdisc goes
      // (the kernel's default comes), and the error says what to put back by hand.
      await deleteRootQdisc(host, saved.iface);
      throw new PrerequisiteError(
        `host ${host.name}: overlab's qdisc is gone from ${saved.iface}, but the root qdisc it replaced could not be put back (${restore.why}); it was:\n${saved.shown.trim()}`,
        { hint: `Set it again with tc on ${host.name}; \`${shellJoin(showQdiscArgv(saved.iface))}\` shows what is there now.` },
      );
  }
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

