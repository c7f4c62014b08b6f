// overlab test: bring the lab up if it is not, run the acceptance specs against it (console,
// JUnit and JSON reports), then keep or remove the lab as --destroy says.
import { dirname, join, relative, resolve } from 'node:path';
import { mapLimit } from '../wait.ts';
import { LabFileError, SpecsFailedError, UsageError } from '../errors.ts';
import { resolveSpecPattern, specFilesOf } from '../lab/spec-files.ts';
import type { Plan } from '../lab/types.ts';
import type { LabEvent } from '../events.ts';
import { recoveryBoundFrom } from '../lab/fault-facts.ts';
import { faultSpecKindsFrom } from '../lab/fault-spec-kinds.ts';
import { labDown } from '../lifecycle/down.ts';
import { checkAccessFirst, handedOverAndUp } from '../lifecycle/access.ts';
import { openLabPlan } from '../lifecycle/lab.ts';
import { testInChild } from '../lifecycle/child-test.ts';
import { prepareUp } from '../lifecycle/prepare-up.ts';
import { labsUp } from '../lifecycle/room.ts';
import { count } from '../plural.ts';
import { shellJoin } from '../quote.ts';
import { DESTROY_POLICIES, runLabSpecs, shouldDestroy, type DestroyPolicy } from '../lifecycle/test.ts';
import { summaryLines } from '../report/index.ts';
import { destroySummary } from './down.ts';
import type { GlobalOptions } from './options.ts';
import { providerChoice } from './up.ts';
import { printJson, say, warn } from './output.ts';
import { runWithProgress } from './progress.ts';

export interface TestOptions extends GlobalOptions {
  destroy?: string;
  provider?: string;
  libvirt?: string;
  concurrency?: number;
  all?: boolean;
  /** --faults alone: every fault spec; --faults KINDS: those. */
  faults?: boolean | string;
  /** --recovery-bound S (with --faults): as given, checked by recoveryBoundFrom. */
  recoveryBound?: string;
  allowMissing?: boolean;
  /** --spec: users' spec files or globs, relative to where overlab runs (repeatable). */
  spec?: string[];
}

