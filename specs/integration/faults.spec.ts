// Faults on purpose, on live netns labs: the fault specs pass in kv mode (etcd) and swarm mode,
// with recovery times in the reports and the latency spec n/a on this kernel (no netem); each
// fault left in place breaks what it should (lab specs fail, and each fault spec kept from undoing
// its fault fails), heal restores it; a lab already broken fails a fault spec before any fault;
// and `down` with faults in place leaves nothing. Labs ft-*, subnets 172.28.192-193.0/24.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { leftovers, NOTHING_LEFT, Scratch, shippedLab, type TestRun } from './support/labs.ts';

type FaultRun = Omit<TestRun, 'cases' | 'counts'> & {
  counts: TestRun['counts'] & { na: number };
  cases: (TestRun['cases'][number] & { measured?: Record<string, number>; reason?: string })[];
};
const notPassed = (run: TestRun) => run.cases.filter((c) => c.state !== 'passed' && c.state !== 'n/a').map((c) => `${c.suite} | ${c.title}`);

/**
 * The recovery bound (`test --faults --recovery-bound`) of the runs that fail on purpose: a fault left in
 * place never comes back, so waiting the default 20 s for it proves no more than 5 s, and each
 * such run spent 15 s more. A spec whose check comes back whatever the fault (one that cannot
 * fail) passes at once, under any bound. Each run's check that the lab is whole before its fault
 * has the same bound, after the heal of the run before (recoveries measured here: 0.1-6 s from
 * the undo's start, docs/faults.md; the next run's start comes between). The suite passing again
 * at the end runs with the 20 s bound.
 */
const FAILING_BOUND_S = 5;

/**
 * Each fault spec of `kinds`, run on its own with its fault left in place (the mutation
 * OVERLAB_FAULT_MUTATION=keep-fault) and a recovery bound of FAILING_BOUND_S: its one case must
 * fail on what should have come back, within that bound, the report must say it ran mutated,
 * the left fault must be recorded, and heal must undo it.
 */
async function keptFaultsFail(
  run: (args: string[], env?: Record<string, string>) => Promise<{ stdout: string; exitCode?: number; all?: string }>,
  kinds: string[],
  options: { recoveryBound: boolean },
): Promise<Record<string, string>> {
  const seen: Record<string, string> = {};
  for (const kind of kinds) {
    const bound = options.recoveryBound ? ['--recovery-bound', String(FAILING_BOUND_S)] : [];
    const r = await run(['test', '--faults', kind, ...bound, '--json', '--destroy', 'never'], { OVERLAB_FAULT_MUTATION: 'keep-fault' });
    const report = JSON.parse(r.stdout) as FaultRun;
    expect(report.properties['mutation'], kind).to.include('faults left in place');
    expect(report.cases.map((c) => c.state), `${kind}: ${r.all}`).to.deep.equal(['failed']);
    // The bound given, times the lab's pace, is the one the spec waited out.
    if (options.recoveryBound) expect(report.cases[0]!.failure?.message, `${kind}: ${r.all}`).to.include(`: not within ${FAILING_BOUND_S * Number(report.properties['pace'])} s`);
    seen[kind] = report.cases[0]!.failure?.message ?? '';
    const left = JSON.parse((await run(['status', '--json'])).stdout).faults as unknown[];
    expect(left, `${kind} leaves its fault recorded`).to.have.length(1);
    const healed = await run(['fault', 'heal']);
    expect(healed.exitCode, healed.all).to.equal(0);
  }
  return seen;
}

function kvFaultLab(name: string): string {
  return `name: ${name}
provider: netns
network:
  subnet: 172.28.192.0/24
hosts:
  - name: kv
    role: kv
  - name: d0
  - name: d1
kv:
  type: etcd
engine:
  mode: kv
networks:
  - name: net
    subnet: 10.0.4.0/24
containers:
  - name: c0
    host: d0
    networks: [net]
  - name: c1
    host: d1
    networks: [net]
`;
}

