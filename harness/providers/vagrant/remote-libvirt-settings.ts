// A libvirt on another machine (`--libvirt qemu+ssh://[USER@]SERVER[:PORT]/system`), pure parts
// (unit-tested): the ssh command every connection to the server goes through
// (libvirt's own transport, Vagrant's and overlab's SSH to the VMs), and the names and settings
// the lab's Vagrantfile gets. The VMs, their disks and networks live on the server; the box's
// kernel and initrd are uploaded there as volumes of the lab, as the box boots them directly.
import { join } from 'node:path';
import { UsageError } from '../../errors.ts';
import { PLAIN_PATH, type RemoteLibvirtTarget } from '../../lab/libvirt-uri.ts';
import { shellJoin } from '../../quote.ts';
import type { LibvirtVagrantSettings } from '../../render/vagrantfile.ts';
import { libvirtPrefix, localLibvirtSettings } from './libvirt-settings.ts';

export { parseRemoteLibvirtUri, type RemoteLibvirtTarget } from '../../lab/libvirt-uri.ts';

/** Binaries this machine needs to put a lab's VMs on a server's libvirt (besides Vagrant and its libvirt plugin), with the Debian package that has each. */
export const SERVER_LIBVIRT_TOOLS: readonly [string, string][] = [
  ['virsh', 'libvirt-clients'],
  ['ssh', 'openssh-client'],
];

/** Where a lab keeps its ssh command for the server, and the server's host key it recorded (--accept-new-host-keys). */
export function remoteFiles(stateDir: string): { ssh: string; knownHosts: string } {
  return { ssh: join(stateDir, 'libvirt-ssh'), knownHosts: join(stateDir, 'server_known_hosts') };
}

/**
 * The ssh command (a shell script in the lab's state folder) every connection to the server
 * runs: libvirt's transport (`command=`), Vagrant's and overlab's ProxyCommand to the VMs. The
 * server's host key is checked against the lab's record and the user's known_hosts, never
 * skipped: `acceptNew` (--accept-new-host-keys) records a first key in the lab's record. The
 * user's ~/.ssh/config still applies (a Host alias, ProxyJump), below these options.
 */
export function serverSshScript(target: RemoteLibvirtTarget, files: { knownHosts: string; userKnownHosts: string }, acceptNew: boolean): string {
  const argv = [
    'ssh',
    '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${files.knownHosts} ${files.userKnownHosts}`,
    '-o', `StrictHostKeyChecking=${acceptNew ? 'accept-new' : 'yes'}`,
    '-o', 'ServerAliveInterval=15',
    ...(target.port === undefined ? [] : ['-p', String(target.port)]),
    ...(target.user === undefined ? [] : ['-l', target.user]),
    ...(target.keyfile === undefined ? [] : ['-i', target.keyfile, '-o', 'IdentitiesOnly=yes']),
  ];
  return [`#!/bin/sh`, `# overlab: ssh to the libvirt server ${target.server}, its host key checked.`, `exec ${shellJoin(argv)} "$@"`, ''].join('\n');
}

/** A file path that goes unquoted into a URI and a ProxyCommand, or a clear error. */
function plainPath(path: string, what: string): string {
  if (!PLAIN_PATH.test(path)) throw new UsageError(`${what} ${JSON.stringify(path)} has characters ssh and libvirt would split or escape`, { hint: 'Run from a folder, or set OVERLAB_HOME to one, whose path has only letters, digits and /._+- (where the labs keep their state).' });
  return path;
}

/**
 * The URI libvirt (virsh, vagrant-libvirt) connects with: the server alone, every ssh option in
 * the lab's ssh command. (vagrant-libvirt 0.11 fails on a URI with a port and a proxy command of
 * its own, so the port is the command's too.)
 */
export function connectionUri(target: RemoteLibvirtTarget, sshCommand: string): string {
  return uriThrough(target, plainPath(sshCommand, 'the ssh command'));
}

function uriThrough(target: RemoteLibvirtTarget, sshCommand: string): string {
  return `qemu+ssh://${target.server}/system?command=${sshCommand}&no_tty=1`;
}

