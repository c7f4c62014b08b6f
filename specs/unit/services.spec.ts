// Services in the lab file (swarm mode only, located problems), the facts the plan states for
// them, and the capabilities a fact needs: judged from a kernel's config and modules, an n/a
// reason naming the missing feature.
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type Docker from 'dockerode';
import { waitForServiceTasks } from '../../harness/engine/contents.ts';
import { TimeoutError } from '../../harness/errors.ts';
import { judgeKernel, labNeeds, notApplicable, type HostCapabilities } from '../../harness/lab/capabilities.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { expandFacts } from '../../harness/lab/facts.ts';
import { parseCapabilities } from '../../harness/probes/capabilities.ts';
import { expectOnlyProblem, expectProblem, labText } from './lab-text.ts';

const swarm = (services: string) => labText`
  name: t
  hosts:
    - name: h1
    - name: h2
  engine:
    mode: swarm
  networks:
    - name: net
      subnet: 10.0.4.0/24
  containers:
    - name: c1
      host: h1
      networks: [net]
${services}`;

describe('services in the lab file', () => {
  it('refuses services outside swarm mode, at the service', () => {
    const text = labText`
      name: t
      hosts:
        - name: kv
          role: kv
        - name: h1
      networks:
        - name: net
          subnet: 10.0.4.0/24
      services:
        - name: web
          networks: [net]
    `;
    expectOnlyProblem(text, 10, 5, 'service "web": services need engine.mode swarm');
  });

  it('names an unknown network, an unknown placement host, and a clash with a container name', () => {
    const text = swarm(`  services:\n    - name: c1\n      networks: [nett]\n      placement: [h3]\n`);
    expectProblem(text, 15, 11, 'service "c1" has the name of a container');
    expectProblem(text, 16, 16, 'network "nett" is not a network of this lab');
    expectProblem(text, 17, 17, 'host "h3" is not a host of this lab');
  });

  it("refuses a published port that clashes with the lab's own ports, and dnsrr on the routing mesh", () => {
    const text = swarm(`  services:\n    - name: web\n      networks: [net]\n      publish:\n        - published: 7946\n    - name: api\n      endpointMode: dnsrr\n      networks: [net]\n      publish:\n        - published: 9090\n`);
    expectProblem(text, 18, 20, 'services[0].publish[0].published 7946 (ingress) clashes with overlay gossip (port 7946) on host "h1"');
    expectProblem(text, 23, 9, 'the routing mesh (ingress) needs a VIP');
  });

  it('plans the release facts of the shipped services lab, and deploys web with a VIP and api by DNS round robin', () => {
    const plan = planLab(parseLab(readFileSync('labs/services.yaml', 'utf8'), 'labs/services.yaml'));
    const kinds = plan.facts.map((f) => f.kind).filter((k) => k.startsWith('service') || k === 'overlay-wire');
    expect(kinds).to.deep.equal([
      'service-reach', 'service-name', 'service-tasks-name', 'service-vip-spread', 'service-scale', 'service-published',
      'service-reach', 'service-name', 'service-tasks-name', 'service-published',
      'overlay-wire', 'overlay-wire',
    ]);
    const web = plan.services.find((v) => v.name === 'web')!.create as { EndpointSpec: { Mode: string; Ports: unknown[] } };
    expect(web.EndpointSpec).to.deep.equal({ Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 8080, PublishMode: 'ingress' }] });
    const api = plan.services.find((v) => v.name === 'api')!.create as { TaskTemplate: { Placement: { Constraints: string[] } } };
    expect(api.TaskTemplate.Placement.Constraints).to.deep.equal(['node.hostname!=node1']);
    expect(labNeeds(plan).map((n) => n.capability)).to.deep.equal(['ip_vs', 'esp']);
  });
});

