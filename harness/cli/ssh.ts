// overlab ssh HOST [command]: a shell on a lab host over its sshd, as `vagrant ssh` gives;
// --dry-run prints the ssh command line (shell-quoted) instead of running it.
import { spawn } from 'node:child_process';
import { UsageError } from '../errors.ts';
import { connectLab } from '../lifecycle/connect.ts';
import { openHostLab, sshCommandLine } from '../lifecycle/machine.ts';
import type { GlobalOptions } from './options.ts';
import { say } from './output.ts';

export async function sshCommand(host: string, command: string[], opts: GlobalOptions & { dryRun?: boolean }, signal: AbortSignal): Promise<number> {
  const plan = await openHostLab(host, opts.lab);
  const { hosts, provider, ctx, close } = await connectLab(plan, signal, { engines: false, ownerMay: 'ssh to its hosts', ...(opts.provider ? { provider: opts.provider } : {}) });
  close(); // the ssh client makes its own connection
  const h = hosts.get(host);
  if (!h) throw new UsageError(`lab ${plan.lab} has no host "${host}" (hosts: ${[...hosts.keys()].join(', ')})`);
  const argv = provider.sshArgv(h, ctx, command);
  if (opts.dryRun) {
    say(sshCommandLine(argv));
    return 0;
  }
  const [bin, ...args] = argv;
  const child = spawn(bin!, args, { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
}
