// The lab handle: `import { lab } from 'overlab/spec'` in users' own spec files (package.json
// exports), and the methods of the library's `Lab` (harness/api/). A handle is bound to a live
// lab through a function it calls at each use: the spec files' handle reads the run `overlab
// test` set (context.ts, on globalThis), so it works from any instance of this module and throws
// NoLabUnderTestError outside `overlab test`; a library Lab is bound to the lab it brought up.
// Its reach, resolve and isolation checks are the built-in specs' own (checks.ts), run through a
// Probe that records every command for the reports; `notApplicable` reports a test n/a, never passed.
import type Docker from 'dockerode';
import { NoLabUnderTestError, PrerequisiteError } from '../errors.ts';
import type { ExecResult } from '../host.ts';
import { containerAddresses } from '../engine/contents.ts';
import { execInContainer } from '../engine/client.ts';
import { KERNEL_FEATURES, missingReason, type Capability, type HostCapabilities } from '../lab/capabilities.ts';
import type { SpecPlan } from '../lab/facts.ts';
import type { ContainerPlan } from '../lab/types.ts';
import { shellQuote } from '../quote.ts';
import { mapLimit, withDeadline } from '../wait.ts';
import { checkIsolated, checkReach, checkResolve, expectNoLookup, sharedNetworks } from './checks.ts';
import { putFault, type Fault } from './handle-faults.ts';
import type { Command, ContainerHandle, HostHandle, ReachOptions } from './handle-types.ts';
import { specRun, type UserSpecRecords } from './context.ts';
import type { LabUnderTest } from './lab-under-test.ts';
import { plainAssertion, specFailure } from './failure.ts';
import { EXEC_TIMEOUT_MS, PROBE_DEADLINE_MS, Probe, ProbeError, type AddressBook, type ProbeStep } from './probe.ts';

export type { Capability, ExecResult, Fault, HostCapabilities, SpecPlan };
export type { Command, ContainerHandle, HostHandle, ReachOptions } from './handle-types.ts';
/** chai's expect, so a spec needs no chai of its own. */
export { expect } from 'chai';

/** What a handle works on: the live lab, what its hosts can run, and (inside `overlab test`) where the running test's records go. */
export interface HandleBinding {
  lab: LabUnderTest;
  capabilities: HostCapabilities[];
  /** The records of `overlab test`'s run; a library Lab, used in a test suite of the user's own, has none. */
  user?: UserSpecRecords;
}

/**
 * A live lab as a test sees it: its plan, its hosts and containers, the built-in specs' checks,
 * faults for a while, and n/a. Spec files get one as `lab` from `overlab/spec`; the library's
 * `Lab` is one.
 */
class LabHandle {
  /** Probes this handle started where no run counts them, for each its own listener port. */
  private probeCount = 0;

  /** @param bind the live lab, looked up at each use (it throws when there is none) */
  constructor(private readonly bind: () => HandleBinding) {}

  private get run(): HandleBinding {
    return this.bind();
  }

  /** The lab's name. */
  get name(): string {
    return this.run.lab.plan.lab;
  }

  /** The lab's plan: hosts, networks, containers, services, and its facts expanded for specs.pairs. */
  get plan(): SpecPlan {
    return this.run.lab.plan;
  }

  /** What each docker host can run (kernel features, tcpdump, engine), read before the specs. */
  get capabilities(): HostCapabilities[] {
    return this.run.capabilities;
  }

  /** A host of the lab by name (a kv host too): its address, engine, commands on it. */
  host(name: string): HostHandle {
    const run = this.run;
    const plan = run.lab.plan.hosts.find((h) => h.name === name);
    const access = run.lab.hosts.get(name);
    if (!plan || !access) throw new ProbeError(`host ${name} is not a host of lab ${run.lab.plan.lab} (${run.lab.plan.hosts.map((h) => h.name).join(', ')})`);
    const record = (command: string, r: ExecResult | undefined, e: unknown, started: number) => this.record({ where: `host ${name}`, command, exitCode: r?.exitCode ?? null, stdout: r?.stdout ?? '', stderr: r?.stderr ?? String((e as Error | undefined)?.message ?? ''), ms: Date.now() - started });
    const engine = (): Docker => run.lab.engines.get(name) ?? fail(`host ${name} runs no engine (role ${plan.role})`);
    return {
      name,
      address: plan.address,
      role: plan.role,
      get engine(): Docker {
        return engine();
      },
      exec: async (container, command, options = {}) => this.execIn(engine(), name, container, command, options),
      run: async (command, options = {}) => {
        const argv = argvOf(command);
        const started = Date.now();
        try {
          const r = await access.runner.exec(argv, { timeoutMs: (options.timeoutMs ?? EXEC_TIMEOUT_MS) * run.lab.pace });
          record(argv.map(shellQuote).join(' '), r, undefined, started);
          return r;
        } catch (e) {
          record(argv.map(shellQuote).join(' '), undefined, e, started);
          throw e;
        }
      },
    };
  }

