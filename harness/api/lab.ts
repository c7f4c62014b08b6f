// The library: `import { Lab } from 'overlab'` in another project's test suite, as testcontainers
// is used. `Lab.up` brings a lab up (from a lab file, a lab's name, or a lab written as an
// object) under a name of its own, so two suites on one machine never share one; the Lab it
// returns is the handle users' spec files get (reach, resolves, exec, engines), plus what a
// suite that owns its lab needs: where its engines are for the stock docker CLI, the built-in
// specs, and `down`. `down` also runs on the process's first SIGINT or SIGTERM and, should the
// process die without it, from a watchdog (harness/lifecycle/session.ts).
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { LabFileError, LabStateError } from '../errors.ts';
import type { Events, LabEvent } from '../events.ts';
import { expandFacts } from '../lab/facts.ts';
import type { RawLab } from '../lab/raw-lab.ts';
import type { Lab as LabModel, Plan } from '../lab/types.ts';
import { checkCopyName, MAX_LAB_NAME } from '../lifecycle/copies.ts';
import { labDown } from '../lifecycle/down.ts';
import { testInChild } from '../lifecycle/child-test.ts';
import { openLabPlan, resolveLabFile } from '../lifecycle/lab.ts';
import { openLiveLab, type LiveLab } from '../lifecycle/live-lab.ts';
import { dockerHostUrl } from '../lifecycle/machine.ts';
import { prepareUp } from '../lifecycle/prepare-up.ts';
import { holdLab, startWatchdog, type Watchdog } from '../lifecycle/session.ts';
import { LabHandle, type HandleBinding } from '../probes/handle.ts';
import { ProbeError } from '../probes/probe.ts';
import { labStateDir } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import { runSteps, type TaskEvent } from '../steps.ts';
import { packagePath } from '../system/package-root.ts';

/** A lab written as an object: the lab file's keys and values (docs/lab-file.md). */
export type LabDefinition = RawLab;

export interface LabUpOptions {
  /**
   * The lab's name while it is up (lower-case letters, digits and dashes, at most 24). Default:
   * the lab's own name and a random suffix (`tutorial-3f9a`), so suites never meet.
   */
  name?: string;
  /** Where the hosts run: `netns` (this machine, the default on Linux), `vagrant`, `ssh`, or `auto`. Default: the lab's `provider`. */
  provider?: string;
  /** Aborting it stops `up` and takes down what was made. */
  signal?: AbortSignal;
  /** Each task of `up` as it starts, ends or fails, per host (`{ step: 'Start engines', host: 'd0', state: 'done', ms }`). */
  onProgress?: (event: TaskEvent) => void;
  /** What `up` notes along the way (a warning, a fallback it took). */
  onNote?: (event: LabEvent) => void;
  /** Bring the lab up even when the hosts' kernel lacks a feature it needs (IP_VS, ESP); the checks that need it fail. */
  allowMissing?: boolean;
}

/** What `lab.test()` returns: `overlab test LAB --json` as a value. */
export interface LabTestResult {
  /** No case failed (`counts.failed` is 0): pending and n/a cases fail no run. */
  ok: boolean;
  /** How many cases ran, and how many of them passed, failed, are pending or are n/a. */
  counts: { tests: number; passed: number; failed: number; pending: number; na: number };
  /** Each case: its describe block, title, the spec file it comes from (none for the built-in specs), state, time, why it is n/a, and its failure. */
  cases: { suite: string; title: string; file?: string; state: 'passed' | 'failed' | 'pending' | 'n/a'; ms: number; reason?: string; failure?: { kind: string; message: string } }[];
  /** The JUnit XML and JSON reports, in the lab's state folder (gone with the lab: copy them first). */
  reports: { junit: string; json: string };
  /** The run's properties (lab, provider, engine, KV store, mode and the like), as in the JUnit report's `<properties>`. */
  properties: Record<string, string>;
}

/** A lab that is up, and what a test suite does with it. */
export class Lab extends LabHandle {
  /** The open lab; undefined once it is down. */
  readonly #holder: { live?: LiveLab };
  readonly #owned: boolean;
  readonly #takeDown: () => Promise<void>;
  readonly #name: string;
  #down: Promise<void> | undefined;

