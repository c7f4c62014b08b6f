// overlab ip HOST: the host's address, as `docker-machine ip` printed it.
import { hostAddress, openHostLab } from '../lifecycle/machine.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say } from './output.ts';

export async function ipCommand(host: string, opts: GlobalOptions): Promise<number> {
  const plan = await openHostLab(host, opts.lab);
  const address = hostAddress(plan, host);
  if (opts.json) printJson({ lab: plan.lab, host, address });
  else say(address);
  return 0;
}
