// Who a lab is handed to (`up --owner`): a Unix user or group that may use the lab without
// root (its engines with the stock docker CLI, `status`, `test`, `ssh`, `graph`), while every
// other user is refused, naming the owner. Pure: parsing what the command line says, deciding
// whether a caller is the owner, and the words messages use; names are looked up by
// system/users.ts (getent), passed in.
import { UsageError } from '../errors.ts';
import { lookupAccount, type Caller } from '../system/users.ts';

/** A user or group as `up --owner` names it: `alice`, `1001`, `:students` or `:1002`. */
export interface OwnerRequest {
  kind: 'user' | 'group';
  /** A name, or a numeric id. */
  name: string;
}

/** The owner as the lab state records it: resolved to its id when the lab came up. */
export interface LabOwner {
  kind: 'user' | 'group';
  name: string;
  id: number;
}

/** A user or group name as useradd(8) takes it (NAME_REGEX with a trailing $ for machine accounts), or an id. */
export const OWNER_NAME = /^(?:[a-z_][a-z0-9_-]{0,31}\$?|[0-9]{1,9})$/;

/** `up --owner LIST`: comma-separated users (NAME or UID) and groups (:NAME or :GID). */
export function parseOwners(text: string): OwnerRequest[] {
  const parts = text.split(',').map((p) => p.trim());
  return parts.map((part) => {
    const kind = part.startsWith(':') ? 'group' : 'user';
    const name = kind === 'group' ? part.slice(1) : part;
    if (!OWNER_NAME.test(name)) {
      throw new UsageError(`--owner: "${part}" is not a user (NAME or UID) or a group (:NAME or :GID)`, {
        hint: 'For example --owner alice, --owner :students, or one per copy: --copies 3 --owner alice,bob,carol.',
      });
    }
    return { kind, name };
  });
}

/** The owner of each of `count` labs: one owner for all, or one each, in order. */
export function ownersFor(requests: readonly OwnerRequest[], count: number): OwnerRequest[] {
  if (requests.length === 1) return Array.from({ length: count }, () => requests[0]!);
  if (requests.length === count) return [...requests];
  throw new UsageError(`--owner names ${requests.length} owners for ${count} ${count === 1 ? 'lab' : 'copies'}: give one owner for all, or one per copy`);
}

/**
 * The user or group an `--owner` entry names, with its id. An id no entry names stands for
 * itself (a room may hand labs to accounts that exist only as numbers); a name nobody has is a
 * UsageError.
 */
export function resolveOwner(request: OwnerRequest, lookup = lookupAccount): LabOwner {
  const found = lookup(request.kind, request.name);
  if (found) return { kind: request.kind, name: found.name, id: found.id };
  if (/^[0-9]+$/.test(request.name)) return { kind: request.kind, name: request.name, id: Number(request.name) };
  throw new UsageError(`--owner: no ${request.kind} named "${request.name}" on this machine`, { hint: `Create it first (${request.kind === 'user' ? 'useradd' : 'groupadd'}), or give its numeric id.` });
}

/** Each of `count` labs' owner, resolved (ownersFor, then resolveOwner): every name found before any lab comes up. */
export function resolveOwners(requests: readonly OwnerRequest[], count: number, lookup = lookupAccount): LabOwner[] {
  return ownersFor(requests, count).map((r) => resolveOwner(r, lookup));
}

/** Whether the caller may use a lab handed to `owner` (root always may). */
export function mayUse(owner: LabOwner, caller: Caller): boolean {
  if (caller.uid === 0) return true;
  return owner.kind === 'user' ? caller.uid === owner.id : caller.gids.includes(owner.id);
}

/** "user alice (uid 1001)", "group students (gid 1002)", "uid 4242" for an id with no name. */
export function describeOwner(owner: LabOwner): string {
  const id = `${owner.kind === 'user' ? 'uid' : 'gid'} ${owner.id}`;
  return owner.name === String(owner.id) ? id : `${owner.kind} ${owner.name} (${id})`;
}

/** The owner and group ids, and the mode, that something handed to `owner` gets (root keeps the rest). */
export function ownership(owner: LabOwner, modes: { user: number; group: number }): { uid: number; gid: number; mode: number } {
  return owner.kind === 'user' ? { uid: owner.id, gid: 0, mode: modes.user } : { uid: 0, gid: owner.id, mode: modes.group };
}