export async function testCommand(ref: string | undefined, opts: TestOptions, signal: AbortSignal): Promise<number> {
  if (opts.recoveryBound !== undefined && !opts.faults) throw new UsageError('--recovery-bound is the fault specs\' bound: add --faults, or leave it out');
  if (opts.all) {
    if (ref ?? opts.lab) throw new UsageError('--all runs the specs of every lab that is up: leave out the lab');
    if (opts.faults) throw new UsageError('--faults runs against one lab at a time: leave out --all');
    return testRoom(opts, signal);
  }
  if (opts.faults && opts.spec?.length) throw new UsageError('--spec runs your specs beside the acceptance specs, not the fault specs: leave out --faults or --spec');
  const recoveryBoundS = opts.recoveryBound === undefined ? undefined : recoveryBoundFrom(opts.recoveryBound);
  const policy = destroyPolicy(opts.destroy);
  const choice = providerChoice(opts);
  const plan = await openLabPlan(ref ?? opts.lab);
  // Before anything is brought up: a spec file that is not there stops the run here.
  const userSpecs = opts.faults ? [] : userSpecFiles(plan, opts.spec ?? []);
  const labRef = ref ?? opts.lab ?? plan.lab;
  const json = !!opts.json;
  // --quiet: nothing on success (notes go to the lab's log and to status); failures still speak.
  const quiet = !!opts.quiet && !json;
  const events = {
    emit(e: LabEvent) {
      if (quiet || e.type === 'command') return;
      if (e.type === 'warn' || (e.type === 'info' && !json)) warn(`${e.type === 'warn' ? 'note' : 'info'}: ${e.message}`);
    },
  };
  const started = Date.now();
  // The owner of a lab handed over tests it as it is (bringing labs up is root's).
  const handed = handedOverAndUp(plan.lab);
  if (handed) checkAccessFirst(plan.lab, 'running its specs', 'run its specs');
  const up = handed ? undefined : await prepareUp(plan, { ...(choice.provider ? { provider: choice.provider } : {}), providerOptions: choice.providerOptions, events, signal, allowMissing: !!opts.allowMissing });
  const wasUp = !up || up.alreadyUp;
  const takeDown = async () => {
    const r = await labDown(plan.lab, { force: false, signal });
    if (!json && !quiet) say(`lab ${plan.lab} is down: ${destroySummary(r)}`);
  };
  if (!up || up.alreadyUp) {
    if (!json && !quiet) say(`lab ${plan.lab} is up; running its specs against it`);
  } else {
    try {
      // With --json, stdout carries only the final document: no progress lines.
      await runWithProgress(up.steps, json || quiet ? 'quiet' : 'human', signal);
      up.finish();
    } catch (e) {
      up.finish(e);
      if (policy === 'always' && !signal.aborted) await takeDown();
      else warn(`lab ${plan.lab} is partly up; logs are in ${up.store.dir}/logs; \`overlab down --lab ${labRef}\` removes it`);
      throw e;
    }
  }

  let result: Awaited<ReturnType<typeof runLabSpecs>>;
  try {
    result = await runLabSpecs(plan, { signal, console: json || quiet ? 'none' : 'spec', ...(opts.concurrency ? { concurrency: opts.concurrency } : {}), ...(opts.faults ? { faults: typeof opts.faults === 'string' ? faultSpecKindsFrom(opts.faults) : true } : {}), ...(recoveryBoundS ? { recoveryBoundS } : {}), ...(userSpecs.length ? { userSpecs } : {}) });
  } catch (e) {
    if (policy === 'always' && !signal.aborted) await takeDown();
    throw e;
  }
  const { report, files } = result;
  const passed = report.counts.failed === 0;
  const destroy = shouldDestroy(policy, { wasUp, passed });
  if (!json && !quiet) say(`reports: ${relative(process.cwd(), files.junit)}, ${relative(process.cwd(), files.json)}`);
  if (destroy) await takeDown();
  const seconds = (Date.now() - started) / 1000;
  const kept = destroy ? 'removed' : `kept (${policy ? `--destroy ${policy}` : wasUp ? 'it was up before' : 'a spec failed'})`;

  if (json) {
    printJson({
      ok: passed,
      lab: plan.lab,
      wasUp,
      destroyed: destroy,
      seconds,
      counts: report.counts,
      properties: report.properties,
      reports: files,
      cases: report.cases.map((c) => ({
        suite: c.suite,
        title: c.title,
        ...(c.file ? { file: c.file } : {}),
        state: c.state,
        ms: c.ms,
        ...(c.measured ? { measured: c.measured } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.failure ? { failure: { kind: c.failure.kind, message: c.failure.message } } : {}),
      })),
    });
    return passed ? 0 : 1;
  }
  const pairs = report.properties['pairs'] ? ` (pairs: ${report.properties['pairs']})` : '';
  const lines = summaryLines(report);
  // Each spec that could not be checked here gets its own line: never passed, never dropped silently.
  if (!quiet) for (const l of lines.notApplicable) say(l);
  const summary = `${lines.counts}${opts.faults ? ' (fault specs)' : ''} on lab ${plan.lab} in ${seconds.toFixed(1)} s${opts.faults ? '' : pairs}; the lab was ${kept}`;
  if (passed) {
    if (!quiet) say(summary);
    return 0;
  }
  throw new SpecsFailedError(`${report.counts.failed} of ${count(report.counts.tests, 'spec')} failed on lab ${plan.lab}`, {
    hint: `${summary}.${destroy ? '' : ` Look around: eval "$(${shellJoin(['overlab', 'env', '--lab', labRef, plan.dockerHosts[0]!])})"; \`${shellJoin(['overlab', 'down', '--lab', labRef])}\` removes it.`}`,
  });
}

/**
 * The users' spec files of a run: the lab's specs.files (relative to the lab file's folder; a
 * name that matches nothing now is a LabFileError at its line), then --spec (relative to here).
 */
export function userSpecFiles(plan: Pick<Plan, 'file' | 'specs'>, extra: readonly string[], cwd: string = process.cwd()): string[] {
  const fromLab = (plan.specs.files ?? []).map((ref) => ({ ref, resolved: resolveSpecPattern(ref.pattern, dirname(resolve(plan.file))) }));
  const problems = fromLab.flatMap(({ ref, resolved }) => (resolved.problem ? [{ ...ref.pos, message: `specs.files: ${resolved.problem}` }] : []));
  if (problems.length) throw new LabFileError(problems);
  const fromFlags = extra.map((pattern) => resolveSpecPattern(pattern, cwd));
  const missing = fromFlags.find((r) => r.problem);
  if (missing) throw new UsageError(`--spec ${missing.problem}`, { hint: 'Name a spec file (.ts, .mts, .js, .mjs) or a glob of them, relative to this folder.' });
  return specFilesOf([...fromLab.map((r) => r.resolved), ...fromFlags]);
}

function destroyPolicy(value: string | undefined): DestroyPolicy | undefined {
  if (value === undefined || (DESTROY_POLICIES as readonly string[]).includes(value)) return value as DestroyPolicy | undefined;
  throw new UsageError(`--destroy must be one of ${DESTROY_POLICIES.join(', ')}; got "${value}"`);
}

/** Labs whose specs run at once in `test --all`, each in a process of its own. */
const ROOM_TEST_JOBS = 3;

/**
 * `test --all`: the specs of every lab that is up, each in an `overlab test LAB --json` process
 * of its own (lifecycle/child-test.ts, as the matrix runs its cells), a
 * few at a time; a line per lab, then the room.
 */
async function testRoom(opts: TestOptions, signal: AbortSignal): Promise<number> {
  const labs = labsUp().map((l) => l.plan.lab);
  const json = !!opts.json;
  // A teacher's checks (--spec), resolved once here: a file that is not there stops the room before any lab runs.
  const checks = userSpecFiles({ file: join(process.cwd(), 'room'), specs: { pairs: { kind: 'all' } } }, opts.spec ?? []);
  const results = await mapLimit(labs, ROOM_TEST_JOBS, async (lab) => {
    const started = Date.now();
    const args = [...(opts.concurrency ? ['--concurrency', String(opts.concurrency)] : []), ...checks.flatMap((f) => ['--spec', f])];
    const child = await testInChild(lab, { args, signal });
    signal.throwIfAborted();
    const seconds = (Date.now() - started) / 1000;
    let out: { counts?: RoomResult['counts']; cases?: { title: string; state: string; file?: string }[]; message?: string } = {};
    try {
      out = JSON.parse(child.stdout) as typeof out;
    } catch {
      out = { message: (child.stderr.trim().split('\n')[0] || `exit ${child.exitCode}`) };
    }
    const r: RoomResult = out.counts
      ? { lab, ok: child.exitCode === 0, counts: out.counts, failed: (out.cases ?? []).filter((c) => c.state === 'failed').map((c) => c.title), checks: userChecks(out.cases ?? []), seconds }
      : { lab, ok: false, error: out.message ?? `exit ${child.exitCode}`, seconds };
    if (!json) {
      say(r.counts ? `${lab}: ${r.counts.passed} of ${r.counts.tests} specs passed (${seconds.toFixed(1)} s)` : `${lab}: could not run its specs: ${r.error}`);
      if (r.checks?.length) say(`  checks: ${r.checks.filter((c) => c.state === 'passed').length} of ${r.checks.length} passed`);
      for (const title of r.failed ?? []) say(`  failed: ${title}`);
    }
    return r;
  });
  const failing = results.filter((r) => !r.ok);
  const summary = `${count(results.length, 'lab')}: ${results.length - failing.length} passed, ${failing.length} failed${failing.length ? ` (${failing.map((r) => r.lab).join(', ')})` : ''}`;
  if (json) printJson({ ok: failing.length === 0, summary, labs: results });
  else say(results.length ? summary : 'no lab is up: nothing to test (overlab up --copies N)');
  return failing.length ? 1 : 0;
}

/** The cases of users' spec files (the lab's specs.files and --spec): a teacher's checks, per student. */
export function userChecks(cases: readonly { title: string; state: string; file?: string; suite?: string }[]): RoomCheck[] {
  return cases.flatMap((c) => (c.file ? [{ file: c.file, title: c.title, state: c.state }] : []));
}

export interface RoomCheck {
  file: string;
  title: string;
  state: string;
}

interface RoomResult {
  lab: string;
  ok: boolean;
  counts?: { tests: number; passed: number; failed: number; pending: number };
  failed?: string[];
  /** Each case of the users' spec files, with its state: which checks pass for this student. */
  checks?: RoomCheck[];
  error?: string;
  seconds: number;
}
