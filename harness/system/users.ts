// Unix users and groups by name or id (getent, which asks NSS: files, LDAP, ...), and who runs
// this process. An id no entry names stands for itself: a room may hand labs to accounts that
// exist only as numbers (a container's, or a test's).
import { execFileSync } from 'node:child_process';
import { UsageError } from '../errors.ts';
import type { Caller, LabOwner, OwnerRequest } from '../state/owner.ts';

/** getent's entry for a user or group: name and id, or undefined when there is none. */
function getent(database: 'passwd' | 'group', key: string): { name: string; id: number } | undefined {
  try {
    const line = execFileSync('getent', [database, key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0] ?? '';
    const [name, , id] = line.split(':');
    return name && id && /^[0-9]+$/.test(id) ? { name, id: Number(id) } : undefined;
  } catch {
    return undefined;
  }
}

/** The user or group an `--owner` entry names, with its id; a name nobody has is a UsageError. */
export function resolveOwner(request: OwnerRequest): LabOwner {
  const found = getent(request.kind === 'user' ? 'passwd' : 'group', request.name);
  if (found) return { kind: request.kind, name: found.name, id: found.id };
  if (/^[0-9]+$/.test(request.name)) return { kind: request.kind, name: request.name, id: Number(request.name) };
  throw new UsageError(`--owner: no ${request.kind} named "${request.name}" on this machine`, { hint: `Create it first (${request.kind === 'user' ? 'useradd' : 'groupadd'}), or give its numeric id.` });
}

/** Who runs this process: its uid and every group it is in. */
export function currentCaller(): Caller {
  return { uid: process.getuid?.() ?? 0, gids: [...new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])])] };
}
