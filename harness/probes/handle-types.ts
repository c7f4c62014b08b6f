// What the lab handle (handle.ts) hands out: a host, a container, the options of its checks.
import type Docker from 'dockerode';
import type { ExecResult } from '../host.ts';
import type { HostPlan } from '../lab/types.ts';

/** A command: argv as written, or one string run by `sh -c`. */
export type Command = string | readonly string[];

/** A host of the lab (`lab.host(name)`). */
export interface HostHandle {
  /** Its name in the lab file. */
  readonly name: string;
  /** Its address on the lab's network (the underlay the overlays run over). */
  readonly address: string;
  /** `docker` or `kv`. */
  readonly role: HostPlan['role'];
  /** The host's engine (a dockerode client); a kv host has none, and asking for it throws. */
  readonly engine: Docker;
  /**
   * Runs a command on the host (in its namespaces, or over SSH); never throws for a non-zero
   * exit. `timeoutMs` (default 15 s) is multiplied by the lab's pace (slower on emulated VMs).
   */
  run(command: Command, options?: { timeoutMs?: number }): Promise<ExecResult>;
  /** `docker exec` in any container of this host's engine, also one the plan does not have (a student's); `timeoutMs` as for `run`. */
  exec(container: string, command: Command, options?: { timeoutMs?: number }): Promise<ExecResult>;
}

/** A container of the lab's plan (`lab.container(name)`). */
export interface ContainerHandle {
  /** Its name in the lab file. */
  readonly name: string;
  /** The host it runs on. */
  readonly host: string;
  /** The networks the plan attaches it to. */
  readonly networks: string[];
  /** `docker exec` in the container; never throws for a non-zero exit; `timeoutMs` as for a host's `run`. */
  exec(command: Command, options?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Its addresses by network, from `docker inspect` now. */
  addresses(): Promise<Record<string, string>>;
}

/** How `lab.reach` reaches one container from another. */
export interface ReachOptions {
  /** The network to reach it over (default: the only one the two share). */
  over?: string;
  /** By its name (the embedded DNS) or by its address on that network (default: name). */
  by?: 'name' | 'address';
  /** A ping, or a tcp connection to a listener started in `to` (default: icmp). */
  proto?: 'icmp' | 'tcp';
}