/** How Vagrant and overlab reach a VM on the server: through the server (`ssh -W`, no tool needed there). */
export function proxyCommand(target: RemoteLibvirtTarget, sshCommand: string): string {
  return `${plainPath(sshCommand, 'the ssh command')} -W %h:%p ${target.server}`;
}

/** The names of the lab's copies of the box's kernel and initrd in the server's default pool. */
export function bootVolumeNames(lab: string): { kernel: string; initrd: string } {
  const prefix = libvirtPrefix(lab);
  return { kernel: `${prefix}_vmlinuz`, initrd: `${prefix}_initrd.img` };
}

/** QEMU with KVM where the server has it, else software emulation. */
export type LibvirtDriver = 'kvm' | 'qemu';

/**
 * The remote libvirt's Vagrantfile settings: the local libvirt's names, the server's URI and
 * proxy, the kernel and initrd as the server's volumes, and KVM where the server has it.
 */
export function remoteLibvirtSettings(
  lab: string,
  remote: { uri: string; proxyCommand: string; kernel: string; initrd: string; driver: LibvirtDriver },
  firstBoot?: LibvirtVagrantSettings['firstBoot'],
): LibvirtVagrantSettings {
  return {
    ...localLibvirtSettings(lab, firstBoot),
    driver: remote.driver,
    server: { uri: remote.uri, proxyCommand: remote.proxyCommand, kernel: remote.kernel, initrd: remote.initrd },
  };
}

/**
 * What ssh or libvirt said when the server could not be reached, as the user's next step: an
 * unknown or changed host key, a refused login, no libvirtd, or the address itself.
 */
export function serverProblem(output: string, target: RemoteLibvirtTarget): { message: string; hint: string; hostKey: boolean } {
  const at = target.user ? `${target.user}@${target.server}` : target.server;
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(output)) {
    return {
      hostKey: true,
      message: `the libvirt server ${target.server} presented a host key that neither ~/.ssh/known_hosts nor the lab's record has, or a different one`,
      hint: `Log in once with \`ssh ${at}\` and check the fingerprint it shows, or pass --accept-new-host-keys to record a first key in the lab's state. A changed key is never accepted.`,
    };
  }
  if (/Permission denied/i.test(output)) {
    return { hostKey: false, message: `the libvirt server ${target.server} refused the login of ${at}`, hint: 'Give a key it takes: ?keyfile=/path/to/key in the URI, ssh-agent, or an IdentityFile in ~/.ssh/config.' };
  }
  if (/libvirt-sock|virt-ssh-helper|Failed to connect socket|No such file or directory/i.test(output)) {
    return { hostKey: false, message: `no libvirtd answers on ${target.server}`, hint: `On the server: apt-get install libvirt-daemon-system qemu-system-x86, and add ${target.user ?? 'your user'} to the libvirt group.` };
  }
  return { hostKey: false, message: `cannot reach the libvirt server ${target.server} over SSH`, hint: `Check \`ssh ${at} virsh -c qemu:///system version\` works from this machine.` };
}

/** What `up --dry-run` shows of the server's preparation: the lab's ssh command, the boot volumes uploaded. */
export function describeServerUpload(lab: string, target: RemoteLibvirtTarget): string[] {
  const files = remoteFiles(`.overlab/${lab}`);
  // (The state folder as `up` shows it, relative: no path to check.)
  const uri = uriThrough(target, files.ssh);
  const names = bootVolumeNames(lab);
  return [
    `# the VMs on ${target.server}'s libvirt; every connection through ${files.ssh} (ssh, the server's host key checked against ~/.ssh/known_hosts and ${files.knownHosts})`,
    ...[
      [names.kernel, 'vmlinuz'],
      [names.initrd, 'initrd.img'],
    ].flatMap(([volume, file]) => [
      shellJoin(['virsh', '-c', uri, 'vol-create-as', 'default', volume!, 'SIZE', '--format', 'raw']),
      shellJoin(['virsh', '-c', uri, 'vol-upload', '--pool', 'default', volume!, `BOX_FOLDER/${file}`]),
    ]),
  ];
}
