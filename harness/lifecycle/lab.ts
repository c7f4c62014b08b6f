// Finding a lab: a reference (a file path or a lab's name) to its file, its name and its plan,
// recorded when it came up or read afresh; the labs recorded under the state root.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../system/package-root.ts';
import { LabNotFoundError } from '../errors.ts';
import type { Plan } from '../lab/types.ts';
import { labStateDir, stateRoot } from '../state/paths.ts';
import { listDir } from '../system/files.ts';
import { mayUse } from '../state/owner.ts';
import { StateStore, type LabState } from '../state/store.ts';
import { currentCaller, type Caller } from '../system/users.ts';

// The lab verbs live beside it, each in a module of its own (access, connect, prepare-up, status).
// Heavy modules (the YAML and schema checks here, dockerode in connect.ts, the steps of up in
// prepare-up.ts) are imported where they are needed, so the quick commands (env, status) start quickly.

export const DEFAULT_LAB = 'tutorial';

/** A lab reference is a file path, or the name of a lab in ./labs or the package's labs/. */
export function resolveLabFile(ref: string = DEFAULT_LAB): string {
  const candidates = /\.ya?ml$/.test(ref) || ref.includes('/') ? [resolve(ref)] : [resolve('labs', `${ref}.yaml`), join(PACKAGE_ROOT, 'labs', `${ref}.yaml`)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new LabNotFoundError(`no lab file for "${ref}" (looked at ${candidates.join(', ')})`, { hint: 'Pass --lab FILE or a name from labs/.' });
  return found;
}

/**
 * The name of the lab a reference means, for commands that act on a lab that is up (`down`):
 * a lab name is itself; a file is looked up among the recorded states by path, so a lab comes
 * down even when its file has since changed or broken. Only a file no state names is read.
 */
export async function labNameOf(ref: string = DEFAULT_LAB): Promise<string> {
  const isName = /^[a-z][a-z0-9-]*$/.test(ref);
  try {
    const file = resolveLabFile(ref);
    return recordedLabs().find((s) => s.file === file && !s.copyOf)?.lab ?? (await labNameInFile(file));
  } catch (e) {
    // A lab whose file is gone or broken still comes down by its name.
    if (isName) return ref;
    throw e;
  }
}

/** The state of every lab under the state root ($OVERLAB_HOME or ./.overlab), by name; unreadable ones skipped. */
export function recordedLabs(): LabState[] {
  return listDir(stateRoot())
    .flatMap((name) => {
      try {
        const state = new StateStore(labStateDir(name)).read();
        // A state naming another lab than its folder's is not this lab's: acting on it by that name would touch the other.
        return state && state.lab === name ? [state] : [];
      } catch {
        return []; // A broken state file is `down --force`'s business, not a listing's.
      }
    })
    .sort((a, b) => a.lab.localeCompare(b.lab));
}

/** The labs this caller may see: every one for root; for anyone else, none handed to another user. */
export function visibleLabs(caller: Caller = currentCaller()): LabState[] {
  return recordedLabs().filter((s) => !s.owner || mayUse(s.owner, caller));
}

/** The plan of a lab file, read, checked and planned afresh (validate, plan, render, a lab not yet up). */
export async function openPlan(ref?: string): Promise<Plan> {
  return planFile(resolveLabFile(ref));
}

async function planFile(file: string): Promise<Plan> {
  const [{ loadLab }, { planLab }] = await Promise.all([import('../lab/load.ts'), import('../lab/plan.ts')]);
  return planLab(await loadLab(file));
}

async function labNameInFile(file: string): Promise<string> {
  return (await (await import('../lab/load.ts')).loadLab(file)).name;
}

/** The plan a lab that has a state was brought up from: recorded beside the state, else (older labs) its file's. */
export async function recordedPlan(state: LabState): Promise<Plan> {
  return (await new StateStore(labStateDir(state.lab)).readPlanToRun({ lab: state.lab })) ?? planFile(state.file);
}

/**
 * The plan of a lab as commands on a live lab need it (up, status, test, env, ssh ...): the plan
 * recorded when it came up, found by name or by its file's path, so a copy (which has no file
 * of its own) and a lab whose file changed since are seen as they are, and quick commands
 * never parse YAML; else the lab file's.
 */
export async function openLabPlan(ref: string = DEFAULT_LAB): Promise<Plan> {
  const byName = /^[a-z][a-z0-9-]*$/.test(ref) ? await new StateStore(labStateDir(ref)).readPlanToRun({ lab: ref }) : undefined;
  if (byName) return byName;
  const file = resolveLabFile(ref);
  const recorded = recordedLabs().find((s) => s.file === file && !s.copyOf);
  return (recorded && (await new StateStore(labStateDir(recorded.lab)).readPlanToRun({ lab: recorded.lab }))) || planFile(file);
}

