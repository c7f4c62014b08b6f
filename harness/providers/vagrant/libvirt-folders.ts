// Folders for the lab's VMs on its own libvirt (an engine tree): the packed folder made into a
// read-only ext4 image on this machine (system/folder-image.ts), hot-plugged into the running
// domain as a virtio disk with the tarball's serial number, and mounted in the guest at the
// folder's path. Nothing goes over SSH but the mount: under emulation that is a few seconds
// against a minute or more per VM (80 MB decrypted and gunzipped, 190 MB written, three VMs at
// once). The disk goes with the domain at `down`; the image stays beside the tarball.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailedError } from '../../errors.ts';
import { MOUNT_SCRIPT, type FolderDelivery } from '../../remote/folders.ts';
import { folderImage, type FolderImage } from '../../system/folder-image.ts';
import type { LibvirtDaemons } from './libvirt-daemons.ts';

/** A disk of a domain, as `virsh domblklist --details` lists it. */
export interface DomainDisk {
  device: string;
  target: string;
  source: string;
}

/** The rows of `virsh domblklist DOMAIN --details` (Type, Device, Target, Source; `-` for no source). */
export function parseBlockList(text: string): DomainDisk[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((cols) => cols.length >= 4 && cols[0] !== 'Type' && !/^-+$/.test(cols[0]!))
    .map(([, device, target, ...source]) => ({ device: device!, target: target!, source: source.join(' ') }));
}

/** The first virtio target name (vdb ... vdz) no disk of the domain has, or undefined. */
export function freeVirtioTarget(disks: readonly DomainDisk[]): string | undefined {
  const taken = new Set(disks.map((d) => d.target));
  for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const target = `vd${String.fromCharCode(c)}`;
    if (!taken.has(target)) return target;
  }
  return undefined;
}

/** `virsh attach-disk`'s arguments: the image read-only on the virtio bus, with its serial, in the running domain only. */
export function attachDiskArgs(domain: string, image: FolderImage, target: string): string[] {
  return ['attach-disk', domain, image.path, target, '--mode', 'readonly', '--targetbus', 'virtio', '--serial', image.serial, '--driver', 'qemu', '--subdriver', 'raw', '--live'];
}

/** The libvirt domain of a machine, as vagrant-libvirt recorded it in the lab's .vagrant folder (its UUID). */
export function machineDomain(stateDir: string, machine: string): string {
  const file = join(stateDir, '.vagrant', 'machines', machine, 'libvirt', 'id');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new CommandFailedError({ command: `reading ${file}`, exitCode: null, output: `vagrant recorded no libvirt domain for machine ${machine}: ${(e as Error).message}` });
  }
}

/** Attaches the image to the domain unless it is attached already (a second `up` of the same VMs). */
export async function attachImage(libvirt: LibvirtDaemons, domain: string, image: FolderImage): Promise<void> {
  const disks = parseBlockList((await libvirt.virsh(['domblklist', domain, '--details'])).stdout);
  if (disks.some((d) => d.source === image.path)) return;
  const target = freeVirtioTarget(disks);
  if (!target) throw new CommandFailedError({ command: `virsh domblklist ${domain} --details`, exitCode: 0, output: 'no free virtio target (vdb ... vdz) for the folder disk' });
  await libvirt.virsh(attachDiskArgs(domain, image, target));
}

/** Images being made or made, by tarball SHA-256: every machine of an `up` waits for the one image of a folder. */
export type FolderImages = Map<string, Promise<FolderImage>>;

/** The delivery for a machine of the lab's libvirt: its folders as read-only disks, mounted in place. */
export function folderDisks(libvirt: LibvirtDaemons, machine: string, images: FolderImages): FolderDelivery {
  return async (runner, folder) => {
    let making = images.get(folder.sha256);
    if (!making) images.set(folder.sha256, (making = folderImage(folder, libvirt.ctx.signal)));
    const image = await making;
    await attachImage(libvirt, machineDomain(libvirt.ctx.store.dir, machine), image);
    await runner.run(['sh', '-c', MOUNT_SCRIPT, 'mount', folder.dir, image.serial], { timeoutMs: 120_000 });
  };
}
