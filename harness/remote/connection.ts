// One SSH connection to one host (ssh2): opened with bounded retries (the only place that
// retries a connection: a booting machine refuses, resets or times out), never retrying a key
// the server refuses nor a host key overlab does not trust (HostKeyError); a host key trusted
// for the first time (or pinned and verified) is recorded in the lab's known_hosts once the
// handshake completed. Owns the connection's life: whether it is open and why it closed, the
// error naming the host when it is lost, and keeping the process alive only while an operation
// is under way. Commands and SFTP go through its session channels (channels.ts); a stream to a
// unix socket on the host (the engine's) is opened here.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import type { Client as SshClient, ClientChannel, SFTPWrapper } from 'ssh2';
import { HostKeyError, HostUnreachableError } from '../errors.ts';
import type { Events } from '../events.ts';
import { count } from '../plural.ts';
import type { SshEndpoint } from '../host.ts';
import { SessionChannels, type ChannelExecIo, type ChannelExecResult } from './channels.ts';
import { attempt, describeEndpoint, TryOtherHostKeyType } from './handshake.ts';
import { HostKeyCheck } from './host-keys.ts';
import type { Transport } from './transport.ts';

export type { ChannelExecIo, ChannelExecResult } from './channels.ts';

export interface SshConnectOptions {
  /** The host's name in the lab, for messages. */
  host: string;
  /** Give up connecting after this long (default 60 s): a VM may still be booting. */
  deadlineMs?: number;
  /** Longest wait for one attempt's handshake (default 10 s). */
  attemptTimeoutMs?: number;
  /** Pause between attempts (default 500 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Told once when the first attempt fails and the connection is retried. */
  events?: Events;
  /** Called before every retry, with the attempt that failed and why. */
  onRetry?: (attempt: number, error: Error) => void;
}

/** How long a channel that closed without an exit status waits for its connection's end to be reported. */
const CHANNEL_END_GRACE_MS = 2_000;

/** One SSH connection to one host. */
export class SshConnection {
  private active = 0;
  private closedReason: string | undefined;
  private readonly channels: SessionChannels;
  /** Resolves once the connection has ended (closed or failed), with closedReason set. */
  private readonly ended: Promise<void>;

  private constructor(
    readonly host: string,
    readonly endpoint: SshEndpoint,
    private readonly client: SshClient,
    private readonly transport: Transport,
  ) {
    this.ended = new Promise<void>((resolve) => {
      client.on('error', (e: Error) => {
        this.closedReason ??= e.message;
        resolve();
      });
      client.on('close', () => {
        this.closedReason ??= 'the connection closed';
        resolve();
      });
    });
    transport.unref();
    this.channels = new SessionChannels(client, {
      isOpen: () => this.isOpen,
      lost: (during) => this.lost(during),
      channelEnded: (during) => this.channelEnded(during),
      hold: () => this.hold(),
      release: () => this.release(),
    });
  }

