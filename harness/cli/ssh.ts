// overlab ssh HOST [command]: a shell on a lab host over its sshd, as `vagrant ssh` gives.
import { spawn } from 'node:child_process';
import { UsageError } from '../errors.ts';
import { connectLab, openPlan } from '../lifecycle/lab.ts';
import type { GlobalOptions } from './main.ts';

export async function sshCommand(host: string, command: string[], opts: GlobalOptions, signal: AbortSignal): Promise<number> {
  const plan = await openPlan(opts.lab);
  const { hosts, provider, ctx, close } = await connectLab(plan, signal, { engines: false, ...(opts.provider ? { provider: opts.provider } : {}) });
  close(); // the ssh client makes its own connection
  const h = hosts.get(host);
  if (!h) throw new UsageError(`lab ${plan.lab} has no host "${host}" (hosts: ${[...hosts.keys()].join(', ')})`);
  const [bin, ...args] = provider.sshArgv(h, ctx, command);
  const child = spawn(bin!, args, { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
}
