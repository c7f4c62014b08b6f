// How a fact is probed: a Probe runs commands in the lab's containers (each recorded with its
// exit code and output) and knows the plan's containers and their live addresses; spec files
// assert on what it returns with chai. Its outcome types are what the reports carry.
import { expect } from 'chai';
import { execInContainer } from '../engine/client.ts';
import type { ContainerPlan } from '../lab/types.ts';
import { shellQuote } from '../quote.ts';
import type { LabUnderTest } from './lab-under-test.ts';

/** No probe may run longer than this (times the lab's pace), so every `it` ends even when an engine hangs. */
export const PROBE_DEADLINE_MS = 60_000;
/** A fault spec's bound: the fault, the waits for it to take and to be undone, each bounded on its own. */
export const FAULT_PROBE_DEADLINE_MS = 180_000;
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
  /** Times the probe measured (recovery after a fault is undone, a round trip), ms by name. */
  measured?: Record<string, number>;
  /** The property cannot be checked here, and why (a kernel without netem): reported n/a, never passed. */
  notApplicable?: string;
}

/** The fact does not apply on this lab (a kernel feature it needs is missing); the message says why. */
export class NotApplicable extends Error {
  override name = 'NotApplicable';
}

/** The probe could not run (missing container, tool, engine error): not a verdict on the property. */
export class ProbeError extends Error {
  override name = 'ProbeError';
}

export type AddressBook = Map<string, Record<string, string> | Error>;

/** Runs one fact's commands and records them; spec files assert on what it returns with chai. */
export class Probe {
  readonly steps: ProbeStep[] = [];
  /** What the probe measured, for the reports. */
  readonly measured: Record<string, number> = {};
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

  /** Records a measured time (ms) under `name`, for the JSON and JUnit reports. */
  measure(name: string, ms: number): void {
    this.measured[name] = ms;
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

export function formatAddresses(a: Record<string, string>): string {
  const entries = Object.entries(a);
  return entries.length ? entries.map(([n, x]) => `${n}=${x || '(none)'}`).join(', ') : 'no networks';
}

