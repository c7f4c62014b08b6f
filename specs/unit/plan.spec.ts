// The planner: what every shipped lab and a few synthetic ones turn into, in both engine modes.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { expandFacts } from '../../harness/lab/facts.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { Fact, Plan } from '../../harness/lab/types.ts';
import { labText } from './lab-text.ts';

const LABS_DIR = new URL('../../labs/', import.meta.url);
const shippedLabs = readdirSync(LABS_DIR).filter((f) => f.endsWith('.yaml')).sort();

async function planOf(name: string): Promise<Plan> {
  return planLab(await loadLab(`labs/${name}.yaml`));
}

function planText(text: string): Plan {
  return planLab(parseLab(text, 'lab.yaml'));
}

/** The facts the specs get: the plan's, with its pairwise statements expanded for every pair. */
function specFacts(plan: Plan): Fact[] {
  return expandFacts(plan).facts;
}

function factsOf<K extends Fact['kind']>(plan: Plan, kind: K): Extract<Fact, { kind: K }>[] {
  return specFacts(plan).filter((f): f is Extract<Fact, { kind: K }> => f.kind === kind);
}

const host = (plan: Plan, name: string) => plan.hosts.find((h) => h.name === name)!;

describe('shipped labs', () => {
  it('include the four docs/lab-file.md describes', () => {
    expect(shippedLabs).to.include.members(['docker-machine.yaml', 'isolation.yaml', 'swarm.yaml', 'tutorial.yaml']);
  });

  for (const file of shippedLabs) {
    describe(file, () => {
      it('starts with the yaml-language-server modeline pointing at the schema', () => {
        const first = readFileSync(new URL(file, LABS_DIR), 'utf8').split('\n')[0];
        expect(first).to.equal('# yaml-language-server: $schema=./lab.schema.json');
      });

      it('validates, and its name is its file name', async () => {
        const lab = await loadLab(`labs/${file}`);
        expect(lab.name).to.equal(file.replace(/\.yaml$/, ''));
        expect(lab.description).to.not.equal('');
      });

      it('plans a reach fact per shared network and an isolation fact per unrelated pair, for every ordered pair', async () => {
        const plan = planLab(await loadLab(`labs/${file}`));
        for (const a of plan.containers) {
          for (const b of plan.containers) {
            if (a === b) continue;
            const shared = a.networks.map((x) => x.network).filter((n) => b.networks.some((y) => y.network === n));
            const reach = factsOf(plan, 'reach').filter((f) => f.from === a.name && f.to === b.name);
            const isolated = factsOf(plan, 'isolated').filter((f) => f.from === a.name && f.to === b.name);
            if (shared.length) {
              expect(isolated, `${a.name} -> ${b.name}`).to.be.empty;
              expect(reach.map((f) => `${f.network} ${f.by} ${f.proto}`).sort()).to.deep.equal(
                shared.flatMap((n) => [`${n} address icmp`, `${n} name icmp`, `${n} name tcp`]).sort(),
              );
            } else {
              expect(reach, `${a.name} -> ${b.name}`).to.be.empty;
              expect(isolated.map((f) => f.proto)).to.deep.equal(['icmp', 'tcp']);
            }
          }
        }
      });

      it('plans network-present for every network on every docker host that needs it', async () => {
        const plan = planLab(await loadLab(`labs/${file}`));
        for (const n of plan.networks) {
          const on = factsOf(plan, 'network-present').filter((f) => f.network === n.name).map((f) => f.host);
          expect(on, n.name).to.include(n.createOn);
          expect(on.every((h) => plan.dockerHosts.includes(h))).to.equal(true);
        }
      });

      it('plans the mode fact: kv-registered in kv mode, swarm-ready in swarm mode, engines-alone in mode alone', async () => {
        const plan = planLab(await loadLab(`labs/${file}`));
        const kinds = specFacts(plan).map((f) => f.kind);
        const mine = { kv: 'kv-registered', swarm: 'swarm-ready', alone: 'engines-alone' } as const;
        const kind = mine[plan.mode];
        expect(factsOf(plan, kind)).to.deep.equal([{ kind, hosts: plan.dockerHosts }]);
        for (const other of Object.values(mine).filter((k) => k !== kind)) expect(kinds, plan.mode).to.not.include(other);
      });
    });
  }
});

