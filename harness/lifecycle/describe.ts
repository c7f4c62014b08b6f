// `up --dry-run`: every command `up` would run, per host, from the plan and the provider,
// written as the shell and docker CLI equivalents of what the harness does through its APIs.
import { engineExecRoot, engineServiceSpec } from '../engine/daemon.ts';
import { checkedHosts, PROGRAM_WAIT_MS } from '../engine/dataplane.ts';
import { kvArgv } from '../kv/run.ts';
import type { Plan, ServicePlan } from '../lab/types.ts';
import type { HostCommands, Provider } from '../providers/provider.ts';
import { shellJoin as sh } from '../quote.ts';

/** The CLI equivalent of the service's POST /services/create body. */
function serviceCreateArgv(v: ServicePlan): string[] {
  const body = v.create as {
    Name: string;
    Labels: Record<string, string>;
    TaskTemplate: { ContainerSpec: { Image: string; Hostname: string; Command: string[]; Labels: Record<string, string> }; Placement: { Constraints: string[] }; Networks: { Target: string }[] };
    Mode: { Replicated: { Replicas: number } };
    EndpointSpec: { Mode: string; Ports: { PublishedPort: number; TargetPort: number; PublishMode: string }[] };
  };
  const t = body.TaskTemplate;
  return [
    'docker', 'service', 'create', '--detach', '--name', body.Name, '--replicas', String(body.Mode.Replicated.Replicas),
    '--endpoint-mode', body.EndpointSpec.Mode,
    ...Object.entries(body.Labels).flatMap(([k, val]) => ['--label', `${k}=${val}`]),
    ...Object.entries(t.ContainerSpec.Labels).flatMap(([k, val]) => ['--container-label', `${k}=${val}`]),
    '--hostname', t.ContainerSpec.Hostname, '--restart-condition', 'any', '--restart-delay', '1s',
    ...t.Networks.flatMap((n) => ['--network', n.Target]),
    ...t.Placement.Constraints.flatMap((c) => ['--constraint', c]),
    ...body.EndpointSpec.Ports.flatMap((p) => ['--publish', `published=${p.PublishedPort},target=${p.TargetPort},mode=${p.PublishMode}`]),
    t.ContainerSpec.Image, ...t.ContainerSpec.Command,
  ];
}

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
  for (const v of plan.services) add(v.createOn, sh(serviceCreateArgv(v)));
  for (const c of plan.containers) {
    const [first, ...rest] = c.networks;
    const netFlags = (a: typeof first) => [...a!.aliases.flatMap((x) => ['--network-alias', x]), ...(a!.address ? ['--ip', a!.address] : [])];
    add(c.host, sh(['docker', 'create', '--name', c.name, '--hostname', c.name, '--network', first!.network, ...netFlags(first), c.image, ...c.command]));
    for (const a of rest) add(c.host, sh(['docker', 'network', 'connect', ...a.aliases.flatMap((x) => ['--alias', x]), ...(a.address ? ['--ip', a.address] : []), a.network, c.name]));
    add(c.host, `docker start ${c.name}`);
  }
  for (const h of checkedHosts(plan)) {
    const execRoot = engineExecRoot(provider.engineFlagsFor(plan, h));
    add(h, `# before any packet, until every container on another host has its entries (restarting this host's containers once after ${PROGRAM_WAIT_MS / 1000} s):`);
    add(h, `#   nsenter --net=${execRoot}/netns/N-NETWORKID bridge fdb show; nsenter --net=${execRoot}/netns/N-NETWORKID ip neigh show`);
  }
  return [...out].map(([host, commands]) => ({ host, commands }));
}
