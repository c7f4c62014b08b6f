// What every provider whose hosts are machines reached over SSH shares (ssh, vagrant): the
// host records in the lab state, connecting (SshRunner + SystemdServices + the engine's unix
// socket over SSH), the `ssh` command line for `overlab ssh`, and taking away from the machines
// only what overlab put there (the lab's containers and networks, overlab-* units, the engine
// drop-in, /var/lib/overlab) while leaving the machines themselves alone. Host keys are
// checked on every connection, under the policy each endpoint carries (HostKeyPolicy).
import { join } from 'node:path';
import type Docker from 'dockerode';
import { HostKeyError, HostUnreachableError } from '../errors.ts';
import { LABEL_LAB } from '../lab/plan.ts';
import type { HostRole, Plan } from '../lab/types.ts';
import { describeProvisioning } from '../provision/index.ts';
import { closeSshEngine, sshEngineClient } from '../remote/ssh-engine.ts';
import { userKnownHosts } from '../remote/host-keys.ts';
import { receiveFolder, type FolderDelivery } from '../remote/folders.ts';
import { SshRunner } from '../remote/runner.ts';
import { DATA_ROOT, DOCKER_DROP_IN, DOCKER_UNIT, RESTART_DOCKER_ARGV, SystemdServices, UNIT_PREFIX } from '../remote/systemd-services.ts';
import { shellJoin } from '../quote.ts';
import { labKnownHosts } from '../state/paths.ts';
import type { StateStore } from '../state/store.ts';
import { mapLimit } from '../wait.ts';
import { emptyDestroyReport, type DestroyReport } from './provider.ts';
import type { HostAccess, HostKeyPolicy, SshEndpoint } from '../host.ts';

// (Where the providers and their specs have always found them.)
export { hostKeyOptions, knownHostsOption, sshCommandArgv } from '../remote/ssh-command.ts';
import type { LabContext } from '../state/lab-context.ts';

/** The engine's socket on a machine whose engine runs as the packaged docker.service. */
export const ENGINE_SOCKET = '/var/run/docker.sock';

export interface SshHostSpec {
  name: string;
  address: string;
  role: HostRole;
  ssh: SshEndpoint;
}

/** What the lab state keeps per SSH host: how to reach it, and what overlab changed on it. */
export interface SshHostRecord {
  ssh: SshEndpoint;
  /** Transient units overlab started (overlab-<service>.service). */
  units?: string[];
  /** The engine drop-in, once overlab wrote it. */
  dropIn?: string;
  /** Folders overlab made to put this machine's folders there (an engine tree), removed by down. */
  folders?: string[];
}

export function provisionLog(store: StateStore, host: string): string {
  return join(store.dir, 'logs', `${host}.provision.log`);
}

/** The policy for later connections: a first contact is accepted only by the `up` that asked for it. */
export function laterPolicy(policy: HostKeyPolicy): HostKeyPolicy {
  const { acceptNew: _, ...rest } = policy;
  return rest;
}

/**
 * Records the hosts and how to reach them, before anything is done to them; the recorded host
 * key policy never accepts a new key (the lab's known_hosts then holds what was accepted).
 */
export function recordSshHosts(ctx: LabContext, specs: readonly SshHostSpec[], resources: Record<string, unknown>): void {
  ctx.store.update((s) => {
    s.resources = { ...s.resources, ...resources };
    for (const h of specs) {
      const previous = s.hosts[h.name]?.resources as Partial<SshHostRecord> | undefined;
      const record: SshHostRecord = { ...previous, ssh: { ...h.ssh, hostKeys: laterPolicy(h.ssh.hostKeys) } };
      s.hosts[h.name] = { name: h.name, address: h.address, role: h.role, resources: { ...record } };
    }
  });
}

/**
 * The endpoint recorded for a host. A record from before host keys were checked has no policy:
 * it gets the ssh provider's (the user's known_hosts and the lab's), which trusts no new key.
 */
export function recordedEndpoint(store: StateStore, record: Partial<SshHostRecord>): SshEndpoint | undefined {
  if (!record.ssh) return undefined;
  return { ...record.ssh, hostKeys: record.ssh.hostKeys ?? { knownHosts: [userKnownHosts()], recordIn: labKnownHosts(store.dir), vouchedBy: 'user' } };
}

/** The endpoints recorded for a lab's hosts, when its state has them. */
export function recordedEndpoints(store: StateStore): Map<string, SshEndpoint> {
  const out = new Map<string, SshEndpoint>();
  for (const h of Object.values(store.read()?.hosts ?? {})) {
    const ssh = recordedEndpoint(store, h.resources as Partial<SshHostRecord>);
    if (ssh) out.set(h.name, ssh);
  }
  return out;
}

