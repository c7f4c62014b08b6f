// npm run bench:vm: the VM path against bare boots, in one run. First three bare QEMU boots of
// the local box at once (scripts/bench-vm-boots.sh: until each sshd sends its banner), then
// `overlab up` of the tutorial on three VMs (vagrant + a libvirt of the lab's own), its phases
// per machine as `status --json` records them, then `down`. Prints the figures and the ratio
// of up to the slowest bare boot, and writes them to .overlab/bench-vm.json. Needs root and the
// VM job's packages and box (`npm run test:vm -- --prepare`, run first when missing).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { stateRoot } from '../harness/state/paths.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'overlab.js');
const LAB = 'bench-vm';
const scratch = mkdtempSync(join(tmpdir(), 'overlab-bench-vm-'));
const env = { OVERLAB_HOME: join(scratch, 'state'), FORCE_COLOR: '0' };

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench:vm needs root (libvirt, namespaces)');
  const box = (await execa('bash', [join(ROOT, 'scripts', 'test-vm.sh'), '--prepare'], { stderr: 'inherit' })).stdout.trim().split('\n').at(-1)!;
  const boxDir = join('/root/.vagrant.d/boxes', box.replaceAll('/', '-VAGRANTSLASH-'), '0', 'libvirt');

  process.stderr.write(`bench:vm: three bare boots of ${box}\n`);
  const boots = await execa('bash', [join(ROOT, 'scripts', 'bench-vm-boots.sh'), boxDir, '3'], { stderr: 'inherit' });
  const bare = [...boots.stdout.matchAll(/ssh banner after ([\d.]+) s/g)].map((m) => Number(m[1]));
  process.stderr.write(`${boots.stdout}\n`);

  const file = join(scratch, `${LAB}.yaml`);
  writeFileSync(file, readFileSync(join(ROOT, 'labs', 'tutorial.yaml'), 'utf8').replace(/^name: .*$/m, `name: ${LAB}`));
  process.stderr.write('bench:vm: overlab up of the tutorial on three VMs\n');
  const started = performance.now();
  const up = await execa('node', [CLI, 'up', file, '--provider', 'vagrant', '--libvirt', 'local', '--quiet'], { env, reject: false, all: true });
  const upSeconds = (performance.now() - started) / 1000;
  if (up.exitCode !== 0) throw new Error(`overlab up failed (exit ${up.exitCode}):\n${up.all}`);
  const status = JSON.parse((await execa('node', [CLI, 'status', LAB, '--json'], { env })).stdout) as { timings?: { step: string; host?: string; phase?: string; ms: number }[] };
  const down = await execa('node', [CLI, 'down', LAB, '--quiet'], { env, reject: false, all: true });
  if (down.exitCode !== 0) throw new Error(`overlab down failed (exit ${down.exitCode}):\n${down.all}`);

  const slowest = Math.max(...bare);
  const result = {
    date: new Date().toISOString(),
    box,
    bareBoots: bare,
    up: +upSeconds.toFixed(1),
    ratio: +(upSeconds / slowest).toFixed(2),
    target: 1.5,
    timings: status.timings ?? [],
  };
  const out = join(stateRoot(), 'bench-vm.json');
  mkdirSync(stateRoot(), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`bare boots (ssh banner): ${bare.map((s) => `${s.toFixed(1)} s`).join(', ')}\n`);
  process.stdout.write(`overlab up, 3 VMs: ${upSeconds.toFixed(1)} s = ${result.ratio}x the slowest bare boot (target: at most ${result.target}x)\n`);
  process.stderr.write(`written to ${out}\n`);
}

try {
  await main();
} finally {
  await execa('node', [CLI, 'down', '--force', LAB, '--provider', 'vagrant', '--libvirt', 'local', '--quiet'], { reject: false, env });
  rmSync(scratch, { recursive: true, force: true });
}
