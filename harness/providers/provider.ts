// The one provider interface: a provider creates hosts, says how to reach each (a command
// runner and an engine endpoint), and destroys what it created. Engines, KV stores, networks,
// containers and specs are shared code working through what it hands back.
import type { Plan, ProviderId } from '../lab/types.ts';
import type { HostAccess, HostRunner } from '../host.ts';
import type { LabContext } from '../state/lab-context.ts';

/** One host's commands, as `up --dry-run` prints them. */
export interface HostCommands {
  host: string;
  commands: string[];
}

export interface Provider {
  readonly id: ProviderId;
  /**
   * How copies of a lab (`up --copies`) coexist: in namespaces of their own with the lab's
   * addresses, each on a private subnet of its own (host networks shared by the whole
   * machine), or not at all (machines that exist once).
   */
  readonly copies: 'same-addresses' | 'own-subnet' | 'unsupported';
  /**
   * Whether labs of this provider may run side by side on this machine, sharing nothing (a
   * matrix runs its cells at once): namespaces do; VMs are made one lab at a time, and an ssh
   * lab's machines exist once.
   */
  readonly sideBySide: boolean;
  /**
   * What the provider finds of a lab whose state is gone, by the lab's name, removed (`down
   * --force` with no state: vagrant's libvirt domains and volumes). Absent where `destroy`
   * with `force` already finds everything.
   */
  sweepOrphans?(lab: string, ctx: LabContext): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }>;
  /**
   * Whether a lab can be handed to a Unix user or group of this machine (`up --owner`): its
   * engines and hosts then answer that user, without root, on this machine.
   */
  readonly handsOver?: boolean;
  /**
   * Whether the hosts' SSH proxy command is asked of the provider afresh on every connection
   * (vagrant: `vagrant ssh-config`), never run from the lab state, so a state may record any.
   * Absent or false: a recorded proxy command is run (the ssh provider) and must be overlab's
   * own. The state checker, below the providers, keeps the same answer per provider id in
   * state/check-host-state.ts PROXY_ASKED_AFRESH; specs/unit/provider-capabilities.spec.ts holds the two equal.
   */
  readonly asksProxyAfresh?: boolean;
  /**
   * Whether a host that hostStates reports "running" runs commands (namespaces of this machine,
   * entered directly): `status` then runs none to find out. Absent or false: it runs one on each
   * host (over SSH, where a machine may be up and still not answer).
   */
  readonly runningMeansReachable?: boolean;
  /** Memory (MiB) one lab of this plan takes on this machine, from measured figures; 0 when it runs elsewhere. */
  estimateMemoryMiB(plan: Plan): number;
  /** Memory (MiB) the lab's processes or machines take on this machine now, when the provider can tell. */
  memoryInUseMiB(lab: string, ctx: LabContext): Promise<number | undefined>;
  /**
   * Installs and configures what a host needs before its services start (engine, KV store),
   * idempotently; absent where hosts come ready (netns). Returns a short outcome.
   */
  provision?(plan: Plan, host: HostAccess, ctx: LabContext): Promise<string | void>;
  /** The commands that create and provision the hosts, without running any (`up --dry-run`). */
  describe(plan: Plan): HostCommands[];
  /** dockerd flags this provider adds on a host (paths, sockets), for `up --dry-run`. */
  engineFlagsFor(plan: Plan, host: string): string[];
  /**
   * A runner that sees the kernel the hosts will run on, before any host exists (netns: this
   * machine's), so `up` can stop before creating anything when the lab needs a kernel feature
   * it lacks. Absent where the kernel is a VM's or a remote machine's: the specs tell instead.
   */
  kernelRunner?(): HostRunner;
  /** Why this provider cannot run here, or undefined when it can. */
  unusableReason(): Promise<string | undefined>;
  /** Creates the hosts (recording each resource in the lab state first) and says how to reach them. */
  createHosts(plan: Plan, ctx: LabContext): Promise<HostAccess[]>;
  /** How to reach the hosts of a lab that is up. */
  connect(plan: Plan, ctx: LabContext): Promise<HostAccess[]>;
  /** Each host's state as the provider sees it ("running", "gone", Vagrant's "poweroff" ...), for `status`. */
  hostStates(plan: Plan, ctx: LabContext): Promise<Record<string, string>>;
  /** The argv of an interactive `ssh` to a host from this machine (run by `overlab ssh`). */
  sshArgv(host: HostAccess, ctx: LabContext, command: string[]): string[];
  /** Removes everything the lab created; idempotent. `force` also hunts leftovers by name prefix. */
  destroy(lab: string, ctx: LabContext, options: { force: boolean }): Promise<DestroyReport>;
}

/** What `down` removed, each by name, for its output and for the tests that check nothing is left. */
export interface DestroyReport {
  /** Machines destroyed (vagrant). */
  vms: string[];
  /** Containers removed one by one ("host/name"); on netns they go with their engine's namespaces. */
  containers: string[];
  /** Processes and services stopped ("host: dockerd (pid 123)", "host: overlab-kv.service"). */
  processes: string[];
  namespaces: string[];
  paths: string[];
}

export function emptyDestroyReport(): DestroyReport {
  return { vms: [], containers: [], processes: [], namespaces: [], paths: [] };
}