function recordChange(store: StateStore, host: string, change: { unit: string } | { dropIn: string } | { folder: string }): void {
  store.update((s) => {
    const r = s.hosts[host]?.resources as Partial<SshHostRecord> | undefined;
    if (!r) return;
    if ('unit' in change) r.units = [...new Set([...(r.units ?? []), change.unit])];
    else if ('folder' in change) r.folders = [...new Set([...(r.folders ?? []), change.folder])];
    else r.dropIn = change.dropIn;
  });
}

/** How the harness reaches a host over its SSH connection; `deliver` puts folders there some other way than over it. */
export function sshHostAccess(spec: SshHostSpec, runner: SshRunner, ctx: LabContext, deliver?: FolderDelivery): HostAccess {
  return {
    name: spec.name,
    address: spec.address,
    runner,
    services: new SystemdServices(spec.name, runner, { record: (change) => recordChange(ctx.store, spec.name, change) }),
    ssh: spec.ssh,
    engine: spec.role === 'docker' ? { kind: 'ssh', ssh: spec.ssh, socketPath: ENGINE_SOCKET } : undefined,
    engineFlags: [],
    receiveFolder: (folder) => receiveFolder(spec.name, runner, folder, (path) => recordChange(ctx.store, spec.name, { folder: path }), deliver),
    close: () => runner.close(),
  };
}

/**
 * Connects to every host at once; if one cannot be reached, the others are closed and the error
 * names it. `deliverFolder` gives a host's way of receiving folders other than over SSH.
 */
export async function connectSshHosts(
  specs: readonly SshHostSpec[],
  ctx: LabContext,
  options: { deadlineMs?: number; deliverFolder?: (host: string) => FolderDelivery } = {},
): Promise<HostAccess[]> {
  const settled = await Promise.allSettled(
    specs.map((spec) =>
      SshRunner.connect(spec.ssh, {
        host: spec.name,
        signal: ctx.signal,
        events: ctx.events,
        logFile: provisionLog(ctx.store, spec.name),
        ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      }),
    ),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const r of settled) if (r.status === 'fulfilled') r.value.close();
    throw failed.reason;
  }
  return settled.map((r, i) => sshHostAccess(specs[i]!, (r as PromiseFulfilledResult<SshRunner>).value, ctx, options.deliverFolder?.(specs[i]!.name)));
}