describe('faults on a live kv lab (etcd)', function () {
  this.timeout(180_000);
  const lab = 'ft-kv';
  let s: Scratch;
  const run = (args: string[], env?: Record<string, string>) => s.run([...args, '--lab', lab], { timeoutMs: 170_000, ...(env ? { env } : {}) });
  const faultSpecs = async (): Promise<FaultRun> => JSON.parse((await run(['test', '--faults', '--json', '--destroy', 'never'])).stdout);
  const labSpecs = async (): Promise<TestRun> => JSON.parse((await run(['test', '--json', '--destroy', 'never'])).stdout);
  const fault = async (...args: string[]) => {
    const r = await run(['fault', ...args]);
    expect(r.exitCode, r.all).to.equal(0);
    return r;
  };

  before(async () => {
    s = new Scratch();
    const up = await s.run(['up', '--lab', s.lab(lab, kvFaultLab(lab)), '--quiet']);
    expect(up.exitCode, up.all).to.equal(0);
  });
  after(async () => {
    await s.run(['down', '--force', lab]);
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
    s.dispose();
  });

  it('the fault specs pass; latency is n/a naming CONFIG_NET_SCH_NETEM; recovery times are in the JSON and JUnit reports', async () => {
    const r = await faultSpecs();
    expect(notPassed(r), JSON.stringify(r.cases, null, 2)).to.deep.equal([]);
    expect(r.cases.map((c) => c.suite)).to.include.members(['KV store outage', 'partition', 'engine restart', 'engine kill', 'slow link']);
    const na = r.cases.filter((c) => c.state === 'n/a');
    expect(na.map((c) => c.suite)).to.deep.equal(['slow link']);
    expect(na[0]!.reason).to.include('CONFIG_NET_SCH_NETEM');
    expect(r.counts).to.include({ na: 1, failed: 0 });
    const partition = r.cases.find((c) => c.suite === 'partition')!;
    expect(partition.measured?.['recovery.ms']).to.be.a('number').and.lessThan(20_000);
    const junit = readFileSync(join(s.home, lab, 'reports', 'faults', 'junit.xml'), 'utf8');
    expect(junit).to.match(/<property name="recovery.ms" value="\d+"\/>/);
    expect(junit).to.include('<skipped message="not applicable: the kernel of d1 has no netem qdisc');
    // The run leaves no fault recorded.
    expect(JSON.parse((await run(['status', '--json'])).stdout).faults).to.deep.equal([]);
  });

  it('each fault spec fails when its fault is left in place (KV outage, partition, restart, kill), on what should have come back; heal undoes it and the specs pass again', async function () {
    this.timeout(600_000);
    const messages = await keptFaultsFail(run, ['kv-outage-reach', 'kv-outage-create', 'kv-recovered-create', 'partition-heal', 'engine-restart', 'engine-kill'], { recoveryBound: true });
    expect(messages['kv-outage-reach']).to.include('creating an overlay network on d0 once the KV store is back: not within');
    expect(messages['kv-recovered-create']).to.include('creating an overlay network on d0 once the KV store is back: not within');
    expect(messages['partition-heal']).to.include('reaching c1 by name after heal: not within');
    expect(messages['engine-restart']).to.include('reaching each other by name after the restart: not within');
    expect(messages['engine-kill']).to.include('reaching each other by name after heal: not within');
    expect(notPassed(await faultSpecs())).to.deep.equal([]);
  });

  it('a partition left in place makes the cross-host reach specs fail; status shows it; heal restores them', async () => {
    const applied = JSON.parse((await fault('partition', 'd1', '--json')).stdout);
    expect(applied.applied).to.include({ kind: 'partition', host: 'd1' });
    try {
      const status = JSON.parse((await run(['status', '--json'])).stdout);
      expect(status.faults.map((f: { kind: string; host: string }) => `${f.kind} ${f.host}`)).to.deep.equal(['partition d1']);
      expect((await run(['status'])).stdout).to.include('fault: partition of d1 from every host');
      const broken = notPassed(await labSpecs());
      expect(broken).to.include('reachability | c0 on d0 reaches c1 on d1 over net by address (icmp)');
      expect(broken).to.include('reachability | c1 on d1 reaches c0 on d0 over net by name (tcp)');
    } finally {
      await fault('heal', 'd1');
    }
    expect(notPassed(await labSpecs())).to.deep.equal([]);
  });

  it('a lab already broken (a VXLAN drop of its own, which no heal undoes) fails the partition spec before any fault is put, saying so', async () => {
    const rule = '-p udp --dport 4789 -j DROP';
    expect((await run(['ssh', 'd1', `iptables -I INPUT ${rule}`])).exitCode).to.equal(0);
    try {
      // The whole-lab check waits out the recovery bound: FAILING_BOUND_S, not 20 s (the title names it).
      const r = await run(['test', '--faults', 'partition-heal', '--recovery-bound', String(FAILING_BOUND_S), '--json', '--destroy', 'never']);
      const report = JSON.parse(r.stdout) as FaultRun;
      expect(report.cases.map((c) => `${c.state} ${c.title}`)).to.deep.equal([
        `failed while d1 is partitioned, c1 on it is unreachable from c0 on d0, and reachable again by name within ${FAILING_BOUND_S} s of heal (the time is measured)`,
      ]);
      expect(report.cases[0]!.failure?.message).to.include('the lab whole before the fault: c0 on d0 reaching c1 by name: not within');
      expect(JSON.parse((await run(['status', '--json'])).stdout).faults, 'no fault was put, none is recorded').to.deep.equal([]);
    } finally {
      expect((await run(['ssh', 'd1', `iptables -D INPUT ${rule}`])).exitCode).to.equal(0);
    }
  });

  it('a killed engine left dead makes the specs of its containers fail; heal brings engine and containers back', async () => {
    await fault('kill-engine', 'd1');
    try {
      const status = JSON.parse((await run(['status', '--json'])).stdout);
      expect(status.hosts.find((h: { name: string }) => h.name === 'd1').engine).to.equal(undefined);
      const broken = notPassed(await labSpecs());
      expect(broken).to.include('reachability | c0 on d0 reaches c1 on d1 over net by name (icmp)');
    } finally {
      await fault('heal');
    }
    expect(notPassed(await labSpecs())).to.deep.equal([]);
  });

  it('latency is refused on this kernel, naming CONFIG_NET_SCH_NETEM, and records nothing; rate (tbf) works and heals', async () => {
    const r = await run(['fault', 'latency', 'd1', '--ms', '100']);
    expect(r.exitCode, r.all).to.equal(69);
    expect(r.stderr).to.include('CONFIG_NET_SCH_NETEM');
    expect(JSON.parse((await run(['status', '--json'])).stdout).faults).to.deep.equal([]);
    await fault('rate', 'd1', '--mbit', '10');
    const healed = JSON.parse((await fault('heal', '--json')).stdout);
    expect(healed.healed.map((f: { kind: string }) => f.kind)).to.deep.equal(['rate']);
  });

  it('kv-down makes network creation fail with an error naming the store; kv-up restores it', async () => {
    const { DOCKER_HOST } = JSON.parse((await run(['env', 'd0', '--json'])).stdout);
    const { execa } = await import('execa');
    const docker = (args: string[]) => execa('docker', args, { env: { DOCKER_HOST }, reject: false, all: true });
    await fault('kv-down');
    try {
      const create = await docker(['network', 'create', '-d', 'overlay', 'ft-probe']);
      expect(create.exitCode, create.all).to.not.equal(0);
      expect(create.stderr).to.match(/etcd|store/i);
    } finally {
      await fault('kv-up');
    }
    // Restored: the same create works again (the engine's store client may take a moment to
    // reconnect: tried for up to 30 s), and the network is removed again.
    let again = await docker(['network', 'create', '-d', 'overlay', 'ft-probe']);
    for (const until = Date.now() + 30_000; again.exitCode !== 0 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 1000));
      again = await docker(['network', 'create', '-d', 'overlay', 'ft-probe']);
    }
    expect(again.exitCode, `network create after kv-up: ${again.all}`).to.equal(0);
    const rm = await docker(['network', 'rm', 'ft-probe']);
    expect(rm.exitCode, rm.all).to.equal(0);
  });

  it('down with a partition, the KV store down, a dead engine and a rate limit in place leaves nothing', async () => {
    await fault('partition', 'd1');
    await fault('kv-down');
    await fault('kill-engine', 'd0');
    await fault('rate', 'd1', '--mbit', '5');
    const down = await s.run(['down', lab]);
    expect(down.exitCode, down.all).to.equal(0);
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
  });
});