describe('capabilities', () => {
  const thisKernel = parseCapabilities('h1', '@@source\n/proc/config.gz\n# CONFIG_INET_ESP is not set\n# CONFIG_IP_VS is not set\n# CONFIG_NET_SCH_NETEM is not set\n@@loaded\n@@files\n@@disabled\n@@capture\n/usr/bin/tcpdump\n@@end\n');

  it('judges a feature built in, loaded, loadable as a module, missing, or unknown', () => {
    const k = judgeKernel({ config: 'CONFIG_IP_VS=m\nCONFIG_INET_ESP=y\n# CONFIG_NET_SCH_NETEM is not set', configSource: '/boot/config-6.1.0-13-cloud-amd64', loaded: [], moduleFiles: ['ip_vs'], modulesDisabled: false });
    expect([k.ip_vs.present, k.esp.present, k.netem.present]).to.deep.equal([true, true, false]);
    expect(judgeKernel({ config: 'CONFIG_IP_VS=m', configSource: 'c', loaded: [], moduleFiles: ['ip_vs'], modulesDisabled: true }).ip_vs.present).to.equal(false);
    expect(judgeKernel({ config: '', configSource: '', loaded: ['ip_vs'], moduleFiles: [], modulesDisabled: false }).ip_vs.present).to.equal(true);
    expect(judgeKernel({ config: '', configSource: '', loaded: [], moduleFiles: [], modulesDisabled: false }).ip_vs.present).to.equal(undefined);
    expect(thisKernel.kernel.ip_vs).to.deep.equal({ present: false, evidence: 'CONFIG_IP_VS is not set in /proc/config.gz' });
  });

  it('makes a VIP, mesh or encrypted-overlay spec n/a with the reason, and leaves the others applicable', () => {
    const plan = planLab(parseLab(readFileSync('labs/services.yaml', 'utf8'), 'labs/services.yaml'));
    const caps: HostCapabilities[] = ['node1', 'node2', 'node3'].map((host) => ({ ...thisKernel, host }));
    const reasons = expandFacts(plan).facts.map((f) => [f.kind, notApplicable(f, plan, caps)] as const);
    const na = reasons.filter(([, r]) => r);
    expect(na.find(([k]) => k === 'service-vip-spread')?.[1]).to.equal('kernel has no IP_VS (CONFIG_IP_VS) on node1, node2, node3: service VIPs and the routing mesh');
    expect(na.find(([k]) => k === 'overlay-wire')?.[1]).to.match(/^kernel has no INET_ESP \(CONFIG_INET_ESP\) on node1, node2, node3/);
    expect(reasons.filter(([k]) => k === 'service-tasks-name').every(([, r]) => r === undefined)).to.equal(true);
    expect(notApplicable(expandFacts(plan).facts.find((f) => f.kind === 'overlay-wire' && !f.encrypted)!, plan, caps.map((c) => ({ ...c, capture: false })))).to.match(/^no tcpdump/);
  });
});

describe('deploying a service: the wait is bounded by progress', () => {
  /** A manager whose tasks take the states of `steps`, one step per listing (the last one stays). */
  const manager = (steps: string[][]) => {
    let call = 0;
    return {
      listNodes: async () => [{ ID: 'n1', Description: { Hostname: 'node1' } }],
      listTasks: async () => {
        const states = steps[Math.min(call++, steps.length - 1)]!;
        return states.map((state, i) => ({ ID: `t${i}`, Slot: i + 1, NodeID: 'n1', Status: { State: state }, NetworksAttachments: [{ Network: { Spec: { Name: 'front' } }, Addresses: [`10.0.10.${i + 3}/24`] }] }));
      },
    } as unknown as Docker;
  };
  const web = { name: 'web', replicas: 2, networks: ['front'] };

  it('waits while tasks move along, however slowly, and returns the running ones', async () => {
    const steps = [['preparing', 'preparing'], ['starting', 'preparing'], ['starting', 'starting'], ['running', 'starting'], ['running', 'running']];
    const tasks = await waitForServiceTasks(manager(steps), web, new AbortController().signal, { stallMs: 400, capMs: 10_000 });
    expect(tasks.map((t) => `${t.slot} ${t.state} ${t.addresses['front']}`)).to.deep.equal(['1 running 10.0.10.3', '2 running 10.0.10.4']);
  });

  it('gives up when no task changes state for the stall bound, naming each task\'s state', async () => {
    const started = Date.now();
    const wait = waitForServiceTasks(manager([['running', 'starting']]), web, new AbortController().signal, { stallMs: 600, capMs: 10_000 });
    const e = await wait.then(() => undefined, (x: Error) => x);
    expect(e).to.be.instanceOf(TimeoutError);
    expect(e!.message).to.include('no task of service web changed state for 1 s; 1 of 2 running').and.include('web-2 on node1: starting');
    expect(Date.now() - started).to.be.within(600, 3000);
  });

  it('lets tasks sit in one state longer on slow hosts: four times the slowest engine start, never under the base bound', async () => {
    const { serviceStallMs } = await import('../../harness/lifecycle/up.ts');
    const { SERVICE_STALL_MS } = await import('../../harness/engine/contents.ts');
    expect(serviceStallMs(0)).to.equal(SERVICE_STALL_MS);
    expect(serviceStallMs(1_200)).to.equal(SERVICE_STALL_MS);
    expect(serviceStallMs(55_000)).to.equal(220_000);
  });
});

