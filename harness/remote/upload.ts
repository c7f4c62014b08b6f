// Files onto a host over SSH: SFTP to a temporary path (mode 0600), then `install -D -m MODE`
// into place through the runner (with sudo when the user is not root), so the owner is root,
// parents are created and nothing half-written is ever at the target. An SFTP failure is a
// CommandFailedError naming what was sent where; a lost connection stays HostUnreachableError.
import { randomBytes } from 'node:crypto';
import { CommandFailedError, HostUnreachableError } from '../errors.ts';
import type { ExecResult } from '../host.ts';
import type { SshConnection } from './connection.ts';

export type UploadSource = { content: string | Buffer } | { localPath: string };

/** What an upload needs of the runner: the host's name, a command, its log and its failure. */
export interface UploadRunner {
  readonly host: string;
  exec(argv: readonly string[]): Promise<ExecResult>;
  log(text: string): void;
  failure(command: string, r: ExecResult): CommandFailedError;
}

/** Writes `source` to `remotePath` on the host with `mode`. */
export async function uploadFile(connection: SshConnection, runner: UploadRunner, source: UploadSource, remotePath: string, mode: number): Promise<void> {
  const tmp = `/tmp/overlab-upload-${randomBytes(8).toString('hex')}`;
  const octal = mode.toString(8).padStart(4, '0');
  const what = 'content' in source ? `${Buffer.byteLength(source.content)} bytes` : source.localPath;
  runner.log(`[${new Date().toISOString()}] upload ${what} to ${remotePath} (mode ${octal})\n`);
  await connection
    .sftp(async (sftp) => {
      if ('content' in source) {
        await new Promise<void>((resolve, reject) => sftp.writeFile(tmp, source.content, { mode: 0o600 }, (e) => (e ? reject(e) : resolve())));
      } else {
        await new Promise<void>((resolve, reject) => sftp.fastPut(source.localPath, tmp, { mode: 0o600 }, (e) => (e ? reject(e) : resolve())));
      }
    })
    .catch((e: Error) => {
      if (e instanceof HostUnreachableError) throw e;
      throw new CommandFailedError({ command: `sftp put ${what} ${tmp}`, exitCode: null, output: e.message, host: runner.host });
    });
  const argv = ['sh', '-c', 'install -D -m "$1" "$2" "$3"; s=$?; rm -f "$2"; exit $s', 'upload', octal, tmp, remotePath];
  const r = await runner.exec(argv);
  if (r.exitCode !== 0) throw runner.failure(`install -D -m ${octal} ${tmp} ${remotePath}`, r);
}
