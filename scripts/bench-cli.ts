// npm run bench:cli: how long the overlab command takes to start and answer, next to a bare
// `node -e 0` in the same run. Builds dist/ first, brings a small netns lab up (named
// bench-cli-<pid>, or $OVERLAB_BENCH_LAB) in a scratch state folder, then times, in turn and
// RUNS times each (default 15): node -e 0, overlab --version, --help, env HOST, config HOST,
// ip HOST, ls, status, and
// --help from the TypeScript sources (OVERLAB_TSX=1, the start before dist/). Whole processes,
// wall clock from spawn to exit. Prints a table of medians and each one's ratio to node's
// (taken run by run, so the machine's drift cancels), writes .overlab/bench-cli.json, and
// takes the lab down. Needs root (the netns provider) and scripts/setup-host.sh.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'overlab.js');
const RUNS = Number(process.env['RUNS'] ?? 15);
const lab = process.env['OVERLAB_BENCH_LAB'] ?? `bench-cli-${process.pid}`;
const scratch = mkdtempSync(join(tmpdir(), 'overlab-bench-cli-'));
const env = { ...process.env, OVERLAB_HOME: join(scratch, 'state'), FORCE_COLOR: '0' };

function run(argv: string[], extraEnv: Record<string, string> = {}): { ms: number; status: number | null; out: string } {
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: scratch, env: { ...env, ...extraEnv }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, status: r.status, out: `${r.stdout}${r.stderr}` };
}

function must(argv: string[], extraEnv: Record<string, string> = {}): void {
  const r = run(argv, extraEnv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}):\n${r.out}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const file = join(scratch, `${lab}.yaml`);
writeFileSync(
  file,
  `name: ${lab}\nprovider: netns\nnetwork:\n  subnet: 172.28.213.0/24\nhosts:\n  - name: kv\n    role: kv\n  - name: d0\nkv:\n  type: etcd\nnetworks:\n  - name: net\n    subnet: 10.0.4.0/24\ncontainers:\n  - { name: c0, host: d0, networks: [net] }\n`,
);
const cases: { name: string; argv: string[]; env?: Record<string, string> }[] = [
  { name: 'node -e 0', argv: ['node', '-e', '0'] },
  { name: 'overlab --version', argv: ['node', CLI, '--version'] },
  { name: 'overlab --help', argv: ['node', CLI, '--help'] },
  { name: 'overlab env d0', argv: ['node', CLI, 'env', 'd0', '--lab', file] },
  { name: 'overlab config d0', argv: ['node', CLI, 'config', 'd0', '--lab', file] },
  { name: 'overlab ip d0', argv: ['node', CLI, 'ip', 'd0', '--lab', file] },
  { name: 'overlab ls', argv: ['node', CLI, 'ls'] },
  { name: 'overlab status', argv: ['node', CLI, 'status', file] },
  { name: 'overlab --help from the sources (tsx)', argv: ['node', CLI, '--help'], env: { OVERLAB_TSX: '1' } },
];
try {
  // Inside the try: a failed build (another build running at once, say) still removes the scratch folder.
  must(['node', join(ROOT, 'scripts', 'build.mjs')]);
  must(['node', CLI, 'up', file, '--quiet']);
  const times = new Map(cases.map((c) => [c.name, [] as number[]]));
  for (let i = 0; i <= RUNS; i++) {
    for (const c of cases) {
      const r = run(c.argv, c.env);
      if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}):\n${r.out}`);
      if (i > 0) times.get(c.name)!.push(r.ms); // run 0 warms the caches
    }
  }
  const node = times.get('node -e 0')!;
  const rows = cases.map((c) => {
    const t = times.get(c.name)!;
    return { command: c.name, medianMs: Math.round(median(t)), minMs: Math.round(Math.min(...t)), maxMs: Math.round(Math.max(...t)), ratio: Number(median(t.map((x, i) => x / node[i]!)).toFixed(2)) };
  });
  process.stdout.write(`| command | median | min-max | x node -e 0 |\n|---|---|---|---|\n`);
  for (const r of rows) process.stdout.write(`| \`${r.command}\` | ${r.medianMs} ms | ${r.minMs}-${r.maxMs} ms | ${r.ratio} |\n`);
  mkdirSync(join(ROOT, '.overlab'), { recursive: true });
  writeFileSync(join(ROOT, '.overlab', 'bench-cli.json'), JSON.stringify({ date: new Date().toISOString(), runs: RUNS, rows }, null, 2) + '\n');
} finally {
  run(['node', CLI, 'down', '--force', lab]);
  rmSync(scratch, { recursive: true, force: true });
}
