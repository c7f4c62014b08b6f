// Swarm services, the release specs: every task is reached across hosts; the service name
// resolves to its VIP (vip) or to every task (dnsrr) and tasks.NAME to every task; answers
// follow a scale; connections to a VIP spread over every replica; published ports answer on
// every node (routing mesh) or only on the task's node (host mode). Each task answers its
// hostname (NAME-SLOT), so a probe knows which task it reached.
import { expect } from 'chai';
import { serviceTasks, serviceVips, scaleService, type ServiceTask } from '../../harness/engine/contents.ts';
import { nslookupAnswers } from '../../harness/probes/busybox.ts';
import { ProbeError, type Probe } from '../../harness/probes/probe.ts';
import { expectLookup } from '../../harness/probes/checks.ts';
import { factSpecs } from './define.ts';

const hostOf = (plan: { containers: { name: string; host: string }[] }, c: string) => plan.containers.find((x) => x.name === c)?.host;

function service(p: Probe, name: string) {
  const v = p.plan.services.find((s) => s.name === name);
  if (!v) throw new ProbeError(`service ${name} is not in the plan of lab ${p.plan.lab}`);
  return v;
}

function manager(p: Probe) {
  const m = p.plan.dockerHosts[0]!;
  const engine = p.lab.engines.get(m);
  if (!engine) throw new ProbeError(`no engine for the manager ${m}`);
  return { name: m, engine };
}

/** The service's running tasks, as the manager lists them (recorded as a step). */
async function tasksOf(p: Probe, name: string): Promise<ServiceTask[]> {
  const m = manager(p);
  const started = Date.now();
  const tasks = (await serviceTasks(m.engine, name)).filter((t) => t.state === 'running');
  const table = tasks.map((t) => `${name}-${t.slot} ${t.node} ${JSON.stringify(t.addresses)}`).join('\n');
  p.record(`engine of ${m.name}`, `docker service ps ${name} (running)`, { exitCode: 0, stdout: table }, Date.now() - started);
  return tasks;
}

/** How long (times the lab's pace) one connection may take to bring a task's answer. */
const ANSWER_SECONDS = 5;

/**
 * One connection from `from` to address:port; the hostname that answered ('' when none did).
 * Bounded as a whole: busybox nc's -w bounds only the connect, and a task that is paused (its
 * kernel still completes the handshake) would hold nc until the exec's own limit.
 */
async function answer(p: Probe, from: string, address: string, port: number): Promise<string> {
  const r = await p.exec(from, ['timeout', String(ANSWER_SECONDS * p.lab.pace), 'nc', '-w', '2', address, String(port)]);
  return r.stdout.trim();
}

factSpecs('services', 'service-reach', {
  title: (f, lab) => {
    const v = lab.plan.services.find((s) => s.name === f.service);
    return `${f.from} on ${hostOf(lab.plan, f.from)} reaches each of the ${v?.replicas} tasks of ${f.service} over ${f.network}, on whichever host it runs`;
  },
  async probe(f, p) {
    const v = service(p, f.service);
    const tasks = await tasksOf(p, f.service);
    expect(tasks.length, `running tasks of ${f.service}`).to.equal(v.replicas);
    for (const t of tasks) {
      const address = t.addresses[f.network];
      expect(address, `task ${f.service}-${t.slot} on ${t.node} has no address on ${f.network}`).to.be.a('string').and.not.equal('');
      expect(await answer(p, f.from, address!, v.port), `${p.where(f.from)} got no answer from task ${f.service}-${t.slot} on ${t.node} at ${address}:${v.port}`).to.equal(
        `${f.service}-${t.slot}`,
      );
    }
  },
});

factSpecs('services', 'service-name', {
  title: (f, lab) =>
    f.endpointMode === 'vip'
      ? `${f.from} on ${hostOf(lab.plan, f.from)} resolves ${f.service} to its virtual IP on ${f.network}`
      : `${f.from} on ${hostOf(lab.plan, f.from)} resolves ${f.service} to the address of every task on ${f.network} (DNS round robin)`,
  async probe(f, p) {
    if (f.endpointMode === 'vip') {
      const m = manager(p);
      const started = Date.now();
      const vips = await serviceVips(m.engine, f.service);
      p.record(`engine of ${m.name}`, `docker service inspect ${f.service} (Endpoint.VirtualIPs)`, { exitCode: 0, stdout: JSON.stringify(vips) }, Date.now() - started);
      expect(vips[f.network], `the virtual IP of ${f.service} on ${f.network}`).to.be.a('string');
      return expectLookup(p, f.from, f.service, [vips[f.network]!]);
    }
    const tasks = await tasksOf(p, f.service);
    expect(tasks.length, `running tasks of ${f.service}`).to.equal(service(p, f.service).replicas);
    await expectLookup(p, f.from, f.service, tasks.map((t) => t.addresses[f.network] ?? ''));
  },
});

