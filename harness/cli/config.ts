// overlab config HOST: the flags for `docker $(overlab config HOST) ...`, as `docker-machine
// config` printed them; they point at the engine `env` points at.
import { configFlags, engineTarget, openHostLab } from '../lifecycle/machine.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say } from './output.ts';

export async function configCommand(host: string, opts: GlobalOptions, signal: AbortSignal): Promise<number> {
  const target = await engineTarget(await openHostLab(host, opts.lab), host, signal);
  if (opts.json) printJson({ lab: target.lab, host, DOCKER_HOST: target.dockerHost, flags: [`-H=${target.dockerHost}`] });
  else say(configFlags(target));
  return 0;
}
