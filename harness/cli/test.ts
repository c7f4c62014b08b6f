// overlab test: bring the lab up if it is not, run the acceptance specs against it (console,
// JUnit and JSON reports), then keep or remove the lab as --destroy says.
import { relative } from 'node:path';
import { SpecsFailedError, UsageError } from '../errors.ts';
import type { LabEvent } from '../events.ts';
import { labDown, openPlan, prepareUp } from '../lifecycle/lab.ts';
import { setLibvirtMode } from '../providers/index.ts';
import { DESTROY_POLICIES, runLabSpecs, shouldDestroy, type DestroyPolicy } from '../lifecycle/test.ts';
import type { GlobalOptions } from './main.ts';
import { printJson, say, warn } from './output.ts';
import { runWithProgress } from './progress.ts';

export interface TestOptions extends GlobalOptions {
  destroy?: string;
  provider?: string;
  libvirt?: string;
  concurrency?: number;
}

export async function testCommand(ref: string | undefined, opts: TestOptions, signal: AbortSignal): Promise<number> {
  const policy = destroyPolicy(opts.destroy);
  if (opts.libvirt) {
    // As for up: --libvirt local implies --provider vagrant.
    if (opts.provider && opts.provider !== 'vagrant') throw new UsageError(`--libvirt ${opts.libvirt} needs --provider vagrant; got --provider ${opts.provider}`);
    setLibvirtMode(opts.libvirt);
    opts = { ...opts, provider: 'vagrant' };
  }
  const plan = await openPlan(ref ?? opts.lab);
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
  const up = await prepareUp(plan, { ...(opts.provider ? { provider: opts.provider } : {}), events, signal });
  const wasUp = up.alreadyUp;
  const takeDown = async () => {
    const r = await labDown(plan.lab, { force: false, signal });
    if (!json && !quiet) say(`lab ${plan.lab} is down: ${r.processes} processes stopped, ${r.namespaces.length} namespaces removed`);
  };
  if (wasUp) {
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
    result = await runLabSpecs(plan, { signal, console: json || quiet ? 'none' : 'spec', ...(opts.concurrency ? { concurrency: opts.concurrency } : {}) });
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
      cases: report.cases.map((c) => ({ suite: c.suite, title: c.title, state: c.state, ms: c.ms, ...(c.failure ? { failure: { kind: c.failure.kind, message: c.failure.message } } : {}) })),
    });
    return passed ? 0 : 1;
  }
  const summary = `${report.counts.passed} of ${report.counts.tests} specs passed on lab ${plan.lab} in ${seconds.toFixed(1)} s; the lab was ${kept}`;
  if (passed) {
    if (!quiet) say(summary);
    return 0;
  }
  throw new SpecsFailedError(`${report.counts.failed} of ${report.counts.tests} specs failed on lab ${plan.lab}`, {
    hint: `${summary}.${destroy ? '' : ` Look around: eval "$(overlab env --lab ${labRef} ${plan.dockerHosts[0]})"; \`overlab down --lab ${labRef}\` removes it.`}`,
  });
}

function destroyPolicy(value: string | undefined): DestroyPolicy | undefined {
  if (value === undefined || (DESTROY_POLICIES as readonly string[]).includes(value)) return value as DestroyPolicy | undefined;
  throw new UsageError(`--destroy must be one of ${DESTROY_POLICIES.join(', ')}; got "${value}"`);
}
