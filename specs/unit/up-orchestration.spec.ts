// How `up` is orchestrated, on the fake provider (no root, no machines): runSteps runs steps in
// order and each step's tasks at once, reporting each task per host; a task that fails lets its
// siblings finish, stops the run before the next step and is what the run throws; an abort ends
// the running step at once; whatever was made is recorded in the state first, so `down` (the
// provider's destroy) removes it. No rollback is done by up itself (README: "what was created is
// already recorded, and `overlab down` removes it"): these tests check that promise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CommandFailedError, LabStateError } from '../../harness/errors.ts';
import type { ExecResult } from '../../harness/host.ts';
import { parseLab } from '../../harness/lab/load.ts';
import type { Plan } from '../../harness/lab/types.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { labDown } from '../../harness/lifecycle/down.ts';
import { prepareUp } from '../../harness/lifecycle/prepare-up.ts';
import { upSteps } from '../../harness/lifecycle/up.ts';
import { FakeProvider, FakeWorld, type FakeProviderOptions } from '../../harness/providers/fake/fake-provider.ts';
import { runSteps, type Step, type TaskEvent } from '../../harness/steps.ts';
import { contractContext } from '../support/provider-contract.ts';
import { FAKE_LAB } from '../support/fake-lab.ts';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

/** What runSteps reported, as "step/host: state" lines in the order they came. */
const lines = (events: TaskEvent[]) => events.map((e) => `${e.step}/${e.host ?? e.task}: ${e.state}`);

