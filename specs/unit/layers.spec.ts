// The layering rules (.dependency-cruiser.cjs) run by dependency-cruiser itself: the tree
// passes, and in a scratch tree with a module on each floor, a planted break of each rule (an
// import up each floor, into a provider's folder, a cycle of values and one of types only, an
// import of nothing) is caught and named.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { expect } from 'chai';
import { cruise as depcruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

/** `depcruise --config .dependency-cruiser.cjs harness` in `cwd`, in this process (one load of the TypeScript parser for every case). */
async function cruise(cwd: string): Promise<{ exitCode: number; all: string }> {
  const options = await extractDepcruiseOptions(CONFIG);
  const tsConfig = extractTSConfig(join(cwd, 'tsconfig.json'));
  const r = await depcruise(['harness'], { ...options, baseDir: cwd, outputType: 'err' }, undefined, { tsConfig });
  return { exitCode: r.exitCode, all: String(r.output) };
}

describe('layering (dependency-cruiser)', function () {
  this.timeout(60_000);

  it("the project's own harness/ breaks no layering rule", async () => {
    const r = await cruise(ROOT);
    expect(r.exitCode, r.all).to.equal(0);
  });

  describe('in a scratch tree', () => {
    let dir: string;
    const file = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'overlab-layers-'));
      copyFileSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
      // One small module on each floor, every import going down: the tree the cases break.
      file('harness/host.ts', 'export interface HostAccess { name: string }\n');
      file('harness/state/store.ts', 'export class StateStore { dir = "" }\n');
      file('harness/lab/plan.ts', "import type { StateStore } from '../state/store.ts';\nexport const plan = (s: StateStore) => s.dir;\n");
      file('harness/kv/run.ts', "import type { HostAccess } from '../host.ts';\nexport const kv = (h: HostAccess) => h.name;\n");
      file('harness/engine/client.ts', "import type { HostAccess } from '../host.ts';\nexport const engine = (h: HostAccess) => h.name;\n");
      file('harness/providers/provider.ts', "import type { HostAccess } from '../host.ts';\nexport interface Provider { hosts(): HostAccess[] }\n");
      file('harness/providers/index.ts', "import type { Provider } from './provider.ts';\nexport const providers: Provider[] = [];\n");
      file('harness/providers/netns/netns-provider.ts', "import type { Provider } from '../provider.ts';\nexport const netns: Provider | undefined = undefined;\n");
      file('harness/lifecycle/lab.ts', "import { providers } from '../providers/index.ts';\nimport { kv } from '../kv/run.ts';\nexport const lab = () => [providers, kv];\n");
      file('harness/cli/options.ts', 'export interface GlobalOptions { lab?: string }\n');
      file('harness/cli/up.ts', "import type { GlobalOptions } from './options.ts';\nimport { lab } from '../lifecycle/lab.ts';\nexport const up = (o: GlobalOptions) => [o, lab];\n");
      file('specs/lab/context.ts', 'export const x = 1;\n');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('passes when every import goes down', async () => {
      const r = await cruise(dir);
      expect(r.exitCode, r.all).to.equal(0);
    });

    /** What a case plants: files written over the scratch tree, the rule that must fail, and the file it names. */
    interface Planted {
      what: string;
      files: Record<string, string>;
      rule: string;
      at: string;
    }
    const cases: Planted[] = [
      {
        what: 'the host contract imports the state (planning)',
        files: { 'harness/host.ts': "import type { StateStore } from './state/store.ts';\nexport interface HostAccess { name: string; store: StateStore }\n" },
        rule: 'ground-imports-above',
        at: 'harness/host.ts',
      },
      {
        what: 'the ground floor imports a provider',
        files: { 'harness/wait.ts': "import { netns } from './providers/netns/netns-provider.ts';\nexport const w = netns;\n" },
        rule: 'ground-imports-above',
        at: 'harness/wait.ts',
      },
      {
        what: 'lab/ imports kv/ (machinery)',
        files: { 'harness/lab/plan.ts': "import { kv } from '../kv/run.ts';\nexport const plan = kv;\n" },
        rule: 'planning-imports-above',
        at: 'harness/lab/plan.ts',
      },
      {
        what: 'engine/ imports the provider interface',
        files: { 'harness/engine/back.ts': "import type { Provider } from '../providers/provider.ts';\nexport type P = Provider;\n" },
        rule: 'machinery-imports-above',
        at: 'harness/engine/back.ts',
      },
      {
        what: 'a provider imports lifecycle',
        files: { 'harness/providers/netns/netns-provider.ts': "import { lab } from '../../lifecycle/lab.ts';\nexport const netns = lab;\n" },
        rule: 'provider-imports-above',
        at: 'harness/providers/netns/netns-provider.ts',
      },
      {
        what: 'lifecycle imports the CLI (a type only)',
        files: { 'harness/lifecycle/up.ts': "import type { GlobalOptions } from '../cli/options.ts';\nexport type O = GlobalOptions;\n" },
        rule: 'lifecycle-imports-above',
        at: 'harness/lifecycle/up.ts',
      },
      {
        what: 'lifecycle imports the library it is used by',
        files: { 'harness/api/lab.ts': 'export const Lab = 1;\n', 'harness/lifecycle/test.ts': "import { Lab } from '../api/lab.ts';\nexport const t = Lab;\n" },
        rule: 'lifecycle-imports-above',
        at: 'harness/lifecycle/test.ts',
      },
      {
        what: "lifecycle reaches into a provider's folder",
        files: { 'harness/lifecycle/down.ts': "import { netns } from '../providers/netns/netns-provider.ts';\nexport const down = netns;\n" },
        rule: 'provider-internals-from-above',
        at: 'harness/lifecycle/down.ts',
      },
      {
        what: "the CLI reaches into a provider's folder",
        files: { 'harness/cli/ssh.ts': "import { netns } from '../providers/netns/netns-provider.ts';\nexport const ssh = netns;\n" },
        rule: 'provider-internals-from-above',
        at: 'harness/cli/ssh.ts',
      },
      {
        what: 'a provider imports another provider',
        files: { 'harness/providers/ssh/ssh-provider.ts': "import { netns } from '../netns/netns-provider.ts';\nexport const s = netns;\n" },
        rule: 'provider-imports-another-provider',
        at: 'harness/providers/ssh/ssh-provider.ts',
      },
      {
        what: 'harness/ imports the specs',
        files: { 'harness/lifecycle/test.ts': "import { x } from '../../specs/lab/context.ts';\nexport const t = x;\n" },
        rule: 'harness-imports-specs',
        at: 'harness/lifecycle/test.ts',
      },
      {
        what: 'two modules of a floor import each other',
        files: {
          'harness/lab/load.ts': "import { check } from './validate.ts';\nexport const load = () => check;\n",
          'harness/lab/validate.ts': "import { load } from './load.ts';\nexport const check = () => load;\n",
        },
        rule: 'no-circular',
        at: 'harness/lab/load.ts',
      },
      {
        what: 'a command imports a type from main.ts, which imports the command (type-only and dynamic imports)',
        files: {
          'harness/cli/main.ts': "export interface Options { json?: boolean }\nexport const run = () => import('./status.ts');\n",
          'harness/cli/status.ts': "import type { Options } from './main.ts';\nexport const status = (o: Options) => o;\n",
        },
        rule: 'no-circular',
        at: 'harness/cli/main.ts',
      },
      {
        what: 'an import names no file',
        files: { 'harness/quote.ts': "import { q } from './quoting.ts';\nexport const quote = q;\n" },
        rule: 'not-to-unresolvable',
        at: 'harness/quote.ts',
      },
    ];
    for (const c of cases) {
      it(`fails, naming ${c.rule}, when ${c.what}`, async () => {
        for (const [path, text] of Object.entries(c.files)) file(path, text);
        const r = await cruise(dir);
        expect(r.exitCode, r.all).to.not.equal(0);
        expect(r.all).to.include(`error ${c.rule}: ${c.at}`);
      });
    }

    it('has a planted case for every rule of the configuration', async () => {
      const { default: config } = (await import(CONFIG)) as { default: { forbidden: { name: string }[] } };
      expect(new Set(cases.map((c) => c.rule))).to.deep.equal(new Set(config.forbidden.map((r) => r.name)));
    });
  });
});
