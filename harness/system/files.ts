// Folders and optional files where missing or unreadable simply means nothing there.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The names in a folder, or none when it does not exist or cannot be read. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A text file's contents, or undefined when it does not exist or cannot be read (an optional config). */
export function readTextIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The bytes of a folder's files and how many entries it holds, itself included (links not
 * followed); what cannot be read (gone meanwhile) is not counted.
 */
export function folderUsage(dir: string): { bytes: number; entries: number } {
  const usage = { bytes: 0, entries: 1 };
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const f = join(d, e.name);
      usage.entries += 1;
      if (e.isDirectory()) walk(f);
      else if (e.isFile()) usage.bytes += statSync(f).size;
    }
  };
  try {
    walk(dir);
  } catch {
    // Gone meanwhile.
  }
  return usage;
}
