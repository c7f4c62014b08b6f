// The pure half of workshops: copies' names, plans and capacity, the topology pictures, the
// handouts and the room page's order.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { UsageError } from '../../harness/errors.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import type { Lab } from '../../harness/lab/types.ts';
import { availableMemoryMiB, checkCapacity, copyLab, copyNames, copyPlans } from '../../harness/lifecycle/copies.ts';
import { estimateNetnsMemoryMiB } from '../../harness/providers/netns/memory.ts';
import { handoutHtml, handoutMarkdown, labHandout } from '../../harness/render/handout.ts';
import { checksOf, renderRoomPage, roomOrder, verdictOf, type RoomEntry } from '../../harness/render/room.ts';
import { renderDot, renderMermaid, topologyGraph } from '../../harness/render/topology.ts';
import type { SpecReport } from '../../harness/report/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const tutorialLab = (): Promise<Lab> => loadLab(join(ROOT, 'labs', 'tutorial.yaml'));

describe('workshops (pure)', () => {
  describe('copies', () => {
    it('are named <lab>-01 ... with two digits, and refuse names past the lab-name limit', () => {
      expect(copyNames('tutorial', 3)).to.deep.equal(['tutorial-01', 'tutorial-02', 'tutorial-03']);
      expect(copyNames('t', 12).at(-1)).to.equal('t-12');
      expect(() => copyNames('a-very-long-lab-name-xyz', 2)).to.throw(UsageError, 'lab name "a-very-long-lab-name-xyz-01" is longer than 24 characters');
      expect(() => copyNames('t', 0)).to.throw(UsageError, '--copies must be a whole number from 1 to 99; got 0');
      expect(() => copyNames('t', 100)).to.throw(UsageError, '--copies must be a whole number from 1 to 99; got 100');
    });

    it('on netns keep the addresses of the lab file, under their own names', async () => {
      const plans = copyPlans(await tutorialLab(), ['tutorial-01', 'tutorial-02'], { ownSubnet: false });
      expect(plans.map((p) => p.lab)).to.deep.equal(['tutorial-01', 'tutorial-02']);
      for (const p of plans) {
        expect(p.hosts.map((h) => h.address)).to.deep.equal(['172.28.128.5', '172.28.128.6', '172.28.128.7']);
        expect(p.networks[0]!.create.Labels).to.deep.equal({ 'overlab.lab': p.lab });
      }
    });

    it('on shared host networks (vagrant) move copy N to the N-th next block of the subnet, every address alike', async () => {
      const plans = copyPlans(await tutorialLab(), ['t-01', 't-02', 't-03'], { ownSubnet: true });
      expect(plans.map((p) => p.subnet)).to.deep.equal(['172.28.128.0/24', '172.28.129.0/24', '172.28.130.0/24']);
      expect(plans[2]!.hosts.map((h) => h.address)).to.deep.equal(['172.28.130.5', '172.28.130.6', '172.28.130.7']);
      expect(plans[2]!.hosts[1]!.daemon!.clusterAdvertise).to.equal('172.28.130.6:2376');
      expect(plans[2]!.kv!.address).to.equal('172.28.130.5');
    });

    it('refuse a copy whose subnet would leave the private ranges or overlap an overlay', () => {
      const lab = parseLab('name: edge\nnetwork:\n  subnet: 192.168.255.0/24\nhosts:\n  - name: kv\n    role: kv\n  - name: h1\n', 'edge.yaml');
      expect(() => copyLab(lab, 'edge-02', 1, { ownSubnet: true })).to.throw(UsageError, 'copy edge-02 would need the private subnet 192.169.0.0/24, which is outside the private ranges');
      const near = parseLab('name: near\nnetwork:\n  subnet: 10.0.3.0/24\nhosts:\n  - name: kv\n    role: kv\n  - name: h1\nnetworks:\n  - name: n\n    subnet: 10.0.4.0/24\n', 'near.yaml');
      expect(() => copyLab(near, 'near-02', 1, { ownSubnet: true })).to.throw(UsageError, 'copy near-02 would need the private subnet 10.0.4.0/24, which overlaps overlay n (10.0.4.0/24)');
    });
  });

  describe('capacity', () => {
    it('estimates a netns tutorial copy from the measured figures', async () => {
      // Two docker hosts (140), two containers (16), the kv host (12) with its largest candidate (consul, 70).
      expect(estimateNetnsMemoryMiB(planLab(await tutorialLab()))).to.equal(2 * 140 + 2 * 16 + 12 + 70);
    });

    it('refuses what does not fit in 80% of the available memory, naming the estimate, what is free and what fits', () => {
      expect(checkCapacity(400, 10, 10_000)).to.deep.equal({ fits: 20 });
      expect(checkCapacity(400, 30, 10_000)).to.deep.equal({
        fits: 20,
        refusal: '30 copies need about 12000 MiB (400 MiB each), and 10000 MiB is available (80% of it may be used: 8000 MiB); this machine can hold 20 copies',
      });
      expect(checkCapacity(400, 2, 500).refusal).to.match(/this machine can hold 1 copy$/);
    });

    it('reads MemAvailable from /proc/meminfo', () => {
      expect(availableMemoryMiB('MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   2048000 kB\n')).to.equal(2000);
      expect(() => availableMemoryMiB('MemTotal: 1 kB\n')).to.throw('/proc/meminfo has no MemAvailable line');
    });
  });

  describe('topology pictures', () => {
    it('draw, before up, the private network with host addresses, the KV store, the overlay and the containers', async () => {
      const g = topologyGraph(planLab(await tutorialLab()));
      const dot = renderDot(g);
      expect(dot).to.include('subgraph cluster_private { label="private network 172.28.128.0/24"');
      expect(dot).to.include('label="mh-keystore\\n172.28.128.5\\nKV store (consul :8500, or etcd :2379)"');
      expect(dot).to.include('label="mhs-demo0\\n172.28.128.6\\ndocker"');
      expect(dot).to.include('net_my_net [label="my-net\\noverlay 10.0.4.0/24"');
      expect(dot).to.include('ctr_c0 -> net_my_net');
      expect(dot).to.include('host_mhs_demo1 -> host_mh_keystore [label="cluster store"');
      const mermaid = renderMermaid(g);
      expect(mermaid.split('\n')[0]).to.equal('flowchart LR');
      expect(mermaid).to.include('net_my_net(["my-net<br/>overlay 10.0.4.0/24"])');
    });

    it('draw, once up, the live addresses and the chosen store, and mark in red what differs from the plan', async () => {
      const plan = planLab(await tutorialLab());
      const g = topologyGraph(plan, {
        kv: { type: 'etcd', clusterStore: 'etcd://172.28.128.5:2379' },
        hosts: { 'mh-keystore': { state: 'running' }, 'mhs-demo0': { state: 'running', engine: '20.10.24' }, 'mhs-demo1': { state: 'gone' } },
        containers: { c0: { state: 'running', addresses: { 'my-net': '10.0.4.2' } }, c1: { state: 'running', addresses: { elsewhere: '10.0.9.2' } } },
      });
      const dot = renderDot(g);
      expect(dot).to.include('KV store: etcd :2379');
      expect(dot).to.include('engine 20.10.24');
      expect(dot).to.include('ctr_c0 -> net_my_net [label="10.0.4.2", dir=none, color="#333333"');
      expect(dot).to.include('ctr_c1 -> net_my_net [label="not attached", dir=none, color="#c62828", fontcolor="#c62828", style=dashed, penwidth=2]');
      expect(dot).to.include('net_elsewhere [label="elsewhere\\nnot in the lab"');
      expect(dot).to.match(/host_mhs_demo1 \[label="mhs-demo1\\n172\.28\.128\.7\\ndocker\\ngone", [^\]]*color="#c62828", penwidth=3\]/);
      expect(renderMermaid(g)).to.match(/linkStyle \d+,\d+ stroke:#c62828/);
    });

    it('quote what they draw: a description with quotes and a newline stays one label', async () => {
      const plan = { ...planLab(await tutorialLab()), description: 'say "hi"\nthere' };
      expect(renderDot(topologyGraph(plan))).to.include('label="tutorial: say \\"hi\\" there"');
    });

    it("docs/workshops.md's Mermaid picture of the tutorial is the current drawing", async () => {
      const readme = readFileSync(join(ROOT, 'docs/workshops.md'), 'utf8');
      const block = /```mermaid\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(block).to.equal(renderMermaid(topologyGraph(planLab(await tutorialLab()))));
    });
  });

  describe('handouts', () => {
    it("give a student their lab's lines, quoted, each block pointing the CLI at its host", async () => {
      const plan = planLab({ ...(await tutorialLab()), name: 'tutorial-07' });
      const h = labHandout(plan);
      expect(h.sections.map((s) => s.title)).to.deep.equal([
        'Point your docker CLI at a host',
        'The overlay networks',
        'Containers on different hosts reach each other by name',
        'A container of your own on the overlay',
        'A shell on a host',
        'Check your lab',
      ]);
      for (const s of h.sections.slice(0, 4)) expect(s.commands[0], s.title).to.match(/^eval "\$\(npx overlab env mhs-demo[01] --lab tutorial-07\)"$/);
      expect(h.sections[2]!.commands).to.include('docker exec c0 ping -c 2 c1');
      const md = handoutMarkdown(h);
      expect(md).to.include('| mh-keystore | 172.28.128.5 | KV store |');
      expect(md).to.include('```sh\nnpx overlab ssh mh-keystore --lab tutorial-07\n');
      const html = handoutHtml([h], { 'tutorial-07': '<?xml version="1.0"?><!DOCTYPE svg><svg><text>x</text></svg>' });
      expect(html).to.include('<figure class="topology"><svg><text>x</text></svg></figure>');
      expect(html).to.include('eval &quot;$(npx overlab env mhs-demo0 --lab tutorial-07)&quot;');
    });
  });

  describe('the room page', () => {
    const report = (failed: number): SpecReport => ({
      lab: 'x',
      file: 'x.yaml',
      properties: {},
      startedAt: '2026-12-02T10:00:00.000Z',
      ms: 1000,
      counts: { tests: 12, passed: 12 - failed, failed, pending: 0, na: 0 },
      cases: failed ? [{ suite: 'reachability', title: 'c0 on a reaches c1 on b over n by address (icmp)', state: 'failed', ms: 1, failure: { kind: 'assertion', message: 'no <reply>', detail: 'ping: <b>' } }] : [],
    });
    const entry = (lab: string, phase: string, r: SpecReport | undefined): RoomEntry => ({ lab, copyOf: 't', provider: 'netns', phase, hosts: { total: 3, running: 3 }, containers: 2, ageSeconds: 60, memoryMiB: 300, report: r, svg: undefined });

    it('puts failing labs first, then labs not up, untested, passing', () => {
      const entries = [entry('t-01', 'up', report(0)), entry('t-02', 'up', undefined), entry('t-03', 'up', report(1)), entry('t-04', 'failed', undefined)];
      expect(roomOrder(entries).map((e) => [e.lab, verdictOf(e)])).to.deep.equal([
        ['t-03', 'failing'],
        ['t-04', 'down'],
        ['t-02', 'untested'],
        ['t-01', 'passing'],
      ]);
    });

    it('is one page with no fetches, its texts escaped, its failed specs named', () => {
      const html = renderRoomPage([entry('t-01', 'up', report(0)), entry('t-03', 'up', report(1))], { now: Date.parse('2026-12-02T10:05:00Z') });
      expect(html).to.not.match(/<(?:link|img|iframe)\b|\bsrc=|@import|https?:\/\//);
      expect(html).to.include('2 labs: 1 passing, 1 failing, 0 not up, 0 not tested');
      expect(html.indexOf('id="lab-t-03"')).to.be.lessThan(html.indexOf('id="lab-t-01"'));
      expect(html).to.include('<span class="spec-title">c0 on a reaches c1 on b over n by address (icmp)</span>: no &lt;reply&gt;');
      expect(html).to.include('<pre>ping: &lt;b&gt;</pre>');
      expect(html).to.include('11 of 12 specs passed, 1 failed (tested 5 min ago)');
    });

    describe("a teacher's checks (the cases of users' spec files)", () => {
      const userCase = (file: string, title: string, state: SpecReport['cases'][number]['state'], extra: Partial<SpecReport['cases'][number]> = {}) => ({ suite: `${file} / ex`, file, title, state, ms: 1, ...extra });
      const withChecks = (cases: SpecReport['cases']): SpecReport => {
        const r = report(0);
        const all = [...r.cases, ...cases];
        const n = (st: string) => all.filter((c) => c.state === st).length;
        return { ...r, cases: all, counts: { tests: 12 + cases.length, passed: 12 + n('passed') - r.cases.length, failed: n('failed'), pending: n('pending'), na: n('n/a') } };
      };
      const card = (html: string, lab: string) => html.slice(html.indexOf(`id="lab-${lab}"`), html.indexOf('</article>', html.indexOf(`id="lab-${lab}"`)));

      it('are listed per student, grouped by file, each passed, failed with the first line of why, or n/a', () => {
        const cases = [
          userCase('checks/net.spec.ts', 'x is an <overlay>', 'passed'),
          userCase('checks/net.spec.ts', 'c1 is on x', 'failed', { failure: { kind: 'assertion', message: 'c1 on worker2: expected [ "bridge" ] to include "x"\nmore', detail: 'inspect: <none>' } }),
          userCase('checks/extra.spec.ts', 'ipv6', 'n/a', { reason: 'no IPv6 "here"' }),
        ];
        expect(checksOf(withChecks(cases)).map((g) => [g.file, g.cases.map((c) => c.title)])).to.deep.equal([
          ['checks/net.spec.ts', ['x is an <overlay>', 'c1 is on x']],
          ['checks/extra.spec.ts', ['ipv6']],
        ]);
        const html = renderRoomPage([entry('t-01', 'up', withChecks(cases))], { now: Date.parse('2026-12-02T10:05:00Z') });
        const c = card(html, 't-01');
        expect(c).to.include('<h3>checks: 1 of 3 passed, 1 failed, 1 n/a</h3>');
        expect(c).to.include('<h4 class="check-file" data-file="checks/net.spec.ts">checks/net.spec.ts</h4>');
        expect(c.indexOf('data-file="checks/net.spec.ts"')).to.be.lessThan(c.indexOf('data-file="checks/extra.spec.ts"'));
        expect(c).to.include('<li class="check passed" data-check="x is an &lt;overlay&gt;" data-state="passed"><span class="mark" title="passed">✓</span> <span class="check-title">x is an &lt;overlay&gt;</span> <span class="state">passed</span></li>');
        expect(c).to.include('<span class="check-title">c1 is on x</span> <span class="state">failed</span><span class="why">: c1 on worker2: expected [ &quot;bridge&quot; ] to include &quot;x&quot;</span></summary><pre>inspect: &lt;none&gt;</pre>');
        expect(c).to.not.include('more');
        expect(c).to.include('<span class="check-title">ipv6</span> <span class="state">n/a</span><span class="why">: no IPv6 &quot;here&quot;</span>');
        // A failed check is in the checks section, not among the lab's own failed specs.
        expect(c).to.not.include('class="failures"');
      });

      it('name the file in the heading when there is one, and are no section at all for a lab without any', () => {
        const html = renderRoomPage([entry('t-01', 'up', withChecks([userCase('checks/x.spec.ts', 'a', 'passed')])), entry('t-02', 'up', report(1)), entry('t-03', 'up', undefined)]);
        expect(card(html, 't-01')).to.include('<h3>checks: 1 of 1 passed (checks/x.spec.ts)</h3>');
        expect(card(html, 't-01')).to.not.include('<h4');
        expect(card(html, 't-02')).to.not.include('class="checks"');
        expect(card(html, 't-03')).to.not.include('class="checks"');
        expect(card(html, 't-02')).to.include('class="failures"');
      });
    });
  });
});
