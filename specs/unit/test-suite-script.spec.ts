// scripts/test-suite.sh, run for real in a scratch project whose mocha and tsx are stand-ins
// (shell scripts): which files go to which run, the one summary that sums the runs, a run that
// counts nothing, and one SIGTERM ending it all within seconds, its labs swept.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { execa } from 'execa';

const SCRIPT = fileURLToPath(new URL('../../scripts/test-suite.sh', import.meta.url));

/**
 * A stand-in mocha: records its arguments, appends its counts (passed failed skipped from
 * $FAKE_COUNTS_<n>, n its call number) where the summary reporter would, exits with
 * $FAKE_STATUS_<n>; with $FAKE_HANG set it starts a sleep and waits for it.
 */
const FAKE_MOCHA = `#!/bin/sh
n=$(( $(wc -l < "$FAKE_LOG") + 1 ))
echo "$*" >> "$FAKE_LOG"
if [ -n "\${FAKE_HANG:-}" ]; then sleep 1000 & echo $! > "$FAKE_HANG"; wait; fi
eval "counts=\\\${FAKE_COUNTS_$n:-}"
[ -z "$counts" ] || echo "$counts" >> "$OVERLAB_SUITE_STATS"
eval "exit \\\${FAKE_STATUS_$n:-0}"
`;

describe('scripts/test-suite.sh with stand-in mocha and tsx', function () {
  this.timeout(20_000);
  let dir = '';
  let log = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-suite-script-'));
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(SCRIPT, join(dir, 'scripts', 'test-suite.sh'));
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', '.bin', 'mocha'), FAKE_MOCHA);
    writeFileSync(join(dir, 'node_modules', '.bin', 'tsx'), '#!/bin/sh\necho "$*" > "$FAKE_SWEPT"\n');
    for (const f of ['mocha', 'tsx']) chmodSync(join(dir, 'node_modules', '.bin', f), 0o755);
    mkdirSync(join(dir, 'specs', 'integration'), { recursive: true });
    writeFileSync(join(dir, 'specs', 'integration', 'a.spec.ts'), '// a file like most\n');
    writeFileSync(join(dir, 'specs', 'integration', 'b.spec.ts'), '// what it is\n// suite: alone (it changes what every lab shares)\n');
    writeFileSync(join(dir, 'specs', 'integration', 'c.spec.ts'), '// another\n');
    log = join(dir, 'calls.log');
    writeFileSync(log, '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}) => ({ FAKE_LOG: log, FAKE_SWEPT: join(dir, 'swept'), ...extra });

  it('runs the unit specs, the files marked alone, then the others two at once, and sums the three summaries in its last line', async () => {
    const r = await execa('bash', [join(dir, 'scripts', 'test-suite.sh')], {
      reject: false,
      env: env({ FAKE_COUNTS_1: '10 0 1', FAKE_COUNTS_2: '3 0 0', FAKE_COUNTS_3: '20 2 0', FAKE_STATUS_3: '2' }),
    });
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.deep.equal([
      'specs/unit/**/*.spec.ts',
      'specs/integration/b.spec.ts',
      '--parallel --jobs 2 specs/integration/a.spec.ts specs/integration/c.spec.ts',
    ]);
    expect(r.exitCode).to.equal(1);
    expect(r.stdout.trim().split('\n').at(-1)).to.equal('mocha: 33 passed, 2 failed, 1 skipped');
    expect(r.stdout).to.include('integration spec files: 1 alone, 2 others 2 at once');
  });

  it('runs the others one after the other with OVERLAB_TEST_JOBS=1, and refuses a job count that is not a whole number', async () => {
    await execa('bash', [join(dir, 'scripts', 'test-suite.sh')], { env: env({ OVERLAB_TEST_JOBS: '1', FAKE_COUNTS_1: '1 0 0', FAKE_COUNTS_2: '1 0 0', FAKE_COUNTS_3: '1 0 0' }) });
    expect(readFileSync(log, 'utf8').trim().split('\n').at(-1)).to.equal('specs/integration/a.spec.ts specs/integration/c.spec.ts');
    const bad = await execa('bash', [join(dir, 'scripts', 'test-suite.sh')], { reject: false, env: env({ OVERLAB_TEST_JOBS: 'two' }) });
    expect(bad.exitCode).to.equal(2);
    expect(bad.stderr).to.include("OVERLAB_TEST_JOBS must be a whole number of 1 or more, not 'two'");
  });

  it('counts a mocha that ended before counting (a crash) as one failure, and says so', async () => {
    const r = await execa('bash', [join(dir, 'scripts', 'test-suite.sh')], { reject: false, env: env({ FAKE_COUNTS_1: '5 0 0', FAKE_STATUS_2: '7', FAKE_COUNTS_3: '4 0 0' }) });
    expect(r.exitCode).to.equal(1);
    expect(r.stderr).to.include('test-suite: mocha specs/integration/b.spec.ts ended with status 7 and counted nothing');
    expect(r.stdout.trim().split('\n').at(-1)).to.equal('mocha: 9 passed, 1 failed, 0 skipped');
  });

  it('ends within seconds on one SIGTERM: the running mocha and its children stopped, the labs swept (as root), status 143, no stats file left', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const hang = join(dir, 'sleep.pid');
    const child = execa('bash', [join(dir, 'scripts', 'test-suite.sh')], { reject: false, env: env({ FAKE_HANG: hang, TMPDIR: dir }) });
    for (let i = 0; i < 100 && !existsSync(hang); i++) await new Promise((r) => setTimeout(r, 50));
    const sleeper = Number(readFileSync(hang, 'utf8'));
    const signalled = Date.now();
    child.kill('SIGTERM');
    // (A child left running would hold the output open and the run would never end: bounded.)
    const r = await Promise.race([child, new Promise<undefined>((resolve) => setTimeout(resolve, 5000))]).finally(() => {
      try {
        process.kill(sleeper, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    });
    expect(r, 'the script ended').to.not.equal(undefined);
    expect(Date.now() - signalled).to.be.below(3000);
    expect(r!.exitCode).to.equal(143);
    // Gone, or a zombie its new parent has yet to reap: not running in any case.
    const state = existsSync(`/proc/${sleeper}/stat`) ? readFileSync(`/proc/${sleeper}/stat`, 'utf8').replace(/^.*\) /s, '')[0] : 'gone';
    expect(['gone', 'Z', 'X'], "the stand-in mocha's child is stopped with it").to.include(state);
    expect(readFileSync(join(dir, 'swept'), 'utf8').trim()).to.equal('specs/support/sweep.ts');
    expect(readFileSync(log, 'utf8').trim().split('\n')).to.have.length(1);
    expect(readdirSync(dir).filter((n) => n.startsWith('overlab-suite.'))).to.deep.equal([]);
  });
});

