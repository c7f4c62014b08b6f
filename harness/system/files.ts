// Folders and optional files where missing or unreadable simply means nothing there.
import { readdirSync, readFileSync, statSync } from 'node:fs';

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