describe('runSteps', () => {
  it('runs steps in order, the tasks of one at once, building each step when it starts', async () => {
    const events: TaskEvent[] = [];
    const built: string[] = [];
    const running = new Set<string>();
    let most = 0;
    const task = (host: string, ms: number) => ({
      title: host,
      host,
      run: async () => {
        running.add(host);
        most = Math.max(most, running.size);
        await sleep(ms);
        running.delete(host);
        return `${host} ok`;
      },
    });
    const steps: Step[] = ['one', 'two'].map((title) => ({
      title,
      tasks: () => (built.push(title), [task('a', 30), task('b', 10)]),
    }));
    await runSteps(steps, { signal: new AbortController().signal, onTask: (e) => events.push(e) });
    expect(lines(events)).to.deep.equal(['one/a: started', 'one/b: started', 'one/b: done', 'one/a: done', 'two/a: started', 'two/b: started', 'two/b: done', 'two/a: done']);
    expect(most, 'tasks of a step run at once').to.equal(2);
    expect(built).to.deep.equal(['one', 'two']);
    const done = events.find((e) => e.step === 'one' && e.host === 'a' && e.state === 'done')!;
    expect(done.outcome).to.equal('a ok');
    expect(done.ms).to.be.at.least(25);
  });

  it('a failing task lets its siblings finish, stops before the next step, and is what the run throws', async () => {
    const events: TaskEvent[] = [];
    let nextBuilt = false;
    const boom = new CommandFailedError({ command: 'x', exitCode: 1, output: '', host: 'b' });
    const steps: Step[] = [
      {
        title: 'one',
        tasks: () => [
          { title: 'a', host: 'a', run: () => sleep(50).then(() => 'late but done') },
          { title: 'b', host: 'b', run: async () => Promise.reject(boom) },
        ],
      },
      { title: 'two', tasks: () => ((nextBuilt = true), []) },
    ];
    const error = await runSteps(steps, { signal: new AbortController().signal, onTask: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(error).to.equal(boom);
    expect(lines(events)).to.deep.equal(['one/a: started', 'one/b: started', 'one/b: failed', 'one/a: done']);
    expect(events.find((e) => e.state === 'failed')!.error).to.include('on b');
    expect(nextBuilt).to.equal(false);
  });

  it('of two failures, throws the first task\'s (in the step\'s order), not the first to fail; both are reported', async () => {
    const events: TaskEvent[] = [];
    const steps: Step[] = [
      {
        title: 'one',
        tasks: () => [
          { title: 'a', host: 'a', run: () => sleep(40).then(() => Promise.reject(new Error('a failed late'))) },
          { title: 'b', host: 'b', run: () => Promise.reject(new Error('b failed first')) },
        ],
      },
    ];
    const error = await runSteps(steps, { signal: new AbortController().signal, onTask: (e) => events.push(e) }).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('a failed late');
    expect(events.filter((e) => e.state === 'failed').map((e) => e.error)).to.deep.equal(['b failed first', 'a failed late']);
  });

  it('an aborted signal starts no further step', async () => {
    const controller = new AbortController();
    let secondBuilt = false;
    const steps: Step[] = [
      { title: 'one', tasks: () => [{ title: 'a', run: async () => void controller.abort(new Error('interrupted')) }] },
      { title: 'two', tasks: () => ((secondBuilt = true), []) },
    ];
    const error = await runSteps(steps, { signal: controller.signal }).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('interrupted');
    expect(secondBuilt).to.equal(false);
  });
});

describe('upSteps on the fake provider', function () {
  this.timeout(20_000);
  let dir: string;
  let plan: Plan;
  let count = 0;
  const savedHome = process.env['OVERLAB_HOME'];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-orchestration-'));
    // The test image's tarball (built in the hosts' step) goes to this cache, not the repo's.
    process.env['OVERLAB_HOME'] = join(dir, 'home');
    plan = planLab(parseLab(FAKE_LAB, 'fakelab.yaml'));
  });
  after(() => {
    if (savedHome === undefined) delete process.env['OVERLAB_HOME'];
    else process.env['OVERLAB_HOME'] = savedHome;
    rmSync(dir, { recursive: true, force: true });
  });

  /** etcd on the kv host answers its health probe. */
  const etcdHealthy = (argv: readonly string[]): ExecResult | undefined =>
    argv.includes('wget') ? { exitCode: 0, stdout: '{"health":"true"}', stderr: '' } : undefined;

  function lab(options: FakeProviderOptions, controller = new AbortController()) {
    const world = new FakeWorld();
    const provider = new FakeProvider({ world, provision: true, ...options, hosts: { kv: { exec: etcdHealthy }, ...options.hosts } });
    const ctx = contractContext(join(dir, `lab${++count}`), plan, provider, controller.signal);
    const { steps, release } = upSteps(plan, { ...ctx, provider });
    const events: TaskEvent[] = [];
    const run = async (upTo = steps.length) => {
      const started = Date.now();
      try {
        await runSteps(steps.slice(0, upTo), { signal: controller.signal, onTask: (e) => events.push(e) });
        return { error: undefined, ms: Date.now() - started };
      } catch (error) {
        return { error, ms: Date.now() - started };
      } finally {
        release();
      }
    };
    /** down: the provider's destroy with the recorded state, as labDown calls it. */
    const down = () => provider.destroy(plan.lab, { ...ctx, signal: new AbortController().signal }, { force: false });
    return { world, provider, ctx, steps, events, run, down, controller };
  }

  it('has the steps of a kv lab in order, the provider\'s provisioning among them', () => {
    const { steps } = lab({});
    expect(steps.map((s) => s.title).slice(0, 4)).to.deep.equal(['Create hosts (ssh)', 'Provision hosts', 'Start the KV store', 'Start the engines']);
  });

  it('has every step a lab needs and none it does not: kv with containers; swarm with services and no containers', () => {
    const provider = new FakeProvider({ world: new FakeWorld() });
    const titles = (yaml: string) => {
      const p = planLab(parseLab(yaml, 'steps.yaml'));
      return upSteps(p, { ...contractContext(join(dir, `steps${++count}`), p, provider, new AbortController().signal), provider }).steps.map((s) => s.title);
    };
    expect(titles(FAKE_LAB)).to.deep.equal([
      'Create hosts (ssh)',
      'Start the KV store',
      'Start the engines',
      'Create overlay networks',
      'Run containers',
      'Check the overlay forwarding',
      'Check the engines',
    ]);
    const swarm = FAKE_LAB.replace(/ {2}- name: kv\n {4}role: kv\n/, '')
      .replace(/kv:\n {2}type: etcd\n/, '')
      .replace('mode: kv', 'mode: swarm')
      .replace(/containers:[\s\S]*$/, 'services:\n  - name: web\n    replicas: 2\n    networks: [net]\n');
    expect(titles(swarm)).to.deep.equal(['Create hosts (ssh)', 'Start the engines', 'Form the swarm', 'Join the swarm', 'Create overlay networks', 'Deploy services']);
  });

  it('creates, provisions and starts the KV store, reporting each host of each step and recording it', async () => {
    const { world, ctx, events, run } = lab({});
    const { error } = await run(3);
    expect(error).to.equal(undefined);
    expect(lines(events.filter((e) => e.step === 'Provision hosts' && e.state === 'done'))).to.have.members(['Provision hosts/kv: done', 'Provision hosts/d0: done', 'Provision hosts/d1: done']);
    expect(events.filter((e) => e.state === 'started').map((e) => e.step)).to.deep.equal(['Create hosts (ssh)', 'Provision hosts', 'Provision hosts', 'Provision hosts', 'Start the KV store']);
    expect(events.find((e) => e.step === 'Start the KV store' && e.state === 'done')!.outcome).to.match(/^etcd at /);
    expect(world.callsOf('kv', 'start').map((c) => c.detail)).to.deep.equal(['kv']);
    const state = ctx.store.read()!;
    expect(Object.keys(state.hosts).sort()).to.deep.equal(['d0', 'd1', 'kv']);
    expect(state.kv?.type).to.equal('etcd');
  });

  it('a host failing one step: the others finish it, the next step never starts, the error names the host, and down removes all', async () => {
    const { world, ctx, events, run, down } = lab({ hosts: { d1: { provision: { fail: 'apt-get: no network' } }, d0: { provision: { delayMs: 50 } } } });
    const { error } = await run();
    expect(error).to.be.instanceOf(CommandFailedError);
    expect((error as CommandFailedError).host).to.equal('d1');
    expect((error as Error).message).to.include('on d1').and.include('apt-get: no network');
    const provision = events.filter((e) => e.step === 'Provision hosts');
    expect(provision.filter((e) => e.state !== 'started').map((e) => `${e.host}: ${e.state}`)).to.have.members(['kv: done', 'd0: done', 'd1: failed']);
    expect(events.some((e) => e.step === 'Start the KV store'), 'no later step').to.equal(false);
    expect(world.calls.filter((c) => c.kind === 'start')).to.deep.equal([]);
    expect(Object.keys(ctx.store.read()!.hosts).sort(), 'every host made is recorded').to.deep.equal(['d0', 'd1', 'kv']);
    await down();
    expect(world.existing()).to.deep.equal([]);
  });

  it('engines failing on two hosts: each failure is reported, and the run throws the first host\'s in lab order', async () => {
    const { events, run } = lab({
      hosts: { d0: { services: { dockerd: { delayMs: 80, fail: 'd0: dockerd exited' } } }, d1: { services: { dockerd: { fail: 'd1: dockerd exited' } } } },
    });
    const { error } = await run(4);
    const failed = events.filter((e) => e.step === 'Start the engines' && e.state === 'failed');
    expect(failed.map((e) => e.host)).to.deep.equal(['d1', 'd0']);
    expect((error as CommandFailedError).host).to.equal('d0');
  });

  it('an interrupt mid-step ends the run within 500 ms, with every host made recorded and down removing it', async () => {
    const controller = new AbortController();
    const { world, ctx, events, run, down } = lab({ hosts: { d0: { provision: { delayMs: 30_000 } } } }, controller);
    setTimeout(() => controller.abort(new Error('interrupted (SIGINT)')), 150);
    const { error, ms } = await run();
    expect((error as Error).message).to.equal('interrupted (SIGINT)');
    expect(ms, 'the whole run, 150 ms of it before the abort').to.be.below(650);
    expect(events.find((e) => e.host === 'd0' && e.state === 'failed')?.error).to.equal('interrupted (SIGINT)');
    expect(world.existing()).to.deep.equal(['fakelab/d0', 'fakelab/d1', 'fakelab/kv']);
    expect(Object.keys(ctx.store.read()!.hosts).sort()).to.deep.equal(['d0', 'd1', 'kv']);
    const report = await down();
    expect(report.vms).to.have.members(['kv (fake)', 'd0 (fake)', 'd1 (fake)']);
    expect(world.existing()).to.deep.equal([]);
  });

  it('an interrupt while hosts are created: every host is recorded before any is made, and down removes those made', async () => {
    const controller = new AbortController();
    const { world, ctx, run, down } = lab({ hosts: { d1: { create: { delayMs: 30_000 } } } }, controller);
    setTimeout(() => controller.abort(new Error('interrupted (SIGTERM)')), 100);
    const { error, ms } = await run();
    expect((error as Error).message).to.equal('interrupted (SIGTERM)');
    expect(ms).to.be.below(600);
    expect(world.existing(), 'd1 was never made').to.deep.equal(['fakelab/d0', 'fakelab/kv']);
    expect(Object.keys(ctx.store.read()!.hosts).sort(), 'but recorded').to.deep.equal(['d0', 'd1', 'kv']);
    await down();
    expect(world.existing()).to.deep.equal([]);
  });
});

