// `test` as a library verb: runs the acceptance specs (specs/lab/*.spec.ts) against a lab that
// is up, through mocha's programmatic API, and turns the run into a SpecReport written as JUnit
// XML and JSON into the lab's state folder. The specs get the Plan and the live engines through
// harness/probes/context.ts; nothing here re-reads the lab file.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { currentUid, LabStateError } from '../errors.ts';
import { notApplicable } from '../lab/capabilities.ts';
import { expandFacts } from '../lab/facts.ts';
import { faultFacts } from '../lab/fault-facts.ts';
import { FAULT_MUTATION_ENV, type FaultSpecKind } from '../lab/fault-spec-kinds.ts';
import { describeCapabilities } from '../probes/capabilities.ts';
import { describeFault } from '../state/faults.ts';
import type { Plan } from '../lab/types.ts';
import { clearLabUnderTest, setLabUnderTest, type SpecRun } from '../probes/context.ts';
import { describeFailure } from '../probes/failure.ts';
import { count, plural } from '../plural.ts';
import { writeReports, type ReportFiles, type SpecCase, type SpecReport } from '../report/index.ts';
import { labReportsDir, labStateDir, ownerStateDir } from '../state/paths.ts';
import { StateStore } from '../state/store.ts';
import { describeOrigin } from '../system/engine-sources.ts';
import { checkAccessFirst } from './access.ts';
import { openLiveLab } from './live-lab.ts';
import { PACKAGE_ROOT } from '../system/package-root.ts';
import { loadUserSpecs, shownPath } from './user-specs.ts';
import { PROBE_DEADLINE_MS } from '../probes/probe.ts';
import { plainAssertion } from '../probes/failure.ts';

export const LAB_SPECS_DIR = join(PACKAGE_ROOT, 'specs', 'lab');
/** The fault specs (`test --faults`): what must survive a partition, a KV outage, an engine restart. */
export const FAULT_SPECS_DIR = join(PACKAGE_ROOT, 'specs', 'faults');

export const DESTROY_POLICIES = ['never', 'passing', 'always'] as const;
export type DestroyPolicy = (typeof DESTROY_POLICIES)[number];

/** By default a lab that `test` brought up goes when every spec passed; one that was up stays. */
export function shouldDestroy(policy: DestroyPolicy | undefined, run: { wasUp: boolean; passed: boolean }): boolean {
  const p = policy ?? (run.wasUp ? 'never' : 'passing');
  return p === 'always' || (p === 'passing' && run.passed);
}

export interface SpecRunOptions {
  signal: AbortSignal;
  /** 'spec': mocha's spec reporter on stdout; 'none': the caller prints from the report. */
  console: 'spec' | 'none';
  /** Probes in flight at once (default: 8 on a lab of pace 1, fewer on a slower one). */
  concurrency?: number;
  /**
   * Run the fault specs instead (specs/faults, facts from harness/lab/fault-facts.ts), one at a
   * time: each puts a fault on the live lab and undoes it. `true`: every fault spec; a list:
   * those kinds only.
   */
  faults?: true | readonly FaultSpecKind[];
  /** With `faults`: how long what a fault broke may take to come back (s, times the pace; default 20). */
  recoveryBoundS?: number;
  /** The users' own spec files (absolute), run after the built-in specs against the same lab; not with `faults`. */
  userSpecs?: readonly string[];
}

/** The spec files in reading order: the data plane from the ground up, then the lab's own claims; others after. */
const SPEC_ORDER = ['networks', 'reach', 'dns', 'isolation', 'cluster', 'stated'];

