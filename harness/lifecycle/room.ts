// The room: every lab on this machine at once, for a teacher. Copies of one lab brought up
// side by side (`up --copies N`, `up --as NAME`), and `status`, `test` and `down` over every
// recorded lab, each lab from its recorded state and plan, never from its lab file.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PrerequisiteError, UsageError } from '../errors.ts';
import { silentEvents, type Events } from '../events.ts';
import { loadLab } from '../lab/load.ts';
import type { Plan } from '../lab/types.ts';
import { providerById, resolveProvider, type ProviderOptions } from '../providers/index.ts';
import type { DestroyReport } from '../providers/provider.ts';
import { readReport, reportOfLife, type SpecReport } from '../report/index.ts';
import type { RoomEntry } from '../render/room.ts';
import { VBOX_NETWORKS_CONF, virtualboxRangeWarnings } from '../render/virtualbox.ts';
import { labReportsDir, labStateDir } from '../state/paths.ts';
import { StateFileError } from '../state/record-file.ts';
import { StateStore, type LabState } from '../state/store.ts';
import { readTextIfThere } from '../system/files.ts';
import { mapLimit } from '../wait.ts';
import { availableMemoryMiB, checkCapacity, checkCopyName, copyNames, copyPlans } from './copies.ts';
import { labGraph } from './graph.ts';
import { labDown } from './down.ts';
import { recordedLabs, resolveLabFile, visibleLabs } from './lab.ts';
import { describeOwner } from '../state/owner.ts';

export interface CopiesRequest {
  /** How many copies (`<lab>-01` ...), or one copy by name. */
  copies?: number;
  as?: string;
  provider?: string;
  providerOptions?: ProviderOptions;
  /** Skip the memory check. */
  force?: boolean;
}

export interface CopiesPlan {
  base: string;
  provider: string;
  plans: Plan[];
  perCopyMiB: number;
  availableMiB: number;
  /** Copies on a subnet VirtualBox does not allow for host-only networks: the line to add, as `render` says. */
  warnings: string[];
}

/** The plans of the copies asked for, after checking the provider can make copies and the machine can hold them. */
export async function planCopies(ref: string | undefined, request: CopiesRequest, meminfo?: string): Promise<CopiesPlan> {
  if (request.copies !== undefined && request.as !== undefined) throw new UsageError('--copies and --as do not go together: --as names one copy');
  const lab = await loadLab(resolveLabFile(ref));
  const provider = await resolveProvider((request.provider ?? lab.provider) as Plan['provider'], request.providerOptions);
  if (provider.copies === 'unsupported') {
    throw new UsageError(`the ${provider.id} provider cannot make copies of a lab: its machines exist once`, { hint: 'Give each student a lab file of their own machines, or use --provider netns.' });
  }
  const names = request.as !== undefined ? [checkCopyName(request.as)] : copyNames(lab.name, request.copies ?? 1);
  const taken = names.filter((n) => existsSync(join(labStateDir(n), 'state.json')));
  const plans = copyPlans(lab, names, { ownSubnet: provider.copies === 'own-subnet' });
  const perCopyMiB = provider.estimateMemoryMiB(plans[0]!);
  const availableMiB = availableMemoryMiB(meminfo);
  const wanted = names.length - taken.length;
  const { refusal } = checkCapacity(perCopyMiB, wanted, availableMiB);
  if (refusal && !request.force) throw new PrerequisiteError(`not enough memory: ${refusal}`, { hint: 'Make fewer copies, or pass --force to try anyway.' });
  // Each copy on its own subnet is checked as `render` checks a lab (VirtualBox's host-only ranges).
  const warnings = provider.copies === 'own-subnet' ? plans.flatMap((p) => virtualboxRangeWarnings(p, readTextIfThere(VBOX_NETWORKS_CONF)).map((w) => `${p.lab}: ${w}`)) : [];
  return { base: lab.name, provider: provider.id, plans, perCopyMiB, availableMiB, warnings };
}

// ---------------------------------------------------------------------------------------------
// status --all

export interface LabSummary {
  lab: string;
  copyOf: string | undefined;
  provider: string;
  phase: LabState['phase'];
  file: string;
  createdAt: string;
  ageSeconds: number;
  hosts: { total: number; running: number };
  containers: number;
  memoryMiB: number | undefined;
  lastTest: { passed: number; failed: number; pending: number; tests: number; at: string } | undefined;
  /** Why the last report is not shown: it is not as overlab writes it. */
  reportProblem?: string;
  /** Who the lab is handed to (`up --owner`). */
  owner?: string;
}

/**
 * The last spec report of a lab in its current life (`createdAt`), if `overlab test` ran on it
 * since it came up: never one of an earlier life of the same name. One that is not as overlab
 * writes it is a StateFileError.
 */