describe('faults on a live swarm lab', function () {
  this.timeout(180_000);
  const lab = 'ft-swm';
  let s: Scratch;
  const run = (args: string[], env?: Record<string, string>) => s.run([...args, '--lab', lab], { timeoutMs: 170_000, ...(env ? { env } : {}) });

  before(async () => {
    s = new Scratch();
    const text = shippedLab('swarm.yaml', lab).replaceAll('172.28.129.', '172.28.193.');
    const up = await s.run(['up', '--lab', s.lab(lab, text), '--quiet']);
    expect(up.exitCode, up.all).to.equal(0);
  });
  after(async () => {
    await s.run(['down', '--force', lab]);
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
    s.dispose();
  });

  it('the fault specs pass: with the manager unreachable the containers keep reaching each other; partition, restart and kill recover', async () => {
    const r: FaultRun = JSON.parse((await run(['test', '--faults', '--json', '--destroy', 'never'])).stdout);
    expect(notPassed(r), JSON.stringify(r.cases, null, 2)).to.deep.equal([]);
    const manager = r.cases.find((c) => c.suite === 'unreachable swarm manager');
    expect(manager?.state).to.equal('passed');
    expect(manager?.measured?.['manager.lost.ms']).to.be.a('number');
  });

  it('the manager outage spec fails when the manager is left unreachable; heal undoes it', async function () {
    this.timeout(300_000);
    // Its bounds are its own (the manager's heartbeat timeouts), not the recovery bound.
    const messages = await keptFaultsFail(run, ['manager-outage-reach'], { recoveryBound: false });
    expect(messages['manager-outage-reach']).to.include('to see worker ready again: not within');
  });

  it('status shows a host that is gone as unreachable; down with the manager partitioned, an engine dead and a host gone leaves nothing', async () => {
    expect((await run(['fault', 'partition', 'manager'])).exitCode).to.equal(0);
    expect((await run(['fault', 'kill-engine', 'worker'])).exitCode).to.equal(0);
    // The worker's namespace holder (a process of this lab's own) ends: the host is gone.
    const state = JSON.parse(readFileSync(join(s.home, lab, 'state.json'), 'utf8'));
    process.kill(state.hosts.worker.resources.holderPid as number, 'SIGKILL');
    const status = await run(['status', '--json']);
    expect(status.exitCode, status.all).to.equal(0);
    const worker = JSON.parse(status.stdout).hosts.find((h: { name: string }) => h.name === 'worker');
    expect(worker.state).to.include('unreachable');
    expect(worker.error).to.include('worker');
    const down = await s.run(['down', lab]);
    expect(down.exitCode, down.all).to.equal(0);
    expect(await leftovers(lab)).to.deep.equal(NOTHING_LEFT);
  });
});
