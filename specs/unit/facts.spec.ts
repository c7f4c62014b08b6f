// The plan states pairwise facts per network and per group; expandFacts turns them into one
// fact per ordered pair for the specs. For `all` it must give exactly what the plan used to
// list, and the plan must stay linear in the lab.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { expandFacts } from '../../harness/lab/facts.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { overlayMtu, planLab } from '../../harness/lab/plan.ts';
import type { Fact, Lab, Plan } from '../../harness/lab/types.ts';
import { labText } from './lab-text.ts';

/** The facts as the planner listed them before pairs were stated per network (its code, verbatim). */
function legacyFacts(plan: Plan, lab: Lab): Fact[] {
  const facts: Fact[] = [];
  const containers = plan.containers;
  const namesOn = (network: string) =>
    containers.flatMap((c) => c.networks.filter((a) => a.network === network).flatMap((a) => [c.name, ...a.aliases]));

  for (const n of plan.networks) {
    const members = containers.filter((c) => c.networks.some((a) => a.network === n.name));
    const hosts =
      plan.mode === 'kv' ? plan.dockerHosts : plan.dockerHosts.filter((h) => h === n.createOn || members.some((c) => c.host === h));
    for (const host of hosts) facts.push({ kind: 'network-present', network: n.name, host });
  }

  for (const a of containers) {
    const visibleToA = new Set(a.networks.flatMap((x) => namesOn(x.network)));
    for (const b of containers) {
      if (a === b) continue;
      const shared = a.networks.filter((x) => b.networks.some((y) => y.network === x.network));
      if (shared.length === 0) {
        facts.push({ kind: 'isolated', from: a.name, to: b.name, proto: 'icmp' });
        facts.push({ kind: 'isolated', from: a.name, to: b.name, proto: 'tcp' });
        if (!visibleToA.has(b.name)) facts.push({ kind: 'no-resolve', from: a.name, name: b.name });
        continue;
      }
      for (const s of shared) {
        facts.push({ kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'address', proto: 'icmp' });
        facts.push({ kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'name', proto: 'icmp' });
        facts.push({ kind: 'reach', from: a.name, to: b.name, network: s.network, by: 'name', proto: 'tcp' });
        const bOn = b.networks.find((y) => y.network === s.network)!;
        for (const name of [b.name, ...bOn.aliases]) facts.push({ kind: 'resolve', from: a.name, name, network: s.network, target: b.name });
      }
    }
  }

  for (const n of plan.networks) {
    if (n.encrypted) continue;
    const members = containers.filter((c) => c.networks.some((a) => a.network === n.name));
    const pair = members.flatMap((a) => members.filter((b) => b.host !== a.host).map((b) => [a, b] as const))[0];
    if (pair) facts.push({ kind: 'mtu', from: pair[0].name, to: pair[1].name, network: n.name, mtu: overlayMtu() });
  }

  if (plan.mode === 'kv' && plan.kv) facts.push({ kind: 'kv-registered', hosts: plan.dockerHosts });
  if (plan.mode === 'swarm') facts.push({ kind: 'swarm-ready', hosts: plan.dockerHosts });
  if (plan.mode === 'alone') facts.push({ kind: 'engines-alone', hosts: plan.dockerHosts });

  for (const c of containers) {
    const internal = c.networks.filter((a) => plan.networks.find((n) => n.name === a.network)?.internal);
    if (internal.length === c.networks.length) {
      for (const a of internal) facts.push({ kind: 'internal-no-route', container: c.name, network: a.network });
    }
  }

  // Facts that came after pairs were stated per network (services, the underlay) are not pairwise: as planned.
  facts.push(...(plan.facts.filter((f) => f.kind.startsWith('service-') || f.kind === 'overlay-wire') as Fact[]));
  for (const fact of lab.expect) facts.push({ kind: 'stated', fact });
  return facts;
}

