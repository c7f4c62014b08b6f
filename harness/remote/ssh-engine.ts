// A Docker engine reached over SSH: dockerode's HTTP requests travel through the engine's unix
// socket, forwarded by the SSH connection (direct-streamlocal, as `ssh -L sock:/var/run/docker.sock`).
// Works with any engine version (no `docker system dial-stdio` on the host) and never opens a
// TCP port. One SSH connection per client, opened at the first request and reopened if lost.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import type { SshEndpoint } from '../host.ts';
import { SshConnection } from './connection.ts';

export interface SshEngineOptions {
  /** Name for messages (the lab host); defaults to the SSH address. */
  host?: string;
  /** Deadline for (re)connecting SSH at a request (default 20 s). */
  connectDeadlineMs?: number;
}

const noop = () => {};

/** An http.Agent whose connections are streams to a remote unix socket over one SSH connection. */
export class SshUnixSocketAgent extends http.Agent {
  private connection: Promise<SshConnection> | undefined;

  constructor(
    readonly ssh: SshEndpoint,
    readonly socketPath: string,
    private readonly options: SshEngineOptions = {},
  ) {
    super({ keepAlive: false });
  }

  private sshConnection(): Promise<SshConnection> {
    if (!this.connection) {
      const opening = SshConnection.open(this.ssh, { host: this.options.host ?? this.ssh.host, deadlineMs: this.options.connectDeadlineMs ?? 20_000 });
      this.connection = opening;
      opening.catch(() => {
        if (this.connection === opening) this.connection = undefined;
      });
    }
    return this.connection;
  }

  override createConnection(_options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const done = callback ?? noop;
    void (async () => {
      let conn = await this.sshConnection();
      if (!conn.isOpen) {
        this.connection = undefined;
        conn = await this.sshConnection();
      }
      const stream = await conn.openUnixSocket(this.socketPath);
      // http's client calls these on net.Socket; a channel has no TCP options to set.
      Object.assign(stream, { setKeepAlive: noop, setNoDelay: noop, setTimeout: noop, ref: noop, unref: noop, destroySoon: () => stream.destroy() });
      done(null, stream);
    })().catch((e: Error) => done(e, undefined as unknown as Duplex));
    return undefined;
  }

  /** Closes the SSH connection as well as the agent's sockets. */
  override destroy(): void {
    super.destroy();
    const conn = this.connection;
    this.connection = undefined;
    void conn?.then((c) => c.close()).catch(() => {});
  }
}

/** dockerode for an engine whose unix socket is on an SSH host. Close with `closeSshEngine`. */
export function sshEngineClient(endpoint: { ssh: SshEndpoint; socketPath: string }, options: SshEngineOptions = {}): Docker {
  const agent = new SshUnixSocketAgent(endpoint.ssh, endpoint.socketPath, options);
  // The host name is only a placeholder: the agent never resolves or dials it.
  return new Docker({ protocol: 'http', host: 'docker.invalid', port: 80, agent } as Docker.DockerOptions);
}

/** Ends the SSH connection of a client made by sshEngineClient (others are left alone). */
export function closeSshEngine(docker: Docker): void {
  const agent = (docker.modem as { agent?: unknown }).agent;
  if (agent instanceof SshUnixSocketAgent) agent.destroy();
}
