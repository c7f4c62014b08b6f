// A packed folder (./pack-folder.ts) as a read-only disk image, for VMs whose hypervisor this
// machine drives: attached to a running guest and mounted at the folder's path, the folder is
// there without a byte sent over SSH, decrypted, gunzipped or written by the guest (a minute or
// more per VM under emulation for an engine tree). An ext4 file system without a journal, made
// by mkfs.ext4 -d from the tarball's own content (what the tar leaves out stays out), with the
// receiving stamp inside, so a later `up` finds the folder there as if it had been sent. Made
// once per tarball and kept beside it (`.packed*`, never itself packed or sent).
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { CommandFailedError } from '../errors.ts';
import type { PackedFolder } from '../host.ts';
import { folderUsage } from './files.ts';

/** The stamp a received folder carries: the tarball's SHA-256 (remote/folders.ts checks it). */
export const RECEIVED_STAMP = '.overlab-received';

/** A folder's image: the file, and the serial number the guest sees the disk by (virtio keeps 20 characters). */
export interface FolderImage {
  path: string;
  serial: string;
}

/** The image's file name for a tarball: its hash in the name, so an image of another tarball is never taken for it. */
export function folderImageName(sha256: string): string {
  return `.packed-image.${sha256.slice(0, 16)}.ext4`;
}

/** The serial number of the disk of a tarball (the guest finds it in /sys/block/vd* /serial). */
export function folderImageSerial(sha256: string): string {
  return `ovl${sha256.slice(0, 17)}`;
}

/**
 * The image's size for `bytes` of files and `entries` files, folders and links: the content plus
 * a quarter for ext4's blocks of metadata and small files' last blocks, and 16 MiB, in whole MiB.
 * (The file is sparse: what is not written costs nothing.)
 */
export function folderImageSizeMiB(bytes: number, entries: number): number {
  return Math.ceil((bytes * 1.25 + entries * 4096 + 16 * 2 ** 20) / 2 ** 20);
}

/** mkfs.ext4's arguments: from `dir`, no journal (read-only), no blocks kept for root, an inode per entry and spare. */
export function mkfsArgv(image: string, dir: string, sizeMiB: number, entries: number): string[] {
  return ['mkfs.ext4', '-q', '-F', '-d', dir, '-O', '^has_journal', '-m', '0', '-N', String(entries + 256), '-L', 'overlab', '-E', 'root_owner=0:0', image, `${sizeMiB}M`];
}

/**
 * The image of a packed folder, made unless it is there: unpacked into a scratch folder beside
 * it, made, renamed into place (each call its own scratch and part: two makers never meet, and
 * the last rename wins with the same content). Callers that want one per process share the promise.
 */
export async function folderImage(folder: PackedFolder, signal?: AbortSignal): Promise<FolderImage> {
  const path = join(folder.dir, folderImageName(folder.sha256));
  const serial = folderImageSerial(folder.sha256);
  if (existsSync(path)) return { path, serial };
  const scratch = mkdtempSync(join(dirname(folder.dir), `.${basename(folder.dir)}.image.`));
  const part = join(scratch, 'image.part');
  const cancel = signal ? { cancelSignal: signal } : {};
  try {
    const untar = await execa('tar', ['-xzf', folder.tarball, '-C', scratch, '--no-same-owner'], { reject: false, ...cancel });
    signal?.throwIfAborted();
    if (untar.exitCode !== 0) throw new CommandFailedError({ command: `tar -xzf ${folder.tarball} -C ${scratch}`, exitCode: untar.exitCode ?? null, output: String(untar.stderr) });
    const top = join(scratch, basename(folder.dir));
    if (!existsSync(top)) throw new CommandFailedError({ command: `tar -xzf ${folder.tarball}`, exitCode: 0, output: `the tarball holds no folder ${basename(folder.dir)}` });
    writeFileSync(join(top, RECEIVED_STAMP), `${folder.sha256}\n`);
    const { bytes, entries } = folderUsage(top);
    const argv = mkfsArgv(part, top, folderImageSizeMiB(bytes, entries), entries);
    const made = await execa(argv[0]!, argv.slice(1), { reject: false, all: true, ...cancel });
    signal?.throwIfAborted();
    if (made.exitCode !== 0) throw new CommandFailedError({ command: argv.join(' '), exitCode: made.exitCode ?? null, output: String(made.all ?? '') });
    renameSync(part, path);
    return { path, serial };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
