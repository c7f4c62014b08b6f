// A folder of this machine as one gzipped tar, for hosts that do not see this machine's files
// (an engine tree sent over SSH to VMs and ssh hosts), without the paths the caller leaves out.
// Made once and kept inside the folder (PACKED_NAME, left out of the tar itself), so the next lab
// sends it without packing again; an engine tree's tarball goes with the tree when `overlab
// engines prune` removes it.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { CommandFailedError } from '../errors.ts';
import type { PackedFolder } from '../host.ts';

/** (The name changes with what is left out: a tarball packed by an earlier overlab is not sent.) */
export const PACKED_NAME = '.packed-2.tgz';

/**
 * Packs `dir` (gzip -1: the tree's Go programs shrink to 40 %, and a slow VM unpacks it fast),
 * leaving out `exclude` (paths inside `dir`), unless packed already.
 */
export async function packFolder(dir: string, exclude: readonly string[], signal?: AbortSignal): Promise<PackedFolder> {
  const tarball = join(dir, PACKED_NAME);
  if (!existsSync(tarball)) {
    // Written beside the folder, not in it: a file appearing in the folder while tar reads it
    // makes tar fail ("file changed as we read it"); renamed into it once whole.
    const part = join(dirname(dir), `.${basename(dir)}${PACKED_NAME}.${process.pid}.part`);
    const excluded = ['.packed*', ...exclude].map((p) => `--exclude=${basename(dir)}/${p}`);
    const r = await execa('bash', ['-c', 'set -o pipefail; tar -C "$1" "${@:4}" -cf - "$2" | gzip -1 > "$3"', 'pack', dirname(dir), basename(dir), part, ...excluded], {
      reject: false,
      ...(signal ? { cancelSignal: signal } : {}),
    });
    if (r.exitCode !== 0 || r.isCanceled) {
      rmSync(part, { force: true });
      signal?.throwIfAborted();
      throw new CommandFailedError({ command: `tar -C ${dirname(dir)} -cf - ${basename(dir)} | gzip -1 > ${part}`, exitCode: r.exitCode ?? null, output: String(r.stderr) });
    }
    renameSync(part, tarball);
  }
  return { dir, tarball, sha256: await sha256File(tarball) };
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
