// Folders root writes into that no other user may steer. A folder only root can change (owned
// by root, writable by no group or other, not a link) holds nothing root did not put there, so
// nothing root writes inside it follows a link someone else planted. A folder that is not so
// is refused, naming its owner and mode, never adopted.
import { lstatSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import { PrerequisiteError } from '../errors.ts';

/** Why `path` is not a folder only root can change, or undefined when it is one. */
export function notRootOnly(st: { isDirectory(): boolean; isSymbolicLink(): boolean; uid: number; mode: number }): string | undefined {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a folder';
  if (st.uid !== 0) return `belongs to ${ownerName(st.uid)} (uid ${st.uid}), not root`;
  if (st.mode & 0o022) return `can be changed by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  return undefined;
}

function ownerName(uid: number): string {
  try {
    return uid === process.getuid?.() ? userInfo().username : `user ${uid}`;
  } catch {
    return `user ${uid}`;
  }
}

/**
 * Makes `dir` and any missing folder above it (mode 0755) unless there, checking from / down
 * that every one is a folder only root can change, so that no one can swap a part of the path
 * (the runtime root /run/overlab: /, /run; the engine cache /var/cache/overlab/engines). Run as root.
 */
export function ensureRootOnlyDir(dir: string): void {
  const path: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    path.unshift(d);
    if (d === dirname(d)) break;
  }
  // From / down: each folder checked before anything is made in it; missing ones made 0755.
  for (const d of path) {
    try {
      mkdirSync(d, { mode: 0o755 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    refuseUnlessRootOnly(d);
  }
}

function refuseUnlessRootOnly(dir: string): void {
  const why = notRootOnly(lstatSync(dir));
  if (why) {
    throw new PrerequisiteError(`${dir} ${why}: overlab runs as root and writes only into folders no other user can change`, {
      hint: `Whoever made ${dir} could steer what root writes there. Remove it (as root, after checking what is inside), then run the command again: overlab makes it itself.`,
    });
  }
}
