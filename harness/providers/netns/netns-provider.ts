// The netns provider: every host is a set of Linux namespaces on this machine (network from
// `ip netns`, UTS and mount from a holder process), wired to a bridge in a switch namespace by
// veth pairs, with its own sshd. Engines and KV stores run in them as real processes. The
// hosts' sshd uses a host key overlab generates for the lab; its public key is pinned in the
// lab's known_hosts (and its fingerprint in the lab state), and every SSH connection to a host,
// overlab's or `overlab ssh`'s, trusts that key and no other. One concept per module: the
// holder of each host's namespaces (./holder.ts), the lab's keys and each host's sshd
// (./sshd.ts), how a host is reached (./access.ts), the wiring (./topology.ts).
import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailedError, currentUid, HostUnreachableError, LabStateError } from '../../errors.ts';
import type { Plan } from '../../lab/types.ts';
import { labKnownHosts, labRuntimeDir, ownerStateDir, RUNTIME_ROOT } from '../../state/paths.ts';
import { ensureRootOnlyDir, notRootOnly } from '../../system/root-dirs.ts';
import { fingerprint, knownHostsLine, knownHostsName } from '../../remote/host-keys.ts';
import { hostKeyOptions, sshCommandArgv } from '../../remote/ssh-command.ts';
import { describeOwner } from '../../state/owner.ts';
import { emptyDestroyReport, type DestroyReport, type HostCommands, type Provider } from '../provider.ts';
import { ENGINE_SERVICE, type HostAccess, type HostRunner } from '../../host.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { isSameProcess, stopProcess, type ProcessRef } from '../../system/processes.ts';
import { findProgram } from '../../system/programs.ts';
import { handOver, removeOwnerFolder, ownerRuntimeDir } from './hand-over.ts';
import { killProcessesIn, labPrefix, mountNamespaceOf, namespaceInode, namespacesWithPrefix, netNamespaceOf, NETNS_DIR, pinNamespaces } from '../../system/namespaces.ts';
import { mountsUnder, removeCgroups } from './leftovers.ts';
import { estimateNetnsMemoryMiB, netnsMemoryInUseMiB } from './memory.ts';
import { hostNamespace, hostRuntimeDir, hostsFile, switchAddress, switchNamespace, wiringScripts } from './topology.ts';
import { HOLDER_SCRIPT, holderOf, recordedHolders, startHolder, type NetnsHostResources } from './holder.ts';
import { makeLabKeys, startSshd } from './sshd.ts';
import { netnsAccess, netnsEngineFlags, netnsOwnerAccess } from './access.ts';
import { setupScript } from '../../system/package-root.ts';

export { netnsHostKeys } from './sshd.ts';

const REQUIRED_BINARIES = ['ip', 'nsenter', 'unshare', 'dockerd', 'busybox', 'ssh-keygen', 'sshd'];

export class NetnsProvider implements Provider {
  readonly id = 'netns' as const;
  /** Every copy in namespaces of its own: the lab's addresses can repeat. */
  readonly copies = 'same-addresses' as const;
  readonly sideBySide = true;
  /** Its engines and hosts are on this machine: a lab can be handed to a user of it (hand-over.ts). */
  readonly handsOver = true;
  readonly runningMeansReachable = true;

  estimateMemoryMiB(plan: Plan): number {
    return estimateNetnsMemoryMiB(plan);
  }

  async memoryInUseMiB(lab: string): Promise<number | undefined> {
    return netnsMemoryInUseMiB(lab);
  }

  async unusableReason(): Promise<string | undefined> {
    if (process.platform !== 'linux') return 'the netns provider needs Linux';
    if (process.getuid?.() !== 0) return 'the netns provider needs root (namespaces, veths, dockerd)';
    const missing = REQUIRED_BINARIES.filter((b) => !findProgram(b, { systemDirs: true }));
    if (missing.length) return `missing ${missing.join(', ')}: run \`sudo ${setupScript()}\` to install them`;
    return undefined;
  }

