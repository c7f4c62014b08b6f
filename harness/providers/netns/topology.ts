// Pure planning of a netns lab's kernel objects: names of namespaces, cgroups and runtime
// paths, the switch address, and the `ip -batch` script that wires hosts to the switch.
// Names carry the lab's name after a fixed prefix, so several labs never clash and
// `down --force` finds a lab's leftovers by prefix alone.
import { join } from 'node:path';
import { cidrContains, formatIpv4, isReservedInCidr, parseCidr, parseIpv4 } from '../../lab/ipv4.ts';
import type { Plan } from '../../lab/types.ts';
import { labRuntimeDir } from '../../state/paths.ts';
import { labPrefix } from '../../system/namespaces.ts';

export const HOST_IFNAME = 'eth1';
export const BRIDGE = 'br0';

export function hostNamespace(lab: string, host: string): string {
  return `${labPrefix(lab)}${host}`;
}

/** The switch: a namespace of its own holding the bridge (host names cannot start with "_"). */
export function switchNamespace(lab: string): string {
  return `${labPrefix(lab)}_switch`;
}

export function cgroupParent(lab: string, host: string): string {
  return `overlab.${lab}.${host}`;
}

export function hostRuntimeDir(lab: string, host: string): string {
  return join(labRuntimeDir(lab), host);
}

/** The switch's own address (like a VirtualBox host-only adapter): the highest free one. */
export function switchAddress(plan: Plan): string {
  const cidr = parseCidr(plan.subnet);
  if (typeof cidr === 'string') throw new Error(cidr);
  const used = new Set(plan.hosts.map((h) => parseIpv4(h.address)));
  for (let a = cidr.base + 2 ** (32 - cidr.prefix) - 1; cidrContains(cidr, a); a--) {
    if (!used.has(a) && !isReservedInCidr(cidr, a)) return formatIpv4(a);
  }
  throw new Error(`no free address for the switch in ${plan.subnet}`);
}

/**
 * The wiring as `ip -batch` scripts: one run in the machine's namespace that only creates the
 * namespaces and the veth pairs (each end created directly inside its namespace, so nothing
 * ever appears in the machine's own), then one per namespace (`ip -n NS -batch`) for the rest.
 */
export function wiringScripts(plan: Plan): { root: string; inside: Record<string, string> } {
  const prefix = plan.subnet.split('/')[1];
  const sw = switchNamespace(plan.lab);
  const root = [`netns add ${sw}`];
  const switchLines = ['link set lo up', `link add ${BRIDGE} type bridge`, `addr add ${switchAddress(plan)}/${prefix} dev ${BRIDGE}`, `link set ${BRIDGE} up`];
  const inside: Record<string, string> = {};
  plan.hosts.forEach((h, i) => {
    const ns = hostNamespace(plan.lab, h.name);
    const port = `p${i}`;
    root.push(`netns add ${ns}`, `link add ${HOST_IFNAME} netns ${ns} type veth peer name ${port} netns ${sw}`);
    switchLines.push(`link set ${port} master ${BRIDGE} up`);
    inside[ns] = ['link set lo up', `addr add ${h.address}/${prefix} dev ${HOST_IFNAME}`, `link set ${HOST_IFNAME} up`].join('\n') + '\n';
  });
  inside[sw] = switchLines.join('\n') + '\n';
  return { root: root.join('\n') + '\n', inside };
}

/** /etc/hosts inside every host: the lab's hosts by name, as DNS would give on a real network. */
export function hostsFile(plan: Plan): string {
  return ['127.0.0.1 localhost', ...plan.hosts.map((h) => `${h.address} ${h.hostname}`)].join('\n') + '\n';
}

/** sshd settings shared by the lab's hosts; the listen address is given per host. */
export function sshdConfig(paths: { hostKey: string; authorizedKeys: string }): string {
  return [
    `HostKey ${paths.hostKey}`,
    `AuthorizedKeysFile ${paths.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PidFile none',
    'Subsystem sftp internal-sftp',
    // A lab host shares this machine's /root. bash sources ~/.bashrc for commands sent by sshd
    // unless it is a nested shell (SHLVL >= 2 after its increment); a machine's own .bashrc
    // (e.g. `pyenv init`) made every remote command about 0.5 s slower.
    'SetEnv SHLVL=1',
    '',
  ].join('\n');
}