  private constructor(live: LiveLab, owned: boolean, takeDown: () => Promise<void>) {
    const holder: { live?: LiveLab } = { live };
    super(() => bindingOf(holder.live, live.lab.plan.lab));
    this.#holder = holder;
    this.#owned = owned;
    this.#takeDown = takeDown;
    this.#name = live.lab.plan.lab;
  }

  /**
   * Brings a lab up and opens it: `await Lab.up('labs/tutorial.yaml')`, `await Lab.up('tutorial')`
   * or `await Lab.up({ name: 'pair', hosts: [...], networks: [...], containers: [...] })`.
   * The lab is this process's: `down()` takes it down (call it in `after`); the first SIGINT or
   * SIGTERM does too, and a watchdog does when the process ends without it. A failed `up` takes
   * down what it made before it throws.
   */
  static async up(source: string | LabDefinition, options: LabUpOptions = {}): Promise<Lab> {
    const model = await labOf(source);
    const name = checkCopyName(options.name ?? uniqueName(model.name));
    const { planLab } = await import('../lab/plan.ts');
    const plan = planLab({ ...model, name });
    // Never one that is up already: taking it down at the end would take down someone else's lab.
    if (new StateStore(labStateDir(name)).read()) {
      throw new LabStateError(`a lab named ${name} is already up`, { hint: `Name this one otherwise (Lab.up(..., { name })), or open that one with Lab.connect('${name}').` });
    }
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    // Set once this up has recorded the lab's state: only then is there a lab of ours to take down
    // (a refusal, such as another process's lab of this name, leaves that lab alone).
    let ours = false;
    let watchdog: Watchdog | undefined;
    const events: Events = { emit: (e) => (e.type === 'command' ? undefined : options.onNote?.(e)) };
    const upDone = (async () => {
      const run = await prepareUp(plan, { ...(options.provider ? { provider: options.provider } : {}), events, signal, allowMissing: !!options.allowMissing });
      ours = true;
      // From here on, a process that dies leaves the lab to its watchdog.
      watchdog = startWatchdog(name);
      try {
        await runSteps(run.steps, { signal, ...(options.onProgress ? { onTask: options.onProgress } : {}) });
        run.finish();
      } catch (e) {
        run.finish(e);
        throw e;
      }
    })();
    let downing: Promise<void> | undefined;
    // Down once, after the up in flight has stopped: from a failed up, an abort, a signal or down().
    const downOnce = () =>
      (downing ??= upDone
        .catch(() => {})
        .then(async () => {
          if (!ours) return;
          await labDown(name, { force: false, signal: AbortSignal.timeout(10 * 60_000) });
          // A lab of this process's leaves no folder either: its name is never used again.
          rmSync(labStateDir(name), { recursive: true, force: true });
        })
        .finally(() => watchdog?.stop()));
    const release = holdLab({ name, abort: (reason) => controller.abort(reason), down: downOnce });
    try {
      await upDone;
      const live = await openLiveLab(plan, expandFacts(plan).facts, signal);
      return new Lab(live, true, async () => {
        live.close();
        try {
          await downOnce();
        } finally {
          release();
        }
      });
    } catch (e) {
      await downOnce().catch(() => {});
      release();
      throw e;
    }
  }

  /**
   * Opens a lab that is already up (`overlab up`), by its name or its file: a suite that runs
   * against it many times. Not this process's: nothing takes it down but an explicit `down()`.
   * `signal` ends the probes in flight when aborted.
   */
  static async connect(ref: string, options: { signal?: AbortSignal } = {}): Promise<Lab> {
    const plan = await openLabPlan(ref);
    const live = await openLiveLab(plan, expandFacts(plan).facts, options.signal ?? new AbortController().signal, { ownerMay: 'use it from a test suite' });
    return new Lab(live, false, async () => {
      live.close();
      await labDown(plan.lab, { force: false, signal: AbortSignal.timeout(10 * 60_000) });
    });
  }

  /** The lab file it came from (`Lab.up(object)` for a lab written as an object). */
  get file(): string {
    return this.#open().lab.plan.file;
  }

