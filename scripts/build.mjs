#!/usr/bin/env node
// npm run build (and `prepare`, so npm ci/install runs it): compiles harness/ into dist/ with
// tsconfig.build.json (JavaScript and type declarations), so bin/overlab.js starts without
// compiling TypeScript and the package's entry points (`overlab`, `overlab/spec`) need no
// TypeScript in a user's project. dist/ holds only compiled code: the code finds labs/, specs/
// and scripts/ beside package.json (harness/system/package-root.ts), so a package made by
// `npm pack`, which carries no symbolic links, works as the clone does. It ends with dist/.stamp,
// whose time bin/overlab.js compares with the sources'. Plain JavaScript: it runs before tsx
// or anything else is known to be there. Without TypeScript (npm ci --omit=dev) it says so and
// leaves dist/ alone: the command then runs the sources through tsx.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  console.error('build: TypeScript is not installed; overlab will run its sources through tsx (slower start)');
  process.exit(0);
}
rmSync(join(dist, '.stamp'), { force: true });
// tsc's incremental record is only good with the output it describes.
if (!existsSync(join(dist, 'harness', 'cli', 'main.js'))) rmSync(join(dist, '.tsbuildinfo'), { force: true });
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });

// The links earlier builds made into the clone (labs/, scripts/, the provisioning scripts) are not needed any more.
for (const path of ['labs', 'scripts', 'harness/provision/sh']) {
  const at = join(dist, path);
  if (existsSync(at) && lstatSync(at).isSymbolicLink()) rmSync(at);
}
writeFileSync(join(dist, '.stamp'), `${new Date().toISOString()}\n`);