describe('up and down on the fake provider: a failed or interrupted up, recorded, refused again, taken down', function () {
  this.timeout(20_000);
  let dir: string;
  let plan: Plan;
  const savedHome = process.env['OVERLAB_HOME'];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-orchestration-'));
    process.env['OVERLAB_HOME'] = join(dir, 'home');
    plan = planLab(parseLab(FAKE_LAB, 'fakelab.yaml'));
  });
  after(() => {
    if (savedHome === undefined) delete process.env['OVERLAB_HOME'];
    else process.env['OVERLAB_HOME'] = savedHome;
    rmSync(dir, { recursive: true, force: true });
  });

  /** `up` as the CLI runs it (prepareUp, runSteps, finish), on a fake provider. */
  async function up(fake: FakeProvider, controller = new AbortController()) {
    const run = await prepareUp(plan, { signal: controller.signal, using: fake });
    let error: unknown;
    const started = Date.now();
    try {
      await runSteps(run.steps, { signal: controller.signal });
    } catch (e) {
      error = e;
    }
    run.finish(error);
    return { error, ms: Date.now() - started, store: run.store };
  }

  const fakeWith = (world: FakeWorld, hosts: FakeProviderOptions['hosts']) => new FakeProvider({ world, provision: true, hosts: { kv: { exec: (argv) => (argv.includes('wget') ? { exitCode: 0, stdout: '{"health":"true"}', stderr: '' } : undefined) }, ...hosts } });

  it('a host failing: the lab is recorded failed with the error naming it, each task timed, the next up refused until down removes everything', async () => {
    const world = new FakeWorld();
    const fake = fakeWith(world, { d1: { provision: { fail: 'no space left on device' } } });
    const { error, store } = await up(fake);
    expect((error as CommandFailedError).host).to.equal('d1');
    const state = store.read()!;
    expect(state.phase).to.equal('failed');
    expect(state.error).to.include('on d1').and.include('no space left on device');
    expect(state.timings!.filter((t) => t.step === 'Provision hosts').map((t) => t.host)).to.have.members(['kv', 'd0', 'd1']);
    const again = await prepareUp(plan, { signal: new AbortController().signal, using: fake }).catch((e: unknown) => e);
    expect(again).to.be.instanceOf(LabStateError);
    expect((again as Error).message).to.include('half made');
    expect((again as LabStateError).hint).to.include('overlab down').and.include('on d1');
    const down = await labDown(plan.lab, { force: false, signal: new AbortController().signal, using: fake });
    expect(down.wasUp).to.equal(true);
    expect(down.vms).to.have.members(['kv (fake)', 'd0 (fake)', 'd1 (fake)']);
    expect(world.existing()).to.deep.equal([]);
    expect(store.read(), 'no state left').to.equal(undefined);
  });

  it('an interrupt: the up ends within 500 ms, recorded failed with the interrupt as its error, and down removes every host', async () => {
    const world = new FakeWorld();
    const controller = new AbortController();
    const fake = fakeWith(world, { d0: { provision: { delayMs: 30_000 } } });
    setTimeout(() => controller.abort(new Error('interrupted (SIGINT)')), 150);
    const { error, ms, store } = await up(fake, controller);
    expect((error as Error).message).to.equal('interrupted (SIGINT)');
    expect(ms).to.be.below(650);
    expect(store.read()).to.include({ phase: 'failed', error: 'interrupted (SIGINT)' });
    expect(world.existing()).to.have.lengthOf(3);
    await labDown(plan.lab, { force: false, signal: new AbortController().signal, using: fake });
    expect(world.existing()).to.deep.equal([]);
  });
});
