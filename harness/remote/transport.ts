// The byte stream under one SSH connection: a TCP socket to the host's sshd, or the stdin and
// stdout of a proxy command (as OpenSSH's ProxyCommand), e.g. `nsenter --net=/run/netns/SW --
// busybox nc ADDR 22` for an address only a lab's switch namespace can route. Owns the proxy
// process: its stderr (why it could not connect), ref/unref so an idle connection does not keep
// the process alive, and its end.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { SshEndpoint } from '../host.ts';
import { shellJoin } from '../quote.ts';

/** The byte stream under one SSH connection: a TCP socket, or a proxy command's stdin/stdout. */
export interface Transport {
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

/** The endpoint's transport: its proxy command when it has one, else TCP to host:port. */
export function openTransport(endpoint: SshEndpoint): Transport {
  return endpoint.proxy ? proxyTransport(endpoint.proxy) : tcpTransport(endpoint);
}

export function tcpTransport(endpoint: SshEndpoint): Transport {
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
export function proxyTransport(argv: readonly string[]): Transport {
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
    // The proxy's stdout ending ends the connection: the socket then closes (as a TCP socket
    // does), so ssh2 reports the connection closed and ends its channels. Half-open, it waited forever.
    allowHalfOpen: false,
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
