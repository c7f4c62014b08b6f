// Who may act on a lab: root, the owner of a lab handed over (only what the owner may do), and
// the provider a lab is recorded under, checked before a command takes the lab's lock or acts.
import { LabStateError, PermissionError } from '../errors.ts';
import { requireRoot } from '../providers/index.ts';
import { labStateDir } from '../state/paths.ts';
import { describeOwner, mayUse } from '../state/owner.ts';
import { StateStore, type LabState } from '../state/store.ts';
import { currentCaller, type Caller } from '../system/users.ts';

/**
 * Refuses to act on a lab that is recorded under another provider than the one the caller
 * named (`--provider`); `auto` and no provider accept any.
 */
export function checkRecordedProvider(lab: string, state: LabState | undefined, expected: string | undefined): void {
  if (!state || !expected || expected === 'auto' || expected === state.provider) return;
  throw new LabStateError(`lab ${lab} is ${state.phase === 'up' ? 'up' : `recorded (phase ${state.phase})`} on provider ${state.provider}, not ${expected}`, {
    hint: `Leave out --provider, or pass --provider ${state.provider}; \`overlab down --lab ${lab}\` removes it from ${state.provider}.`,
  });
}

/**
 * Root may do anything with a lab; the owner of a lab handed over may do `ownerMay` (when
 * given) and nothing else; any other user is refused, naming the owner, or told it needs root.
 */
export function requireAccess(state: LabState, what: string, ownerMay: string | undefined, caller: Caller = currentCaller()): void {
  if (caller.uid === 0) return;
  if (!state.owner) return requireRoot(state.provider, what, caller.uid);
  if (mayUse(state.owner, caller)) {
    if (ownerMay !== undefined) return;
    throw new PermissionError(`lab ${state.lab} is handed to ${describeOwner(state.owner)}, who may use it, not change it: ${what} needs root`, {
      root: true,
      hint: 'Ask whoever runs the room (root) to do it.',
    });
  }
  throw new PermissionError(`lab ${state.lab} is handed to ${describeOwner(state.owner)}; you (uid ${caller.uid}) may not ${ownerMay ?? 'use it'}`, {
    root: false,
    hint: 'Use the lab handed to you (`overlab status --all` lists those you may see), or ask whoever runs the room.',
  });
}

/**
 * Before a command takes a lab's lock: a user who is not root is told here what the lab allows
 * it (naming the owner of a lab handed over), not by the lock's folder. `ownerMay`: what the
 * owner may do with it, when the command is one of those.
 */
export function checkAccessFirst(lab: string, what: string, ownerMay?: string): void {
  const caller = currentCaller();
  if (caller.uid === 0) return;
  const state = new StateStore(labStateDir(lab)).read();
  // A lab handed to nobody: the lock (its folder's owner) or the provider (root) says it, as before.
  if (state?.owner) requireAccess(state, what, ownerMay, caller);
}

/** Whether this (non-root) caller tests a lab that is up and handed over (to it or not: connecting checks that). */
export function handedOverAndUp(lab: string): boolean {
  if (currentCaller().uid === 0) return false;
  const state = new StateStore(labStateDir(lab)).read();
  return state?.phase === 'up' && state.owner !== undefined;
}
