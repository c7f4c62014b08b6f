// A fake provider, in memory: hosts that are entries in a FakeWorld, whose runners and service
// managers record what they are asked and answer as scripted (failures and delays per host and
// step). For tests of the shared code (steps, interrupt, partial failure, down) without root or
// machines, and for a library user who asks for it by constructing it. Never in the registry
// (providers/index.ts): no lab file or command reaches it. It stands in for a real provider's id
// in the state (`standsInFor`, ssh by default) because the state names only real providers.
import { CommandFailedError, HostUnreachableError, LabStateError, UsageError } from '../../errors.ts';
import type { ExecOptions, ExecResult, HostAccess, HostRunner, ServiceManager, ServiceSpec } from '../../host.ts';
import type { Plan, ProviderId } from '../../lab/types.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { emptyDestroyReport, type DestroyReport, type HostCommands, type Provider } from '../provider.ts';

/** What a fake host does at one point: wait (ending at once on abort), then fail or go on. */
export interface FakeStep {
  delayMs?: number;
  /** A message (thrown as a CommandFailedError naming the host) or an error thrown as it is. */
  fail?: string | Error;
}

/** How one host of the fake behaves: at creation, connection, provisioning, each service's start, and its commands. */
export interface FakeHostScript {
  create?: FakeStep;
  connect?: FakeStep;
  provision?: FakeStep;
  /** By service name (`dockerd`, `kv`). */
  services?: Record<string, FakeStep>;
  /** A command's answer; undefined leaves it to the default (`false` fails, `echo` echoes, `hostname` names the host, anything else succeeds silently). */
  exec?: (argv: readonly string[], options: ExecOptions) => ExecResult | undefined;
}

/** One thing a fake host was asked, in order. */
export interface FakeCall {
  host: string;
  kind: 'create' | 'connect' | 'provision' | 'exec' | 'start' | 'stop' | 'destroy';
  detail?: string;
}

interface FakeHostRecord {
  lab: string;
  name: string;
  address: string;
  services: Set<string>;
}

/**
 * The fake machines: shared by every FakeProvider given it, as real hosts are by every process,
 * so one provider instance creates and another connects from the recorded state.
 */
export class FakeWorld {
  readonly hosts = new Map<string, FakeHostRecord>();
  readonly calls: FakeCall[] = [];

  /** The fake's key of a host: the lab and host names. */
  static key(lab: string, host: string): string {
    return `${lab}/${host}`;
  }

  /** The hosts that exist, as "lab/host". */
  existing(): string[] {
    return [...this.hosts.keys()].sort();
  }

  /** The calls of one host (optionally of one kind), in order. */
  callsOf(host: string, kind?: FakeCall['kind']): FakeCall[] {
    return this.calls.filter((c) => c.host === host && (kind === undefined || c.kind === kind));
  }
}

export interface FakeProviderOptions {
  world?: FakeWorld;
  /** The real provider id written to the state (the state names no other); ssh by default. */
  standsInFor?: ProviderId;
  /** By host name. */
  hosts?: Record<string, FakeHostScript>;
  /** Whether the fake has a provision step (one task per host in `up`). */
  provision?: boolean;
}

