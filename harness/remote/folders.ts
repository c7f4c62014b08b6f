// A folder of this machine put at the same path on a host over SSH (an engine tree, whose
// programs name their loader by absolute path): the packed tar streamed into tar's stdin on the
// host (sent and unpacked at once, no copy of it written there), unpacked as root without the
// tar's owners, and a stamp with the tar's SHA-256 so a second `up` sends nothing. gzip's check
// of its length and CRC makes a stream cut short fail, so no stamp is written for it.
// Returns the top folder it created, which is what `down` removes (never a folder that was there).
import { PrerequisiteError } from '../errors.ts';
import type { ExecResult, PackedFolder } from '../host.ts';

export const RECEIVED_STAMP = '.overlab-received';

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
 * Puts the folder at its own path on the host unless the stamp says it is there. `created` is
 * told the top folder this made, before anything is written, so that `down` can remove it.
 */
export async function receiveFolder(host: string, runner: FolderRunner, folder: PackedFolder, created: (path: string) => void): Promise<void> {
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
  // Minutes on an emulated VM: 80 MB to decrypt and gunzip, 190 MB to write.
  await runner.run(['sh', '-c', UNPACK_SCRIPT, 'unpack', folder.dir, folder.sha256], { timeoutMs: 15 * 60_000, inputFile: folder.tarball });
}
