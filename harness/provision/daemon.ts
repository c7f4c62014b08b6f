// dockerd under systemd with the lab's flags: a drop-in replacing the unit's ExecStart. The
// flags go on the command line, never in daemon.json: a `hosts` entry there conflicts with the
// unit's -H fd:// ("specified both as a flag and in the configuration file").
import { daemonFlags } from '../engine/daemon.ts';
import type { HostPlan, KvCandidate, Plan } from '../lab/types.ts';
import { shq, systemdExec } from './shell.ts';

export const DOCKERD_PATH = '/usr/bin/dockerd';
export const DOCKER_DROP_IN = '/etc/systemd/system/docker.service.d/overlab.conf';
export const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

/** dockerd's argv under systemd: socket activation (-H fd://), the system containerd, then the flags. */
export function dockerdArgv(flags: readonly string[]): string[] {
  return [DOCKERD_PATH, '-H', 'fd://', `--containerd=${CONTAINERD_SOCKET}`, ...flags];
}

/** The lab's dockerd flags on a host: the provider's, then the plan's (with the KV store actually chosen). */
export function hostDaemonFlags(host: HostPlan, options: { kv?: KvCandidate; engineFlags?: readonly string[] } = {}): string[] {
  if (!host.daemon) return [];
  return [...(options.engineFlags ?? []), ...daemonFlags(host.daemon, options.kv)];
}

/** The drop-in's text: ExecStart= clears the packaged command, the next line sets overlab's. */
export function dockerDropIn(plan: Pick<Plan, 'lab'>, host: Pick<HostPlan, 'name'>, flags: readonly string[]): string {
  return [
    `# Written by overlab for host ${host.name} of lab ${plan.lab}: dockerd with the lab's flags.`,
    '[Service]',
    'ExecStart=',
    `ExecStart=${systemdExec(dockerdArgv(flags))}`,
  ].join('\n');
}

/** The bash line (over sh/daemon.sh) that writes the drop-in when it differs and restarts dockerd. */
export function daemonSection(plan: Pick<Plan, 'lab'>, host: HostPlan, options: { kv?: KvCandidate; engineFlags?: readonly string[] } = {}): string {
  const text = dockerDropIn(plan, host, hostDaemonFlags(host, options));
  // Paths go through the variables of sh/common.sh ($systemd_units is /etc/systemd/system).
  return [
    `# dockerd: ${DOCKER_DROP_IN}, then daemon-reload and restart when it changed`,
    `configure_dockerd "$systemd_units/docker.service.d/overlab.conf" ${shq(text)} "$usr_bin/dockerd"`,
  ].join('\n');
}

export function describeDaemon(plan: Pick<Plan, 'lab'>, host: HostPlan, options: { kv?: KvCandidate; engineFlags?: readonly string[] } = {}): string[] {
  const text = dockerDropIn(plan, host, hostDaemonFlags(host, options));
  return [
    `# ${DOCKER_DROP_IN}, written when it differs:`,
    ...text.split('\n').filter((l) => !l.startsWith('#')).map((l) => `#   ${l}`),
    'systemctl daemon-reload && systemctl restart docker',
  ];
}
