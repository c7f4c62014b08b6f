// overlab env HOST: exports for the stock docker CLI, as `docker-machine env` printed them,
// every value shell-quoted (harness/lifecycle/machine.ts) so `eval` runs none of them.
import { engineTarget, envScript, openHostLab, UNSET_SCRIPT } from '../lifecycle/machine.ts';
import type { GlobalOptions } from './main.ts';
import { printJson, say } from './output.ts';

export async function envCommand(host: string, opts: GlobalOptions & { unset?: boolean }, signal: AbortSignal): Promise<number> {
  if (opts.unset) {
    say(UNSET_SCRIPT);
    return 0;
  }
  const target = await engineTarget(await openHostLab(host, opts.lab), host, signal);
  if (opts.json) printJson({ DOCKER_HOST: target.dockerHost, DOCKER_MACHINE_NAME: host });
  else say(envScript(target, opts.lab));
  return 0;
}
