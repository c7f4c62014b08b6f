// Provisioning of hosts that do not come ready (vagrant, ssh): one bash script per host, run as
// root, that installs what `up` then runs: the Docker engine on docker hosts, the KV store's
// packages on the kv host (the preferred store, else the lab's fallback). It starts and
// configures no service itself (a package may start its own, as docker-ce does): the host's
// service manager (remote/systemd-services.ts) writes the dockerd drop-in and starts dockerd
// and the KV store at `up`. Idempotent: a second run changes nothing. The scripts are generated
// here (pure) from the Plan; provisionHost runs one over a HostRunner.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailedError, TimeoutError, UsageError } from '../errors.ts';
import type { HostPlan, Plan } from '../lab/types.ts';
import type { HostAccess } from '../host.ts';
import type { LabContext } from '../state/lab-context.ts';
import { describeEngine, engineSection } from './engine.ts';
import { describeKv, kvSection } from './kv.ts';
import { shellLibrary, type ShellLibrary } from './shell.ts';
import { shellQuote } from '../quote.ts';

export { installMethod } from './engine.ts';

export interface ProvisionOptions {
  /** How long the script may run; default PROVISION_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** Provisioning runs apt: minutes on a fresh VM. */
export const PROVISION_TIMEOUT_MS = 20 * 60_000;

function hostOf(plan: Plan, hostName: string): HostPlan {
  const host = plan.hosts.find((h) => h.name === hostName);
  if (!host) throw new UsageError(`lab ${plan.lab} has no host ${hostName}; its hosts are ${plan.hosts.map((h) => h.name).join(', ')}`);
  return host;
}

const isKvHost = (plan: Plan, host: HostPlan) => plan.kv?.host === host.name;
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ');

/** The whole bash script that provisions one host; run it as root with `bash -s`. */
export function provisionScript(plan: Plan, hostName: string): string {
  const host = hostOf(plan, hostName);
  const docker = host.daemon !== undefined;
  const kv = isKvHost(plan, host);
  const libraries: ShellLibrary[] = ['common', ...(docker ? (['engine'] as const) : []), ...(kv ? (['kv'] as const) : [])];
  const what = [docker ? 'Docker engine' : undefined, kv ? 'KV store packages' : undefined].filter(Boolean).join(', ') || 'nothing to install';
  const sections = [...(docker ? [engineSection(plan)] : []), ...(kv ? [kvSection(plan)] : [])];
  return [
    '#!/usr/bin/env bash',
    `# overlab provisioning of host ${oneLine(host.name)} (${host.role}, ${host.address}) of lab ${oneLine(plan.lab)} (${oneLine(plan.file)}): ${what}.`,
    '# Generated from the lab; run as root with `bash -s`. Installs only; a second run changes nothing.',
    'set -euo pipefail',
    'shopt -s inherit_errexit',
    `OVERLAB_LAB=${shellQuote(plan.lab)}`,
    `OVERLAB_HOST=${shellQuote(host.name)}`,
    '',
    ...libraries.map(shellLibrary),
    '# --- provisioning',
    'require_host',
    `log "provisioning for lab $OVERLAB_LAB"`,
    ...sections,
    'log "done"',
    '',
  ].join('\n');
}

/**
 * The commands provisioning runs on a host, for `up --dry-run`. `options` are provisionHost's,
 * none of which changes what runs.
 */
export function describeProvisioning(plan: Plan, hostName: string): string[] {
  const host = hostOf(plan, hostName);
  return [...(host.daemon ? describeEngine(plan) : []), ...(isKvHost(plan, host) ? describeKv(plan) : [])];
}

/** The `overlab: key=value` lines a provisioning script prints on stdout. */
export function parseProvisionOutcome(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of stdout.matchAll(/^overlab: ([\w-]+)=(.*)$/gm)) out[m[1]!] = m[2]!.trim();
  return out;
}

/** A short outcome for the progress line: "Docker 20.10.24", "etcd (the lab's fallback)". */
export function summarizeOutcome(plan: Plan, outcome: Record<string, string>): string | undefined {
  const parts: string[] = [];
  if (outcome.engine) parts.push(`Docker ${outcome.engine}`);
  if (outcome.kv) parts.push(outcome.kv === plan.kv?.candidates[0]?.type ? outcome.kv : `${outcome.kv} (the lab's fallback)`);
  return parts.length ? parts.join(', ') : undefined;
}

/**
 * Runs a host's provisioning script through its runner (which runs it as root), keeping the
 * script and its output in the lab's state folder. Throws CommandFailedError (command, exit
 * code, output tail, log file) or TimeoutError.
 */
export async function provisionHost(plan: Plan, host: HostAccess, ctx: LabContext, options: ProvisionOptions = {}): Promise<string | void> {
  ctx.signal.throwIfAborted();
  const script = provisionScript(plan, host.name);
  const scriptFile = join(ctx.store.dir, 'provision', `${host.name}.sh`);
  const logFile = join(ctx.store.dir, 'logs', `${host.name}.provision.log`);
  mkdirSync(join(ctx.store.dir, 'provision'), { recursive: true });
  mkdirSync(join(ctx.store.dir, 'logs'), { recursive: true });
  writeFileSync(scriptFile, script, { mode: 0o644 });
  const command = `bash -s < ${scriptFile}`;
  ctx.events.emit({ type: 'command', host: host.name, command });

  const timeoutMs = options.timeoutMs ?? PROVISION_TIMEOUT_MS;
  const r = await host.runner.exec(['bash', '-s'], { input: script, timeoutMs });
  // Appended: a runner may stream its own record of the session into the same file (SshRunner does).
  appendFileSync(logFile, `--- ${new Date().toISOString()} provisioning: ${command}\n${r.stderr}${r.stdout}--- exit ${r.exitCode}\n`);
  if (r.exitCode === 124) {
    throw new TimeoutError(`provisioning ${host.name} did not finish within ${Math.round(timeoutMs / 1000)} s\nlog: ${logFile}`, {
      hint: 'A slow mirror or a held apt lock is the usual cause; run `overlab up` again: provisioning resumes where it stopped.',
    });
  }
  if (r.exitCode !== 0) {
    throw new CommandFailedError(
      { command, exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: host.name },
      { hint: `The script is ${scriptFile} and its whole output ${logFile}. It is safe to run again.` },
    );
  }
  return summarizeOutcome(plan, parseProvisionOutcome(r.stdout));
}
