// overlab up: bring a lab up with per-host progress; a lab that is up is reported, not touched.
import { prepareUp, openPlan } from '../lifecycle/lab.ts';
import { describeUp } from '../lifecycle/describe.ts';
import { providerById, resolveProvider, setLibvirtMode } from '../providers/index.ts';
import type { LabEvent } from '../events.ts';
import { UsageError } from '../errors.ts';
import type { GlobalOptions } from './main.ts';
import { runWithProgress, type OutputMode } from './progress.ts';
import { printJson, say, warn } from './output.ts';

export async function upCommand(ref: string | undefined, opts: GlobalOptions & { provider?: string; dryRun?: boolean; libvirt?: string }, signal: AbortSignal): Promise<number> {
  const plan = await openPlan(ref ?? opts.lab);
  if (opts.libvirt) {
    // A lab-owned libvirt is the vagrant provider's: --libvirt local implies --provider vagrant.
    if (opts.provider && opts.provider !== 'vagrant') throw new UsageError(`--libvirt ${opts.libvirt} needs --provider vagrant; got --provider ${opts.provider}`);
    setLibvirtMode(opts.libvirt);
    opts = { ...opts, provider: 'vagrant' };
  }
  if (opts.dryRun) {
    const requested = opts.provider ?? plan.provider;
    // A dry run shows what would run even where the provider cannot run (e.g. not root).
    const provider = requested === 'auto' ? await resolveProvider('auto').catch(() => providerById('netns')) : await providerById(requested);
    const hosts = describeUp(plan, provider);
    if (opts.json) printJson({ lab: plan.lab, provider: provider.id, hosts });
    else for (const h of hosts) say(`# ${h.host}\n${h.commands.join('\n')}\n`);
    return 0;
  }
  const mode: OutputMode = opts.json ? 'json' : opts.quiet ? 'quiet' : 'human';
  const events = {
    emit(e: LabEvent) {
      if (e.type === 'command') return;
      if (mode === 'json') process.stdout.write(JSON.stringify({ event: e.type, ...e }) + '\n');
      // --quiet: nothing; notes stay in the lab's log and in `overlab status`.
      else if (mode === 'human') warn(`${e.type === 'warn' ? 'note' : 'info'}: ${e.message}`);
    },
  };
  const started = Date.now();
  const run = await prepareUp(plan, { ...(opts.provider ? { provider: opts.provider } : {}), events, signal });
  if (run.alreadyUp) {
    if (mode === 'json') printJson({ ok: true, lab: plan.lab, alreadyUp: true });
    else if (mode === 'human') say(`lab ${plan.lab} is already up; nothing changed (overlab status --lab ${plan.lab})`);
    return 0;
  }
  try {
    await runWithProgress(run.steps, mode, signal);
    run.finish();
  } catch (e) {
    run.finish(e);
    if (mode !== 'json') warn(`lab ${plan.lab} is partly up; logs are in ${run.store.dir}/logs; \`overlab down --lab ${plan.lab}\` removes it`);
    throw e;
  }
  const seconds = (Date.now() - started) / 1000;
  if (mode === 'json') printJson({ ok: true, lab: plan.lab, provider: run.provider.id, seconds });
  else if (mode === 'human') say(`lab ${plan.lab} is up (${run.provider.id}, ${seconds.toFixed(1)} s). Try: eval "$(overlab env --lab ${plan.lab} ${plan.dockerHosts[0]})"; docker network ls`);
  return 0;
}
