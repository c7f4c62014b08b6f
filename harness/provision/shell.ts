// The bash libraries in ./sh/ that the generated scripts carry inline (their words are quoted
// by harness/quote.ts). Pure: strings in, strings out (the libraries are read once, as
// templates are).
import { readFileSync } from 'node:fs';
import { packagePath } from '../system/package-root.ts';

export type ShellLibrary = 'common' | 'engine' | 'kv';

const cache = new Map<ShellLibrary, string>();

/** The bash functions of sh/NAME.sh, without its header comment. */
export function shellLibrary(name: ShellLibrary): string {
  let text = cache.get(name);
  if (text === undefined) {
    const raw = readFileSync(packagePath('harness', 'provision', 'sh', `${name}.sh`), 'utf8');
    const lines = raw.split('\n');
    // Drop the header comment block (up to its first blank line); keep comments below it.
    let start = 0;
    while (start < lines.length && lines[start]!.startsWith('#')) start++;
    while (start < lines.length && lines[start]!.trim() === '') start++;
    text = `# --- ${name}.sh\n${lines.slice(start).join('\n').trimEnd()}\n`;
    cache.set(name, text);
  }
  return text;
}
