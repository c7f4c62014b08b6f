// The lab handle of users' specs (overlab/spec) without a live lab: it throws a typed error
// outside `overlab test`, finds the run from another instance of its module, reports n/a on the
// running test with the reason; and where a spec file that does not load failed, from the
// errors real imports throw (a syntax error, an import of nothing, a throw while loading).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NoLabUnderTestError } from '../../harness/errors.ts';
import { expandFacts } from '../../harness/lab/facts.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { clearLabUnderTest, setLabUnderTest } from '../../harness/probes/context.ts';
import { lab } from '../../harness/probes/handle.ts';
import { formatPlace, locateLoadError } from '../../harness/probes/load-error.ts';
import type { HostCapabilities } from '../../harness/lab/capabilities.ts';
import type { LabState } from '../../harness/state/store.ts';
import type { HostAccess } from '../../harness/host.ts';

const TEXT = `name: hd
hosts:
  - name: kv
    role: kv
  - name: h1
  - name: h2
networks:
  - name: a
    subnet: 10.0.4.0/24
containers:
  - { name: c0, host: h1, networks: [a] }
  - { name: c1, host: h2, networks: [a] }
`;

function caps(host: string, esp: boolean | undefined): HostCapabilities {
  const f = (present: boolean | undefined) => ({ present, evidence: 'test' });
  return { host, kernel: { ip_vs: f(true), esp: f(esp), netem: f(true) }, capture: true };
}

function setRun(capabilities: HostCapabilities[] = []) {
  const plan = planLab(parseLab(TEXT, 'hd.yaml'));
  const kv = { runner: { exec: async (argv: readonly string[]) => ({ exitCode: 3, stdout: argv.join(' '), stderr: '' }) } } as unknown as HostAccess;
  const lut = { plan: { ...plan, facts: expandFacts(plan).facts }, state: {} as LabState, hosts: new Map([['kv', kv]]), engines: new Map(), signal: new AbortController().signal, concurrency: 2, pace: 1, startedAt: 0 };
  return setLabUnderTest(lut, new Map(), capabilities);
}

describe('the lab handle of users\' specs (overlab/spec)', () => {
  afterEach(() => clearLabUnderTest());

  it('outside overlab test, every use throws NoLabUnderTestError saying to run it through overlab test', async () => {
    clearLabUnderTest();
    for (const use of [() => lab.plan, () => lab.name, () => lab.container('c0'), () => lab.notApplicable('x')]) {
      expect(use).to.throw(NoLabUnderTestError, 'overlab/spec: no lab under test: this spec file uses the lab handle, which only `overlab test` sets');
    }
    const e = await lab.reach('c0', 'c1').catch((x: unknown) => x as NoLabUnderTestError);
    expect(e).to.be.instanceOf(NoLabUnderTestError);
    expect(e!.exitCode).to.equal(64);
    expect(e!.hint).to.equal('Run it with `overlab test --spec FILE`, or name it in the lab file under specs.files.');
  });

  it('another instance of the module (another URL) finds the run the harness set, on globalThis', async () => {
    setRun();
    const other = (await import(`${pathToFileURL(join(import.meta.dirname, '../../harness/probes/handle.ts')).href}?instance=2`)) as typeof import('../../harness/probes/handle.ts');
    expect(other.lab).to.not.equal(lab);
    expect(other.lab.name).to.equal('hd');
    expect(other.lab.plan.containers.map((c) => c.name)).to.deep.equal(['c0', 'c1']);
    clearLabUnderTest();
    expect(() => other.lab.plan).to.throw(/no lab under test/);
  });

  it('names what is not in the lab, and a kv host has no engine; a host runs argv or sh -c and records the step', async () => {
    const run = setRun();
    const test = {};
    run.user.current = () => test;
    const kv = lab.host('kv');
    expect(kv).to.include({ name: 'kv', role: 'kv', address: '172.28.128.5' });
    expect(() => kv.engine).to.throw('host kv runs no engine (role kv)');
    expect(await kv.exec('c9', 'true').catch((e: unknown) => (e as Error).message)).to.equal('host kv runs no engine (role kv)');
    expect(await kv.run('echo hi')).to.deep.equal({ exitCode: 3, stdout: 'sh -c echo hi', stderr: '' });
    expect(await kv.run(['ls', '/'])).to.include({ stdout: 'ls /' });
    expect(run.user.steps.get(test)!.map((st) => [st.where, st.command, st.exitCode])).to.deep.equal([
      ['host kv', "sh -c 'echo hi'", 3],
      ['host kv', 'ls /', 3],
    ]);
    expect(() => lab.container('c9')).to.throw('container c9 is not in lab hd (c0, c1)');
    expect(() => lab.host('h9')).to.throw('host h9 is not a host of lab hd (kv, h1, h2)');
    expect(lab.container('c1')).to.include({ name: 'c1', host: 'h2' });
    expect(lab.container('c1').networks).to.deep.equal(['a']);
  });

  it('notApplicable ends the running test with its reason (from a hook: its describe), and refuses outside one', () => {
    const run = setRun();
    expect(() => lab.notApplicable('why')).to.throw('lab.notApplicable() ends a running test: call it inside an it() or a hook, not while the file loads');
    const skipped = new Error('skipped');
    const test = { type: 'test', skip: () => { throw skipped; } };
    run.user.current = () => test;
    expect(() => lab.notApplicable('no IPv6 here')).to.throw(skipped);
    expect(run.user.notApplicable.get(test)).to.equal('no IPv6 here');
    const suite = {};
    const hook = { type: 'hook', parent: suite, skip: () => { throw skipped; } };
    run.user.current = () => hook;
    expect(() => lab.notApplicable('none of these')).to.throw(skipped);
    expect(run.user.notApplicable.get(suite)).to.equal('none of these');
  });

  it('requires: n/a naming the hosts that lack a feature, nothing when all have it or nothing tells', () => {
    const run = setRun([caps('h1', true), caps('h2', false)]);
    const test = { type: 'test', skip: (): never => { throw new Error('skipped'); } };
    run.user.current = () => test;
    expect(() => lab.requires('esp')).to.throw('skipped');
    expect(run.user.notApplicable.get(test)).to.equal('kernel has no INET_ESP (CONFIG_INET_ESP) on h2: encrypted overlays (IPsec ESP)');
    expect(() => lab.requires('esp', ['h1'])).to.not.throw();
    expect(() => lab.requires('ip_vs')).to.not.throw();
    expect(() => lab.requires('ipv6' as 'esp')).to.throw('no capability ipv6: one of ip_vs, esp, netem, capture');
  });
});