/** A lab of `containers` containers over `hosts` docker hosts and `networks` overlays, each on one or two. */
function generatedLab(containers: number, hosts: number, networks: number, pairs = 'all'): string {
  const lines = ['name: big', 'engine: {mode: swarm}', 'network: {subnet: 10.200.0.0/16}', `specs: {pairs: ${JSON.stringify(pairs)}}`, 'hosts:'];
  for (let h = 0; h < hosts; h++) lines.push(`  - {name: h${h}}`);
  lines.push('networks:');
  for (let n = 0; n < networks; n++) lines.push(`  - {name: n${n}, subnet: 10.${n + 1}.0.0/16${n % 5 === 4 ? ', internal: true' : ''}}`);
  lines.push('containers:');
  for (let c = 0; c < containers; c++) {
    const nets = c % 3 === 0 ? [`n${c % networks}`, `n${(c + 7) % networks}`] : [`n${c % networks}`];
    const alias = c % 4 === 0 ? `, aliases: [a${c}]` : '';
    lines.push(`  - {name: c${c}, host: h${c % hosts}, networks: [${nets.join(', ')}]${alias}}`);
  }
  return lines.join('\n') + '\n';
}

const LABS_DIR = new URL('../../labs/', import.meta.url);
const shippedLabs = readdirSync(LABS_DIR).filter((f) => f.endsWith('.yaml')).sort();

