#!/usr/bin/env node
// npm run build (and `prepare`, so npm ci/install runs it): compiles harness/ into dist/ with
// tsconfig.build.json, so bin/overlab.js starts without compiling TypeScript. dist/ mirrors the
// clone one level down (dist/harness), so it links the folders the code finds
// by relative path (labs/, scripts/, the provisioning scripts), and ends with dist/.stamp,
// whose time bin/overlab.js compares with the sources'. Plain JavaScript: it runs before tsx
// or anything else is known to be there. Without TypeScript (npm ci --omit=dev) it says so and
// leaves dist/ alone: the command then runs the sources through tsx.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
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

/** dist/<path> -> <path>, as a relative link. */
function link(path) {
  const at = join(dist, path);
  mkdirSync(dirname(at), { recursive: true });
  rmSync(at, { recursive: true, force: true });
  symlinkSync(relative(dirname(at), join(root, path)), at);
}
for (const path of ['labs', 'scripts', 'harness/provision/sh']) if (existsSync(join(root, path))) link(path);
writeFileSync(join(dist, '.stamp'), `${new Date().toISOString()}\n`);
