// How a fact is probed: commands run in the lab's containers (each recorded with its exit code
// and output), a bounded pool that runs every fact's probe concurrently, and, when a probe
// fails, the diagnostics that go into the assertion message and the reports.
import { AssertionError, expect } from 'chai';
import { execInContainer } from '../../harness/engine/client.ts';
import { containerAddresses } from '../../harness/engine/contents.ts';
import type { ContainerPlan, Fact } from '../../harness/lab/types.ts';
import { count } from '../../harness/plural.ts';
import { mapLimit, withDeadline } from '../../harness/wait.ts';
import { specRun, type LabUnderTest, type SpecRun } from './context.ts';

/** No probe may run longer than this (times the lab's pace), so every `it` ends even when an engine hangs. */
export const PROBE_DEADLINE_MS = 60_000;
/** What a `docker exec` may take by default (times the lab's pace): the engine's allowance, not the property's. */
export const EXEC_TIMEOUT_MS = 15_000;
/** Ports for the tcp listeners: one per fact, so concurrent probes never share one. */
export const LISTEN_PORT_BASE = 20_000;

export interface ProbeStep {
  /** Where it ran: "c0 on mhs-demo0", "host mh-keystore", "engine of mhs-demo0". */
  where: string;
  command: string;
  /** null while running, or when the command could not be started. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface EngineLogExcerpt {
  host: string;
  file: string;
  note: string;
  lines: string[];
}

export interface Diagnostics {
  engineLogs: EngineLogExcerpt[];
  /** `docker network inspect` of each network involved, on each engine involved. */
  networks: { host: string; network: string; inspect: unknown }[];
  kvLog?: EngineLogExcerpt;
}

export interface ProbeOutcome {
  ok: boolean;
  /** The broken property, or why the probe could not run. */
  failure?: string;
  /** 'assertion': the property does not hold; 'error': the probe itself could not run. */
  failureKind?: 'assertion' | 'error';
  /** Index in `steps` of the command the failure is about. */
  decisiveStep?: number;
  steps: ProbeStep[];
  diagnostics?: Diagnostics;
  ms: number;
}

/** The probe could not run (missing container, tool, engine error): not a verdict on the property. */
export class ProbeError extends Error {
  override name = 'ProbeError';
}

type AddressBook = Map<string, Record<string, string> | Error>;

/** Runs one fact's commands and records them; spec files assert on what it returns with chai. */
export class Probe {
  readonly steps: ProbeStep[] = [];
  /** The last foreground command: the one an assertion that follows is about. */
  decisive: ProbeStep | undefined;

  constructor(
    readonly lab: LabUnderTest,
    private readonly book: AddressBook,
    readonly index: number,
    private readonly serial: (fn: () => Promise<void>) => Promise<void>,
  ) {}

  get plan() {
    return this.lab.plan;
  }

  container(name: string): ContainerPlan {
    const c = this.plan.containers.find((x) => x.name === name);
    if (!c) throw new ProbeError(`container ${name} is not in the plan of lab ${this.plan.lab}`);
    return c;
  }

  /** "c0 on mhs-demo0". */
  where(container: string): string {
    return `${container} on ${this.container(container).host}`;
  }

  /** The container's addresses by network, from `docker inspect` when the run started. */
  addresses(container: string): Record<string, string> {
    const a = this.book.get(container);
    if (a === undefined) throw new ProbeError(`container ${container} was not inspected`);
    if (a instanceof Error) throw new ProbeError(`cannot inspect container ${this.where(container)}: ${a.message}`);
    return a;
  }

  /** The container's address on a network; an assertion failure when it is not attached there. */
  address(container: string, network: string): string {
    const all = this.addresses(container);
    const addr = all[network];
    expect(addr, `${this.where(container)} has no address on ${network} (docker inspect shows ${formatAddresses(all)})`).to.be.a('string').and.not.equal('');
    return addr!;
  }

