// npm run bench:releases: per Docker release from Debian's archive (20.10.24, 26.1.5, 28.5.2),
// the swarm lab on netns: `up` (tree cached), the specs, the resident memory of the lab's
// processes while up (`status --all`), `down`; then the fetch of each release's tree into an
// empty cache and its size. Rounds alternate the releases. Writes .overlab/bench-releases.json.
// Needs root and scripts/setup-host.sh; the mirror's expired indexes are accepted (said).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { listCachedEngines } from '../harness/system/engine-sources.ts';
import { ROOT_ENGINE_CACHE } from '../harness/system/engines.ts';
import { ensureRootOnlyDir } from '../harness/system/root-dirs.ts';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'overlab.js');
const RELEASES = (process.env['RELEASES'] ?? '20.10.24,26.1.5,28.5.2').split(',');
const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const scratch = mkdtempSync(join(tmpdir(), 'overlab-bench-releases-'));
const env = { OVERLAB_HOME: join(scratch, 'state'), OVERLAB_ARCHIVE_ALLOW_EXPIRED: '1', FORCE_COLOR: '0' };

async function timed(args: string[], extra: Record<string, string> = {}): Promise<{ s: number; stdout: string }> {
  const t = performance.now();
  const r = await execa('node', [CLI, ...args], { reject: false, env: { ...env, ...extra }, all: true });
  if (r.exitCode !== 0) throw new Error(`overlab ${args.join(' ')}: exit ${r.exitCode}\n${r.all}`);
  return { s: Number(((performance.now() - t) / 1000).toFixed(2)), stdout: String(r.stdout) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  if (process.getuid?.() !== 0) throw new Error('bench:releases needs root (netns provider)');
  mkdirSync(env.OVERLAB_HOME, { recursive: true });
  const runs: Record<string, { up: number[]; specs: number[]; memMiB: number[]; down: number[] }> = {};
  for (const v of RELEASES) {
    await timed(['engines', 'fetch', v, '--source', 'debian', '--quiet']); // cached for the lab rounds
    runs[v] = { up: [], specs: [], memMiB: [], down: [] };
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of RELEASES) {
      const name = `br-${v.replaceAll('.', '')}`;
      const file = join(scratch, `${name}.yaml`);
      const text = readFileSync(join(ROOT, 'labs', 'swarm.yaml'), 'utf8').replace(/^name: .*$/m, `name: ${name}`).replace(/version: "20\.10"/, `version: "${v}"\n  source: debian`);
      writeFileSync(file, `${text}\nprovider: netns\n`);
      const up = await timed(['up', file, '--quiet']);
      const status = JSON.parse((await timed(['status', '--all', '--json'])).stdout) as { labs: { lab: string; memoryMiB?: number }[] };
      const specs = await timed(['test', file, '--destroy', 'never', '--quiet']);
      const down = await timed(['down', file, '--quiet']);
      const mem = status.labs.find((l) => l.lab === name)?.memoryMiB;
      runs[v]!.up.push(up.s);
      runs[v]!.specs.push(specs.s);
      runs[v]!.down.push(down.s);
      if (mem !== undefined) runs[v]!.memMiB.push(mem);
      process.stderr.write(`round ${round + 1} ${v}: up ${up.s} s, specs ${specs.s} s, ${mem ?? '?'} MiB, down ${down.s} s\n`);
    }
  }
  const fetches: Record<string, { s: number[]; MiB: number }> = {};
  for (const v of RELEASES) {
    fetches[v] = { s: [], MiB: 0 };
    for (let i = 0; i < Math.min(ROUNDS, 2); i++) {
      // A fresh cache each time, where root's must be: a folder only root can change.
      const cache = join(dirname(ROOT_ENGINE_CACHE), `bench-${process.pid}-${i}`);
      ensureRootOnlyDir(cache);
      try {
        const f = await timed(['engines', 'fetch', v, '--source', 'debian', '--quiet'], { OVERLAB_ENGINE_CACHE: cache });
        fetches[v]!.s.push(f.s);
        fetches[v]!.MiB = Math.round(listCachedEngines(cache).reduce((n, c) => n + c.bytes, 0) / 1024 / 1024);
        process.stderr.write(`fetch ${v}: ${f.s} s, ${fetches[v]!.MiB} MiB\n`);
      } finally {
        rmSync(cache, { recursive: true, force: true });
      }
    }
  }
  const summary = RELEASES.map((v) => ({
    release: v,
    upS: median(runs[v]!.up),
    specsS: median(runs[v]!.specs),
    memMiB: runs[v]!.memMiB.length ? median(runs[v]!.memMiB) : undefined,
    downS: median(runs[v]!.down),
    fetchS: median(fetches[v]!.s),
    treeMiB: fetches[v]!.MiB,
  }));
  mkdirSync(join(ROOT, '.overlab'), { recursive: true });
  writeFileSync(join(ROOT, '.overlab', 'bench-releases.json'), JSON.stringify({ rounds: ROUNDS, runs, fetches, summary }, null, 2) + '\n');
  console.log('| release | up (median) | specs | memory while up | down | fetch into an empty cache | tree |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of summary) console.log(`| ${r.release} | ${r.upS} s | ${r.specsS} s | ${r.memMiB ?? '?'} MiB | ${r.downS} s | ${r.fetchS} s | ${r.treeMiB} MiB |`);
}

main()
  .catch((e: unknown) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  })
  .finally(() => rmSync(scratch, { recursive: true, force: true }));
