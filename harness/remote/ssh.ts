// Commands on a host over SSH (ssh2): one connection per host, opened with bounded retries (the
// only place that retries), reached directly over TCP or through a proxy command's stdio (as
// OpenSSH's ProxyCommand). SshRunner runs argv with exit codes, stdin and timeouts, with sudo for
// a user who is not root, streams every command and its output to the host's provisioning log,
// and uploads files over SFTP. An idle connection does not keep the process alive.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { dirname } from 'node:path';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import type { Client as SshClient, ClientChannel, SFTPWrapper } from 'ssh2';
import { CommandFailedError, HostUnreachableError } from '../errors.ts';
import type { Events } from '../events.ts';
import { count } from '../plural.ts';
import type { ExecOptions, ExecResult, HostRunner, SshEndpoint } from '../host.ts';
import { KILL_AFTER_SECONDS, remoteCommand, shellJoin } from './shell.ts';

const { Client } = ssh2;

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

/** The byte stream under one SSH connection: a TCP socket, or a proxy command's stdin/stdout. */
interface Transport {
  socket: Duplex;
  /** Let the process exit while the connection is idle (or not). */
  ref(): void;
  unref(): void;
  destroy(): void;
  /** What the proxy printed on stderr (why it could not connect). */
  stderr(): string;
  /** Resolves once the proxy's stderr has closed (it exited), or after `ms`: its last words may trail its stdout's end. */
  stderrSettled(ms: number): Promise<void>;
}

function tcpTransport(endpoint: SshEndpoint): Transport {
  const socket: Socket = netConnect({ host: endpoint.host, port: endpoint.port });
  return {
    socket,
    ref: () => socket.ref(),
    unref: () => socket.unref(),
    destroy: () => socket.destroy(),
    stderr: () => '',
    stderrSettled: async () => {},
  };
}

/** A proxy command (e.g. `nsenter --net=/run/netns/SW -- busybox nc ADDR 22`) whose stdio is the connection. */
function proxyTransport(argv: readonly string[]): Transport {
  const [bin, ...args] = argv;
  const child: ChildProcess = spawn(bin!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const stderrClosed = new Promise<void>((resolve) => {
    child.stderr!.once('close', resolve);
    child.once('error', () => resolve());
  });
  const stdout = child.stdout!;
  const stdin = child.stdin!;
  const socket = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (stdin.destroyed) return cb();
      stdin.write(chunk, (err) => cb(err ?? undefined));
    },
    final(cb) {
      stdin.end();
      cb();
    },
    read() {
      stdout.resume();
    },
    destroy(err, cb) {
      stdin.destroy();
      stdout.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      cb(err);
    },
  });
  stdout.on('data', (d: Buffer) => {
    if (!socket.push(d)) stdout.pause();
  });
  stdout.on('end', () => socket.push(null));
  stdin.on('error', () => {}); // EPIPE after the proxy exited: the read side reports the end
  child.on('error', (e) => socket.destroy(new Error(`proxy command ${shellJoin(argv)} failed to start: ${e.message}`)));
  const pipes = [child.stdin, child.stdout, child.stderr] as unknown as Socket[];
  return {
    socket,
    ref: () => {
      child.ref();
      for (const p of pipes) p.ref?.();
    },
    unref: () => {
      child.unref();
      for (const p of pipes) p.unref?.();
    },
    destroy: () => socket.destroy(),
    stderr: () => stderr.trim(),
    stderrSettled: async (ms) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stderrClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    },
  };
}

/** How long a session channel that sshd refuses to open is retried (ssh2 gives such an error a numeric `reason`). */
const SESSION_OPEN_RETRY_MS = 5_000;

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
}

