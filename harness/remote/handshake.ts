// One attempt at an SSH connection: opens the endpoint's transport, runs ssh2's handshake over
// it with the host's key checked (host-keys.ts decides; ssh2 is offered the known key types
// first), then public-key authentication, and resolves once the client is ready. A failed attempt
// carries the proxy's last words (e.g. nc's "Connection refused") and ssh2's error level
// ('client-authentication' for a refused key), and leaves nothing open. Retrying is the
// caller's (connection.ts).
import ssh2 from 'ssh2';
import type { Client as SshClient, ServerHostKeyAlgorithm } from 'ssh2';
import { HostKeyError } from '../errors.ts';
import type { SshEndpoint } from '../host.ts';
import type { HostKeyCheck } from './host-keys.ts';
import { shellJoin } from '../quote.ts';
import { openTransport, type Transport } from './transport.ts';

const { Client } = ssh2;

/** `user@host:port [through \`proxy\`]`, for messages. */
export function describeEndpoint(e: SshEndpoint): string {
  return `${e.username}@${e.host}:${e.port}${e.proxy ? ` through \`${shellJoin(e.proxy)}\`` : ''}`;
}

/** The host presented a key of a type a pinned fingerprint is not of: the next attempt asks for another type. */
export class TryOtherHostKeyType extends Error {
  constructor(readonly presented: string) {
    super(`the host presented ${presented}, not the pinned key; asking for another key type`);
  }
}

export interface AttemptResult {
  client: SshClient;
  transport: Transport;
  /** The host's key to record in the lab's known_hosts, now that the handshake completed. */
  record: { line: string; reason: 'first contact' | 'pinned'; presented: string } | undefined;
}

/**
 * One connection attempt: resolves once authenticated. A key the check refuses ends it with
 * that HostKeyError during the key exchange, before authentication: a host that is not trusted
 * is offered no credentials and runs nothing.
 */
export function attempt(endpoint: SshEndpoint, privateKey: Buffer, readyTimeout: number, check: HostKeyCheck, signal?: AbortSignal): Promise<AttemptResult> {
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
    let refusal: Error | undefined;
    let record: AttemptResult['record'];
    const hostVerifier = (key: Buffer): boolean => {
      try {
        const verdict = check.verify(key);
        if (verdict.kind === 'trusted') return true;
        if (verdict.kind === 'record') {
          record = { line: verdict.line, reason: verdict.reason, presented: verdict.presented };
          return true;
        }
        refusal = verdict.kind === 'refused' ? verdict.error : new TryOtherHostKeyType(verdict.presented);
      } catch (e) {
        // verify() reports its own troubles as refusals; anything else is a bug, not a reason to trust.
        refusal = e instanceof HostKeyError ? e : new Error(`cannot check the host key of ${endpoint.host}: ${(e as Error).message}`);
      }
      return false;
    };
    const onAbort = () => fail(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    const fail = (failure: Error) => {
      if (settled) return;
      const err = refusal ?? failure;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.removeAllListeners('ready');
      client.on('error', () => {});
      // The proxy's reason (e.g. nc's "Connection refused") may arrive just after its stdout ended.
      void transport.stderrSettled(signal?.aborted ? 0 : 250).then(() => {
        const why = transport.stderr();
        const error = why && !refusal && !err.message.includes(why) ? Object.assign(new Error(`${err.message} (${why})`), { level: (err as { level?: string }).level }) : err;
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
      resolve({ client, transport, record });
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', (e: Error) => fail(e));
    client.on('close', () => fail(new Error('the connection closed before the SSH handshake finished')));
    try {
      client.connect({
        sock: transport.socket,
        username: endpoint.username,
        privateKey,
        readyTimeout,
        host: endpoint.host,
        port: endpoint.port,
        hostVerifier,
        algorithms: { serverHostKey: check.algorithms() as ServerHostKeyAlgorithm[] },
      });
    } catch (e) {
      fail(e as Error);
    }
  });
}
