// Unix users and groups by name or id (getent, which asks NSS: files, LDAP, ...), and who runs
// this process.
import { execFileSync } from 'node:child_process';

/** A caller's credentials: its uid and every group it is in. */
export interface Caller {
  uid: number;
  gids: readonly number[];
}

/** getent's entry for a user (passwd) or group: name and id, or undefined when there is none. */
export function lookupAccount(kind: 'user' | 'group', key: string): { name: string; id: number } | undefined {
  try {
    const line = execFileSync('getent', [kind === 'user' ? 'passwd' : 'group', key], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0] ?? '';
    const [name, , id] = line.split(':');
    return name && id && /^[0-9]+$/.test(id) ? { name, id: Number(id) } : undefined;
  } catch {
    return undefined;
  }
}

/** Who runs this process: its uid and every group it is in. */
export function currentCaller(): Caller {
  return { uid: process.getuid?.() ?? 0, gids: [...new Set([process.getgid?.() ?? 0, ...(process.getgroups?.() ?? [])])] };
}