  /** A container of the lab's plan by name: `exec` in it, its addresses now. */
  container(name: string): ContainerHandle {
    const run = this.run;
    const c = containerOf(run, name);
    const engine = () => run.lab.engines.get(c.host) ?? fail(`no engine for host ${c.host}`);
    return {
      name,
      host: c.host,
      networks: c.networks.map((n) => n.network),
      exec: async (command, options = {}) => this.execIn(engine(), c.host, name, command, options),
      addresses: async () => containerAddresses(engine(), name),
    };
  }

  /** `docker exec` through `engine`, recorded as a step of the running test. */
  private async execIn(engine: Docker, host: string, container: string, command: Command, options: { timeoutMs?: number }): Promise<ExecResult> {
    const argv = argvOf(command);
    const step: ProbeStep = { where: `${container} on ${host}`, command: argv.map(shellQuote).join(' '), exitCode: null, stdout: '', stderr: '', ms: 0 };
    const started = Date.now();
    try {
      const r = await execInContainer(engine, container, [...argv], (options.timeoutMs ?? EXEC_TIMEOUT_MS) * this.run.lab.pace);
      Object.assign(step, r);
      return r;
    } catch (e) {
      step.stderr = (e as Error).message;
      throw e;
    } finally {
      step.ms = Date.now() - started;
      this.record(step);
    }
  }

  /** `docker exec` in a container: `lab.exec('c0', 'ip route')`. */
  exec(container: string, command: Command, options?: { timeoutMs?: number }): Promise<ExecResult> {
    return this.container(container).exec(command, options);
  }

  /** `from` reaches `to` (the built-in reach spec's check): `await lab.reach('c0', 'c1', { over: 'my-net', by: 'name' })`. */
  reach(from: string, to: string, options: ReachOptions = {}): Promise<void> {
    return this.probe((p) => checkReach(p, from, to, { network: options.over ?? onlySharedNetwork(p, from, to), by: options.by ?? 'name', proto: options.proto ?? 'icmp' }));
  }

  /** `from` reaches `to` at none of its addresses (the built-in isolation spec's check). */
  cannotReach(from: string, to: string, options: Pick<ReachOptions, 'proto'> = {}): Promise<void> {
    return this.probe((p) => checkIsolated(p, from, to, options.proto ?? 'icmp'));
  }

  /**
   * `from`'s embedded DNS answers `name` with exactly the address of `to` (default: the
   * container called `name`) on `over` (default: the only network the two share).
   */
  resolves(from: string, name: string, options: { to?: string; over?: string } = {}): Promise<void> {
    const target = options.to ?? name;
    return this.probe((p) => checkResolve(p, from, name, target, options.over ?? onlySharedNetwork(p, from, target)));
  }

  /** `from`'s embedded DNS answers `name` with no address, and names no lab address. */
  cannotResolve(from: string, name: string): Promise<void> {
    return this.probe((p) => expectNoLookup(p, from, name));
  }

  /**
   * Reports the running test (or, from a hook, every test of its describe) not applicable, with
   * the reason, and ends it: never passed, never failed. Call it inside an `it` or a hook. Only
   * inside `overlab test`: in a suite of your own (the library) it throws, saying so (use
   * mocha's `this.skip()`).
   */
  notApplicable(reason: string): never {
    const user = this.run.user;
    if (!user) throw new ProbeError(`not applicable: ${reason} (lab.notApplicable() reports n/a inside \`overlab test\`; in a test suite of your own, call mocha's this.skip())`);
    const runnable = user.current() as { type?: string; parent?: object; skip(): never } | undefined;
    if (!runnable) throw new ProbeError('lab.notApplicable() ends a running test: call it inside an it() or a hook, not while the file loads');
    user.notApplicable.set(runnable.type === 'hook' && runnable.parent ? runnable.parent : runnable, reason);
    return runnable.skip();
  }

  /**
   * Puts a fault on the lab while `during` runs, then undoes it whatever happened, and returns
   * what `during` returned: `await lab.withFault({ kind: 'partition', host: 'd1' }, () =>
   * lab.cannotReach('c0', 'c1'))`. Recorded in the lab's state while in place (`overlab fault
   * heal` clears one an interrupted run left). Inside `overlab test`, a fault the hosts' kernel
   * cannot put (latency without netem) makes the test n/a; elsewhere it throws PrerequisiteError.
   */
  async withFault<T>(fault: Fault, during: () => Promise<T>): Promise<T> {
    let put: Awaited<ReturnType<typeof putFault>>;
    try {
      put = await putFault(this.run.lab, fault);
    } catch (e) {
      if (e instanceof PrerequisiteError && this.run.user) this.notApplicable(e.message);
      throw e;
    }
    try {
      return await during();
    } finally {
      await put.undo();
    }
  }

