// npm run bench: times overlab's cold `up`, warm `up`, spec run and `down` for the tutorial
// lab and a 10-host lab, next to a bare shell script doing the tutorial's steps in the same
// run, and writes the figures as JSON (.overlab/bench.json). Needs root and scripts/setup-host.sh.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { buildTestImageTar } from '../harness/engine/image.ts';
import { stateRoot } from '../harness/state/paths.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'overlab.js');
const scratch = mkdtempSync(join(tmpdir(), 'overlab-bench-'));
const home = join(scratch, 'state');

async function timed(what: string, cmd: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const r = await execa(cmd, args, { reject: false, env, all: true });
  const seconds = (performance.now() - started) / 1000;
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit ${r.exitCode}):\n${r.all}`);
  process.stderr.write(`${what}: ${seconds.toFixed(2)} s\n`);
  return Number(seconds.toFixed(3));
}

const overlab = (what: string, args: string[]) => timed(what, 'node', [CLI, ...args], { OVERLAB_HOME: home });

function labCopy(name: string, text: string): string {
  const file = join(scratch, `${name}.yaml`);
  writeFileSync(file, text.replace(/^name: .*$/m, `name: ${name}`));
  return file;
}

function manyHosts(n: number): string {
  const hosts = Array.from({ length: n - 1 }, (_, i) => `  - name: h${i}\n`).join('');
  const containers = Array.from({ length: n - 1 }, (_, i) => `  - name: c${i}\n    host: h${i}\n    networks: [net]\n`).join('');
  return `name: x\nhosts:\n  - name: kv\n    role: kv\n${hosts}kv:\n  type: etcd\nengine:\n  mode: kv\nnetworks:\n  - name: net\n    subnet: 10.0.4.0/24\ncontainers:\n${containers}`;
}

async function labFigures(file: string, lab: string, withSpecs: boolean) {
  const cacheTar = await buildTestImageTar(join(home, 'cache'));
  rmSync(cacheTar); // cold: the test image is built again
  const cold = await overlab(`${lab} cold up`, ['up', '--lab', file, '--quiet']);
  const down1 = await overlab(`${lab} down`, ['down', '--lab', file, '--quiet']);
  const warm = await overlab(`${lab} warm up`, ['up', '--lab', file, '--quiet']);
  let specs: number | undefined;
  if (withSpecs) {
    const help = await execa('node', [CLI, 'help'], { reject: false });
    if (/\btest\b/.test(help.stdout)) specs = await overlab(`${lab} specs`, ['test', '--lab', file, '--destroy', 'never']).catch(() => undefined);
  }
  const down = await overlab(`${lab} down`, ['down', '--lab', file, '--quiet']);
  return { coldUp: cold, warmUp: warm, specs, down: Math.min(down, down1) };
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench needs root (netns provider)');
  mkdirSync(home, { recursive: true });
  const tar = await buildTestImageTar(join(stateRoot(), 'cache'));
  const baselineScript = join(ROOT, 'scripts', 'bench-baseline.sh');
  await execa(baselineScript, ['down'], { reject: false });
  const baseline = { up: await timed('bare script up', baselineScript, ['up', tar]), down: await timed('bare script down', baselineScript, ['down']) };

  const tutorial = await labFigures(labCopy('bench-tutorial', readFileSync(join(ROOT, 'labs', 'tutorial.yaml'), 'utf8')), 'bench-tutorial', true);
  const tenHosts = await labFigures(labCopy('bench-ten', manyHosts(10)), 'bench-ten', false);
  const result = {
    date: new Date().toISOString(),
    cpus: (await import('node:os')).cpus().length,
    baseline,
    tutorial: { ...tutorial, ratios: { warmUp: +(tutorial.warmUp / baseline.up).toFixed(2), down: +(tutorial.down / baseline.down).toFixed(2) } },
    tenHosts,
    targets: { tutorialWarmUp: 5, tutorialDown: 3, tenHostUp: 15 },
  };
  const out = join(stateRoot(), 'bench.json');
  mkdirSync(stateRoot(), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`written to ${out}\n`);
}

try {
  await main();
} finally {
  for (const lab of ['bench-tutorial', 'bench-ten']) await execa('node', [CLI, 'down', '--force', lab], { reject: false, env: { OVERLAB_HOME: home } });
  await execa(join(ROOT, 'scripts', 'bench-baseline.sh'), ['down'], { reject: false });
  rmSync(scratch, { recursive: true, force: true });
}