  /**
   * Connects, retrying failed set-ups until the deadline (a booting machine refuses, resets or
   * times out). A refused key is not retried. Throws HostUnreachableError naming the host, or
   * HostKeyError (at once) when the host's key is not one the endpoint's policy trusts.
   */
  static async open(endpoint: SshEndpoint, options: SshConnectOptions): Promise<SshConnection> {
    const deadlineMs = options.deadlineMs ?? 60_000;
    const deadline = Date.now() + deadlineMs;
    const where = describeEndpoint(endpoint);
    let key: Buffer;
    try {
      key = readFileSync(endpoint.privateKeyPath);
    } catch (e) {
      throw new HostUnreachableError(`cannot reach ${options.host} over SSH: cannot read its key ${endpoint.privateKeyPath} (${(e as Error).message})`, {
        hint: 'Check the host\'s ssh.key in the lab file (or `vagrant ssh-config`).',
      });
    }
    const parsed = ssh2.utils.parseKey(key);
    if (parsed instanceof Error) {
      throw new HostUnreachableError(`cannot reach ${options.host} over SSH: cannot use its key ${endpoint.privateKeyPath} (${parsed.message})`, {
        hint: 'overlab needs a private key without a passphrase (OpenSSH, PEM or PPK format).',
      });
    }
    const check = new HostKeyCheck(options.host, endpoint);
    const started = Date.now();
    let attempts = 0;
    let last: Error = new Error('no attempt made');
    for (;;) {
      options.signal?.throwIfAborted();
      attempts++;
      const readyTimeout = Math.max(1000, Math.min(options.attemptTimeoutMs ?? 10_000, deadline - Date.now()));
      try {
        const { client, transport, record } = await attempt(endpoint, key, readyTimeout, check, options.signal);
        if (record) {
          check.record(record.line);
          if (record.reason === 'first contact') {
            options.events?.emit({ type: 'warn', host: options.host, message: `first contact with ${options.host} (${where}): trusted its host key ${record.presented} and recorded it in ${check.recordedIn()}` });
          }
        }
        return new SshConnection(options.host, endpoint, client, transport);
      } catch (e) {
        options.signal?.throwIfAborted();
        if (e instanceof HostKeyError) throw e;
        // A pinned key of another type: ask again at once (each type once).
        if (e instanceof TryOtherHostKeyType) continue;
        // The host offers no other type: what it did present is the answer.
        const mismatch = check.pinnedMismatch();
        if (mismatch && /host key format/.test((e as Error).message)) throw mismatch;
        last = e as Error;
        if ((e as { level?: string }).level === 'client-authentication') {
          throw new HostUnreachableError(`cannot log in to ${options.host} over SSH (${where}): the server refused the key ${endpoint.privateKeyPath}`, {
            hint: 'Check the user and key; for Vagrant machines, `vagrant ssh-config` shows both.',
            cause: e,
          });
        }
      }
      const interval = options.intervalMs ?? 500;
      if (Date.now() + interval >= deadline) break;
      options.onRetry?.(attempts, last);
      if (attempts === 1) options.events?.emit({ type: 'info', host: options.host, message: `waiting for sshd on ${options.host} (${where}): ${last.message}` });
      await sleep(interval, undefined, options.signal ? { signal: options.signal } : undefined);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    throw new HostUnreachableError(
      `cannot reach ${options.host} over SSH (${where}): ${count(attempts, 'attempt')} in ${seconds} s (deadline ${(deadlineMs / 1000).toFixed(1)} s); last error: ${last.message}`,
      { hint: `Check that ${options.host} is running and its sshd listens on port ${endpoint.port}.`, cause: last },
    );
  }

  get isOpen(): boolean {
    return this.closedReason === undefined;
  }

  /** Keeps the process alive while an operation is under way, and only then. */
  private hold(): void {
    if (this.active++ === 0) this.transport.ref();
  }

  private release(): void {
    if (--this.active === 0) this.transport.unref();
  }

  private lost(during: string): HostUnreachableError {
    const proxy = this.endpoint.proxy ? this.transport.stderr() : '';
    return new HostUnreachableError(`lost the SSH connection to ${this.host} ${during}: ${this.closedReason ?? 'unknown reason'}${proxy ? ` (its proxy command said: ${proxy})` : ''}`, {
      hint: `Check that ${this.host} is still running.`,
    });
  }

  /**
   * A session channel closed without an exit status. When the connection ended, ssh2 closes its
   * channels before it reports the connection's end: wait a moment for that report (and the
   * proxy's last words) so the error names the cause. A connection still open after that means
   * the server ended the session without saying how the command ended.
   */
  private async channelEnded(during: string): Promise<HostUnreachableError> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, CHANNEL_END_GRACE_MS)))]);
    clearTimeout(timer);
    if (this.isOpen) {
      return new HostUnreachableError(`the SSH server of ${this.host} ended the session ${during} without an exit status (the connection is still open)`, {
        hint: `The command may have been killed on ${this.host} together with its session; its sshd log says why.`,
      });
    }
    if (this.endpoint.proxy) await this.transport.stderrSettled(CHANNEL_END_GRACE_MS);
    return this.lost(during);
  }

  /** Runs a command line in a session channel; resolves when the channel closes. */
  exec(command: string, io: ChannelExecIo = {}): Promise<ChannelExecResult> {
    return this.channels.exec(command, io);
  }

  /** Runs `fn` with an SFTP session, closed afterwards. */
  sftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.channels.sftp(fn);
  }

  /**
   * A stream to a unix socket on the host (OpenSSH's direct-streamlocal, as `ssh -L
   * local:/remote.sock`); the connection stays alive while the stream is open.
   */
  async openUnixSocket(socketPath: string): Promise<ClientChannel> {
    if (!this.isOpen) throw this.lost(`before opening ${socketPath}`);
    this.hold();
    try {
      const channel = await new Promise<ClientChannel>((resolve, reject) =>
        this.client.openssh_forwardOutStreamLocal(socketPath, (err, ch) =>
          err ? reject(new Error(`cannot open ${socketPath} on ${this.host} over SSH: ${err.message}`)) : resolve(ch),
        ),
      );
      channel.once('close', () => this.release());
      return channel;
    } catch (e) {
      this.release();
      throw e;
    }
  }

  close(): void {
    this.closedReason ??= 'closed by overlab';
    this.client.end();
    this.transport.destroy();
  }
}
