// Commands on a host over its SSH connection (a HostRunner): argv quoted for the remote shell,
// with `sudo -n` for a user who is not root, environment additions and a timeout(1) bound (plus
// a backstop that closes the channel); exit codes as a local process has them (128+signal, 124
// for a timeout); every command and its output streamed to the host's provisioning log and
// emitted as a `command` event. Uploads are upload.ts's.
import { appendFileSync, mkdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname } from 'node:path';
import { CommandFailedError } from '../errors.ts';
import type { Events } from '../events.ts';
import type { ExecOptions, ExecResult, HostRunner, SshEndpoint } from '../host.ts';
import { SshConnection, type ChannelExecResult, type SshConnectOptions } from './connection.ts';
import { shellJoin } from '../quote.ts';
import { KILL_AFTER_SECONDS, remoteCommand } from './shell.ts';
import { uploadFile, type UploadSource } from './upload.ts';

export interface SshRunnerOptions {
  /** Each command and its output are appended here as they run (`<stateDir>/logs/<host>.provision.log`). */
  logFile?: string;
  /** Each command is also emitted as a `command` event. */
  events?: Events;
}

const SIGNALS = osConstants.signals as Record<string, number>;

/** Runs commands on one host over its SSH connection. */
export class SshRunner implements HostRunner {
  /** Commands run through `sudo -n` unless the SSH user is root. */
  readonly sudo: boolean;
  private seq = 0;

  constructor(
    readonly connection: SshConnection,
    private readonly options: SshRunnerOptions = {},
  ) {
    this.sudo = connection.endpoint.username !== 'root';
    if (options.logFile) mkdirSync(dirname(options.logFile), { recursive: true });
  }

  static async connect(endpoint: SshEndpoint, options: SshConnectOptions & SshRunnerOptions): Promise<SshRunner> {
    return new SshRunner(await SshConnection.open(endpoint, options), options);
  }

  get host(): string {
    return this.connection.host;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const command = remoteCommand(argv, { sudo: this.sudo && !options.unprivileged, ...(options.env ? { env: options.env } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    const id = ++this.seq;
    const started = Date.now();
    const stdin = options.inputFile !== undefined ? ` (stdin: ${options.inputFile})` : options.input === undefined ? '' : ` (stdin: ${Buffer.byteLength(options.input)} bytes)`;
    this.log(`[${new Date(started).toISOString()}] #${id} $ ${command}${stdin}\n`);
    this.options.events?.emit({ type: 'command', host: this.host, command });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let r: ChannelExecResult;
    try {
      r = await this.connection.exec(command, {
        ...(options.inputFile !== undefined ? { inputFile: options.inputFile } : options.input === undefined ? {} : { input: options.input }),
        onStdout: (d) => {
          out.push(d);
          this.log(d);
        },
        onStderr: (d) => {
          err.push(d);
          this.log(d);
        },
        // A backstop for a remote side that ignores timeout(1): close the channel ourselves.
        ...(options.timeoutMs ? { hardTimeoutMs: options.timeoutMs + (KILL_AFTER_SECONDS + 3) * 1000 } : {}),
      });
    } catch (e) {
      this.log(`[${new Date().toISOString()}] #${id} failed: ${(e as Error).message}\n`);
      throw e;
    }
    const elapsed = Date.now() - started;
    let exitCode = r.exitCode ?? 128 + (SIGNALS[`SIG${r.signal}`] ?? 0);
    // timeout(1) exits 124, or 137 when its KILL was needed: both mean the time ran out.
    if (r.closedByTimeout || (options.timeoutMs && exitCode === 137 && elapsed >= options.timeoutMs)) exitCode = 124;
    this.log(`[${new Date().toISOString()}] #${id} exit ${exitCode}${r.signal ? ` (signal ${r.signal})` : ''} after ${(elapsed / 1000).toFixed(2)} s\n`);
    return { exitCode, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  }

  /** Like exec, but a non-zero exit is a CommandFailedError carrying the command and its output. */
  async run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.exec(argv, options);
    if (r.exitCode !== 0) throw this.failure(shellJoin(argv), r);
    return r;
  }

  private failure(command: string, r: ExecResult): CommandFailedError {
    return new CommandFailedError(
      { command, exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: this.host },
      this.options.logFile ? { hint: `Full log: ${this.options.logFile}` } : {},
    );
  }

  /**
   * Writes a file on the host: SFTP to a temporary path, then `install -D -m MODE` into place
   * (through sudo when the user is not root), so the owner is root and parents are created.
   */
  upload(source: UploadSource, remotePath: string, mode = 0o644): Promise<void> {
    return uploadFile(
      this.connection,
      { host: this.host, exec: (argv) => this.exec(argv), log: (text) => this.log(text), failure: (command, r) => this.failure(command, r) },
      source,
      remotePath,
      mode,
    );
  }

  close(): void {
    this.connection.close();
  }

  private log(text: string | Buffer): void {
    if (this.options.logFile) appendFileSync(this.options.logFile, text);
  }
}