function describeEndpoint(e: SshEndpoint): string {
  return `${e.username}@${e.host}:${e.port}${e.proxy ? ` through \`${shellJoin(e.proxy)}\`` : ''}`;
}

/** One SSH connection to one host. */
export class SshConnection {
  private active = 0;
  private closedReason: string | undefined;
  private readonly sessions = new Slots(8);

  private constructor(
    readonly host: string,
    readonly endpoint: SshEndpoint,
    private readonly client: SshClient,
    private readonly transport: Transport,
  ) {
    client.on('error', (e: Error) => (this.closedReason ??= e.message));
    client.on('close', () => (this.closedReason ??= 'the connection closed'));
    transport.unref();
  }

  /**
   * Connects, retrying failed set-ups until the deadline (a booting machine refuses, resets or
   * times out). A refused key is not retried. Throws HostUnreachableError naming the host.
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
    const started = Date.now();
    let attempts = 0;
    let last: Error = new Error('no attempt made');
    for (;;) {
      options.signal?.throwIfAborted();
      attempts++;
      const readyTimeout = Math.max(1000, Math.min(options.attemptTimeoutMs ?? 10_000, deadline - Date.now()));
      try {
        const { client, transport } = await attempt(endpoint, key, readyTimeout, options.signal);
        return new SshConnection(options.host, endpoint, client, transport);
      } catch (e) {
        options.signal?.throwIfAborted();
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
    return new HostUnreachableError(`lost the SSH connection to ${this.host} ${during}: ${this.closedReason ?? 'unknown reason'}`, {
      hint: `Check that ${this.host} is still running.`,
    });
  }

  /** Runs a command line in a session channel; resolves when the channel closes. */
  async exec(command: string, io: ChannelExecIo = {}): Promise<ChannelExecResult> {
    await this.sessions.acquire();
    this.hold();
    try {
      if (!this.isOpen) throw this.lost(`before running: ${command}`);
      const channel = await this.openSession<ClientChannel>((cb) => this.client.exec(command, cb), `while starting: ${command}`);
      const result = await new Promise<ChannelExecResult>((resolve) => {
        const r: ChannelExecResult = { exitCode: null, signal: undefined, closedByTimeout: false };
        let timer: NodeJS.Timeout | undefined;
        channel.on('exit', (code: number | null, signal?: string) => {
          if (typeof code === 'number') r.exitCode = code;
          else r.signal = signal ?? 'unknown';
        });
        channel.on('data', (d: Buffer) => io.onStdout?.(d));
        channel.stderr.on('data', (d: Buffer) => io.onStderr?.(d));
        channel.on('error', () => {});
        channel.on('close', () => {
          if (timer) clearTimeout(timer);
          resolve(r);
        });
        if (io.hardTimeoutMs !== undefined) {
          timer = setTimeout(() => {
            r.closedByTimeout = true;
            channel.signal('KILL');
            channel.close();
          }, io.hardTimeoutMs);
        }
        if (io.input !== undefined) channel.end(io.input);
        else channel.end();
      });
      if (result.exitCode === null && result.signal === undefined && !result.closedByTimeout) throw this.lost(`while running: ${command}`);
      return result;
    } finally {
      this.release();
      this.sessions.release();
    }
  }

  /**
   * Opens a session channel. sshd frees a closed session only after it has read the close, so a
   * session opened right after others closed may meet its MaxSessions limit: OpenSSH refuses the
   * open ("open failed", reason 2) before anything runs, so a refused open is retried for a few seconds.
   */
  private async openSession<T>(open: (cb: (err: Error | undefined, channel: T) => void) => void, during: string): Promise<T> {
    const deadline = Date.now() + SESSION_OPEN_RETRY_MS;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      try {
        return await new Promise<T>((resolve, reject) => open((err, channel) => (err ? reject(err) : resolve(channel))));
      } catch (e) {
        if (!this.isOpen) throw this.lost(during);
        if (typeof (e as { reason?: unknown }).reason !== 'number' || Date.now() + delay > deadline) throw e;
        await sleep(delay);
      }
    }
  }

  /** Runs `fn` with an SFTP session, closed afterwards. */
  async sftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    await this.sessions.acquire();
    this.hold();
    try {
      if (!this.isOpen) throw this.lost('before opening SFTP');
      const sftp = await this.openSession<SFTPWrapper>((cb) => this.client.sftp(cb), 'while opening SFTP');
      try {
        return await fn(sftp);
      } finally {
        sftp.end();
      }
    } finally {
      this.release();
      this.sessions.release();
    }
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

/** One connection attempt: resolves once authenticated. */
function attempt(endpoint: SshEndpoint, privateKey: Buffer, readyTimeout: number, signal?: AbortSignal): Promise<{ client: SshClient; transport: Transport }> {
  return new Promise((resolve, reject) => {
    let transport: Transport;
    try {
      transport = endpoint.proxy ? proxyTransport(endpoint.proxy) : tcpTransport(endpoint);
    } catch (e) {
      reject(e as Error);
      return;
    }
    const client = new Client();
    let settled = false;
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('ready');
      client.on('error', () => {});
      // The proxy's reason (e.g. nc's "Connection refused") may arrive just after its stdout ended.
      void transport.stderrSettled(signal?.aborted ? 0 : 250).then(() => {
        const why = transport.stderr();
        const error = why && !err.message.includes(why) ? Object.assign(new Error(`${err.message} (${why})`), { level: (err as { level?: string }).level }) : err;
        client.end();
        transport.destroy();
        reject(error);
      });
    };
    // Errors of the socket itself (ECONNREFUSED, a proxy that failed to start).
    transport.socket.on('error', (e: Error) => fail(e));
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({ client, transport });
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', (e: Error) => fail(e));
    client.on('close', () => fail(new Error('the connection closed before the SSH handshake finished')));
    try {
      client.connect({ sock: transport.socket, username: endpoint.username, privateKey, readyTimeout, host: endpoint.host, port: endpoint.port });
    } catch (e) {
      fail(e as Error);
    }
  });
}

export type UploadSource = { content: string | Buffer } | { localPath: string };

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
    const command = remoteCommand(argv, { sudo: this.sudo, ...(options.env ? { env: options.env } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    const id = ++this.seq;
    const started = Date.now();
    this.log(`[${new Date(started).toISOString()}] #${id} $ ${command}${options.input === undefined ? '' : ` (stdin: ${Buffer.byteLength(options.input)} bytes)`}\n`);
    this.options.events?.emit({ type: 'command', host: this.host, command });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let r: ChannelExecResult;
    try {
      r = await this.connection.exec(command, {
        ...(options.input === undefined ? {} : { input: options.input }),
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
  async upload(source: UploadSource, remotePath: string, mode = 0o644): Promise<void> {
    const tmp = `/tmp/overlab-upload-${randomBytes(8).toString('hex')}`;
    const octal = mode.toString(8).padStart(4, '0');
    const what = 'content' in source ? `${Buffer.byteLength(source.content)} bytes` : source.localPath;
    this.log(`[${new Date().toISOString()}] upload ${what} to ${remotePath} (mode ${octal})\n`);
    await this.connection.sftp(async (sftp) => {
      if ('content' in source) {
        await new Promise<void>((resolve, reject) => sftp.writeFile(tmp, source.content, { mode: 0o600 }, (e) => (e ? reject(e) : resolve())));
      } else {
        await new Promise<void>((resolve, reject) => sftp.fastPut(source.localPath, tmp, { mode: 0o600 }, (e) => (e ? reject(e) : resolve())));
      }
    }).catch((e: Error) => {
      if (e instanceof HostUnreachableError) throw e;
      throw new CommandFailedError({ command: `sftp put ${what} ${tmp}`, exitCode: null, output: e.message, host: this.host });
    });
    const argv = ['sh', '-c', 'install -D -m "$1" "$2" "$3"; s=$?; rm -f "$2"; exit $s', 'upload', octal, tmp, remotePath];
    const r = await this.exec(argv);
    if (r.exitCode !== 0) throw this.failure(`install -D -m ${octal} ${tmp} ${remotePath}`, r);
  }

  close(): void {
    this.connection.close();
  }

  private log(text: string | Buffer): void {
    if (this.options.logFile) appendFileSync(this.options.logFile, text);
  }
}
