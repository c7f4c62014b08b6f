#!/usr/bin/env node
// The overlab command. Runs the compiled CLI in dist/ (npm run build; npm ci and npm install
// run it as `prepare`) when dist/ is at least as new as every TypeScript source, and otherwise
// the sources through tsx, so an edited or never-built clone still runs what it has, only with
// a slower start. `overlab test` always runs the sources: it loads the spec files of specs/lab
// with mocha, which must share their modules with the harness. OVERLAB_TSX=1 forces the sources.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const args = process.argv.slice(2);

if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  const { main } = (await compiled(args[0])) ?? (await sources());
  await main(process.argv, { version });
}

/** The compiled CLI, or undefined when it is missing, older than a source, or not for this command. */
async function compiled(command) {
  if (process.env.OVERLAB_TSX || command === 'test') return undefined;
  let built;
  try {
    built = statSync(`${root}dist/.stamp`).mtimeMs;
  } catch {
    return undefined;
  }
  // The sources dist/ is made of: harness/.
  for (const dir of ['harness']) {
    for (const entry of readdirSync(`${root}${dir}`, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts') && statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs > built) return undefined;
    }
  }
  return import('../dist/harness/cli/main.js');
}

async function sources() {
  const { register } = await import('tsx/esm/api');
  register();
  // Users' spec files import 'overlab/spec' wherever they are (see resolve-overlab.mjs).
  const { register: registerHooks } = await import('node:module');
  registerHooks('./resolve-overlab.mjs', import.meta.url, { data: { handle: new URL('../harness/probes/handle.ts', import.meta.url).href } });
  return import('../harness/cli/main.ts');
}