  /** Whether `up` brought it up for this process (and a signal or the watchdog takes it down). */
  get owned(): boolean {
    return this.#owned;
  }

  /** DOCKER_HOST for a docker host's engine, as the stock docker CLI takes it (`unix://...` on netns, `ssh://...` for VMs). */
  dockerHost(host: string): string {
    const access = this.#open().lab.hosts.get(host);
    const plan = this.plan.hosts.find((h) => h.name === host);
    if (!access || !plan) throw new ProbeError(`host ${host} is not a host of lab ${this.name} (${this.plan.hosts.map((h) => h.name).join(', ')})`);
    if (!access.engine) throw new ProbeError(`host ${host} runs no Docker engine (role ${plan.role}); one of ${this.plan.dockerHosts.join(', ')}`);
    return dockerHostUrl(access.engine);
  }

  /** The environment for the stock docker CLI on `host`: `execa('docker', ['ps'], { env: lab.env('d0') })`, as `overlab env` prints it. */
  env(host: string): { DOCKER_HOST: string; DOCKER_MACHINE_NAME: string } {
    return { DOCKER_HOST: this.dockerHost(host), DOCKER_MACHINE_NAME: host };
  }

  /**
   * Runs the lab's built-in specs (and its `specs.files`, and `spec` files given here) in an
   * `overlab test` process of their own, against this lab, and returns the result; the lab stays
   * up. Never throws for failing specs: read `ok`, `counts` and `cases`. `spec`: more spec files
   * (paths, as `overlab test --spec FILE` takes them); `signal` ends the run when aborted.
   */
  async test(options: { spec?: readonly string[]; signal?: AbortSignal } = {}): Promise<LabTestResult> {
    const live = this.#open();
    const run = await testInChild(this.name, {
      cli: { node: process.execPath, execArgv: [], script: packagePath('bin', 'overlab.js') },
      args: (options.spec ?? []).flatMap((s) => ['--spec', s]),
      signal: options.signal ?? live.lab.signal,
    });
    try {
      return JSON.parse(run.stdout) as LabTestResult;
    } catch {
      throw new ProbeError(`overlab test ${this.name} printed no report (exit status ${run.exitCode}): ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    }
  }

  /** Takes the lab down and lets go of it; every later use throws. Safe to call twice. */
  down(): Promise<void> {
    if (!this.#down) {
      this.#holder.live = undefined;
      this.#down = this.#takeDown();
    }
    return this.#down;
  }

  /** `await using lab = await Lab.up(...)`: down at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }

  #open(): LiveLab {
    return opened(this.#holder.live, this.#name);
  }
}

/** The lab while it is open; once it is down, the error that says so. */
function opened(live: LiveLab | undefined, name: string): LiveLab {
  if (!live) throw new LabStateError(`lab ${name} was taken down by this Lab: it has no hosts, engines or containers any more`);
  return live;
}

/** The binding a Lab's handle works on. */
function bindingOf(live: LiveLab | undefined, name: string): HandleBinding {
  const open = opened(live, name);
  return { lab: open.lab, capabilities: open.capabilities };
}

/** The lab a source names: a file path or a lab's name (read and checked), or an object (checked as a lab file is). */
async function labOf(source: string | LabDefinition): Promise<LabModel> {
  const { loadLab, parseLab } = await import('../lab/load.ts');
  if (typeof source === 'string') return loadLab(resolveLabFile(source));
  const { stringify } = await import('yaml');
  // Checked as the same lab in a file would be; its problems name the keys (`containers[1].host`),
  // not lines of a text the user never wrote.
  try {
    return parseLab(stringify(source), 'Lab.up(object)', { specFiles: true });
  } catch (e) {
    if (e instanceof LabFileError) throw new LabFileError(e.problems.map((p) => ({ ...p, line: 0, column: 0 })));
    throw e;
  }
}

/** `<lab>-<4 hex digits>`, within the longest lab name. */
export function uniqueName(base: string, random: () => string = () => randomBytes(2).toString('hex')): string {
  const suffix = `-${random()}`;
  return `${base.slice(0, MAX_LAB_NAME - suffix.length).replace(/-+$/, '')}${suffix}`;
}

export type { Plan };
