// The overlay forwarding check of `up` (harness/engine/dataplane.ts) on a live tutorial lab:
// engines that lack their peers' VXLAN forwarding entries (here removed by hand: the state
// dockerd 20.10 now and then leaves by itself) break the cross-host specs as they did in CI; the
// check names each host and peer, restarts those hosts' containers once, and the specs pass again.
import { expect } from 'chai';
import { dataplaneHosts, ensureOverlaysProgrammed } from '../../harness/engine/dataplane.ts';
import { connectLab } from '../../harness/lifecycle/connect.ts';
import { openLabPlan } from '../../harness/lifecycle/lab.ts';
import { leftovers, NOTHING_LEFT, Scratch, shippedLab, type TestRun } from './support/labs.ts';

describe('overlay forwarding check (live tutorial lab, netns)', function () {
  this.timeout(240_000);
  const lab = 'it-fdb';
  let s: Scratch;
  let file: string;
  const failing = async () => {
    const run = JSON.parse((await s.run(['test', '--lab', file, '--json', '--destroy', 'never'], { timeoutMs: 200_000 })).stdout) as TestRun;
    return run.cases.filter((c) => c.state !== 'passed').map((c) => c.title);
  };
  /** Runs the check as `up` does, against the lab's hosts and engines. */
  const check = async (bounds: { programMs: number; repairedMs: number }) => {
    const saved = process.env['OVERLAB_HOME'];
    process.env['OVERLAB_HOME'] = s.home;
    try {
      const plan = await openLabPlan(lab);
      const live = await connectLab(plan, AbortSignal.timeout(120_000));
      try {
        return await ensureOverlaysProgrammed(dataplaneHosts(plan, live.hosts, live.engines), plan.networks.map((n) => n.name), live.ctx.signal, bounds);
      } finally {
        live.close();
      }
    } finally {
      if (saved === undefined) delete process.env['OVERLAB_HOME'];
      else process.env['OVERLAB_HOME'] = saved;
    }
  };

  before(async () => {
    s = new Scratch();
    file = s.lab(lab, shippedLab('tutorial.yaml', lab));
    const up = await s.run(['up', '--lab', file, '--json']);
    expect(up.exitCode, up.all).to.equal(0);
    expect(up.stderr, 'up found every entry at once').to.not.match(/lacks the/);
  });
  after(async () => {
    await s.run(['down', '--force', lab]);
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
    s.dispose();
  });

  it('finds every entry on a healthy lab, at once, and restarts nothing', async () => {
    const report = await check({ programMs: 5_000, repairedMs: 5_000 });
    expect(report.warnings).to.deep.equal([]);
    expect(report.peers).to.equal(2);
    expect(report.programmedMs).to.be.below(2_000);
  });

  it("repairs hosts whose engines lack their peers' forwarding entries, which broke the cross-host specs", async () => {
    // Remove both hosts' programmed VXLAN entries for their peers, inside the overlay's sandbox:
    // with one host left whole, a packet from it would teach the other's VXLAN device the way
    // back, and which spec runs first would decide what fails.
    for (const h of ['mhs-demo0', 'mhs-demo1']) {
      const remove =
        `for f in /run/overlab/${lab}/${h}/exec/netns/*-*; do ` +
        `nsenter --net="$f" bridge fdb show dev vxlan0 | awk '/ dst .* self permanent/ {print $1, $3}' | ` +
        `while read mac dst; do nsenter --net="$f" bridge fdb del "$mac" dev vxlan0 dst "$dst" self; done; done`;
      const r = await s.run(['ssh', '--lab', file, h, remove]);
      expect(r.exitCode, r.all).to.equal(0);
    }
    const broken = await failing();
    expect(broken, broken.join('\n')).to.include.members([
      'c0 on mhs-demo0 reaches c1 on mhs-demo1 over my-net by address (icmp)',
      'c1 on mhs-demo1 reaches c0 on mhs-demo0 over my-net by address (icmp)',
    ]);

    const report = await check({ programMs: 3_000, repairedMs: 20_000 });
    expect(report.warnings.map((w) => w.host)).to.deep.equal(['mhs-demo0', 'mhs-demo1']);
    expect(report.warnings[0]!.message).to.match(
      /^mhs-demo0 lacks the forwarding entry \S+ -> 172\.28\.128\.7 for c1 on mhs-demo1 \(my-net\) 3 s after the containers started .*; restarted c0 on mhs-demo0; c1 on mhs-demo1, after which every entry was there/,
    );
    expect(report.programmedMs).to.be.a('number');
    expect(await failing()).to.deep.equal([]);
  });
});