describe('where a spec file that does not load failed', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-loaderr-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Imports `name` (written with `text`) as overlab test does, and locates what it threw. */
  async function place(name: string, text: string, checkOutput?: string) {
    const file = join(dir, name);
    writeFileSync(file, text);
    const error = await import(`${pathToFileURL(file).href}?run=1`).then(() => expect.fail(`${name} loaded`), (e: unknown) => e);
    const readText = (f: string) => readFileSync(f, 'utf8');
    return formatPlace(locateLoadError({ error, specFile: file, readText, ...(checkOutput ? { checkOutput } : {}) }), (f) => f.replace(`${dir}/`, ''));
  }

  it('a TypeScript syntax error (esbuild through tsx): its line and column, from 1 as editors count', async () => {
    expect(await place('syn.spec.ts', 'const a = 1;\nconst b = (;\n')).to.equal('syn.spec.ts:2:12');
  });

  it('a JavaScript syntax error in an ES module: where node --check puts it', async () => {
    const file = join(dir, 'syn.spec.mjs');
    writeFileSync(file, 'const a = 1;\n\nconst b = (;\n');
    let check = '';
    try {
      execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' });
    } catch (e) {
      check = String((e as { stderr: Buffer }).stderr);
    }
    expect(await place('syn.spec.mjs', 'const a = 1;\n\nconst b = (;\n', check)).to.equal('syn.spec.mjs:3:12');
  });

  it('an import of a file or a package that is not there: the line of that import', async () => {
    expect(await place('miss.spec.ts', "// first\nimport { x } from './nope.ts';\nconsole.log(x);\n")).to.equal('miss.spec.ts:2:19');
    expect(await place('pkg.spec.mjs', "import { y } from 'no-such-pkg/sub';\nconsole.log(y);\n")).to.equal('pkg.spec.mjs:1:19');
  });

  it('a throw while loading: the frame in the spec file, not in what it called', async () => {
    expect(await place('thr.spec.ts', "const n: number = 1;\n\nif (n) throw new Error('at load');\n")).to.equal('thr.spec.ts:3:14');
    writeFileSync(join(dir, 'helper.mjs'), "export function f() {\n  throw new TypeError('in a helper');\n}\n");
    expect(await place('calls.spec.mjs', "import { f } from './helper.mjs';\n\nf();\n")).to.equal('calls.spec.mjs:3:1');
  });

  it('an error with no place in any file of the user\'s names the spec file alone', () => {
    const error = Object.assign(new Error('odd'), { stack: 'Error: odd\n    at f (/p/node_modules/m/i.js:1:2)\n    at /work/overlab/harness/probes/handle.ts:3:4\n    at node:internal/x:5:6' });
    expect(formatPlace(locateLoadError({ error, specFile: '/x/s.spec.ts', readText: () => undefined, notTheUsers: ['/work/overlab/harness'] }))).to.equal('/x/s.spec.ts');
    expect(formatPlace(locateLoadError({ error: 'a string', specFile: '/x/s.spec.ts', readText: () => undefined }))).to.equal('/x/s.spec.ts');
  });
});
