// The one provider interface: a provider creates hosts, says how to reach each (a command
// runner and an engine endpoint), and destroys what it created. Engines, KV stores, networks,
// containers and specs are shared code working through what it hands back.
import type { Plan } from '../lab/types.ts';
import type { Events } from '../events.ts';
import type { StateStore } from '../state/store.ts';

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

export type ProviderId = 'netns' | 'vagrant' | 'ssh';

export interface ProviderContext {
  /** The lab's state folder (.overlab/<lab>) and its state file. */
  store: StateStore;
  events: Events;
  signal: AbortSignal;
}

/** One host's commands, as `up --dry-run` prints them. */
export interface HostCommands {
  host: string;
  commands: string[];
}

export interface Provider {
  readonly id: ProviderId;
  /**
   * Installs and configures what a host needs before its services start (engine, KV store),
   * idempotently; absent where hosts come ready (netns). Returns a short outcome.
   */
  provision?(plan: Plan, host: HostAccess, ctx: ProviderContext): Promise<string | void>;
  /** The commands that create and provision the hosts, without running any (`up --dry-run`). */
  describe(plan: Plan): HostCommands[];
  /** dockerd flags this provider adds on a host (paths, sockets), for `up --dry-run`. */
  engineFlagsFor(plan: Plan, host: string): string[];
  /** Why this provider cannot run here, or undefined when it can. */
  unusableReason(): Promise<string | undefined>;
  /** Creates the hosts (recording each resource in the lab state first) and says how to reach them. */
  createHosts(plan: Plan, ctx: ProviderContext): Promise<HostAccess[]>;
  /** How to reach the hosts of a lab that is up. */
  connect(plan: Plan, ctx: ProviderContext): Promise<HostAccess[]>;
  /** Each host's state as the provider sees it ("running", "gone", Vagrant's "poweroff" ...), for `status`. */
  hostStates(plan: Plan, ctx: ProviderContext): Promise<Record<string, string>>;
  /** The argv of an interactive `ssh` to a host from this machine (run by `overlab ssh`). */
  sshArgv(host: HostAccess, ctx: ProviderContext, command: string[]): string[];
  /** Removes everything the lab created; idempotent. `force` also hunts leftovers by name prefix. */
  destroy(lab: string, ctx: ProviderContext, options: { force: boolean }): Promise<DestroyReport>;
}

/** What `down` removed, for its output and for the tests that check nothing is left. */
export interface DestroyReport {
  processes: number;
  namespaces: string[];
  paths: string[];
}
