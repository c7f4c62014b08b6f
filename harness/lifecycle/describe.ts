// `up --dry-run`: every command `up` would run, per host, from the plan and the provider,
// written as the shell and docker CLI equivalents of what the harness does through its APIs.
import { engineServiceSpec } from '../engine/daemon.ts';
import { kvArgv } from '../kv/run.ts';
import type { Plan } from '../lab/types.ts';
import type { HostCommands, Provider } from '../providers/provider.ts';
import { shellJoin as sh } from '../quote.ts';


export function describeUp(plan: Plan, provider: Provider): HostCommands[] {
  const out = new Map<string, string[]>();
  const add = (host: string, line: string) => out.set(host, [...(out.get(host) ?? []), line]);
  for (const hc of provider.describe(plan)) for (const c of hc.commands) add(hc.host, c);

  const kv = plan.kv;
  if (kv) {
    kv.candidates.forEach((c, i) => {
      add(kv.host, `${i === 0 ? '' : `# if ${kv.candidates[0]!.type} is not installed: `}${sh(kvArgv(c, `DATA/${c.type}`))}`);
    });
  }
  for (const h of plan.hosts.filter((x) => x.daemon)) {
    const engine = engineServiceSpec({ providerFlags: provider.engineFlagsFor(plan, h.name), daemon: h.daemon!, extraFlags: plan.engine.flags });
    // NAME=value words stay unquoted: quoted, the shell would take them for the command.
    const env = Object.entries(engine.env ?? {}).map(([k, v]) => `${k}=${sh([v])} `).join('');
    add(h.name, `${env}${sh(engine.argv)}`);
    add(h.name, 'docker import -c \'CMD ["sh"]\' busybox-rootfs.tar overlab/busybox:latest');
  }
  if (plan.mode === 'swarm') {
    const [manager, ...workers] = plan.dockerHosts;
    const addr = (n: string) => plan.hosts.find((x) => x.name === n)!.address;
    add(manager!, `docker swarm init --advertise-addr ${addr(manager!)} --listen-addr ${addr(manager!)}:2377`);
    for (const w of workers) add(w, `docker swarm join --token WORKER-TOKEN --advertise-addr ${addr(w)} ${addr(manager!)}:2377`);
  }
  for (const n of plan.networks) {
    add(
      n.createOn,
      sh([
        'docker', 'network', 'create', '-d', 'overlay', '--subnet', n.subnet, '--gateway', n.gateway,
        ...(n.attachable ? ['--attachable'] : []), ...(n.internal ? ['--internal'] : []), ...(n.encrypted ? ['--opt', 'encrypted'] : []),
        '--label', `overlab.lab=${plan.lab}`, n.name,
      ]),
    );
  }
  for (const c of plan.containers) {
    const [first, ...rest] = c.networks;
    const netFlags = (a: typeof first) => [...a!.aliases.flatMap((x) => ['--network-alias', x]), ...(a!.address ? ['--ip', a!.address] : [])];
    add(c.host, sh(['docker', 'create', '--name', c.name, '--hostname', c.name, '--network', first!.network, ...netFlags(first), c.image, ...c.command]));
    for (const a of rest) add(c.host, sh(['docker', 'network', 'connect', ...a.aliases.flatMap((x) => ['--alias', x]), ...(a.address ? ['--ip', a.address] : []), a.network, c.name]));
    add(c.host, `docker start ${c.name}`);
  }
  return [...out].map(([host, commands]) => ({ host, commands }));
}