  async createHosts(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    const { store } = ctx;
    const labDir = labRuntimeDir(plan.lab);
    const sshDir = join(store.dir, 'ssh');
    // Record first: whatever happens next, `down` knows what to look for.
    store.update((s) => {
      s.resources = { switch: switchNamespace(plan.lab), runtimeDir: labDir, switchAddress: switchAddress(plan), sshDir };
      for (const h of plan.hosts) {
        const res: NetnsHostResources = { namespace: hostNamespace(plan.lab, h.name), runtimeDir: hostRuntimeDir(plan.lab, h.name) };
        s.hosts[h.name] = { name: h.name, address: h.address, role: h.role, resources: { ...res } };
      }
    });
    ensureRootOnlyDir(RUNTIME_ROOT);
    mkdirSync(labDir, { recursive: true, mode: 0o755 });
    const hostsPath = join(labDir, 'hosts');
    writeFileSync(hostsPath, hostsFile(plan));
    const [, hostKey] = await Promise.all([this.wire(plan, ctx), makeLabKeys(sshDir)]);
    // Pin the host key: the lab's known_hosts lists it for every host's address, and nothing else.
    writeFileSync(labKnownHosts(store.dir), plan.hosts.map((h) => `${knownHostsLine(knownHostsName(h.address, 22), hostKey)}\n`).join(''), { mode: 0o600 });
    store.update((s) => {
      s.resources['hostKey'] = fingerprint(hostKey);
    });
    ctx.signal.throwIfAborted();

    for (const h of plan.hosts) {
      mkdirSync(hostRuntimeDir(plan.lab, h.name), { recursive: true });
      if (h.role === 'docker') writeFileSync(join(hostRuntimeDir(plan.lab, h.name), 'daemon.json'), '{}\n');
    }
    const hosts = await Promise.all(
      plan.hosts.map(async (h) => {
        const holder = await startHolder(plan, h, hostsPath, ctx);
        const access = netnsAccess(plan, h, holder, ctx);
        ctx.signal.throwIfAborted();
        await startSshd(h, access, sshDir);
        return access;
      }),
    );
    const owner = store.read()?.owner;
    if (owner) {
      await handOver(plan, owner, { stateDir: store.dir, sshDir, switchNamespace: switchNamespace(plan.lab), knownHosts: labKnownHosts(store.dir) }, ctx.signal);
      ctx.events.emit({ type: 'info', message: `lab ${plan.lab} is handed to ${describeOwner(owner)}: its engines at ${ownerRuntimeDir(plan.lab)}/HOST.docker.sock` });
    }
    return hosts;
  }

  async connect(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    const state = ctx.store.read();
    if (!state) throw new LabStateError(`lab ${plan.lab} is not up`, { hint: `Run \`overlab up --lab ${plan.lab}\`.` });
    // Not root: the owner of a lab handed over (the caller checked), through its own doors.
    const owner = state.owner !== undefined && currentUid() !== 0;
    return plan.hosts.map((h) => {
      const holder = holderOf(state.hosts[h.name]?.resources);
      if (!holder || !isSameProcess(holder)) {
        throw new HostUnreachableError(`host ${h.name} of lab ${plan.lab} is not running`, {
          hint: `Run \`overlab down --lab ${plan.lab}\`, then \`overlab up --lab ${plan.lab}\`.`,
        });
      }
      return owner ? netnsOwnerAccess(plan, h, holder, ctx) : netnsAccess(plan, h, holder, ctx);
    });
  }

  async hostStates(plan: Plan, ctx: LabContext): Promise<Record<string, string>> {
    const state = ctx.store.read();
    return Object.fromEntries(
      plan.hosts.map((h) => {
        const holder = holderOf(state?.hosts[h.name]?.resources);
        return [h.name, holder === undefined ? 'not created' : isSameProcess(holder) ? 'running' : 'gone'];
      }),
    );
  }