export function specFiles(dir: string = LAB_SPECS_DIR): string[] {
  const rank = (f: string) => {
    const i = SPEC_ORDER.indexOf(f.replace(/\.spec\.ts$/, ''));
    return i < 0 ? SPEC_ORDER.length : i;
  };
  return readdirSync(dir)
    .filter((f) => f.endsWith('.spec.ts'))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Each run imports the spec files afresh (ESM caches modules by URL), so one process may run them twice. */
let runCount = 0;

export async function runLabSpecs(plan: Plan, options: SpecRunOptions): Promise<{ report: SpecReport; files: ReportFiles }> {
  const startedAt = Date.now();
  checkAccessFirst(plan.lab, options.faults ? 'running the fault specs' : 'running its specs', options.faults ? undefined : 'run its specs');
  const store = new StateStore(labStateDir(plan.lab));
  // The owner of a lab handed over (not root) runs in its own folder: its lock, its reports.
  const own = currentUid() !== 0 && store.read()?.owner !== undefined;
  const reports = own ? join(ownerStateDir(store.dir), 'reports') : labReportsDir(plan.lab);
  const unlock = (own ? new StateStore(ownerStateDir(store.dir)) : store).lock('test');
  try {
    // The plan states pairwise facts per network; the specs get one per pair the lab's specs.pairs keeps.
    const expanded = options.faults ? { facts: faultFacts(plan, options.faults === true ? undefined : options.faults, options.recoveryBoundS), policy: 'fault subject', kept: 1, total: 1 } : expandFacts(plan);
    // Faults are put in place one at a time: two at once would make each other's verdicts.
    const concurrency = options.faults ? 1 : options.concurrency;
    // Faults are root's to put; the owner of a lab handed over may run its specs.
    const live = await openLiveLab(plan, expanded.facts, options.signal, { ...(concurrency ? { concurrency } : {}), ...(options.faults ? {} : { ownerMay: 'run its specs' }), startedAt });
    try {
      const { state, lab, capabilities: caps, execMs } = live;
      // The fault specs each start from a whole lab: one with a fault already in place would judge that fault, not theirs.
      if (options.faults && state.faults?.length) {
        throw new LabStateError(`lab ${plan.lab} has faults in place: ${state.faults.map(describeFault).join('; ')}`, {
          hint: `Run \`overlab fault heal --lab ${plan.lab}\` first.`,
        });
      }
      const versions = await Promise.all(
        [...lab.engines].map(async ([h, docker]) => {
          try {
            return ((await docker.version()) as { Version: string }).Version;
          } catch (e) {
            return `${h} unreachable (${(e as Error).message})`;
          }
        }),
      );
      const properties: Record<string, string> = {
        lab: plan.lab,
        file: plan.file,
        provider: state.provider,
        mode: plan.mode,
        engine: [...new Set(versions)].join(', ') || 'none',
        'engine.requested': plan.engine.version,
        // What the daemons said they run when they started (up reads GET /version), and the tree's origin.
        ...ranProperties(state.resources),
        kv: state.kv ? state.kv.type : 'none',
        ...(state.kv ? { 'kv.clusterStore': state.kv.clusterStore } : {}),
        ...(state.kv?.announced ? { 'kv.note': state.kv.announced } : {}),
        hosts: plan.hosts.map((h) => h.name).join(', '),
        facts: String(expanded.facts.length),
        pairs: `${expanded.policy} (${expanded.kept} of ${expanded.total} ordered pairs of containers)`,
        ...(options.faults ? { suite: options.faults === true ? 'faults' : `faults (${options.faults.join(', ')})` } : {}),
        ...(options.faults && process.env[FAULT_MUTATION_ENV] ? { mutation: `${FAULT_MUTATION_ENV}=${process.env[FAULT_MUTATION_ENV]}: faults left in place on purpose` } : {}),
        // Specs run on a lab with faults in place on purpose say so in their reports.
        ...(state.faults?.length ? { faults: state.faults.map(describeFault).join('; ') } : {}),
        concurrency: String(lab.concurrency),
        pace: String(lab.pace),
        'exec.ms': Object.entries(execMs)
          .map(([h, ms]) => `${h} ${ms}`)
          .join(', '),
      };
      // What each docker host's kernel, tools and engine can run (read when the lab was opened). A
      // fact a host cannot run is reported not applicable with the reason, never probed, never passed.
      for (const c of caps) properties[`capabilities.${c.host}`] = describeCapabilities(c);
      const notApplicableFacts = new Map<number, string>();
      expanded.facts.forEach((f, i) => {
        const reason = notApplicable(f, plan, caps);
        if (reason) notApplicableFacts.set(i, reason);
      });
      const run = setLabUnderTest(lab, notApplicableFacts, caps);
      try {
        const cases = await runMocha(run, options);
        options.signal.throwIfAborted();
        const count = (s: SpecCase['state']) => cases.filter((c) => c.state === s).length;
        const report: SpecReport = {
          lab: plan.lab,
          file: plan.file,
          properties,
          startedAt: new Date(startedAt).toISOString(),
          life: state.createdAt,
          ms: Date.now() - startedAt,
          counts: { tests: cases.length, passed: count('passed'), failed: count('failed'), pending: count('pending'), na: count('n/a') },
          cases,
        };
        // The fault specs' reports stand beside the lab specs' (which `status --all` reads), never over them.
        return { report, files: writeReports(report, options.faults ? join(reports, 'faults') : reports) };
      } finally {
        clearLabUnderTest();
      }
    } finally {
      live.close();
    }
  } finally {
    unlock();
  }
}

async function runMocha(run: SpecRun, options: SpecRunOptions): Promise<SpecCase[]> {
  // Loaded here, not at start-up: only `overlab test` needs mocha.
  const { default: Mocha } = await import('mocha');
  class Silent extends Mocha.reporters.Base {}
  // An `it` only awaits its probe from the shared pool, so mocha's durations include time spent
  // waiting in line: a high `slow` keeps the console from flagging them (reports use probe times).
  const mocha = new Mocha({ reporter: options.console === 'spec' ? 'spec' : Silent, slow: 10_000 });
  const dir = options.faults ? FAULT_SPECS_DIR : LAB_SPECS_DIR;
  for (const f of specFiles(dir)) mocha.addFile(join(dir, f));
  const n = ++runCount;
  // mocha 11 takes an esmDecorator for the import URL (not in @types/mocha 10).
  const loader = mocha as unknown as { loadFilesAsync(o: { esmDecorator: (url: URL) => URL }): Promise<void> };
  await loader.loadFilesAsync({ esmDecorator: (url) => new URL(`${url.href}?run=${n}`) });
  const userFiles = new Set(options.faults ? [] : (options.userSpecs ?? []));
  await loadUserSpecs(mocha, Mocha, [...userFiles], { run: n, timeoutMs: PROBE_DEADLINE_MS * run.lab.pace });

  const facts = run.lab.plan.facts;
  const missing = facts.map((f, i) => [f, i] as const).filter(([, i]) => !run.covered.has(i));
  if (missing.length) {
    // A fact kind no spec file declares would otherwise pass unnoticed.
    const kinds = [...new Set(missing.map(([f]) => f.kind))].join(', ');
    mocha.suite.addTest(
      new Mocha.Test('every fact of the plan has a spec', () => {
        throw new Error(`${count(missing.length, 'fact')} ${plural(missing.length, 'has', 'have')} no spec in ${options.faults ? 'specs/faults' : 'specs/lab'} (kinds: ${kinds})`);
      }),
    );
  }

  const cases: SpecCase[] = [];
  const { EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;
  const caseOf = (test: Mocha.Runnable, state: SpecCase['state'], err?: Error): SpecCase => {
    const record = run.records.get(test);
    const outcome = record?.outcome;
    if (record?.notApplicable) return { suite: test.parent?.titlePath().join(' / ') ?? '', title: test.title, state: 'n/a', ms: 0, fact: record.fact, reason: record.notApplicable };
    const c: SpecCase = { suite: test.parent?.titlePath().join(' / ') ?? '', title: test.title, state, ms: outcome?.ms ?? test.duration ?? 0 };
    if (test.file && userFiles.has(test.file)) Object.assign(c, userCase(run, test, state, err));
    if (record) c.fact = record.fact;
    if (outcome) c.steps = outcome.steps;
    if (outcome?.measured) c.measured = outcome.measured;
    if (state === 'pending' && outcome?.notApplicable) [c.state, c.reason] = ['n/a', outcome.notApplicable];
    if (outcome?.diagnostics) c.diagnostics = outcome.diagnostics;
    if (state === 'failed' && !c.failure) {
      const detail = outcome && !outcome.ok ? describeFailure(outcome) : (err?.message ?? 'failed');
      c.failure = { message: detail.split('\n')[0]!, kind: outcome?.failureKind ?? (err?.name === 'AssertionError' ? 'assertion' : 'error'), detail };
    }
    return c;
  };
  let abort = () => {};
  options.signal.addEventListener('abort', () => abort(), { once: true });
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    abort = () => runner.abort();
    run.user.current = () => (runner as unknown as { currentRunnable?: object }).currentRunnable;
    runner.on(EVENT_TEST_PASS, (t) => cases.push(caseOf(t, 'passed')));
    runner.on(EVENT_TEST_FAIL, (t, err) => cases.push(caseOf(t, 'failed', err)));
    runner.on(EVENT_TEST_PENDING, (t) => cases.push(caseOf(t, 'pending')));
  });
  mocha.dispose();
  return cases;
}