/** Waits `ms`, ending at once with the signal's reason when it is aborted. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class FakeProvider implements Provider {
  readonly id: ProviderId;
  readonly fake = true;
  readonly copies = 'unsupported' as const;
  readonly sideBySide = true;
  readonly world: FakeWorld;
  readonly provision?: (plan: Plan, host: HostAccess, ctx: LabContext) => Promise<string>;
  private readonly scripts: Record<string, FakeHostScript>;

  constructor(options: FakeProviderOptions = {}) {
    this.world = options.world ?? new FakeWorld();
    this.id = options.standsInFor ?? 'ssh';
    this.scripts = options.hosts ?? {};
    if (options.provision) {
      this.provision = async (_plan, host, ctx) => {
        this.world.calls.push({ host: host.name, kind: 'provision' });
        await this.act(host.name, this.scripts[host.name]?.provision, 'provision', ctx.signal);
        return 'fake: provisioned';
      };
    }
  }

  estimateMemoryMiB(): number {
    return 0;
  }

  async memoryInUseMiB(): Promise<number | undefined> {
    return 0;
  }

  describe(plan: Plan): HostCommands[] {
    return plan.hosts.map((h) => ({ host: h.name, commands: [`# fake: ${h.name} ${h.address} made in memory`] }));
  }

  engineFlagsFor(): string[] {
    return [];
  }

  async unusableReason(): Promise<string | undefined> {
    return undefined;
  }

  async createHosts(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    ctx.signal.throwIfAborted();
    // Record first, as every provider does: whatever happens next, down knows what to remove.
    ctx.store.update((s) => {
      s.resources['fake'] = true;
      for (const h of plan.hosts) s.hosts[h.name] = { name: h.name, address: h.address, role: h.role, resources: { fake: FakeWorld.key(plan.lab, h.name) } };
    });
    return Promise.all(
      plan.hosts.map(async (h) => {
        this.world.calls.push({ host: h.name, kind: 'create' });
        await this.act(h.name, this.scripts[h.name]?.create, 'create', ctx.signal);
        this.world.hosts.set(FakeWorld.key(plan.lab, h.name), { lab: plan.lab, name: h.name, address: h.address, services: new Set() });
        return this.access(plan.lab, h.name, h.address, ctx.signal);
      }),
    );
  }

  async connect(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    const state = ctx.store.read();
    if (!state) throw new LabStateError(`lab ${plan.lab} is not up`, { hint: `Run \`overlab up --lab ${plan.lab}\`.` });
    return Promise.all(
      plan.hosts.map(async (h) => {
        const key = state.hosts[h.name]?.resources['fake'];
        if (typeof key !== 'string' || !this.world.hosts.has(key)) {
          throw new HostUnreachableError(`host ${h.name} of lab ${plan.lab} is not running (fake)`, { hint: `Run \`overlab down --lab ${plan.lab}\`, then \`overlab up --lab ${plan.lab}\`.` });
        }
        this.world.calls.push({ host: h.name, kind: 'connect' });
        await this.act(h.name, this.scripts[h.name]?.connect, 'connect', ctx.signal);
        return this.access(plan.lab, h.name, h.address, ctx.signal);
      }),
    );
  }

  async hostStates(plan: Plan, ctx: LabContext): Promise<Record<string, string>> {
    const state = ctx.store.read();
    return Object.fromEntries(
      plan.hosts.map((h) => {
        const key = state?.hosts[h.name]?.resources['fake'];
        return [h.name, typeof key !== 'string' ? 'not created' : this.world.hosts.has(key) ? 'running' : 'gone'];
      }),
    );
  }

  sshArgv(host: HostAccess): string[] {
    throw new UsageError(`host ${host.name} is a fake provider's, made in memory: there is no ssh to it`);
  }

  async destroy(lab: string, ctx: LabContext, options: { force: boolean }): Promise<DestroyReport> {
    const report = emptyDestroyReport();
    const recorded = Object.values(ctx.store.read()?.hosts ?? {}).map((h) => h.resources['fake']).filter((k): k is string => typeof k === 'string');
    const byName = options.force ? [...this.world.hosts.values()].filter((h) => h.lab === lab).map((h) => FakeWorld.key(lab, h.name)) : [];
    for (const key of new Set([...recorded, ...byName])) {
      const h = this.world.hosts.get(key);
      if (!h) continue;
      for (const s of h.services) report.processes.push(`${h.name}: ${s} (fake)`);
      this.world.hosts.delete(key);
      this.world.calls.push({ host: h.name, kind: 'destroy' });
      report.vms.push(`${h.name} (fake)`);
    }
    return report;
  }

  /** A host's access: a runner and a service manager that record into the world and follow the host's script. */
  private access(lab: string, name: string, address: string, signal: AbortSignal): HostAccess {
    const world = this.world;
    const script = this.scripts[name] ?? {};
    const alive = () => {
      const h = world.hosts.get(FakeWorld.key(lab, name));
      if (!h) throw new HostUnreachableError(`host ${name} of lab ${lab} is gone (fake)`);
      return h;
    };
    const runner: HostRunner = {
      async exec(argv, options = {}) {
        alive();
        world.calls.push({ host: name, kind: 'exec', detail: argv.join(' ') });
        const scripted = script.exec?.(argv, options);
        if (scripted) return scripted;
        if (argv[0] === 'false') return { exitCode: 1, stdout: '', stderr: '' };
        if (argv[0] === 'echo') return { exitCode: 0, stdout: `${argv.slice(1).join(' ')}\n`, stderr: '' };
        if (argv[0] === 'hostname') return { exitCode: 0, stdout: `${name}\n`, stderr: '' };
        return { exitCode: 0, stdout: '', stderr: '' };
      },
    };
    const services: ServiceManager = {
      start: async (spec: ServiceSpec) => {
        const h = alive();
        world.calls.push({ host: name, kind: 'start', detail: spec.name });
        await this.act(name, script.services?.[spec.name], `start ${spec.name}`, signal);
        h.services.add(spec.name);
      },
      isRunning: async (service) => world.hosts.get(FakeWorld.key(lab, name))?.services.has(service) ?? false,
      stop: async (service) => {
        world.calls.push({ host: name, kind: 'stop', detail: service });
        world.hosts.get(FakeWorld.key(lab, name))?.services.delete(service);
      },
      logFile: (service) => `(fake) ${name}/${service}.log`,
      readLog: async () => '',
      dataDir: (service) => `/fake/${lab}/${name}/${service}`,
    };
    return { name, address, runner, services, ssh: undefined, engine: undefined, engineFlags: [] };
  }

  /** One scripted step of a host: its delay (ended by abort), then its failure, if any. */
  private async act(host: string, step: FakeStep | undefined, what: string, signal: AbortSignal): Promise<void> {
    await pause(step?.delayMs ?? 0, signal);
    if (step?.fail === undefined) return;
    if (step.fail instanceof Error) throw step.fail;
    throw new CommandFailedError({ command: `fake ${what}`, exitCode: 1, output: step.fail, host });
  }
}
