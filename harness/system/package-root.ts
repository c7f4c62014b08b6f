// Where overlab's own files are (labs/, specs/, scripts/, the provisioning scripts): the folder
// of its package.json. The sources run from harness/ (two levels below it), the compiled code
// from dist/harness/ (three), also in a package installed from its tarball, where dist/ holds
// nothing but the compiled code.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const PACKAGE_ROOT = [resolve(here, '../..'), resolve(here, '../../..')].find((dir) => existsSync(join(dir, 'package.json'))) ?? resolve(here, '../..');

/** A path inside the package: `packagePath('labs', 'lab.schema.json')`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

/**
 * How to name the machine set-up script in a message: relative to the working folder when it is
 * below it (`scripts/setup-host.sh` in a clone, `node_modules/overlab/scripts/setup-host.sh` in a
 * project that installed the package), else its absolute path.
 */
export function setupScript(cwd: string = process.cwd()): string {
  const path = packagePath('scripts', 'setup-host.sh');
  const shown = relative(cwd, path);
  return shown.startsWith('..') ? path : shown;
}