  /** Every address any lab container has, on any network. */
  labAddresses(): Map<string, string> {
    const found = new Map<string, string>();
    for (const [name, a] of this.book) if (!(a instanceof Error)) for (const [net, addr] of Object.entries(a)) if (addr) found.set(addr, `${name} on ${net}`);
    return found;
  }

  /** A port of this fact's own. */
  port(): number {
    return LISTEN_PORT_BASE + this.index;
  }

  /** Records a check that is not a command (an engine API call, a KV read). */
  record(where: string, command: string, result: { exitCode: number; stdout: string; stderr?: string }, ms: number): ProbeStep {
    const step: ProbeStep = { where, command, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr ?? '', ms };
    this.steps.push(step);
    this.decisive = step;
    return step;
  }

  /**
   * `docker exec` in a container. A command that is missing (126, 127) or an exec the engine
   * refuses is a ProbeError, never a failed ping that an isolation spec would count as success.
   * `timeoutMs` is the allowance on a lab of pace 1; a slower lab gets its pace times more.
   */
  async exec(container: string, argv: string[], options: { timeoutMs?: number; background?: boolean } = {}): Promise<ProbeStep> {
    const c = this.container(container);
    const engine = this.lab.engines.get(c.host);
    if (!engine) throw new ProbeError(`no engine for host ${c.host}`);
    const step: ProbeStep = { where: this.where(container), command: argv.map(shellQuote).join(' '), exitCode: null, stdout: '', stderr: '', ms: 0 };
    this.steps.push(step);
    const started = Date.now();
    try {
      const r = await execInContainer(engine, container, argv, (options.timeoutMs ?? EXEC_TIMEOUT_MS) * this.lab.pace);
      Object.assign(step, { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started });
    } catch (e) {
      Object.assign(step, { stderr: (e as Error).message, ms: Date.now() - started });
      if (!options.background) this.decisive = step;
      throw new ProbeError(`cannot run \`${step.command}\` in ${step.where}: ${(e as Error).message}`);
    }
    if (!options.background) this.decisive = step;
    if (step.exitCode === 126 || step.exitCode === 127) {
      throw new ProbeError(`\`${step.command}\` in ${step.where} could not run (exit ${step.exitCode}): ${(step.stderr || step.stdout).trim()}`);
    }
    return step;
  }

  /**
   * Runs `fn` while a one-shot tcp listener (`nc -l`) answers `token` in `target`. Afterwards a
   * listener nobody connected to is released by a connection from inside the target; that
   * connection is returned as `control`: proof the listener worked when no one else reached it.
   */
  async withListener<T>(target: string, fn: (port: number, token: string) => Promise<T>): Promise<{ value: T; control: ProbeStep | undefined }> {
    const port = this.port();
    const token = `overlab-${port}`;
    let served = false;
    // The timeout is a backstop only: release() ends an unserved listener at once. It must outlast
    // a slow client (docker exec under QEMU emulation took over 10 s), or the client finds no one.
    const listener = this.exec(target, ['timeout', String(LISTENER_BACKSTOP_SECONDS * this.lab.pace), 'nc', '-l', '-p', String(port), '-e', 'echo', token], {
      background: true,
      timeoutMs: (LISTENER_BACKSTOP_SECONDS + 5) * 1000,
    }).then(
      () => void (served = true),
      () => void (served = true),
    );
    let control: ProbeStep | undefined;
    const release = async () => {
      if (!served && !control) control = await this.exec(target, ['nc', '-w', '1', '127.0.0.1', String(port)], { background: true });
    };
    try {
      const wait = LISTENER_READY_SECONDS * this.lab.pace;
      const ready = await this.exec(target, ['timeout', String(wait), 'sh', '-c', listeningScript(port)], { timeoutMs: (LISTENER_READY_SECONDS + 5) * 1000 });
      expect(ready.exitCode, `the tcp listener in ${this.where(target)} did not start on port ${port}`).to.equal(0);
      const value = await fn(port, token);
      await release();
      return { value, control };
    } finally {
      await release().catch(() => {});
      await listener;
    }
  }

