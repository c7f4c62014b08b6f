// overlab env HOST: exports for the stock docker CLI, as `docker-machine env` printed them.
import { UsageError } from '../errors.ts';
import { connectLab, openPlan } from '../lifecycle/lab.ts';
import type { GlobalOptions } from './main.ts';
import { printJson, say } from './output.ts';

export async function envCommand(host: string, opts: GlobalOptions & { unset?: boolean }, signal: AbortSignal): Promise<number> {
  const plan = await openPlan(opts.lab);
  if (opts.unset) {
    say('unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_MACHINE_NAME');
    return 0;
  }
  const { hosts, close } = await connectLab(plan, signal, { engines: false, ...(opts.provider ? { provider: opts.provider } : {}) });
  close(); // only the endpoints are printed
  const h = hosts.get(host);
  if (!h) throw new UsageError(`lab ${plan.lab} has no host "${host}" (hosts: ${[...hosts.keys()].join(', ')})`);
  if (!h.engine) throw new UsageError(`host ${host} runs no Docker engine (role kv); pick one of ${plan.dockerHosts.join(', ')}`);
  const dockerHost = h.engine.kind === 'socket' ? `unix://${h.engine.socketPath}` : `ssh://${h.engine.ssh.username}@${h.engine.ssh.host}:${h.engine.ssh.port}`;
  if (opts.json) {
    printJson({ DOCKER_HOST: dockerHost, DOCKER_MACHINE_NAME: host });
    return 0;
  }
  say(`export DOCKER_HOST="${dockerHost}"`);
  say('unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH');
  say(`export DOCKER_MACHINE_NAME="${host}"`);
  say(`# Run this command to configure your shell:`);
  say(`# eval "$(overlab env --lab ${plan.lab} ${host})"`);
  return 0;
}
