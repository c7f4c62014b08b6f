// The users' own spec files in the mocha run of `overlab test`, after the built-in specs: each
// file gets a describe of its own (titled with its path), so its top-level hooks stay its own and
// a file that fails to load leaves nothing half-registered. A file that does not load (a syntax
// error, an import that names no module, a throw at load time) becomes one failed case naming
// the file and line; the built-in specs and the other files still run.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import type MochaType from 'mocha';
import { formatPlace, locateLoadError } from '../probes/load-error.ts';
import { PACKAGE_ROOT } from '../system/package-root.ts';

type Mocha = MochaType;
type MochaClass = typeof MochaType;

/** A path as the reports and the console show it: relative to where overlab runs when below it. */
export function shownPath(file: string, cwd: string = process.cwd()): string {
  const r = relative(cwd, file);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : file;
}

export interface UserSpecLoad {
  file: string;
  /** Why it did not load, first line "FILE:LINE:COLUMN: ...". */
  error?: string;
}

/**
 * Loads each file into a describe of its own under mocha's root suite. `run`: the query that
 * makes this run's import fresh (ESM caches modules by URL). `timeoutMs`: each test's default
 * allowance (a spec may set its own with this.timeout).
 */
export async function loadUserSpecs(mocha: Mocha, Mocha: MochaClass, files: readonly string[], options: { run: number; timeoutMs: number }): Promise<UserSpecLoad[]> {
  const loads: UserSpecLoad[] = [];
  for (const file of files) {
    const suite = Mocha.Suite.create(mocha.suite, shownPath(file));
    suite.timeout(options.timeoutMs);
    Mocha.interfaces.bdd(suite);
    try {
      suite.emit('pre-require', globalThis, file, mocha);
      const module: unknown = await import(`${pathToFileURL(file).href}?run=${options.run}`);
      suite.emit('require', module, file, mocha);
      suite.emit('post-require', globalThis, file, mocha);
      loads.push({ file });
    } catch (e) {
      const error = await loadErrorText(file, e);
      // What the file registered before it failed goes with it: one failed case stands for the file.
      mocha.suite.suites.splice(mocha.suite.suites.indexOf(suite), 1);
      const failed = Mocha.Suite.create(mocha.suite, shownPath(file));
      const test = new Mocha.Test('loads', () => {
        throw Object.assign(new Error(error), { name: 'SpecLoadError', stack: `SpecLoadError: ${error}` });
      });
      test.file = file;
      failed.addTest(test);
      loads.push({ file, error });
    }
  }
  return loads;
}

/** "checks/x.spec.ts:3:9: checks/x.spec.ts does not load: SyntaxError: Unexpected ";"", then the rest of the message. */
async function loadErrorText(file: string, e: unknown): Promise<string> {
  const err = e as { name?: unknown; message?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(e);
  // node reports a syntax error in an ES module without its place; `node --check` says it.
  const checkOutput = err?.name === 'SyntaxError' && !/\.(m?ts)$/.test(file) ? await nodeCheck(file) : undefined;
  const place = locateLoadError({
    error: e,
    specFile: file,
    readText: (f) => {
      try {
        return readFileSync(f, 'utf8');
      } catch {
        return undefined;
      }
    },
    notTheUsers: [join(PACKAGE_ROOT, 'harness')],
    ...(checkOutput ? { checkOutput } : {}),
  });
  const esbuild = /^.*: ERROR: (.*)$/m.exec(message);
  const what = esbuild ? `SyntaxError: ${esbuild[1]}` : `${typeof err?.name === 'string' ? err.name : 'Error'}: ${message.split('\n')[0]}`;
  // overlab/spec resolves for ES modules only (bin/resolve-overlab.mjs); a CommonJS file's import of it names no package.
  const hint = /Cannot find (?:package|module) '(?:overlab|overlab\/spec)'/.test(message) ? ' (spec files are ES modules: a package.json saying "type": "module" beside it, or name it .mts or .mjs)' : '';
  return `${formatPlace(place, shownPath)}: ${place.file === file ? 'this spec file' : shownPath(file)} does not load: ${what}${hint}`;
}

async function nodeCheck(file: string): Promise<string | undefined> {
  const r = await execa(process.execPath, ['--check', file], { reject: false, timeout: 10_000, stdin: 'ignore' });
  return r.exitCode === 0 ? undefined : String(r.stderr);
}