  /** Runs `fn` alone among the probes that share this lock (counter-based checks). */
  alone(fn: () => Promise<void>): Promise<void> {
    return this.serial(fn);
  }
}

/** How long a listener lives at most (times the pace) when nothing connects and release() cannot reach it. */
const LISTENER_BACKSTOP_SECONDS = 120;
/** How long (times the pace) a listener may take to listen: by the clock, as each round may be slow. */
const LISTENER_READY_SECONDS = 10;

/** A shell loop that checks every 20 ms until a tcp listener is on `port` (bounded by `timeout` around it). */
function listeningScript(port: number): string {
  return `until netstat -ltn | grep -q ':${port} '; do usleep 20000; done`;
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

export function formatAddresses(a: Record<string, string>): string {
  const entries = Object.entries(a);
  return entries.length ? entries.map(([n, x]) => `${n}=${x || '(none)'}`).join(', ') : 'no networks';
}

// ---------------------------------------------------------------------------------------------
// Reading busybox output

/** The addresses in a busybox nslookup answer (the server's own "Address:" line excluded). */
export function nslookupAnswers(stdout: string): string[] {
  const at = stdout.search(/^Name:/m);
  if (at < 0) return [];
  return [...stdout.slice(at).matchAll(/^Address(?:\s+\d+)?:\s*([0-9a-fA-F.:]+)\s*$/gm)].map((m) => m[1]!);
}

/** The address that answered a busybox ping ("64 bytes from 10.0.4.3: seq=0 ..."), if any. */
export function pingReplyFrom(stdout: string): string | undefined {
  return /bytes from ([0-9a-fA-F.:]+?):? /.exec(stdout)?.[1];
}

/** The `Ip:` counters of /proc/net/snmp (per network namespace). */
export function ipCounters(snmp: string): Record<string, number> {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Ip:'));
  const [names, values] = [lines[0]?.split(/\s+/).slice(1) ?? [], lines[1]?.split(/\s+/).slice(1) ?? []];
  return Object.fromEntries(names.map((n, i) => [n, Number(values[i])]));
}

// ---------------------------------------------------------------------------------------------
// The pool

/** The outcome of fact `index`; the first call starts every probe of the run. */
export function outcomeOf(index: number): Promise<ProbeOutcome> {
  const run = specRun();
  if (!run) throw new ProbeError('no lab under test: run the lab specs with `overlab test`');
  run.outcomes ??= startProbes(run);
  return run.outcomes[index]!;
}

/**
 * Whether a probe spends most of its time waiting for a timeout (an unknown name's lookup waits
 * ~5 s for the upstream resolver; a ping nobody answers waits 1 s). Those run in a wider lane
 * of their own, so they neither hold up nor are held up by the probes that keep engines busy.
 */
function mostlyWaits(fact: Fact): boolean {
  switch (fact.kind) {
    case 'no-resolve':
    case 'isolated':
      return true;
    case 'stated':
      return fact.fact.verb === 'cannot resolve' || fact.fact.verb === 'cannot reach';
    default:
      return false;
  }
}

/** How many more waiting probes than busy ones may be in flight. */
export const WAITING_LANE_FACTOR = 3;

function startProbes(run: SpecRun): Promise<ProbeOutcome>[] {
  const { lab } = run;
  const facts = lab.plan.facts;
  const pending = facts.map(() => deferred<ProbeOutcome>());
  let chain = Promise.resolve();
  const serial = (fn: () => Promise<void>) => {
    const next = chain.then(fn);
    chain = next.catch(() => {});
    return next;
  };
  void (async () => {
    const book: AddressBook = new Map(
      await mapLimit(lab.plan.containers, lab.concurrency, async (c): Promise<[string, Record<string, string> | Error]> => {
        const engine = lab.engines.get(c.host);
        try {
          if (!engine) throw new Error(`no engine for host ${c.host}`);
          return [c.name, await containerAddresses(engine, c.name)];
        } catch (e) {
          return [c.name, e as Error];
        }
      }),
    );
    const probe = async (i: number) => pending[i]!.resolve(await runProbe(run, i, new Probe(lab, book, i, serial)));
    const all = facts.map((_, i) => i);
    await Promise.all([
      mapLimit(all.filter((i) => !mostlyWaits(facts[i]!)), lab.concurrency, probe),
      mapLimit(all.filter((i) => mostlyWaits(facts[i]!)), lab.concurrency * WAITING_LANE_FACTOR, probe),
    ]);
  })().catch((e: unknown) => {
    for (const p of pending) p.resolve({ ok: false, failure: `the probes could not start: ${(e as Error).message}`, failureKind: 'error', steps: [], ms: 0 });
  });
  return pending.map((p) => p.promise);
}

async function runProbe(run: SpecRun, index: number, probe: Probe): Promise<ProbeOutcome> {
  const fact = run.lab.plan.facts[index]!;
  const started = Date.now();
  if (run.lab.signal.aborted) return { ok: false, failure: 'interrupted before this probe ran', failureKind: 'error', steps: [], ms: 0 };
  const fn = run.probes.get(fact.kind);
  try {
    if (!fn) throw new ProbeError(`no spec file probes facts of kind ${fact.kind}`);
    const ms = PROBE_DEADLINE_MS * run.lab.pace;
    await withDeadline(fn(fact, probe), ms, () => new ProbeError(`the probe did not finish within ${ms / 1000} s`));
    return { ok: true, steps: probe.steps, ms: Date.now() - started };
  } catch (e) {
    const outcome: ProbeOutcome = {
      ok: false,
      failure: (e as Error).message,
      failureKind: e instanceof AssertionError ? 'assertion' : 'error',
      steps: probe.steps,
      ms: Date.now() - started,
    };
    if (probe.decisive) outcome.decisiveStep = probe.steps.indexOf(probe.decisive);
    try {
      outcome.diagnostics = await diagnose(run.lab, fact, probe);
    } catch (d) {
      outcome.failure += `\n(diagnostics could not be gathered: ${(d as Error).message})`;
    }
    return outcome;
  }
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

/** The hosts and networks a fact is about. */
function involved(lab: LabUnderTest, fact: Fact): { hosts: string[]; networks: string[] } {
  const plan = lab.plan;
  const hostOf = (c: string) => plan.containers.find((x) => x.name === c)?.host;
  const netsOf = (c: string) => plan.containers.find((x) => x.name === c)?.networks.map((a) => a.network) ?? [];
  const byName = (name: string) => plan.containers.filter((c) => c.name === name || c.networks.some((a) => a.aliases.includes(name))).map((c) => c.name);
  let containers: string[] = [];
  let networks: string[] = [];
  let hosts: string[] = [];
  switch (fact.kind) {
    case 'network-present':
      hosts = [fact.host];
      networks = [fact.network];
      break;
    case 'reach':
    case 'mtu':
      containers = [fact.from, fact.to];
      networks = [fact.network];
      break;
    case 'resolve':
      containers = [fact.from, fact.target];
      networks = [fact.network];
      break;
    case 'no-resolve':
      containers = [fact.from, ...byName(fact.name)];
      break;
    case 'isolated':
      containers = [fact.from, fact.to];
      break;
    case 'internal-no-route':
      containers = [fact.container];
      networks = [fact.network];
      break;
    case 'kv-registered':
    case 'swarm-ready':
      hosts = [...fact.hosts];
      break;
    case 'stated':
      containers = [fact.fact.from, ...byName(fact.fact.to)];
      break;
  }
  if (!networks.length) networks = [...new Set(containers.flatMap(netsOf))];
  hosts = [...new Set([...hosts, ...containers.map(hostOf).filter((h): h is string => !!h)])];
  return { hosts, networks };
}

async function diagnose(lab: LabUnderTest, fact: Fact, probe: Probe): Promise<Diagnostics> {
  void probe;
  const { hosts, networks } = involved(lab, fact);
  const engineHosts = hosts.filter((h) => lab.engines.has(h));
  const engineLogs = await Promise.all(
    engineHosts.map(async (h) => {
      const access = lab.hosts.get(h)!;
      return excerpt(h, access.services.logFile('dockerd'), await access.services.readLog('dockerd'), lab.startedAt);
    }),
  );
  const inspections = await Promise.all(
    engineHosts.flatMap((h) =>
      networks.map(async (network) => {
        try {
          return { host: h, network, inspect: await lab.engines.get(h)!.getNetwork(network).inspect() };
        } catch (e) {
          return { host: h, network, inspect: `not inspectable on this engine: ${(e as Error).message}` };
        }
      }),
    ),
  );
  const diagnostics: Diagnostics = { engineLogs, networks: inspections };
  if (fact.kind === 'kv-registered' && lab.plan.kv) {
    const access = lab.hosts.get(lab.plan.kv.host);
    if (access) diagnostics.kvLog = excerpt(lab.plan.kv.host, access.services.logFile('kv'), await access.services.readLog('kv'), lab.startedAt);
  }
  return diagnostics;
}

/** Lines that say nothing about the lab: the engine's complaint when an exec's stream is closed. */
const LOG_NOISE = /stream copy error|error copying std(out|err)/;

/** The log lines logged since the run started (logrus `time="..."`), else its last warnings and errors. */
export function excerpt(host: string, file: string, log: string, since: number, max = 30): EngineLogExcerpt {
  const lines = log.trimEnd().split('\n').filter((l) => l && !LOG_NOISE.test(l));
  const during = lines.filter((l) => {
    const t = /time="([^"]+)"/.exec(l)?.[1];
    return t !== undefined && Date.parse(t) >= since - 1000;
  });
  if (during.length) return { host, file, note: `${count(during.length, 'line')} logged during the run${during.length > max ? `, the last ${max}` : ''}`, lines: during.slice(-max) };
  const complaints = lines.filter((l) => /level=(warning|error|fatal|panic)|^panic: |^fatal error: /.test(l));
  if (complaints.length) return { host, file, note: 'nothing logged during the run; its last warnings and errors', lines: complaints.slice(-10) };
  return { host, file, note: 'nothing logged during the run; its last lines', lines: lines.slice(-5) };
}

