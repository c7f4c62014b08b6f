// How a netns host is reached: by root (the host's namespaces directly, its engine socket, SSH
// through the switch namespace) or by the lab's owner (the doors handed over), and the dockerd
// flags that keep each host's engine in the host's runtime folder.
import { join } from 'node:path';
import type { HostPlan, Plan } from '../../lab/types.ts';
import type { HostAccess } from '../../host.ts';
import type { LabContext } from '../../state/lab-context.ts';
import type { ProcessRef } from '../../system/processes.ts';
import { ownerEngineSocket, OwnerRunner, ownerSshEndpoint } from './hand-over.ts';
import { NetnsRunner, NetnsServices } from './host.ts';
import { netnsHostKeys } from './sshd.ts';
import { cgroupParent, hostRuntimeDir, switchNamespace } from './topology.ts';

/** Root's way to a host: its namespaces through the holder, its engine socket, SSH through the switch. */
export function netnsAccess(plan: Plan, h: HostPlan, holder: ProcessRef, ctx: LabContext): HostAccess {
  const runtimeDir = hostRuntimeDir(plan.lab, h.name);
  const socketPath = join(runtimeDir, 'docker.sock');
  const sshDir = join(ctx.store.dir, 'ssh');
  return {
    name: h.name,
    address: h.address,
    runner: new NetnsRunner(h.name, holder),
    services: new NetnsServices(h.name, holder, ctx.store, runtimeDir),
    ssh: {
      host: h.address,
      port: 22,
      username: 'root',
      privateKeyPath: join(sshDir, 'id_ed25519'),
      proxy: ['nsenter', `--net=/run/netns/${switchNamespace(plan.lab)}`, '--', 'busybox', 'nc', h.address, '22'],
      hostKeys: netnsHostKeys(ctx.store.dir),
    },
    engine: h.role === 'docker' ? { kind: 'socket', socketPath } : undefined,
    engineFlags: netnsEngineFlags(plan, h.name),
  };
}

/** The owner's way to a host: its engine door, and a runner over SSH through its sshd door. */
export function netnsOwnerAccess(plan: Plan, h: HostPlan, holder: ProcessRef, ctx: LabContext): HostAccess {
  const ssh = ownerSshEndpoint(plan, h, ctx.store.dir, netnsHostKeys(ctx.store.dir));
  const runner = new OwnerRunner(ssh, h.name, ctx.signal);
  return {
    name: h.name,
    address: h.address,
    runner,
    // Starting and stopping services is root's (faults refuse the owner before they get here).
    services: new NetnsServices(h.name, holder, ctx.store, hostRuntimeDir(plan.lab, h.name)),
    ssh,
    engine: h.role === 'docker' ? { kind: 'socket', socketPath: ownerEngineSocket(plan.lab, h.name) } : undefined,
    engineFlags: netnsEngineFlags(plan, h.name),
    close: () => runner.close(),
  };
}

/** dockerd's flags on a host: socket, data, exec root and cgroup in the host's own places; DNS that never leaves the lab. */
export function netnsEngineFlags(plan: Plan, name: string): string[] {
  const h = plan.hosts.find((x) => x.name === name)!;
  const runtimeDir = hostRuntimeDir(plan.lab, h.name);
  const socketPath = join(runtimeDir, 'docker.sock');
  return h.role === 'docker'
        ? [
            `--host=unix://${socketPath}`,
            `--data-root=${join(runtimeDir, 'docker')}`,
            `--exec-root=${join(runtimeDir, 'exec')}`,
            `--pidfile=${join(runtimeDir, 'docker.pid')}`,
            `--config-file=${join(runtimeDir, 'daemon.json')}`,
            `--cgroup-parent=${cgroupParent(plan.lab, h.name)}`,
            // Upstream DNS for containers: the host itself, where nothing answers on port 53,
            // so unknown names fail at once and no query ever leaves the lab.
            `--dns=${h.address}`,
            '--userland-proxy=false',
          ]
        : [];
}