export function lastReport(lab: Pick<LabState, 'lab' | 'createdAt'>): SpecReport | undefined {
  return reportOfLife(readReport(labReportsDir(lab.lab)), lab.createdAt);
}

/** For listings of every lab (status --all, the room): the last report, or why it is not shown; one lab's bad report hides no other lab. */
function shownReport(lab: Pick<LabState, 'lab' | 'createdAt'>): { report: SpecReport | undefined; problem?: string } {
  try {
    return { report: lastReport(lab) };
  } catch (e) {
    if (!(e instanceof StateFileError)) throw e;
    return { report: undefined, problem: e.message };
  }
}

export async function labSummaries(signal: AbortSignal, now = Date.now()): Promise<LabSummary[]> {
  // A user who is not root sees no lab handed to someone else (the other students' copies).
  const states = visibleLabs();
  return Promise.all(
    states.map(async (state): Promise<LabSummary> => {
      const store = new StateStore(labStateDir(state.lab));
      const plan = store.readPlan({ lab: state.lab });
      const provider = await providerById(state.provider);
      const ctx = { store, events: silentEvents, signal };
      const hostStates = plan ? await provider.hostStates(plan, ctx).catch(() => ({}) as Record<string, string>) : {};
      const { report, problem } = shownReport(state);
      return {
        lab: state.lab,
        copyOf: state.copyOf,
        provider: state.provider,
        phase: state.phase,
        file: state.file,
        createdAt: state.createdAt,
        ageSeconds: Math.max(0, Math.round((now - Date.parse(state.createdAt)) / 1000)),
        hosts: { total: plan?.hosts.length ?? Object.keys(state.hosts).length, running: Object.values(hostStates).filter((s) => s === 'running').length },
        containers: plan?.containers.length ?? 0,
        memoryMiB: await provider.memoryInUseMiB(state.lab, ctx).catch(() => undefined),
        lastTest: report ? { ...report.counts, at: report.startedAt } : undefined,
        ...(problem ? { reportProblem: problem } : {}),
        ...(state.owner ? { owner: describeOwner(state.owner) } : {}),
      };
    }),
  ).then((all) => all.sort((a, b) => a.lab.localeCompare(b.lab)));
}

// ---------------------------------------------------------------------------------------------
// down --all

export async function downAll(options: { force: boolean; events?: Events; signal: AbortSignal }): Promise<{ lab: string; report?: DestroyReport; error?: string }[]> {
  // A few at a time: each down mostly waits for daemons to exit; a failure in one stops no other.
  return mapLimit(recordedLabs(), DOWN_JOBS, async (state) => {
    options.signal.throwIfAborted();
    try {
      return { lab: state.lab, report: await labDown(state.lab, options) };
    } catch (e) {
      if (options.signal.aborted) throw e;
      return { lab: state.lab, error: (e as Error).message };
    }
  });
}

/** Labs taken down at once by `down --all`. */
const DOWN_JOBS = 4;

/** Labs whose specs can run: up, with a recorded plan. */
export function labsUp(): { state: LabState; plan: Plan }[] {
  return visibleLabs().flatMap((state) => {
    const plan = state.phase === 'up' ? new StateStore(labStateDir(state.lab)).readPlan({ lab: state.lab }) : undefined;
    return plan ? [{ state, plan }] : [];
  });
}

// ---------------------------------------------------------------------------------------------
// The room page

/** Every lab as the room page shows it: summary, last report, live drawing. */
export async function roomEntries(signal: AbortSignal, only?: string): Promise<RoomEntry[]> {
  const summaries = (await labSummaries(signal)).filter((s) => only === undefined || s.lab === only);
  return Promise.all(
    summaries.map(async (s): Promise<RoomEntry> => {
      const plan = new StateStore(labStateDir(s.lab)).readPlan({ lab: s.lab });
      let svg: string | undefined;
      if (plan) {
        try {
          svg = await labGraph(plan, 'svg', { live: s.phase === 'up', signal });
        } catch {
          svg = undefined; // No Graphviz, or the lab could not be asked: the page goes on without a picture.
        }
      }
      const { report, problem } = shownReport(s);
      return { lab: s.lab, copyOf: s.copyOf, provider: s.provider, phase: s.phase, hosts: s.hosts, containers: s.containers, ageSeconds: s.ageSeconds, memoryMiB: s.memoryMiB, report, ...(problem ? { reportProblem: problem } : {}), svg };
    }),
  );
}

/** What changes the room page: each lab's state and last report (file times), and the set of labs. */
export function roomSignature(): string {
  return recordedLabs()
    .map((s) => `${s.lab}:${s.phase}:${s.updatedAt}:${mtimeOf(join(labReportsDir(s.lab), 'report.json'))}`)
    .join('|');
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}