// ---------------------------------------------------------------------------------------------
// The failure text: what an assertion message and a report show

export function describeFailure(o: ProbeOutcome): string {
  const out: string[] = [o.failure ?? 'failed'];
  const decisive = o.decisiveStep === undefined ? undefined : o.steps[o.decisiveStep];
  if (decisive) {
    out.push('', `command (${decisive.where}): ${decisive.command}`, `exit code: ${decisive.exitCode ?? 'none (did not finish)'}`);
    out.push(...block('stdout', decisive.stdout), ...block('stderr', decisive.stderr));
  }
  if (o.steps.length > 1 || (o.steps.length === 1 && !decisive)) {
    out.push('', 'commands run by this probe:');
    for (const s of o.steps) out.push(`  ${s.where} $ ${s.command}  -> exit ${s.exitCode ?? '-'} (${s.ms} ms)`);
  }
  const d = o.diagnostics;
  if (d) {
    for (const log of [...d.engineLogs, ...(d.kvLog ? [d.kvLog] : [])]) {
      out.push('', `log of ${log.host} (${log.file}), ${log.note}:`, ...(log.lines.length ? log.lines.map((l) => `  ${l}`) : ['  (empty)']));
    }
    for (const n of d.networks) {
      out.push('', `docker network inspect ${n.network} (engine of ${n.host}):`);
      out.push(...(typeof n.inspect === 'string' ? n.inspect : JSON.stringify(n.inspect, null, 2)).split('\n').map((l) => `  ${l}`));
    }
  }
  return out.join('\n');
}

function block(name: string, text: string): string[] {
  const t = text.trimEnd();
  if (!t) return [`${name}: (empty)`];
  const lines = t.split('\n');
  return [`${name}:`, ...lines.slice(-20).map((l) => `  ${l}`)];
}
