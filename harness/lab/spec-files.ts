// Which files a lab's own specs are: the names and globs of `specs.files` (relative to the lab
// file's folder) and of `overlab test --spec` (relative to where it runs), expanded with glob.
// Reads folder listings only; a name or glob that matches no spec file is a problem, said per item.
import { isAbsolute, relative, resolve } from 'node:path';
import { globSync } from 'glob';

/** What mocha can load as a spec file here: TypeScript through tsx, JavaScript as ES modules. */
export const SPEC_FILE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'] as const;

export interface ResolvedSpecPattern {
  pattern: string;
  /** The spec files it names, absolute, sorted; empty when `problem` says why. */
  files: string[];
  problem?: string;
}

const isSpecFile = (f: string) => SPEC_FILE_EXTENSIONS.some((e) => f.endsWith(e)) && !f.endsWith('.d.ts');

/**
 * Expands one name or glob relative to `baseDir`: the regular files it matches with a spec
 * file's extension (dot files and node_modules left out), or a problem naming what it matched.
 */
export function resolveSpecPattern(pattern: string, baseDir: string): ResolvedSpecPattern {
  const where = `in ${baseDir}`;
  let matched: string[];
  try {
    matched = globSync(pattern, { cwd: baseDir, absolute: true, nodir: true, ignore: ['**/node_modules/**'], windowsPathsNoEscape: false }).sort();
  } catch (e) {
    return { pattern, files: [], problem: `cannot expand ${JSON.stringify(pattern)}: ${(e as Error).message}` };
  }
  const files = matched.filter(isSpecFile);
  if (files.length) return { pattern, files };
  if (matched.length) {
    const shown = matched.slice(0, 3).map((f) => relative(baseDir, f)).join(', ');
    return { pattern, files: [], problem: `${JSON.stringify(pattern)} matches no spec file (${SPEC_FILE_EXTENSIONS.join(', ')}) ${where}, only ${shown}${matched.length > 3 ? ', …' : ''}` };
  }
  const absolute = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  return { pattern, files: [], problem: `${JSON.stringify(pattern)} matches no file ${where}${absolute !== pattern && !/[*?[{]/.test(pattern) ? ` (no ${absolute})` : ''}` };
}

/** Every pattern's files, in the order given, each file once (its first pattern keeps it). */
export function specFilesOf(resolved: readonly ResolvedSpecPattern[]): string[] {
  return [...new Set(resolved.flatMap((r) => r.files))];
}