/**
 * What a case of a user's spec file adds: the file, the commands the lab handle ran for it,
 * n/a with the reason `lab.notApplicable` gave (on the test or a describe around it), and a
 * failure as a built-in spec's reads: the assertion in plain words, then the last command run.
 */
function userCase(run: SpecRun, test: Mocha.Runnable, state: SpecCase['state'], err?: Error): Partial<SpecCase> {
  const out: Partial<SpecCase> = { file: shownPath(test.file!) };
  const steps = run.user.steps.get(test);
  if (steps?.length) out.steps = steps;
  if (state === 'pending') {
    for (let at: object | undefined = test; at; at = (at as { parent?: object }).parent) {
      const reason = run.user.notApplicable.get(at);
      if (reason !== undefined) return { ...out, state: 'n/a', reason };
    }
  }
  if (state === 'failed') {
    const assertion = err?.name === 'AssertionError';
    const message = assertion ? plainAssertion(err!.message) : (err?.message ?? 'failed');
    // The handle's checks already name their commands; a plain assertion gets the last one run.
    const detail = steps?.length && !message.includes('\ncommand (') ? describeFailure({ ok: false, failure: message, steps, decisiveStep: steps.length - 1, ms: 0 }) : message;
    out.failure = { message: message.split('\n')[0]!, kind: assertion ? 'assertion' : 'error', detail };
  }
  return out;
}

/** `containerd`, `runc` (what the daemons reported at up, distinct values joined) and `engine.origin` for a tree. */
function ranProperties(resources: Record<string, unknown>): Record<string, string> {
  const ran = Object.values((resources['engineVersions'] ?? {}) as Record<string, { containerd?: string; runc?: string }>);
  const join = (k: 'containerd' | 'runc') => [...new Set(ran.map((r) => r[k]).filter((v): v is string => !!v))].join(', ');
  const origin = (resources['engineTree'] as { origin?: Parameters<typeof describeOrigin>[0] } | undefined)?.origin;
  return {
    ...(join('containerd') ? { containerd: join('containerd') } : {}),
    ...(join('runc') ? { runc: join('runc') } : {}),
    ...(origin ? { 'engine.origin': describeOrigin(origin) } : {}),
  };
}