factSpecs('services', 'service-tasks-name', {
  title: (f, lab) => `${f.from} on ${hostOf(lab.plan, f.from)} resolves tasks.${f.service} to the address of every task of ${f.service} on ${f.network}`,
  async probe(f, p) {
    const tasks = await tasksOf(p, f.service);
    expect(tasks.length, `running tasks of ${f.service}`).to.equal(service(p, f.service).replicas);
    await expectLookup(p, f.from, `tasks.${f.service}`, tasks.map((t) => t.addresses[f.network] ?? ''));
  },
});

/** How long (times the pace) the swarm and its DNS may take to follow a scale. */
const SCALE_BOUND_S = 30;

factSpecs('services', 'service-scale', {
  title: (f, lab) =>
    `tasks.${f.service} follows a scale of ${f.service} from ${f.replicas} to ${f.replicas + 1} and back within ${SCALE_BOUND_S} s, as ${f.from} on ${hostOf(lab.plan, f.from)} resolves it`,
  async probe(f, p) {
    const m = manager(p);
    const follow = async (replicas: number) => {
      await scaleService(m.engine, f.service, replicas);
      p.record(`engine of ${m.name}`, `docker service scale ${f.service}=${replicas}`, { exitCode: 0, stdout: '' }, 0);
      const deadline = Date.now() + SCALE_BOUND_S * 1000 * p.lab.pace;
      let answers: string[] = [];
      let expected: string[] = [];
      for (;;) {
        const tasks = (await serviceTasks(m.engine, f.service)).filter((t) => t.state === 'running');
        expected = tasks.map((t) => t.addresses[f.network] ?? '').sort();
        const r = await p.exec(f.from, ['timeout', '8', 'nslookup', '-type=a', `tasks.${f.service}`], { timeoutMs: 12_000 });
        answers = nslookupAnswers(r.stdout).sort();
        if (tasks.length === replicas && JSON.stringify(answers) === JSON.stringify(expected)) return;
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(answers, `tasks.${f.service} in ${p.where(f.from)} ${SCALE_BOUND_S} s after scaling to ${replicas} (running tasks: ${expected.join(', ')})`).to.deep.equal(expected);
      expect(answers.length, `addresses of tasks.${f.service} after scaling to ${replicas}`).to.equal(replicas);
    };
    try {
      await follow(f.replicas + 1);
    } finally {
      await follow(f.replicas);
    }
  },
});

factSpecs('service VIPs', 'service-vip-spread', {
  title: (f, lab) => `connections from ${f.from} on ${hostOf(lab.plan, f.from)} to the virtual IP of ${f.service} reach each of its ${f.replicas} replicas`,
  async probe(f, p) {
    const v = service(p, f.service);
    const tasks = await tasksOf(p, f.service);
    const expected = tasks.map((t) => `${f.service}-${t.slot}`).sort();
    const seen = new Set<string>();
    // IPVS balances round robin: 4 rounds leave room for connections other probes make meanwhile.
    for (let i = 0; i < f.replicas * 4 && seen.size < expected.length; i++) {
      const a = await answer(p, f.from, f.service, v.port);
      expect(a, `${p.where(f.from)} got no answer from ${f.service}:${v.port} (the VIP)`).to.not.equal('');
      seen.add(a);
    }
    expect([...seen].sort(), `the replicas that answered connections to ${f.service}:${v.port}`).to.deep.equal(expected);
  },
});

factSpecs('published ports', 'service-published', {
  title: (f, lab) => {
    const hosts = lab.plan.dockerHosts.join(', ');
    return f.mode === 'ingress'
      ? `port ${f.published} of ${f.service} answers on every node's address (${hosts}), also where no task runs (routing mesh)`
      : `port ${f.published} of ${f.service} (host mode) answers only on the nodes its tasks run on, each by a task there`;
  },
  async probe(f, p) {
    const tasks = await tasksOf(p, f.service);
    const names = tasks.map((t) => `${f.service}-${t.slot}`);
    for (const h of p.plan.hosts.filter((x) => p.plan.dockerHosts.includes(x.name))) {
      const a = await answer(p, f.from, h.address, f.published);
      const here = tasks.filter((t) => t.node === h.hostname).map((t) => `${f.service}-${t.slot}`);
      if (f.mode === 'ingress') expect(names, `the answer on ${h.name} ${h.address}:${f.published} from ${p.where(f.from)}`).to.include(a);
      else if (here.length) expect(here, `the answer on ${h.name} ${h.address}:${f.published}, where ${here.join(', ')} run`).to.include(a);
      else expect(a, `${h.name} ${h.address}:${f.published} answered, with no task of ${f.service} there (host mode)`).to.equal('');
    }
  },
});
