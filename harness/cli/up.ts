// overlab up: bring a lab up with per-host progress; a lab that is up is reported, not touched.
import { checkCopyName } from '../lifecycle/copies.ts';
import { checkAccessFirst } from '../lifecycle/access.ts';
import { openLabPlan } from '../lifecycle/lab.ts';
import { prepareUp } from '../lifecycle/prepare-up.ts';
import { describeUp } from '../lifecycle/describe.ts';
import { LOCAL_PROVIDER, parseLibvirtDriver, parseLibvirtMode, providerById, providerImpliedBy, resolveProvider, type ProviderOptions } from '../providers/index.ts';
import type { LabEvent } from '../events.ts';
import { UsageError } from '../errors.ts';
import { shellJoin } from '../quote.ts';
import type { GlobalOptions } from './options.ts';
import { runWithProgress, type OutputMode } from './progress.ts';
import { printJson, say, warn } from './output.ts';
import { upCopies } from './up-copies.ts';
import { parseOwners, resolveOwners } from '../state/owner.ts';

export interface UpOptions extends GlobalOptions {
  provider?: string;
  dryRun?: boolean;
  libvirt?: string;
  copies?: number;
  as?: string;
  jobs?: number;
  force?: boolean;
  acceptNewHostKeys?: boolean;
  allowMissing?: boolean;
  owner?: string;
}

export async function upCommand(ref: string | undefined, opts: UpOptions, signal: AbortSignal): Promise<number> {
  const owners = opts.owner === undefined ? undefined : parseOwners(opts.owner);
  if (opts.copies !== undefined || opts.as !== undefined) {
    // A name that is a lab handed over: refused naming its owner, before any planning.
    if (opts.as !== undefined) checkAccessFirst(checkCopyName(opts.as), `bringing lab ${opts.as} up`);
    if (opts.dryRun) throw new UsageError('--dry-run shows one lab: leave out --copies and --as');
    const choice = providerChoice(opts);
    const mode: OutputMode = opts.json ? 'json' : opts.quiet ? 'quiet' : 'human';
    const request = { ...choice, ...(opts.copies !== undefined ? { copies: opts.copies } : {}), ...(opts.as !== undefined ? { as: opts.as } : {}), ...(opts.jobs ? { jobs: opts.jobs } : {}), force: !!opts.force };
    return upCopies(ref ?? opts.lab, { ...request, ...(owners ? { owners } : {}) }, mode, signal);
  }
  const owner = owners && resolveOwners(owners, 1)[0];
  if (owner && opts.dryRun) throw new UsageError('--dry-run brings nothing up to hand over: leave out --owner');
  const plan = await openLabPlan(ref ?? opts.lab);
  const choice = providerChoice(opts);
  opts = { ...opts, ...(choice.provider ? { provider: choice.provider } : {}) };
  if (opts.dryRun) {
    const requested = opts.provider ?? plan.provider;
    // A dry run shows what would run even where the provider cannot run (e.g. not root).
    const provider = requested === 'auto' ? await resolveProvider('auto', choice.providerOptions).catch(() => providerById(LOCAL_PROVIDER)) : await providerById(requested, choice.providerOptions);
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
  const run = await prepareUp(plan, { ...(opts.provider ? { provider: opts.provider } : {}), ...(owner ? { owner } : {}), providerOptions: choice.providerOptions, events, signal, allowMissing: !!opts.allowMissing });
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
  else if (mode === 'human') say(`lab ${plan.lab} is up (${run.provider.id}, ${seconds.toFixed(1)} s). Try: eval "$(${shellJoin(['overlab', 'env', '--lab', ref ?? opts.lab ?? plan.lab, plan.dockerHosts[0]!])})"; docker network ls`);
  return 0;
}

/**
 * The provider an `up` asks for and its options, resolved once from the flags (and
 * OVERLAB_LIBVIRT): a lab-owned libvirt is the vagrant provider's, so `--libvirt local` implies
 * `--provider vagrant`; `--accept-new-host-keys` lets the ssh provider trust first contacts.
 */
export function providerChoice(
  opts: { provider?: string; libvirt?: string; acceptNewHostKeys?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): { provider?: string; providerOptions: ProviderOptions } {
  const libvirt = parseLibvirtMode(opts.libvirt ?? env['OVERLAB_LIBVIRT']);
  const hostKeys: ProviderOptions = opts.acceptNewHostKeys ? { acceptNewHostKeys: true } : {};
  // The driver matters on a server's libvirt only (the local one always emulates).
  const driver = libvirt && libvirt !== 'local' ? parseLibvirtDriver(env['OVERLAB_LIBVIRT_DRIVER']) : undefined;
  const providerOptions: ProviderOptions = libvirt ? { libvirt, ...(driver ? { libvirtDriver: driver } : {}), ...hostKeys } : hostKeys;
  const provider = providerImpliedBy(providerOptions, opts.provider);
  return { ...(provider ? { provider } : {}), providerOptions };
}
