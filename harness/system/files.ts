// Folder listings where a missing or unreadable folder simply has nothing in it.
import { readdirSync, statSync } from 'node:fs';

/** The names in a folder, or none when it does not exist or cannot be read. */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