/** Removes the lab's containers and networks (by the overlab.lab label) from one engine. */
export async function removeLabContents(docker: Docker, lab: string): Promise<{ containers: string[]; networks: string[] }> {
  const filters = { label: [`${LABEL_LAB}=${lab}`] };
  const containers = (await docker.listContainers({ all: true, filters })) as { Id: string; Names: string[] }[];
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true });
  const networks = (await docker.listNetworks({ filters })) as { Id: string; Name: string }[];
  for (const n of networks) {
    try {
      await docker.getNetwork(n.Id).remove();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }
  return { containers: containers.map((c) => c.Names[0]?.replace(/^\//, '') ?? c.Id), networks: networks.map((n) => n.Name) };
}

/**
 * Takes away from every recorded host what overlab put there, and leaves the machine. A host
 * that cannot be reached is reported (a warning) and skipped: there is nothing to remove from
 * a machine that is gone. overlab's things are known by their names (overlab-* units, the
 * overlab.conf drop-in, /var/lib/overlab) and the lab's label, so `force` adds nothing here.
 * Each host cleaned is dropped from the lab state's hosts.
 */
export async function removeOverlabFromHosts(lab: string, ctx: LabContext, _options: { force: boolean }): Promise<DestroyReport> {
  const state = ctx.store.read();
  const report = emptyDestroyReport();
  if (!state) return report;
  // In mode alone the students may have made one: it goes too.
  const swarm = state.mode === 'swarm' || state.mode === 'alone';
  const hosts = Object.values(state.hosts);
  await mapLimit(hosts, 8, async (h) => {
    const record = h.resources as Partial<SshHostRecord>;
    const ssh = recordedEndpoint(ctx.store, record);
    if (!ssh) return;
    let runner: SshRunner;
    try {
      runner = await SshRunner.connect(ssh, { host: h.name, deadlineMs: 15_000, signal: ctx.signal, logFile: provisionLog(ctx.store, h.name), events: ctx.events });
    } catch (e) {
      if (e instanceof HostKeyError) {
        // Whatever answers is not the machine the lab was made on: nothing is run there.
        ctx.events.emit({ type: 'warn', host: h.name, message: `${h.name} was left alone, as its host key is not trusted: ${e.message}` });
        return;
      }
      if (!(e instanceof HostUnreachableError)) throw e;
      ctx.events.emit({ type: 'warn', host: h.name, message: `${h.name} cannot be reached, so nothing was removed from it: ${e.message}` });
      return;
    }
    try {
      // The kv host may run an engine too (provisioning runs Consul as a container).
      const docker = sshEngineClient({ ssh, socketPath: ENGINE_SOCKET }, { host: h.name, connectDeadlineMs: 15_000 });
      try {
        await docker.ping();
        const removed = await removeLabContents(docker, lab);
        report.containers.push(...removed.containers.map((c) => `${h.name}/${c}`));
        if (swarm) await docker.swarmLeave({ force: true }).catch(() => {});
      } catch (e) {
        if (h.role === 'docker') {
          ctx.events.emit({ type: 'warn', host: h.name, message: `the engine on ${h.name} did not answer; the lab's containers and networks there were not removed: ${(e as Error).message}` });
        }
      } finally {
        closeSshEngine(docker);
      }
      // Units: the recorded ones, and any overlab-* unit on the machine (loaded, or a unit file
      // provisioning installed); the name prefix is overlab's own.
      const units = new Set(record.units ?? []);
      const listed = await runner.exec(['sh', '-c', `{ systemctl list-units --all --plain --no-legend --type=service '${UNIT_PREFIX}*'; systemctl list-unit-files --no-legend --type=service '${UNIT_PREFIX}*'; } 2>/dev/null | awk '{print $1}'`]);
      for (const unit of listed.stdout.split('\n').map((l) => l.trim())) if (unit.startsWith(UNIT_PREFIX) && unit.endsWith('.service')) units.add(unit);
      for (const unit of units) {
        const active = (await runner.exec(['systemctl', 'is-active', '--quiet', unit])).exitCode === 0;
        await runner.exec(['sh', '-c', 'systemctl disable --now "$1" 2>/dev/null; systemctl stop "$1" 2>/dev/null; systemctl reset-failed "$1" 2>/dev/null; true', 'stop', unit]);
        if (active) report.processes.push(`${h.name}: ${unit}`);
      }
      const unitFiles = await runner.exec(['sh', '-c', `ls -d /etc/systemd/system/${UNIT_PREFIX}*.service ${DOCKER_DROP_IN} 2>/dev/null || true`]);
      const files = unitFiles.stdout.split('\n').filter(Boolean);
      if (files.length) {
        await runner.exec(['rm', '-f', ...files]);
        report.paths.push(...files.map((f) => `${h.name}:${f}`));
        // Back to the packaged engine, as it was before the lab.
        const engineActive = (await runner.exec(['systemctl', 'is-active', '--quiet', DOCKER_UNIT])).exitCode === 0;
        await runner.exec(files.includes(DOCKER_DROP_IN) && engineActive ? RESTART_DOCKER_ARGV : ['systemctl', 'daemon-reload']);
      }
      // Folders sent from this machine (an engine tree), once the engine that ran from them is back to the packaged one.
      for (const folder of record.folders ?? []) {
        if ((await runner.exec(['test', '-e', folder])).exitCode !== 0) continue;
        await runner.exec(['rm', '-rf', '--one-file-system', folder]);
        report.paths.push(`${h.name}:${folder}`);
      }
      if ((await runner.exec(['test', '-e', DATA_ROOT])).exitCode === 0) {
        await runner.exec(['rm', '-rf', DATA_ROOT]);
        report.paths.push(`${h.name}:${DATA_ROOT}`);
      }
    } finally {
      runner.close();
    }
    // Nothing of the lab is left on this machine: it is the lab's no more (connect refuses it,
    // hostStates has it "not created", and another destroy leaves it alone). A machine that
    // could not be reached keeps its record, for a later destroy.
    ctx.store.update((s) => void delete s.hosts[h.name]);
  });
  return report;
}

/** What `up` does to a machine over SSH before its services start, for `up --dry-run`. */
export function describeSshHost(plan: Plan, s: SshHostSpec, connect: string[]): string[] {
  const sudo = s.ssh.username === 'root' ? '' : 'sudo -n ';
  return [
    `${shellJoin(connect)}    # connect; uploads over SFTP, the engine's unix socket forwarded over the same SSH`,
    `# provision ${s.name} (${sudo}bash -s < provision/${s.name}.sh; output in logs/${s.name}.provision.log):`,
    ...describeProvisioning(plan, s.name),
  ];
}
