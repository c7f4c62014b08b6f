// The host contract, on the ground floor: how the shared code (remote/, engine/, kv/,
// provision/, lifecycle/) reaches a host, whichever provider created it. A provider hands back
// a HostAccess per host; nothing below providers/ knows which provider that was.
import type { Events } from './events.ts';
import type { StateStore } from './state/store.ts';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** Kill the command after this long and report exit code 124, as timeout(1) does. */
  timeoutMs?: number;
  /** Environment additions. */
  env?: Record<string, string>;
}

/** Runs commands on one host: in its namespaces (netns) or over SSH (vagrant, ssh). */
export interface HostRunner {
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

export interface SshEndpoint {
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  /**
   * A command whose stdin/stdout is the TCP connection to host:port, as OpenSSH's ProxyCommand.
   * Used where the host's address is not routable from this machine's own namespace (netns
   * hosts, libvirt in a namespace): e.g. nsenter into the lab's switch, then `nc ADDR 22`.
   */
  proxy?: string[];
}

/**
 * How the harness reaches a host's Docker engine. Never an unauthenticated TCP port: a local
 * unix socket, or the engine's unix socket forwarded over SSH.
 */
export type EngineEndpoint = { kind: 'socket'; socketPath: string } | { kind: 'ssh'; ssh: SshEndpoint; socketPath: string };

/** A long-running process on a host (KV store, engine), run by the host's service manager. */
export interface ServiceSpec {
  name: string;
  argv: string[];
}

/** Starts, watches and stops a host's long-running processes; pids and logs are the provider's. */
export interface ServiceManager {
  start(spec: ServiceSpec): Promise<void>;
  isRunning(name: string): Promise<boolean>;
  stop(name: string): Promise<void>;
  /** Where the service's output is kept (a local file for netns), for error messages. */
  logFile(name: string): string;
  readLog(name: string): Promise<string>;
  /** A folder on the host for the service's data. */
  dataDir(name: string): string;
}

/** A host the provider created (or found), and how to reach it. */
export interface HostAccess {
  name: string;
  address: string;
  runner: HostRunner;
  services: ServiceManager;
  ssh: SshEndpoint | undefined;
  /** How the harness reaches the engine once it runs (docker hosts only). */
  engine: EngineEndpoint | undefined;
  /** dockerd flags the provider needs on this host (paths, socket, cgroups); the lab's come from the plan. */
  engineFlags: string[];
  /** Releases what reaching the host holds open (SSH sessions, proxies); the host keeps running. */
  close?(): void;
}

export interface LabContext {
  /** The lab's state folder (.overlab/<lab>) and its state file. */
  store: StateStore;
  events: Events;
  signal: AbortSignal;
}
