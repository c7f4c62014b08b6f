// A folder of this machine put at the same path on a host over SSH (an engine tree, whose
// programs name their loader by absolute path): the packed tar over SFTP, unpacked as root
// without the tar's owners, and a stamp with the tar's SHA-256 so a second `up` sends nothing.
// Returns the top folder it created, which is what `down` removes (never a folder that was there).
import { randomBytes } from 'node:crypto';
import { PrerequisiteError } from '../errors.ts';
import type { ExecResult, PackedFolder } from '../host.ts';
import type { UploadSource } from './upload.ts';
import { DATA_ROOT } from './systemd-services.ts';

export const RECEIVED_STAMP = '.overlab-received';

/** What receiving needs of a runner (SshRunner has it). */
export interface FolderRunner {
  exec(argv: readonly string[], options?: { timeoutMs?: number }): Promise<ExecResult>;
  run(argv: readonly string[], options?: { timeoutMs?: number }): Promise<ExecResult>;
  upload(source: UploadSource, remotePath: string, mode?: number): Promise<void>;
}

/** Prints the highest missing folder on the way to $1 ($1 itself when only it is missing), or nothing when $1 exists. */
const TOP_MISSING = 'd=$1; [ -e "$d" ] && exit 0; while [ ! -e "$(dirname "$d")" ]; do d=$(dirname "$d"); done; printf "%s\\n" "$d"';

/** The shell that replaces $1 with the tar $2 unpacked, stamps it with $3 and removes the tar. */
export const UNPACK_SCRIPT = [
  'set -e',
  'rm -rf "$1"',
  'mkdir -p "$(dirname "$1")"',
  'tar -xzf "$2" -C "$(dirname "$1")" --no-same-owner',
  'rm -f "$2"',
  'printf "%s\\n" "$3" > "$1/' + RECEIVED_STAMP + '"',
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
  const tmp = `${DATA_ROOT}/upload-${randomBytes(6).toString('hex')}.tgz`;
  await runner.upload({ localPath: folder.tarball }, tmp, 0o600);
  // Minutes on an emulated VM: 90 MB to gunzip.
  await runner.run(['sh', '-c', UNPACK_SCRIPT, 'unpack', folder.dir, tmp, folder.sha256], { timeoutMs: 15 * 60_000 });
}
