// What every fault acts through: the live lab (FaultTarget), its hosts by name, and commands
// run on a host bounded in time (a host that does not answer is named in a HostUnreachableError),
// its underlay interface found by the lab address and checked as a Linux interface name.
import { CommandFailedError, HostUnreachableError, PrerequisiteError, UsageError } from '../errors.ts';
import type { ExecResult, HostAccess } from '../host.ts';
import type { Plan } from '../lab/types.ts';
import type { LabState } from '../state/store.ts';
import { interfaceNameProblem, interfaceWithAddress } from './commands.ts';

/** How long one command of a fault may take on a host before the host counts as unreachable. */
export const FAULT_COMMAND_TIMEOUT_MS = 20_000;

/** The live lab a fault acts on. */
export interface FaultTarget {
  plan: Pick<Plan, 'lab' | 'mode' | 'kv' | 'hosts' | 'dockerHosts' | 'containers' | 'engine'>;
  state: LabState;
  hosts: Map<string, HostAccess>;
  signal: AbortSignal;
}

export function hostOf(t: FaultTarget, name: string): HostAccess {
  const h = t.hosts.get(name);
  if (!h) throw new UsageError(`lab ${t.plan.lab} has no host ${name}; its hosts are ${[...t.hosts.keys()].join(', ')}`);
  return h;
}

export function dockerHost(t: FaultTarget, name: string): HostAccess {
  const h = hostOf(t, name);
  if (!t.plan.dockerHosts.includes(name)) throw new UsageError(`${name} runs no Docker engine in lab ${t.plan.lab}; its docker hosts are ${t.plan.dockerHosts.join(', ')}`);
  return h;
}

export async function run(host: HostAccess, argv: string[], options: { input?: string } = {}): Promise<ExecResult> {
  const r = await host.runner.exec(argv, { timeoutMs: FAULT_COMMAND_TIMEOUT_MS, ...(options.input === undefined ? {} : { input: options.input }) });
  if (r.exitCode === 124) {
    throw new HostUnreachableError(`host ${host.name} did not answer within ${FAULT_COMMAND_TIMEOUT_MS / 1000} s (running ${argv.join(' ')})`, {
      hint: 'Check it with `overlab status`; `overlab down` removes the lab even so.',
    });
  }
  return r;
}

export async function mustRun(host: HostAccess, argv: string[], options: { input?: string } = {}): Promise<ExecResult> {
  const r = await run(host, argv, options);
  if (r.exitCode !== 0) throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: host.name });
  return r;
}

/**
 * The interface that holds the host's lab address: its underlay (eth1 on netns, whatever a VM
 * or machine calls it). Refused unless it is a name Linux could give an interface; even then it
 * goes to the host only as an argv word or a script's positional parameter.
 */
export async function underlayInterface(host: HostAccess): Promise<string> {
  const r = await mustRun(host, ['ip', '-o', '-4', 'addr', 'show']);
  const iface = interfaceWithAddress(r.stdout, host.address);
  if (!iface) throw new CommandFailedError({ command: 'ip -o -4 addr show', exitCode: 0, output: `no interface holds ${host.address}\n${r.stdout}`, host: host.name });
  checkInterfaceName(host, iface, `the interface that holds ${host.address}`);
  return iface;
}

export function checkInterfaceName(host: HostAccess, iface: string, what: string): void {
  const problem = interfaceNameProblem(iface);
  if (problem) {
    throw new PrerequisiteError(`host ${host.name}: ${what} is named ${JSON.stringify(iface)}, which is no Linux interface name (${problem}); overlab will not use it in a command`, {
      hint: 'Check `ip -o -4 addr show` on the host; a fault needs the lab address on an interface with an ordinary name.',
    });
  }
}