  /**
   * Not applicable (with the reason) unless every host named (default: every docker host) has
   * `capability`. Inside `overlab test` only, as `notApplicable`; elsewhere see `lacks`.
   */
  requires(capability: Capability, hosts?: readonly string[]): void {
    const reason = this.lacks(capability, hosts);
    if (reason) this.notApplicable(reason);
  }

  /**
   * Why `capability` is missing on a host named (default: every docker host), or undefined when
   * all have it: `const why = lab.lacks('ip_vs'); if (why) this.skip();` in a suite of your own.
   */
  lacks(capability: Capability, hosts?: readonly string[]): string | undefined {
    if (!(capability in KERNEL_FEATURES) && capability !== 'capture') throw new ProbeError(`no capability ${String(capability)}: one of ${[...Object.keys(KERNEL_FEATURES), 'capture'].join(', ')}`);
    const caps = this.capabilities.filter((c) => !hosts || hosts.includes(c.host));
    const lacking = caps.filter((c) => (capability === 'capture' ? !c.capture : c.kernel[capability].present === false)).map((c) => c.host);
    return lacking.length ? missingReason(capability, lacking) : undefined;
  }

  /** Runs a check through a Probe of its own (addresses inspected now), recording its commands; fails as a built-in spec fails. */
  private async probe(check: (p: Probe) => Promise<void>): Promise<void> {
    const run = this.run;
    const { lab } = run;
    const book: AddressBook = new Map(
      await mapLimit(lab.plan.containers, lab.concurrency, async (c): Promise<[string, Record<string, string> | Error]> => {
        const engine = lab.engines.get(c.host);
        try {
          return [c.name, await containerAddresses(engine ?? fail(`no engine for host ${c.host}`), c.name)];
        } catch (e) {
          return [c.name, e as Error];
        }
      }),
    );
    // Its own listener port, after the built-in facts' ports.
    const probe = new Probe(lab, book, lab.plan.facts.length + ((run.user ? run.user.probes++ : this.probeCount++) % 1000), (fn) => fn());
    const started = Date.now();
    try {
      const ms = PROBE_DEADLINE_MS * lab.pace;
      await withDeadline(check(probe), ms, () => new ProbeError(`the check did not finish within ${ms / 1000} s`));
    } catch (e) {
      const assertion = (e as Error).name === 'AssertionError';
      throw specFailure({
        ok: false,
        failure: assertion ? plainAssertion((e as Error).message) : (e as Error).message,
        failureKind: assertion ? 'assertion' : 'error',
        steps: probe.steps,
        ...(probe.decisive ? { decisiveStep: probe.steps.indexOf(probe.decisive) } : {}),
        ms: Date.now() - started,
      });
    } finally {
      for (const s of probe.steps) this.record(s);
    }
  }

  /** Keeps a command for the report of the running test. */
  private record(step: ProbeStep): void {
    const user = this.run.user;
    const runnable = user?.current();
    if (!user || !runnable) return;
    const steps = user.steps.get(runnable) ?? [];
    steps.push(step);
    user.steps.set(runnable, steps);
  }
}

function argvOf(command: Command): string[] {
  return typeof command === 'string' ? ['sh', '-c', command] : [...command];
}

function containerOf(run: HandleBinding, name: string): ContainerPlan {
  const c = run.lab.plan.containers.find((x) => x.name === name);
  if (!c) throw new ProbeError(`container ${name} is not in lab ${run.lab.plan.lab} (${run.lab.plan.containers.map((x) => x.name).join(', ') || 'no containers'})`);
  return c;
}

/** The one network two containers share, or a ProbeError asking to say which. */
function onlySharedNetwork(p: Probe, a: string, b: string): string {
  const shared = sharedNetworks(p, a, b);
  if (shared.length === 1) return shared[0]!;
  throw new ProbeError(shared.length ? `${a} and ${b} share ${shared.join(', ')}: say which with { over: NETWORK }` : `${a} and ${b} share no network: nothing to reach or resolve over`);
}

function fail(message: string): never {
  throw new ProbeError(message);
}

/** The live lab of `overlab test`, for users' own spec files. */
export const lab = new LabHandle(() => {
  const run = specRun();
  if (!run) {
    throw new NoLabUnderTestError('overlab/spec: no lab under test: this spec file uses the lab handle, which only `overlab test` sets', {
      hint: 'Run it with `overlab test --spec FILE`, or name it in the lab file under specs.files.',
    });
  }
  return run;
});
export { LabHandle };
