// Which hypervisor (Vagrant provider) Vagrant would use on this machine, and how `vagrant` is
// called for it: `up` in parallel only where the hypervisor's plugin allows it.
import { readFileSync, readlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { listDir } from '../../system/files.ts';
import { findProgram } from '../../system/programs.ts';

/** Vagrant providers (hypervisors) by the name `--provider` takes. */
export type VagrantHypervisor = 'virtualbox' | 'libvirt' | 'docker' | 'parallels' | 'hyperv' | 'vmware_desktop';

/** Providers whose plugin declares `parallel: true`; the others bring machines up one at a time. */
export const PARALLEL_HYPERVISORS: readonly string[] = ['libvirt', 'docker', 'parallels'];

export function vagrantUpArgs(hypervisor: string): string[] {
  return ['up', '--no-provision', `--provider=${hypervisor}`, PARALLEL_HYPERVISORS.includes(hypervisor) ? '--parallel' : '--no-parallel'];
}

/**
 * How `up` brings the machines up: one `vagrant up --parallel` where the hypervisor's plugin
 * allows it; elsewhere (VirtualBox, Hyper-V, VMware) one `vagrant up MACHINE` process per
 * machine, the first alone until it boots (`first`: it imports the box and makes the host-only
 * network, which two processes at once could each make) and the others (`rest`) then all at once.
 */
export function vagrantUpCalls(hypervisor: string, machines: readonly string[]): { first: string[]; rest: string[][] } {
  const args = vagrantUpArgs(hypervisor);
  if (PARALLEL_HYPERVISORS.includes(hypervisor) || machines.length < 2) return { first: args, rest: [] };
  const [head, ...tail] = machines;
  return { first: [...args, head!], rest: tail.map((m) => [...args, m]) };
}

/** The line a machine's `vagrant up` prints once its box, disks and networks are made and it boots (VirtualBox). */
export const BOOTING_LINE = /^==> ([^:\s]+): Booting VM\.\.\.$/;
export const SSH_CONFIG_ARGS = ['ssh-config'];
export const STATUS_ARGS = ['status', '--machine-readable'];
export const DESTROY_ARGS = ['destroy', '-f'];
/** Whether the vagrant-libvirt plugin is installed (system gems or the user's). */
export function vagrantLibvirtInstalled(home: string): boolean {
  const gemDirs = ['/usr/share/rubygems-integration/all/gems', '/usr/lib/ruby/vendor_ruby', ...listDir(join(home, '.vagrant.d', 'gems')).map((v) => join(home, '.vagrant.d', 'gems', v, 'gems'))];
  return gemDirs.some((d) => listDir(d).some((g) => g.startsWith('vagrant-libvirt')));
}

/**
 * A libvirtd of the machine's own: running in this process's network namespace. A lab's local
 * libvirtd (in its `ovl.<lab>._libvirt` namespace) is not one, nor is a socket file left behind.
 */
function machineLibvirtdRunning(): boolean {
  const own = (pid: string) => {
    try {
      return readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      return undefined;
    }
  };
  const ours = own('self');
  return listDir('/proc').some((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'libvirtd' && own(pid) === ours;
    } catch {
      return false;
    }
  });
}

/** What the machine has, for detectHypervisor; tests pass their own. */
export interface HypervisorProbe {
  libvirtPlugin: boolean;
  libvirtd: boolean;
}

export function machineProbe(home = homedir()): HypervisorProbe {
  return { libvirtPlugin: vagrantLibvirtInstalled(home), libvirtd: machineLibvirtdRunning() };
}

/**
 * The hypervisor Vagrant would use here: VAGRANT_DEFAULT_PROVIDER when set, else VirtualBox when
 * VBoxManage is installed, else libvirt when vagrant-libvirt is installed and the machine's own
 * libvirtd runs.
 */
export function detectHypervisor(env: NodeJS.ProcessEnv = process.env, probe: HypervisorProbe = machineProbe()): { hypervisor: string } | { reason: string } {
  const virtualbox = () => findProgram('VBoxManage', { env }) !== undefined;
  const libvirt = () => probe.libvirtPlugin && probe.libvirtd;
  const chosen = env['VAGRANT_DEFAULT_PROVIDER'];
  if (chosen === 'virtualbox' && !virtualbox()) return { reason: 'VAGRANT_DEFAULT_PROVIDER is virtualbox, but VBoxManage is not installed' };
  if (chosen === 'libvirt' && !libvirt()) return { reason: 'VAGRANT_DEFAULT_PROVIDER is libvirt, but the vagrant-libvirt plugin or a running libvirtd is missing' };
  if (chosen) return { hypervisor: chosen };
  if (virtualbox()) return { hypervisor: 'virtualbox' };
  if (libvirt()) return { hypervisor: 'libvirt' };
  return { reason: 'no usable hypervisor: VirtualBox (VBoxManage) is not installed, and libvirt is not usable (the vagrant-libvirt plugin and a running libvirtd)' };
}

/** `up`'s vagrant calls as a dry run shows them: the first, then the others at once (in the background, waited for). */
export function upCommands(calls: { first: string[]; rest: string[][] }, run: (argv: string[]) => string): string[] {
  if (!calls.rest.length) return [run(['vagrant', ...calls.first])];
  return [
    `${run(['vagrant', ...calls.first])} &    # the first machine alone until it prints "Booting VM...", then the others at once`,
    ...calls.rest.map((args) => `${run(['vagrant', ...args])} &`),
    'wait',
  ];
}
