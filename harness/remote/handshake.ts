// One attempt at an SSH connection: opens the endpoint's transport, runs ssh2's handshake and
// public-key authentication over it, and resolves once the client is ready. A failed attempt
// carries the proxy's last words (e.g. nc's "Connection refused") and ssh2's error level
// ('client-authentication' for a refused key), and leaves nothing open. Retrying is the
// caller's (connection.ts).
import ssh2 from 'ssh2';
import type { Client as SshClient } from 'ssh2';
import type { SshEndpoint } from '../host.ts';
import { shellJoin } from './shell.ts';
import { openTransport, type Transport } from './transport.ts';

const { Client } = ssh2;

/** `user@host:port [through \`proxy\`]`, for messages. */
export function describeEndpoint(e: SshEndpoint): string {
  return `${e.username}@${e.host}:${e.port}${e.proxy ? ` through \`${shellJoin(e.proxy)}\`` : ''}`;
}

/** One connection attempt: resolves once authenticated. */
export function attempt(endpoint: SshEndpoint, privateKey: Buffer, readyTimeout: number, signal?: AbortSignal): Promise<{ client: SshClient; transport: Transport }> {
  return new Promise((resolve, reject) => {
    let transport: Transport;
    try {
      transport = openTransport(endpoint);
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
