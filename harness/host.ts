// The host contract, on the ground floor: how the shared code (remote/, engine/, kv/,
// provision/, lifecycle/) reaches a host, whichever provider created it. A provider hands back
// a HostAccess per host; nothing below providers/ knows which provider that was.

/** What a command run on a host or in a container gave: its exit status and its output, whole. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** A local file streamed to the command's stdin as it is read (instead of `input`). */
  inputFile?: string;
  /** Kill the command after this long and report exit code 124, as timeout(1) does. */
  timeoutMs?: number;
  /** Environment additions. */
  env?: Record<string, string>;
  /** As the login user even where commands go through sudo: a query any user may make (`systemctl is-active`), without sudo's cost. */
  unprivileged?: boolean;
}

/** Runs commands on one host: in its namespaces (netns) or over SSH (vagrant, ssh). */
export interface HostRunner {
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

/** Where and as whom to reach a host's sshd: what `vagrant ssh-config` or a lab file says. */
export interface SshAddress {
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
 * Which host keys a host may present. Every SSH connection checks one: the key must be listed
 * for the host (`host`, or `[host]:port` off port 22) in `knownHosts` or `recordIn`, or be the
 * `pinned` one; a host nothing lists is trusted only with `acceptNew`.
 */
export interface HostKeyPolicy {
  /** known_hosts files read, never written (the user's ~/.ssh/known_hosts for the ssh provider). */
  knownHosts: string[];
  /** The lab's own known_hosts (.overlab/<lab>/known_hosts): read, and where keys overlab trusts are recorded. */
  recordIn: string;
  /** The fingerprint the lab file gives (`hosts[].ssh.hostKey`, `SHA256:...`): then the only key trusted. */
  pinned?: { fingerprint: string; source: string };
  /** First contact: a host no file lists is trusted and its key recorded in `recordIn`. */
  acceptNew?: boolean;
  /**
   * Who vouches for the keys, for what an error advises: `user` (the ssh provider: machines the
   * user gives, first contact with --accept-new-host-keys) or `overlab` (hosts overlab created
   * and recorded the keys of: netns, vagrant).
   */
  vouchedBy: 'user' | 'overlab';
}

/** How to reach a host over SSH, and which host keys to trust there. */
export interface SshEndpoint extends SshAddress {
  hostKeys: HostKeyPolicy;
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
  /** Added to the service's environment (an engine tree's folder first on dockerd's PATH, so it finds that tree's containerd and runc). */
  env?: Record<string, string>;
  /**
   * The engine's tree (its bin folder) when the engine comes from one: dockerd, containerd, the
   * shim and runc all from there. A manager whose host runs a containerd of its own (systemd
   * hosts) starts the tree's beside it, never the host's.
   */
  tree?: string;
}

/** The service name that means the host's Docker engine, on every ServiceManager. */
export const ENGINE_SERVICE = 'dockerd';

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
  /**
   * Puts a folder of this machine at the same path on the host, unless the same content is there
   * (an engine tree, whose programs name their loader by absolute path). Absent where the host
   * sees this machine's files (netns).
   */
  receiveFolder?(folder: PackedFolder): Promise<void>;
  /** Releases what reaching the host holds open (SSH sessions, proxies); the host keeps running. */
  close?(): void;
}

/** A folder of this machine packed for hosts that do not see its files: a gzipped tar of it, and the tar's SHA-256. */
export interface PackedFolder {
  dir: string;
  tarball: string;
  sha256: string;
}
