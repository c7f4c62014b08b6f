// What every provider must do, as one mocha suite run on each: the fake (specs/unit/), netns
// (as root), vagrant against its stand-in and ssh (specs/integration/). A provider creates the
// plan's hosts (recording each in the lab state first) and says how to reach them; another
// instance reaches the same hosts from the state alone; destroy leaves nothing running and may
// run again; its errors are typed and name the host; an aborted signal ends its work promptly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { OverlabError } from '../../harness/errors.ts';
import { EventLog } from '../../harness/events.ts';
import type { HostAccess } from '../../harness/host.ts';
import type { Plan } from '../../harness/lab/types.ts';
import type { Provider } from '../../harness/providers/provider.ts';
import type { LabContext } from '../../harness/state/lab-context.ts';
import { StateStore } from '../../harness/state/store.ts';

export interface ContractSubject {
  /** A provider; called again for "another instance" (it must share whatever the first created). */
  provider(): Provider | Promise<Provider>;
  /** The lab to create: two hosts or more, each with an address. */
  plan(): Plan | Promise<Plan>;
  /** How long createHosts may take here (ms); the suite's timeouts follow it. */
  createMs: number;
  /**
   * When (ms after createHosts starts) the abort clause aborts. Absent: the signal is aborted
   * before createHosts is called.
   */
  abortAfterMs?: number;
  /** How long, after the abort, createHosts may take to end (ms); 5 s unless given (README: any command ends within 5 s). */
  abortBoundMs?: number;
  /** Removes what a failed test left (beyond destroy), run after each test. */
  cleanup?(plan: Plan, ctx: LabContext): Promise<void>;
}

/** A fresh lab state folder, as `up` prepares one (phase creating, no hosts), and a context over it. */
export function contractContext(dir: string, plan: Plan, provider: Provider, signal = new AbortController().signal): LabContext & { events: EventLog } {
  const store = new StateStore(dir);
  const now = new Date().toISOString();
  store.write({ version: 1, lab: plan.lab, provider: provider.id, mode: plan.mode, file: plan.file, phase: 'creating', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
  return { store, events: new EventLog(), signal };
}

const closeAll = (hosts: HostAccess[]) => hosts.forEach((h) => h.close?.());

/** The provider contract as a mocha `describe`, for one provider. */
export function providerContract(name: string, subject: ContractSubject): void {
  describe(`the provider contract: ${name}`, function () {
    this.timeout(subject.createMs * 3 + 30_000);
    let dir: string;
    let plan: Plan;
    let provider: Provider;
    let ctx: LabContext & { events: EventLog };
    let count = 0;
    const opened: HostAccess[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'overlab-contract-'));
      plan = await subject.plan();
      expect(plan.hosts.length, 'the contract needs two hosts or more').to.be.at.least(2);
    });
    beforeEach(async () => {
      provider = await subject.provider();
      ctx = contractContext(join(dir, `lab${++count}`), plan, provider);
    });
    afterEach(async () => {
      closeAll(opened.splice(0));
      await provider.destroy(plan.lab, ctx, { force: true }).catch(() => undefined);
      await subject.cleanup?.(plan, ctx);
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const create = async (c = ctx) => {
      const hosts = await provider.createHosts(plan, c);
      opened.push(...hosts);
      return hosts;
    };

    it('createHosts returns one access per host of the plan, by name and address, each running commands', async () => {
      const hosts = await create();
      expect(hosts.map((h) => [h.name, h.address]).sort()).to.deep.equal(plan.hosts.map((h) => [h.name, h.address]).sort());
      for (const h of hosts) {
        const r = await h.runner.exec(['echo', 'contract', h.name]);
        expect(r.exitCode, `${h.name}: ${r.stderr}`).to.equal(0);
        expect(r.stdout.trim()).to.equal(`contract ${h.name}`);
        expect((await h.runner.exec(['false'])).exitCode, `${h.name}: a failing command's status comes back, not thrown`).to.not.equal(0);
      }
    });

    it('createHosts records every host in the lab state, and hostStates reports each running', async () => {
      await create();
      const state = ctx.store.read()!;
      for (const h of plan.hosts) {
        expect(state.hosts[h.name], `state of ${h.name}`).to.include({ name: h.name, address: h.address, role: h.role });
      }
      const states = await provider.hostStates(plan, ctx);
      expect(states).to.deep.equal(Object.fromEntries(plan.hosts.map((h) => [h.name, 'running'])));
    });

    it('connect, on another instance, reaches the same hosts from the recorded state alone', async () => {
      await create();
      const other = await subject.provider();
      const again = await other.connect(plan, { store: new StateStore(ctx.store.dir), events: new EventLog(), signal: new AbortController().signal });
      opened.push(...again);
      expect(again.map((h) => [h.name, h.address]).sort()).to.deep.equal(plan.hosts.map((h) => [h.name, h.address]).sort());
      for (const h of again) expect((await h.runner.exec(['echo', 'again'])).stdout.trim(), h.name).to.equal('again');
    });

    it('destroy leaves no host running, may run again, and connect then fails typed, naming a host', async () => {
      await create();
      closeAll(opened.splice(0));
      const report = await provider.destroy(plan.lab, ctx, { force: false });
      expect(report).to.have.all.keys('vms', 'containers', 'processes', 'namespaces', 'paths');
      const states = await provider.hostStates(plan, ctx);
      for (const h of plan.hosts) expect(states[h.name], h.name).to.not.equal('running');
      await provider.destroy(plan.lab, ctx, { force: false }); // idempotent
      const error = await provider.connect(plan, ctx).then(
        (hosts) => (closeAll(hosts), undefined),
        (e: unknown) => e,
      );
      expect(error, 'connect to destroyed hosts').to.be.instanceOf(OverlabError);
      const message = (error as Error).message;
      expect(plan.hosts.some((h) => message.includes(h.name)), `names a host: ${message}`).to.equal(true);
    });

    it('an aborted signal ends createHosts promptly, and destroy then removes what it recorded', async () => {
      const controller = new AbortController();
      const actx = contractContext(join(dir, `lab${++count}`), plan, provider, controller.signal);
      let abortedAt: number;
      if (subject.abortAfterMs === undefined) {
        controller.abort(new Error('interrupted (contract)'));
        abortedAt = Date.now();
      } else {
        abortedAt = Date.now() + subject.abortAfterMs;
        setTimeout(() => controller.abort(new Error('interrupted (contract)')), subject.abortAfterMs);
      }
      const outcome = await provider.createHosts(plan, actx).then(
        (hosts) => (opened.push(...hosts), 'created'),
        (e: unknown) => e,
      );
      const took = Date.now() - abortedAt;
      expect(took, `createHosts ended ${took} ms after the abort (${outcome instanceof Error ? outcome.message : outcome})`).to.be.below(subject.abortBoundMs ?? 5_000);
      closeAll(opened.splice(0));
      // Down runs later, with a signal of its own.
      const down = { ...actx, signal: new AbortController().signal };
      await provider.destroy(plan.lab, down, { force: false });
      const states = await provider.hostStates(plan, down);
      for (const h of plan.hosts) expect(states[h.name], h.name).to.not.equal('running');
    });
  });
}
