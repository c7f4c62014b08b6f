// overlab env HOST: exports for the stock docker CLI, as `docker-machine env` printed them,
// every value shell-quoted (harness/lifecycle/machine.ts) so `eval` runs none of them.
import { UsageError } from '../errors.ts';
import { engineTarget, envScript, openHostLab, UNSET_SCRIPT } from '../lifecycle/machine.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say } from './output.ts';

export async function envCommand(host: string | undefined, opts: GlobalOptions & { unset?: boolean }, signal: AbortSignal): Promise<number> {
  if (opts.unset) {
    // As `docker-machine env -u`: no host needed to undo it.
    say(UNSET_SCRIPT);
    return 0;
  }
  if (host === undefined) throw new UsageError('overlab env needs a HOST (or --unset)', { hint: 'Run `overlab ls` to see the hosts.' });
  const target = await engineTarget(await openHostLab(host, opts.lab), host, signal, opts.provider);
  if (opts.json) printJson({ DOCKER_HOST: target.dockerHost, DOCKER_MACHINE_NAME: host });
  else say(envScript(target, opts.lab));
  return 0;
}
