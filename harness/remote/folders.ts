// A folder of this machine put at the same path on a host over SSH (an engine tree, whose
// programs name their loader by absolute path): the packed tar streamed into tar's stdin on the
// host (sent and unpacked at once, no copy of it written there), unpacked as root without the
// tar's owners, and a stamp with the tar's SHA-256 so a second `up` sends nothing. gzip's check
// of its length and CRC makes a stream cut short fail, so no stamp is written for it.
// Returns the top folder it created, which is what `down` removes (never a folder that was there).
// A provider that can hand the guest a disk instead (a VM on this machine's hypervisor) gives
// its own FolderDelivery: the place is checked and recorded the same way.
import { PrerequisiteError } from '../errors.ts';
import type { ExecResult, PackedFolder } from '../host.ts';
import { RECEIVED_STAMP } from '../system/folder-image.ts';

export { RECEIVED_STAMP };

/** What receiving needs of a runner (SshRunner has it). */
export interface FolderRunner {
  exec(argv: readonly string[], options?: { timeoutMs?: number }): Promise<ExecResult>;
  run(argv: readonly string[], options?: { timeoutMs?: number; inputFile?: string }): Promise<ExecResult>;
}

/** Prints the highest missing folder on the way to $1 ($1 itself when only it is missing), or nothing when $1 exists. */
const TOP_MISSING = 'd=$1; [ -e "$d" ] && exit 0; while [ ! -e "$(dirname "$d")" ]; do d=$(dirname "$d"); done; printf "%s\\n" "$d"';

/** The shell that replaces $1 with the gzipped tar on its stdin, unpacked, and stamps it with $2. */
export const UNPACK_SCRIPT = [
  'set -e',
  'rm -rf "$1"',
  'mkdir -p "$(dirname "$1")"',
  'tar -xzf - -C "$(dirname "$1")" --no-same-owner',
  'printf "%s\\n" "$2" > "$1/' + RECEIVED_STAMP + '"',
].join('; ');

/**
 * The shell that mounts, read-only at $1, the disk whose serial number is $2 once the guest
 * sees it (hot-plugged: up to a minute), replacing what is at $1 (overlab's, as for unpacking).
 */
export const MOUNT_SCRIPT = [
  'dev=',
  'for i in $(seq 1 600); do for b in /sys/block/vd*; do if [ "$(cat "$b/serial" 2>/dev/null)" = "$2" ]; then dev=/dev/${b##*/}; fi; done; if [ -n "$dev" ]; then break; fi; sleep 0.1; done',
  'if [ -z "$dev" ]; then echo "no disk with serial number $2 appeared in /sys/block" >&2; exit 1; fi',
  'set -e',
  'if mountpoint -q "$1"; then umount "$1"; fi',
  'rm -rf "$1"',
  'mkdir -p "$1"',
  'mount -o ro "$dev" "$1"',
].join('; ');

/** How a packed folder reaches the host once its place is cleared: by default its tar, sent over SSH and unpacked there. */
export type FolderDelivery = (runner: FolderRunner, folder: PackedFolder) => Promise<void>;

/** The folder's gzipped tar streamed into tar on the host (minutes on an emulated VM: 80 MB to decrypt and gunzip, 190 MB to write). */
export const sendTar: FolderDelivery = async (runner, folder) => {
  await runner.run(['sh', '-c', UNPACK_SCRIPT, 'unpack', folder.dir, folder.sha256], { timeoutMs: 15 * 60_000, inputFile: folder.tarball });
};

/**
 * Puts the folder at its own path on the host unless the stamp says it is there. `created` is
 * told the top folder this made, before anything is written, so that `down` can remove it.
 */
export async function receiveFolder(host: string, runner: FolderRunner, folder: PackedFolder, created: (path: string) => void, deliver: FolderDelivery = sendTar): Promise<void> {
  const stamp = await runner.exec(['cat', `${folder.dir}/${RECEIVED_STAMP}`]);
  if (stamp.exitCode === 0) {
    if (stamp.stdout.trim() === folder.sha256) return;
    created(folder.dir); // overlab's, from another tree of the same name: replaced
  } else {
    const top = (await runner.run(['sh', '-c', TOP_MISSING, 'top', folder.dir])).stdout.trim();
    if (!top) {
      throw new PrerequisiteError(`${folder.dir} exists on ${host} without overlab's stamp (${RECEIVED_STAMP}): overlab replaces only folders it put there`, {
        hint: `Remove ${folder.dir} on ${host} if it is a copy overlab was interrupted making (\`overlab down\` removes those it recorded), then run up again.`,
      });
    }
    created(top);
  }
  await deliver(runner, folder);
}
