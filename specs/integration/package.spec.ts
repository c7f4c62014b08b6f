// The package as a user installs it (netns, as root): `npm pack` of this clone, the tarball
// installed by npm into a scratch project that has no TypeScript, and in that project:
// - a lab file with spec files of its own, one passing and one failing on purpose: the failure is
//   in the terminal's exit status, the JSON and the JUnit report;
// - examples/library, a mocha suite that brings its lab up with `Lab.up` and takes it down with
//   `down`, proving reachability with overlab's checks and with the stock docker CLI, run twice
//   at once (two suites on one machine, each with a lab of its own);
// - a TypeScript file using the package's types, checked by tsc;
// - a suite interrupted by SIGINT while its test runs (exit 130, the lab taken down by the
//   process itself), and one killed by SIGKILL (the lab's watchdog takes it down);
// nothing of any of these labs left afterwards.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { execa, type ResultPromise } from 'execa';
import { leftovers, NOTHING_LEFT, ROOT, Scratch } from './support/labs.ts';

/** The project's environment: a user's shell, no overlab settings of the tests' (the state lands in ./.overlab). */
function userEnv(): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', CI: 'true', FORCE_COLOR: '0' };
}

/** What a project's labs leave by their base name (the library adds `-xxxx`): namespaces, processes, state folders. */
async function leftByBase(project: string, base: string): Promise<string[]> {
  const netns = (await execa('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`ovl.${base}-`));
  const processes = (await execa('pgrep', ['-af', `${base}-[0-9a-f]{4}`], { reject: false })).stdout.split('\n').filter((l) => l && !l.includes('pgrep'));
  const state = join(project, '.overlab');
  const folders = existsSync(state) ? readdirSync(state).filter((d) => d.startsWith(`${base}-`)) : [];
  return [...netns.map((n) => `namespace ${n}`), ...processes.map((p) => `process ${p}`), ...folders.map((f) => `folder .overlab/${f}`)];
}

/** Waits for a line of the child's output matching `re`, and returns its first group. */
async function lineOf(child: ResultPromise, re: RegExp, ms: number): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms / 1000} s; output:\n${seen}`)), ms);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const m = re.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ?? m[0]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

describe('the package as a user installs it: npm pack, npm install in a project without TypeScript (netns)', function () {
  this.timeout(600_000);
  let s: Scratch;
  let project: string;

  before(async function () {
    s = new Scratch();
    project = join(s.dir, 'project');
    cpSync(join(ROOT, 'examples', 'library'), project, { recursive: true });
    // `npm pack` builds dist/ first (prepare); the tarball holds what package.json's files name.
    const pack = await execa('npm', ['pack', '--json', '--pack-destination', s.dir], { cwd: ROOT, env: { ...process.env, npm_config_loglevel: 'error' } });
    const tarball = join(s.dir, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    // As the example's README says, with the tarball in place of the registry's version.
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    pkg.devDependencies['overlab'] = `file:${tarball}`;
    writeFileSync(join(project, 'package.json'), JSON.stringify(pkg, null, 2));
    await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: project, env: { ...userEnv(), npm_config_loglevel: 'error' } });
    expect(existsSync(join(project, 'node_modules', 'typescript')), 'the project got TypeScript').to.equal(false);
  });

  after(async () => {
    // Whatever a failed case left: every lab of the project, by the CLI the project installed.
    if (project && existsSync(join(project, 'node_modules', '.bin', 'overlab'))) {
      await execa(join(project, 'node_modules', '.bin', 'overlab'), ['down', '--all', '--quiet'], { cwd: project, env: userEnv(), reject: false });
    }
    s?.dispose();
  });

  it('a lab file with spec files of its own: one passes, one fails on purpose, and the failure is in the exit status, JSON and JUnit', async () => {
    writeFileSync(
      join(project, 'checks.yaml'),
      readFileSync(join(project, 'lab.yaml'), 'utf8').replace(/^name: .*$/m, 'name: pkg-checks') + 'specs:\n  files: [checks/*.spec.js]\n',
    );
    mkdirSync(join(project, 'checks'));
    writeFileSync(
      join(project, 'checks', 'ours.spec.js'),
      `import { expect, lab } from 'overlab/spec';
describe('checks of our own', () => {
  it('web reaches app by name', () => lab.reach('web', 'app', { over: 'front' }));
  it('db is on front too (it is not: this one fails on purpose)', async () => {
    expect(Object.keys(await lab.container('db').addresses())).to.include('front');
  });
  it('web still reaches app with 50 ms of delay on h1 (n/a on a kernel without netem)', () =>
    lab.withFault({ kind: 'latency', host: 'h1', ms: 50 }, () => lab.reach('web', 'app', { over: 'front' })));
});
`,
    );
    const r = await execa(join(project, 'node_modules', '.bin', 'overlab'), ['test', 'checks.yaml', '--json', '--destroy', 'always'], { cwd: project, env: userEnv(), reject: false });
    expect(r.exitCode, r.stderr).to.equal(1);
    const run = JSON.parse(r.stdout) as { counts: { failed: number; passed: number }; cases: { title: string; file?: string; state: string; reason?: string; failure?: { message: string } }[]; reports: { junit: string; json: string } };
    const ours = run.cases.filter((c) => c.file);
    // The kernel here has no netem (sch_netem): the fault cannot be put, and that case is n/a, naming it.
    const netem = (await execa('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null | grep -q "^CONFIG_NET_SCH_NETEM=y"'], { reject: false })).exitCode === 0;
    expect(ours.map((c) => `${c.file} ${c.state}`)).to.deep.equal(['checks/ours.spec.js passed', 'checks/ours.spec.js failed', `checks/ours.spec.js ${netem ? 'passed' : 'n/a'}`]);
    if (!netem) expect(ours[2]!.reason).to.match(/no netem qdisc/);
    expect(run.counts.failed, 'only ours failed').to.equal(1);
    expect(run.counts.passed).to.be.greaterThan(1);
    const json = JSON.parse(readFileSync(resolve(project, run.reports.json), 'utf8')) as { cases: { title: string; state: string }[] };
    expect(json.cases.find((c) => c.title.startsWith('db is on front'))?.state).to.equal('failed');
    const junit = readFileSync(resolve(project, run.reports.junit), 'utf8');
    expect(junit).to.match(/<testcase [^>]*name="db is on front too[^"]*" file="checks\/ours.spec.js"[^>]*>\s*<failure /);
    expect(await leftovers('pkg-checks')).to.deep.equal(NOTHING_LEFT);
  });

  it('examples/library, run twice at once (two suites on one machine): each brings a lab of its own up with Lab.up, passes, and takes it down', async () => {
    const runs = await Promise.all(
      [1, 2].map(() => execa(join(project, 'node_modules', '.bin', 'mocha'), ['--reporter', 'json', 'test/overlay.spec.mjs'], { cwd: project, env: userEnv(), reject: false })),
    );
    for (const r of runs) {
      const report = JSON.parse(r.stdout) as { stats: { passes: number; failures: number; pending: number }; failures: { fullTitle: string; err: { message: string } }[] };
      expect(report.failures.map((f) => `${f.fullTitle}: ${f.err.message}`), r.stderr).to.deep.equal([]);
      expect(report.stats).to.include({ passes: 6, failures: 0, pending: 0 });
      expect(r.exitCode).to.equal(0);
    }
    expect(await leftByBase(project, 'lib-example')).to.deep.equal([]);
  });

  it("a TypeScript project gets the package's types: Lab, the handle and its options check, a wrong option is an error", async () => {
    // Last: TypeScript goes into the project only now.
    await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', 'typescript@5.9.3', '@types/node@20'], { cwd: project, env: { ...userEnv(), npm_config_loglevel: 'error' } });
    writeFileSync(
      join(project, 'typed.ts'),
      `import { Lab, LabFileError, type HostHandle } from 'overlab';
import { lab as inSpecs, expect } from 'overlab/spec';
export async function typed(): Promise<void> {
  const lab: Lab = await Lab.up('lab.yaml', { name: 'typed', onProgress: (e) => void e.host });
  const h1: HostHandle = lab.host('h1');
  const code: number = (await h1.run(['true'])).exitCode;
  await lab.reach('web', 'app', { over: 'front', by: 'name' });
  const dockerHost: string = lab.env('h1').DOCKER_HOST;
  inSpecs.requires('ip_vs');
  expect(code).to.equal(0);
  void [dockerHost, LabFileError];
  // @ts-expect-error: no such option
  await lab.reach('web', 'app', { via: 'front' });
}
`,
    );
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, types: ['node'] }, files: ['typed.ts'] }));
    const r = await execa(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: project, env: userEnv(), reject: false });
    expect(r.stdout + r.stderr).to.equal('');
    expect(r.exitCode).to.equal(0);
  });

  for (const signal of ['SIGINT', 'SIGKILL'] as const) {
    it(`a suite ${signal === 'SIGINT' ? 'interrupted by SIGINT takes its lab down itself and exits 130' : 'killed by SIGKILL has its lab taken down by the watchdog'}`, async () => {
      // Beside the lab file, out of the example's test/ folder.
      writeFileSync(
        join(project, 'long.spec.mjs'),
        `import { Lab } from 'overlab';
import { fileURLToPath } from 'node:url';
describe('a long test', function () {
  this.timeout(600_000);
  let lab;
  before(async () => { lab = await Lab.up(fileURLToPath(new URL('./lab.yaml', import.meta.url))); console.log('up as', lab.name); });
  after(() => lab?.down());
  it('waits', () => new Promise((resolve) => setTimeout(resolve, 300_000)));
});
`,
      );
      try {
        const child = execa(join(project, 'node_modules', '.bin', 'mocha'), ['long.spec.mjs'], { cwd: project, env: userEnv(), reject: false });
        const name = await lineOf(child, /up as (lib-example-[0-9a-f]{4})/, 120_000);
        expect((await leftovers(name)).namespaces, 'the lab is up').to.not.be.empty;
        child.kill(signal);
        const started = Date.now();
        const r = await child;
        if (signal === 'SIGINT') {
          expect(r.exitCode, String(r.stderr)).to.equal(130);
          expect(String(r.stderr)).to.include(`taking down lab ${name}`);
        } else {
          // The watchdog polls each second, then runs `overlab down`.
          for (let i = 0; i < 60 && (await leftByBase(project, 'lib-example')).length; i++) await sleep(500);
        }
        expect(await leftovers(name)).to.deep.equal(NOTHING_LEFT);
        expect(await leftByBase(project, 'lib-example')).to.deep.equal([]);
        expect(Date.now() - started, 'down within 30 s').to.be.below(30_000);
      } finally {
        rmSync(join(project, 'long.spec.mjs'), { force: true });
      }
    });
  }
});