describe('planLab', () => {
  describe('tutorial (kv mode)', () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf('tutorial');
    });

    it('plans the lab-wide settings', () => {
      expect(plan).to.include({ lab: 'tutorial', file: 'labs/tutorial.yaml', provider: 'auto', subnet: '172.28.128.0/24', mode: 'kv' });
      expect(plan.engine).to.deep.equal({ version: '20.10', install: 'apt', advertisePort: 2376, source: 'system', flags: [] });
    });

    it('plans the hosts with their addresses, hostnames, roles and sizes', () => {
      expect(plan.hosts.map((h) => [h.name, h.hostname, h.address, h.role, h.memory, h.cpus, h.box])).to.deep.equal([
        ['mh-keystore', 'mh-keystore', '172.28.128.5', 'kv', 512, 1, 'ubuntu/focal64'],
        ['mhs-demo0', 'mhs-demo0', '172.28.128.6', 'docker', 1024, 1, 'ubuntu/focal64'],
        ['mhs-demo1', 'mhs-demo1', '172.28.128.7', 'docker', 1024, 1, 'ubuntu/focal64'],
      ]);
      expect(plan.dockerHosts).to.deep.equal(['mhs-demo0', 'mhs-demo1']);
      expect(host(plan, 'mhs-demo0').ssh).to.deep.equal({ address: '172.28.128.6', user: 'root', port: 22 });
    });

    it('plans consul on the kv host first, then etcd as fallback', () => {
      expect(plan.kv).to.include({ host: 'mh-keystore', address: '172.28.128.5' });
      expect(plan.kv!.candidates.map((c) => [c.type, c.port, c.clusterStore])).to.deep.equal([
        ['consul', 8500, 'consul://172.28.128.5:8500'],
        ['etcd', 2379, 'etcd://172.28.128.5:2379'],
      ]);
    });

    it('runs consul bound to the kv address', () => {
      const consul = plan.kv!.candidates[0]!;
      expect(consul.command[0]).to.equal('consul');
      expect(consul.command).to.include.members(['agent', '-server', '-bind=172.28.128.5', '-client=172.28.128.5', '-http-port=8500']);
      expect(consul.healthPath).to.equal('/v1/status/leader');
    });

    it('runs etcd with the v2 API that libkv speaks, listening on the kv address', () => {
      const etcd = plan.kv!.candidates[1]!;
      expect(etcd.command[0]).to.equal('etcd');
      expect(etcd.command).to.include('--enable-v2=true');
      expect(etcd.command).to.include('--listen-client-urls=http://172.28.128.5:2379');
      expect(etcd.command).to.include('--advertise-client-urls=http://172.28.128.5:2379');
      expect(etcd.command.join(' ')).to.not.match(/127\.0\.0\.1|0\.0\.0\.0|localhost/);
      expect(etcd.healthPath).to.equal('/health');
    });

    it('points every docker engine at the preferred store and advertises it by address, not by interface', () => {
      for (const name of ['mhs-demo0', 'mhs-demo1']) {
        const h = host(plan, name);
        expect(h.daemon).to.deep.equal({
          clusterStore: 'consul://172.28.128.5:8500',
          clusterAdvertise: `${h.address}:2376`,
          labels: { 'overlab.lab': 'tutorial', 'overlab.host': name },
        });
        expect(h.daemon!.clusterAdvertise).to.not.match(/eth1|enp0s8/);
      }
      expect(host(plan, 'mh-keystore').daemon).to.equal(undefined);
    });

    it('plans the overlay create body: overlay driver, subnet and .1 gateway, attachable, not internal, no encryption', () => {
      expect(plan.networks).to.have.lengthOf(1);
      const net = plan.networks[0]!;
      expect(net).to.include({ name: 'my-net', subnet: '10.0.4.0/24', gateway: '10.0.4.1', createOn: 'mhs-demo0' });
      expect(net.create).to.deep.equal({
        Name: 'my-net',
        Driver: 'overlay',
        CheckDuplicate: true,
        Internal: false,
        Attachable: true,
        Options: {},
        IPAM: { Driver: 'default', Config: [{ Subnet: '10.0.4.0/24', Gateway: '10.0.4.1' }] },
        Labels: { 'overlab.lab': 'tutorial' },
      });
    });

    it('plans one idle container per docker host on my-net', () => {
      expect(plan.containers.map((c) => [c.name, c.host, c.image, c.networks])).to.deep.equal([
        ['c0', 'mhs-demo0', 'overlab/busybox:latest', [{ network: 'my-net', aliases: [] }]],
        ['c1', 'mhs-demo1', 'overlab/busybox:latest', [{ network: 'my-net', aliases: [] }]],
      ]);
      expect(plan.containers[0]!.command[0]).to.equal('sh');
      expect(plan.containers[0]!.command.join(' ')).to.include("trap 'exit 0' TERM");
    });

    it('plans exactly these facts', () => {
      const reach = (from: string, to: string): Fact[] => [
        { kind: 'reach', from, to, network: 'my-net', by: 'address', proto: 'icmp' },
        { kind: 'reach', from, to, network: 'my-net', by: 'name', proto: 'icmp' },
        { kind: 'reach', from, to, network: 'my-net', by: 'name', proto: 'tcp' },
        { kind: 'resolve', from, name: to, network: 'my-net', target: to },
      ];
      expect(specFacts(plan)).to.deep.equal([
        { kind: 'network-present', network: 'my-net', host: 'mhs-demo0' },
        { kind: 'network-present', network: 'my-net', host: 'mhs-demo1' },
        ...reach('c0', 'c1'),
        ...reach('c1', 'c0'),
        { kind: 'mtu', from: 'c0', to: 'c1', network: 'my-net', mtu: 1450 },
        { kind: 'kv-registered', hosts: ['mhs-demo0', 'mhs-demo1'] },
      ]);
    });
  });

  describe('docker-machine (kv mode, explicit addresses, an alias)', () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf('docker-machine');
    });

    it('plans the machines at their 192.168.99.x addresses and the store on the consul machine', () => {
      expect(plan.hosts.map((h) => [h.name, h.address, h.role])).to.deep.equal([
        ['consul', '192.168.99.100', 'kv'],
        ['machine1', '192.168.99.101', 'docker'],
        ['machine2', '192.168.99.102', 'docker'],
      ]);
      expect(plan.kv!.candidates.map((c) => c.clusterStore)).to.deep.equal(['consul://192.168.99.100:8500', 'etcd://192.168.99.100:2379']);
      expect(host(plan, 'machine2').daemon).to.include({ clusterStore: 'consul://192.168.99.100:8500', clusterAdvertise: '192.168.99.102:2376' });
    });

    it('gives db its alias on myapp, and plans that web resolves it', () => {
      expect(plan.containers.find((c) => c.name === 'db')!.networks).to.deep.equal([{ network: 'myapp', aliases: ['database'] }]);
      expect(factsOf(plan, 'resolve').filter((f) => f.from === 'web')).to.deep.equal([
        { kind: 'resolve', from: 'web', name: 'db', network: 'myapp', target: 'db' },
        { kind: 'resolve', from: 'web', name: 'database', network: 'myapp', target: 'db' },
      ]);
      expect(factsOf(plan, 'resolve').filter((f) => f.from === 'db')).to.deep.equal([
        { kind: 'resolve', from: 'db', name: 'web', network: 'myapp', target: 'web' },
      ]);
    });

    it('carries the stated facts, with where the lab file states them', () => {
      expect(factsOf(plan, 'stated').map((f) => [f.fact.from, f.fact.verb, f.fact.to, f.fact.pos.line, f.fact.pos.column])).to.deep.equal([
        ['web', 'can reach', 'db', 35, 5],
        ['web', 'resolves', 'database', 36, 5],
        ['db', 'can reach', 'web', 37, 5],
      ]);
      expect(factsOf(plan, 'stated')[0]!.fact).to.include({ text: 'web can reach db' });
      expect(factsOf(plan, 'stated')[0]!.fact.pos.file).to.equal('labs/docker-machine.yaml');
    });

    it('plans an mtu fact of 1450 between the two machines', () => {
      expect(factsOf(plan, 'mtu')).to.deep.equal([{ kind: 'mtu', from: 'web', to: 'db', network: 'myapp', mtu: 1450 }]);
    });
  });

  describe('isolation (kv mode, two overlays)', () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf('isolation');
    });

    it('gives the hosts default addresses from .5 up', () => {
      expect(plan.hosts.map((h) => [h.name, h.address])).to.deep.equal([
        ['kv', '172.28.130.5'],
        ['h1', '172.28.130.6'],
        ['h2', '172.28.130.7'],
      ]);
      expect(plan.kv!.candidates[0]!.clusterStore).to.equal('consul://172.28.130.5:8500');
    });

    it('plans both overlays on both docker hosts', () => {
      expect(factsOf(plan, 'network-present').map((f) => `${f.network}@${f.host}`)).to.deep.equal([
        'front@h1',
        'front@h2',
        'back@h1',
        'back@h2',
      ]);
    });

    it('gives app the alias api on back only', () => {
      expect(plan.containers.find((c) => c.name === 'app')!.networks).to.deep.equal([
        { network: 'front', aliases: [] },
        { network: 'back', aliases: ['api'] },
      ]);
      const api = factsOf(plan, 'resolve').filter((f) => f.name === 'api');
      expect(api.map((f) => [f.from, f.network, f.target])).to.deep.equal([
        ['db', 'back', 'app'],
        ['cache', 'back', 'app'],
      ]);
    });

    it('plans web and db isolated and unable to resolve each other, both ways', () => {
      for (const [from, to] of [
        ['web', 'db'],
        ['db', 'web'],
      ] as const) {
        expect(factsOf(plan, 'isolated').filter((f) => f.from === from && f.to === to).map((f) => f.proto)).to.deep.equal(['icmp', 'tcp']);
        expect(factsOf(plan, 'no-resolve').filter((f) => f.from === from)).to.deep.include({ kind: 'no-resolve', from, name: to });
        expect(factsOf(plan, 'reach').filter((f) => f.from === from && f.to === to)).to.be.empty;
        expect(factsOf(plan, 'resolve').filter((f) => f.from === from && f.target === to)).to.be.empty;
      }
    });

    it('plans app reaching everyone, on the network it shares with each', () => {
      const reach = factsOf(plan, 'reach').filter((f) => f.from === 'app' && f.by === 'address');
      expect(reach.map((f) => `${f.to}@${f.network}`)).to.deep.equal(['web@front', 'db@back', 'cache@back']);
    });

    it('plans one cross-host mtu fact per overlay', () => {
      expect(factsOf(plan, 'mtu')).to.deep.equal([
        { kind: 'mtu', from: 'web', to: 'app', network: 'front', mtu: 1450 },
        { kind: 'mtu', from: 'app', to: 'cache', network: 'back', mtu: 1450 },
      ]);
      const where = new Map(plan.containers.map((c) => [c.name, c.host]));
      for (const f of factsOf(plan, 'mtu')) expect(where.get(f.from)).to.not.equal(where.get(f.to));
    });

    it('carries the five stated facts in order', () => {
      expect(factsOf(plan, 'stated').map((f) => f.fact.text)).to.deep.equal([
        'web can reach app',
        'web cannot reach db',
        'web cannot resolve db',
        'db resolves api',
        'cache can reach db',
      ]);
      expect(specFacts(plan).slice(-5).every((f) => f.kind === 'stated')).to.equal(true);
    });

    it('plans no internal-no-route fact: no overlay is internal', () => {
      expect(factsOf(plan, 'internal-no-route')).to.be.empty;
    });
  });

  describe('swarm (swarm mode)', () => {
    let plan: Plan;
    before(async () => {
      plan = await planOf('swarm');
    });

    it('plans no KV store, and engines without cluster-store or cluster-advertise', () => {
      expect(plan.mode).to.equal('swarm');
      expect(plan.kv).to.equal(undefined);
      for (const h of plan.hosts) {
        expect(h.role).to.equal('docker');
        expect(h.daemon!.clusterStore).to.equal(undefined);
        expect(h.daemon!.clusterAdvertise).to.equal(undefined);
        expect(h.daemon!.labels).to.deep.equal({ 'overlab.lab': 'swarm', 'overlab.host': h.name });
      }
    });

    it('makes the first docker host the manager, which creates the networks', () => {
      expect(plan.hosts.map((h) => [h.name, h.address])).to.deep.equal([
        ['manager', '172.28.129.6'],
        ['worker', '172.28.129.7'],
      ]);
      expect(plan.dockerHosts).to.deep.equal(['manager', 'worker']);
      expect(plan.networks.map((n) => n.createOn)).to.deep.equal(['manager']);
    });

    it('creates an attachable overlay', () => {
      expect(plan.networks[0]!.create).to.include({ Name: 'my-net', Driver: 'overlay', Attachable: true, Internal: false });
      expect(plan.networks[0]!.create.IPAM.Config).to.deep.equal([{ Subnet: '10.0.4.0/24', Gateway: '10.0.4.1' }]);
    });

    it('plans swarm-ready for both hosts and no kv-registered fact', () => {
      expect(factsOf(plan, 'swarm-ready')).to.deep.equal([{ kind: 'swarm-ready', hosts: ['manager', 'worker'] }]);
      expect(factsOf(plan, 'kv-registered')).to.be.empty;
    });

    it('plans reach, resolve and mtu facts between c0 and c1', () => {
      expect(factsOf(plan, 'reach')).to.have.lengthOf(6);
      expect(factsOf(plan, 'resolve').map((f) => `${f.from}->${f.name}`)).to.deep.equal(['c0->c1', 'c1->c0']);
      expect(factsOf(plan, 'mtu')).to.deep.equal([{ kind: 'mtu', from: 'c0', to: 'c1', network: 'my-net', mtu: 1450 }]);
      expect(factsOf(plan, 'isolated')).to.be.empty;
    });
  });

  describe('synthetic labs', () => {
    it('in swarm mode, marks an encrypted network with the encrypted option and plans no mtu fact for it', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: m}, {name: w}]
        engine: {mode: swarm, version: "24.0"}
        networks:
          - name: secret
            subnet: 10.0.7.0/24
            encrypted: true
          - name: plain
            subnet: 10.0.8.0/24
        containers:
          - name: ca
            host: m
            networks: [secret, plain]
          - name: cb
            host: w
            networks: [secret, plain]
      `);
      expect(plan.networks.map((n) => [n.name, n.encrypted, n.create.Options])).to.deep.equal([
        ['secret', true, { encrypted: '' }],
        ['plain', false, {}],
      ]);
      expect(factsOf(plan, 'mtu').map((f) => f.network)).to.deep.equal(['plain']);
    });

    it('in swarm mode, expects a network on a worker only where a container joins it', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: m}, {name: w1}, {name: w2}]
        engine: {mode: swarm}
        networks:
          - name: n1
            subnet: 10.0.7.0/24
        containers:
          - name: ca
            host: w2
            networks: [n1]
      `);
      expect(factsOf(plan, 'network-present').map((f) => f.host)).to.deep.equal(['m', 'w2']);
    });

    it('in kv mode, expects every network on every docker host', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}, {name: h2}]
        networks: [{name: n1, subnet: 10.0.7.0/24}]
      `);
      expect(factsOf(plan, 'network-present').map((f) => f.host)).to.deep.equal(['h1', 'h2']);
    });

    it('plans internal networks as Internal, and internal-no-route only for containers on internal networks alone', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}, {name: h2}]
        networks:
          - name: inner
            subnet: 10.0.7.0/24
            internal: true
          - name: outer
            subnet: 10.0.8.0/24
        containers:
          - name: locked
            host: h1
            networks: [inner]
          - name: bridge-ish
            host: h2
            networks: [inner, outer]
      `);
      expect(plan.networks.map((n) => [n.name, n.create.Internal])).to.deep.equal([
        ['inner', true],
        ['outer', false],
      ]);
      expect(factsOf(plan, 'internal-no-route')).to.deep.equal([{ kind: 'internal-no-route', container: 'locked', network: 'inner' }]);
    });

    it('plans a non-attachable network in kv mode with Attachable false, and a given gateway', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: n1
            subnet: 10.0.7.0/24
            gateway: 10.0.7.254
            attachable: false
      `);
      expect(plan.networks[0]!.create).to.include({ Attachable: false });
      expect(plan.networks[0]!.create.IPAM.Config).to.deep.equal([{ Subnet: '10.0.7.0/24', Gateway: '10.0.7.254' }]);
    });

    it('plans static addresses, per-network aliases and lab-wide aliases on the attachments', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: n1
            subnet: 10.0.7.0/24
          - name: n2
            subnet: 10.0.8.0/24
        containers:
          - name: ca
            host: h1
            aliases: [everywhere]
            networks:
              - name: n1
                address: 10.0.7.10
                aliases: [here]
              - n2
            image: alpine:3.20
            command: sleep 100
      `);
      const a = plan.containers[0]!;
      expect(a.networks).to.deep.equal([
        { network: 'n1', aliases: ['everywhere', 'here'], address: '10.0.7.10' },
        { network: 'n2', aliases: ['everywhere'] },
      ]);
      expect(a.image).to.equal('alpine:3.20');
      expect(a.command).to.deep.equal(['sh', '-c', 'sleep 100']);
    });

    it('plans an explicit kv port for the preferred store only, and zookeeper as zk://', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        kv: {type: zookeeper, fallback: consul, port: 2281}
        engine: {advertisePort: 2377}
      `);
      expect(plan.kv!.candidates.map((c) => [c.type, c.port, c.clusterStore])).to.deep.equal([
        ['zookeeper', 2281, 'zk://172.28.128.5:2281'],
        ['consul', 8500, 'consul://172.28.128.5:8500'],
      ]);
      expect(host(plan, 'h1').daemon).to.include({ clusterStore: 'zk://172.28.128.5:2281', clusterAdvertise: '172.28.128.6:2377' });
    });

    it('plans etcd alone when it is the only store named', () => {
      const plan = planText('name: t\nhosts: [{name: kv, role: kv}, {name: h1}]\nkv: {type: etcd}\n');
      expect(plan.kv!.candidates.map((c) => c.clusterStore)).to.deep.equal(['etcd://172.28.128.5:2379']);
      expect(host(plan, 'h1').daemon!.clusterStore).to.equal('etcd://172.28.128.5:2379');
    });

    it('plans no mtu fact for a network whose members share one host', () => {
      const plan = planText(labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}, {name: h2}]
        networks: [{name: n1, subnet: 10.0.7.0/24}]
        containers:
          - {name: ca, host: h1, networks: [n1]}
          - {name: cb, host: h1, networks: [n1]}
      `);
      expect(factsOf(plan, 'mtu')).to.be.empty;
      expect(factsOf(plan, 'reach')).to.have.lengthOf(6);
    });
  });
});
