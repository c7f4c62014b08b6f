// Session channels on one SSH connection: commands (exec with stdin from a string or streamed
// from a local file, streamed output, exit code or signal, a hard timeout) and SFTP sessions. At most 8 are open at once (OpenSSH's
// MaxSessions defaults to 10), and an open that sshd refuses because a just-closed session is
// not freed yet is retried for a few seconds. A channel that ends without an exit status is the
// connection's error to name (`channelEnded`): lost, or a session the server ended.
import { setTimeout as sleep } from 'node:timers/promises';
import { open } from 'node:fs/promises';
import type { Client as SshClient, ClientChannel, SFTPWrapper } from 'ssh2';

/** How long a session channel that sshd refuses to open is retried (ssh2 gives such an error a numeric `reason`). */
const SESSION_OPEN_RETRY_MS = 5_000;

/** Session channels open at once on one connection. */
const MAX_SESSIONS = 8;

/** Bounds the session channels open at once (OpenSSH's MaxSessions defaults to 10). */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export interface ChannelExecIo {
  input?: string | Buffer;
  /** A local file piped to the command's stdin as it is read (instead of `input`): opened before the command starts, so a missing file runs nothing; a read error ends the command. */
  inputFile?: string;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Close the channel after this long, whatever the remote side does. */
  hardTimeoutMs?: number;
}

export interface ChannelExecResult {
  exitCode: number | null;
  signal: string | undefined;
  /** The hard timeout closed the channel. */
  closedByTimeout: boolean;
  /** Reading the input stream failed (the channel was closed for it). */
  inputError?: Error;
}

/** What the channels need of their connection: whether it is open, the error for its loss, and keeping the process alive while in use. */
export interface ChannelOwner {
  isOpen(): boolean;
  lost(during: string): Error;
  /** The error for a channel that closed without an exit status (waits briefly for the connection's own end). */
  channelEnded(during: string): Promise<Error>;
  hold(): void;
  release(): void;
}

/** The session channels of one connection. */
export class SessionChannels {
  private readonly sessions = new Slots(MAX_SESSIONS);

  constructor(
    private readonly client: SshClient,
    private readonly owner: ChannelOwner,
  ) {}

  /** Runs a command line in a session channel; resolves when the channel closes. */
  async exec(command: string, io: ChannelExecIo = {}): Promise<ChannelExecResult> {
    const input = io.inputFile === undefined ? undefined : await open(io.inputFile, 'r');
    await this.sessions.acquire();
    this.owner.hold();
    try {
      if (!this.owner.isOpen()) throw this.owner.lost(`before running: ${command}`);
      const r: ChannelExecResult = { exitCode: null, signal: undefined, closedByTimeout: false };
      let closed!: Promise<void>;
      // Listeners go on in ssh2's own callback, before it parses on: a command that ends at once
      // has its exit status in the same read as the reply to the exec request, and an 'exit'
      // emitted before anyone listens is lost (then the close looked like a lost connection).
      const channel = await this.openSession<ClientChannel>(
        (cb) => this.client.exec(command, cb),
        `while starting: ${command}`,
        (ch) => {
          ch.on('exit', (code: number | null, signal?: string) => {
            if (typeof code === 'number') r.exitCode = code;
            else r.signal = signal === undefined ? 'unknown' : signal.replace(/^SIG/, ''); // ssh2 says SIGKILL
          });
          ch.on('data', (d: Buffer) => io.onStdout?.(d));
          ch.stderr.on('data', (d: Buffer) => io.onStderr?.(d));
          ch.on('error', () => {});
          closed = new Promise<void>((resolve) => ch.on('close', () => resolve()));
        },
      );
      let timer: NodeJS.Timeout | undefined;
      if (io.hardTimeoutMs !== undefined) {
        timer = setTimeout(() => {
          r.closedByTimeout = true;
          channel.signal('KILL');
          channel.close();
        }, io.hardTimeoutMs);
      }
      if (input) {
        const stream = input.createReadStream({ autoClose: false });
        stream.once('error', (e) => {
          r.inputError = e;
          channel.close();
        });
        stream.pipe(channel);
      } else if (io.input !== undefined) channel.end(io.input);
      else channel.end();
      await closed;
      clearTimeout(timer);
      if (r.inputError) throw r.inputError;
      if (r.exitCode === null && r.signal === undefined && !r.closedByTimeout) throw await this.owner.channelEnded(`while running: ${command}`);
      return r;
    } finally {
      this.owner.release();
      this.sessions.release();
      await input?.close();
    }
  }

  /** Runs `fn` with an SFTP session, closed afterwards. */
  async sftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    await this.sessions.acquire();
    this.owner.hold();
    try {
      if (!this.owner.isOpen()) throw this.owner.lost('before opening SFTP');
      const sftp = await this.openSession<SFTPWrapper>((cb) => this.client.sftp(cb), 'while opening SFTP');
      try {
        return await fn(sftp);
      } finally {
        sftp.end();
      }
    } finally {
      this.owner.release();
      this.sessions.release();
    }
  }

  /**
   * Opens a session channel. sshd frees a closed session only after it has read the close, so a
   * session opened right after others closed may meet its MaxSessions limit: OpenSSH refuses the
   * open ("open failed", reason 2) before anything runs, so a refused open is retried for a few seconds.
   */
  private async openSession<T>(open: (cb: (err: Error | undefined, channel: T) => void) => void, during: string, attach?: (channel: T) => void): Promise<T> {
    const deadline = Date.now() + SESSION_OPEN_RETRY_MS;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      try {
        return await new Promise<T>((resolve, reject) =>
          open((err, channel) => {
            if (err) return reject(err);
            attach?.(channel);
            resolve(channel);
          }),
        );
      } catch (e) {
        if (!this.owner.isOpen()) throw this.owner.lost(during);
        if (typeof (e as { reason?: unknown }).reason !== 'number' || Date.now() + delay > deadline) throw e;
        await sleep(delay);
      }
    }
  }
}