describe('facts', () => {
  describe('expandFacts with pairs: all gives exactly the facts the plan used to list', () => {
    for (const file of shippedLabs) {
      it(`for labs/${file}`, async () => {
        const lab = await loadLab(`labs/${file}`);
        const plan = planLab(lab);
        const expanded = expandFacts(plan);
        expect(expanded.facts).to.deep.equal(legacyFacts(plan, lab));
        const n = plan.containers.length;
        const pairs = n === 0 ? 0 : n * (n - 1); // (0 * -1 is -0, which deep equality tells from 0)
        expect({ policy: expanded.policy, total: expanded.total, kept: expanded.kept }).to.deep.equal({ policy: 'all', total: pairs, kept: pairs });
      });
    }

    it('for a generated lab with shared, lone and internal networks and aliases (60 containers)', () => {
      const lab = parseLab(generatedLab(60, 4, 9), 'big.yaml');
      const plan = planLab(lab);
      expect(expandFacts(plan).facts).to.deep.equal(legacyFacts(plan, lab));
    });
  });

  describe('the plan states pairwise facts per network and per group', () => {
    it('for the isolation lab: one network-reach per network, one isolation with the groups', async () => {
      const plan = planLab(await loadLab('labs/isolation.yaml'));
      const bulk = plan.facts.filter((f) => f.kind === 'network-reach' || f.kind === 'isolation');
      expect(bulk).to.deep.equal([
        { kind: 'network-reach', network: 'front', members: ['web', 'app'] },
        { kind: 'network-reach', network: 'back', members: ['app', 'db', 'cache'] },
        { kind: 'isolation', groups: [['web'], ['app'], ['db', 'cache']] },
      ]);
      expect(plan.facts.map((f) => f.kind)).to.not.include.members(['reach', 'resolve', 'isolated', 'no-resolve']);
    });
  });

  describe('specs.pairs', () => {
    const text = labText`
      name: t
      engine: {mode: swarm}
      hosts: [{name: h1}, {name: h2}]
      networks: [{name: n1, subnet: 10.0.1.0/24}, {name: n2, subnet: 10.0.2.0/24}]
      containers:
        - {name: a1, host: h1, networks: [n1]}
        - {name: a2, host: h1, networks: [n1]}
        - {name: b1, host: h2, networks: [n1]}
        - {name: b2, host: h2, networks: [n2]}
    `;
    const plan = planLab(parseLab(text, 'lab.yaml'));
    const pairsOf = (facts: Fact[]) => [...new Set(facts.flatMap((f) => (f.kind === 'reach' || f.kind === 'isolated' ? [`${f.from}>${f.to}`] : [])))];

    it('defaults to all, and is planned from the lab', () => {
      expect(plan.specs.pairs).to.deep.equal({ kind: 'all' });
      expect(planLab(parseLab(`${text}specs: {pairs: sample 3}\n`, 'lab.yaml')).specs.pairs).to.deep.equal({ kind: 'sample', n: 3 });
    });

    it('cross-host keeps the pairs on different hosts only, and every other fact', () => {
      const r = expandFacts(plan, { kind: 'cross-host' });
      expect(pairsOf(r.facts)).to.deep.equal(['a1>b1', 'a1>b2', 'a2>b1', 'a2>b2', 'b1>a1', 'b1>a2', 'b2>a1', 'b2>a2']);
      expect({ policy: r.policy, total: r.total, kept: r.kept }).to.deep.equal({ policy: 'cross-host', total: 12, kept: 8 });
      const others = (facts: Fact[]) => facts.filter((f) => !['reach', 'resolve', 'isolated', 'no-resolve'].includes(f.kind));
      expect(others(r.facts)).to.deep.equal(others(expandFacts(plan).facts));
    });

    it('sample N keeps N pairs spread evenly over all of them, the same ones every time', () => {
      const r = expandFacts(plan, { kind: 'sample', n: 4 });
      expect(pairsOf(r.facts)).to.deep.equal(['a1>a2', 'a2>a1', 'b1>a1', 'b2>a1']);
      expect({ policy: r.policy, total: r.total, kept: r.kept }).to.deep.equal({ policy: 'sample 4', total: 12, kept: 4 });
      expect(expandFacts(plan, { kind: 'sample', n: 4 })).to.deep.equal(r);
      expect(expandFacts(plan, { kind: 'sample', n: 100 }).facts).to.deep.equal(expandFacts(plan).facts);
    });

    it('counts no pairs in a lab of one container or none', () => {
      const one = planLab(parseLab('name: t\nengine: {mode: swarm}\nhosts: [{name: h1}]\nnetworks: [{name: n1, subnet: 10.0.1.0/24}]\ncontainers: [{name: c1, host: h1, networks: [n1]}]\n', 'lab.yaml'));
      const none = planLab(parseLab('name: t\nengine: {mode: swarm}\nhosts: [{name: h1}]\n', 'lab.yaml'));
      for (const plan of [one, none]) {
        const r = expandFacts(plan, { kind: 'sample', n: 5 });
        expect({ total: r.total, kept: r.kept }).to.deep.equal({ total: 0, kept: 0 });
        expect(r.facts.map((f) => f.kind)).to.not.include.members(['reach', 'isolated']);
      }
    });

    it('sample N with N far below the pairs only ever looks at N of them', () => {
      const big = planLab(parseLab(generatedLab(800, 10, 20, 'sample 50'), 'big.yaml'));
      const started = Date.now();
      const r = expandFacts(big);
      expect({ policy: r.policy, total: r.total, kept: r.kept }).to.deep.equal({ policy: 'sample 50', total: 800 * 799, kept: 50 });
      expect(Date.now() - started).to.be.below(500);
    });
  });

  describe('size', () => {
    it('reads and plans 800 containers over 10 hosts and 20 networks in under 3 s, as JSON well under 200 MB', function () {
      this.timeout(30_000);
      const text = generatedLab(800, 10, 20);
      const started = Date.now();
      const plan = planLab(parseLab(text, 'big.yaml'));
      const json = JSON.stringify(plan, null, 2);
      const ms = Date.now() - started;
      expect(ms, `${ms} ms`).to.be.below(3000);
      // Linear: about 1 KB per container (the old plan was 360 MB, 450 KB per container).
      expect(json.length, `${json.length} characters`).to.be.below(2_000_000);
      expect(plan.facts.filter((f) => f.kind === 'network-reach')).to.have.lengthOf(20);
    });
  });
});