  /** Namespaces share this machine's kernel: what it has, every host of the lab has. */
  kernelRunner(): HostRunner {
    return {
      async exec(argv, options = {}) {
        const { execa } = await import('execa');
        const r = await execa(argv[0]!, argv.slice(1), { reject: false, ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}), ...(options.input ? { input: options.input } : {}) });
        return { exitCode: r.timedOut ? 124 : (r.exitCode ?? 1), stdout: String(r.stdout), stderr: String(r.stderr) };
      },
    };
  }

  async destroy(lab: string, ctx: LabContext, options: { force: boolean }): Promise<DestroyReport> {
    const { execa } = await import('execa'); // loaded on use: `env` and `status` run no command
    const state = ctx.store.read();
    const hosts = Object.values(state?.hosts ?? {});
    const report = emptyDestroyReport();

    // 1. Engines first (they stop their containers and containerd), then everything else.
    const stopServices = async (filter: (name: string) => boolean) =>
      Promise.all(
        hosts.flatMap((h) =>
          Object.entries((h.resources as unknown as NetnsHostResources).services ?? {})
            .filter(([name]) => filter(name))
            .map(async ([name, r]) => {
              if (isSameProcess(r)) report.processes.push(`${h.name}: ${name} (pid ${r.pid})`);
              await stopProcess(r);
            }),
        ),
      );
    await stopServices((n) => n === ENGINE_SERVICE);
    await stopServices((n) => n !== ENGINE_SERVICE);

    // 2. Whatever still runs inside the lab's namespaces, and its descendants.
    const namespaces = new Set<string>([
      ...hosts.map((h) => (h.resources as unknown as NetnsHostResources).namespace),
      ...(state?.resources['switch'] ? [String(state.resources['switch'])] : []),
      ...(options.force || !state ? namespacesWithPrefix(labPrefix(lab)) : []),
    ]);
    // The hosts' namespaces are also known by their holders, recorded with their start times in
    // the state and in the lab's runtime folder (which only root can write, and which outlives a
    // lost state folder): namespaces whose names were deleted under them are the lab's by that
    // proof. Never by what a command line names: a process of another lab that names this lab's
    // folder (a `tail -f` of its file) is that other lab's.
    // Never the machine's own namespaces either.
    const own = new Set([netNamespaceOf(process.pid), mountNamespaceOf(process.pid), netNamespaceOf(1), mountNamespaceOf(1)]);
    const holders = [...hosts.map((h) => holderOf(h.resources)), ...recordedHolders(lab)]
      .filter((p): p is ProcessRef => p !== undefined && isSameProcess(p))
      .map((p) => p.pid);
    // Pinned while their processes die, so that their numbers never name another lab's namespaces.
    const pins = pinNamespaces(
      {
        net: [...[...namespaces].map((ns) => join(NETNS_DIR, ns)), ...holders.map((pid) => `/proc/${pid}/ns/net`)],
        mnt: holders.map((pid) => `/proc/${pid}/ns/mnt`),
      },
      own,
    );
    try {
      report.processes.push(...(await killProcessesIn(pins)));
    } finally {
      pins.release();
    }

    // 3. Namespaces, mounts, runtime folder, cgroups.
    for (const ns of namespaces) {
      if (namespaceInode(ns) === undefined) continue;
      const r = await execa('ip', ['netns', 'delete', ns], { reject: false });
      if (r.exitCode !== 0) throw new CommandFailedError({ command: `ip netns delete ${ns}`, exitCode: r.exitCode ?? null, output: String(r.stderr) });
      report.namespaces.push(ns);
    }
    const runtimeDir = labRuntimeDir(lab);
    for (const m of mountsUnder(runtimeDir)) await execa('umount', ['-l', m], { reject: false });
    // Removed only through a runtime root no other user can change: through one that is not,
    // the lab's folder could lead anywhere (up refuses such a root, so nothing of the lab is there).
    const unsafe = existsSync(RUNTIME_ROOT) ? notRootOnly(lstatSync(RUNTIME_ROOT)) : undefined;
    if (unsafe) ctx.events.emit({ type: 'warn', message: `${runtimeDir} was left alone: ${RUNTIME_ROOT} ${unsafe}` });
    else if (existsSync(runtimeDir)) {
      rmSync(runtimeDir, { recursive: true, force: true });
      report.paths.push(runtimeDir);
    }
    removeCgroups(`overlab.${lab}.`);
    // The owner's folder (`up --owner`): its key is authorized nowhere once the hosts are gone.
    if (await removeOwnerFolder(ctx.store.dir)) report.paths.push(ownerStateDir(ctx.store.dir));
    return report;
  }

  /** ssh from the switch namespace, where the lab's addresses are reachable (like a host-only adapter). */
  sshArgv(host: HostAccess, ctx: LabContext, command: string[]): string[] {
    // The owner's access carries its door as a proxy command; root enters the switch namespace.
    if (currentUid() !== 0) return sshCommandArgv(host.ssh!, command);
    const sw = String(ctx.store.read()?.resources['switch'] ?? '');
    const ssh = host.ssh!;
    return [
      'nsenter', `--net=/run/netns/${sw}`, '--',
      'ssh', '-i', ssh.privateKeyPath, '-p', String(ssh.port), '-l', ssh.username,
      '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR',
      ...hostKeyOptions(ssh.hostKeys),
      ...(command.length ? [] : ['-t']),
      '--', ssh.host, ...command,
    ];
  }

  // -- steps of createHosts

  private async wire(plan: Plan, ctx: LabContext): Promise<void> {
    const { execa } = await import('execa');
    const taken = namespacesWithPrefix(labPrefix(plan.lab));
    if (taken.length) {
      throw new LabStateError(`namespaces of lab ${plan.lab} already exist (${taken.join(', ')}) but the lab state does not own them`, {
        hint: `Run \`overlab down --force --lab ${plan.lab}\` to remove them.`,
      });
    }
    const { root, inside } = wiringScripts(plan);
    const batch = async (args: string[], script: string) => {
      ctx.events.emit({ type: 'command', host: '(switch)', command: `ip ${args.join(' ')} -batch - <<EOF\n${script}EOF` });
      const r = await execa('ip', [...args, '-batch', '-'], { input: script, reject: false });
      if (r.exitCode !== 0) {
        throw new CommandFailedError({ command: `ip ${args.join(' ')} -batch - (lab wiring)`, exitCode: r.exitCode ?? null, output: `${r.stdout}\n${r.stderr}` });
      }
    };
    await batch([], root);
    await Promise.all(Object.entries(inside).map(([ns, script]) => batch(['-n', ns], script)));
  }

  engineFlagsFor(plan: Plan, name: string): string[] {
    return netnsEngineFlags(plan, name);
  }

  describe(plan: Plan): HostCommands[] {
    const { root, inside } = wiringScripts(plan);
    const lines = (ns: string) => inside[ns]!.trimEnd().split('\n').map((l) => `ip -n ${ns} ${l}`);
    const sw = switchNamespace(plan.lab);
    return [
      { host: '(switch)', commands: [...root.trimEnd().split('\n').map((l) => `ip ${l}`), ...lines(sw)] },
      ...plan.hosts.map((h) => {
        const ns = hostNamespace(plan.lab, h.name);
        return {
          host: h.name,
          commands: [
            ...lines(ns),
            `nsenter --net=/run/netns/${ns} -- unshare --uts --mount --propagation private -- sh -c '${HOLDER_SCRIPT}' holder ${h.hostname} ${join(labRuntimeDir(plan.lab), 'hosts')} ${RUNTIME_ROOT}`,
            `nsenter -t HOLDER --net --uts --mount -- sshd -D -e -f SSHDIR/sshd_config -o ListenAddress=${h.address}`,
          ],
        };
      }),
    ];
  }

}

