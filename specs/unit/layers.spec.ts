// The layering rules (.dependency-cruiser.cjs) run by dependency-cruiser itself: the tree
// passes, and a back-import of each kind in a scratch tree is caught and named.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');

function cruise(cwd: string) {
  return execa(DEPCRUISE, ['--config', CONFIG, '--output-type', 'err', 'harness'], { cwd, reject: false, all: true });
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
      file('harness/host.ts', 'export interface HostAccess { name: string }\n');
      file('harness/providers/provider.ts', "import type { HostAccess } from '../host.ts';\nexport interface Provider { hosts(): HostAccess[] }\n");
      file('harness/providers/netns/netns-provider.ts', "import type { Provider } from '../provider.ts';\nexport const netns: Provider | undefined = undefined;\n");
      file('harness/engine/client.ts', "import type { HostAccess } from '../host.ts';\nexport const engine = (h: HostAccess) => h.name;\n");
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('passes when every import goes down', async () => {
      const r = await cruise(dir);
      expect(r.exitCode, r.all).to.equal(0);
    });

    const cases: [string, string, string, string][] = [
      ['engine/ imports the provider interface', 'harness/engine/back.ts', "import type { Provider } from '../providers/provider.ts';\nexport type P = Provider;\n", 'shared-imports-provider-or-above'],
      ['the ground floor imports a provider', 'harness/wait.ts', "import { netns } from './providers/netns/netns-provider.ts';\nexport const w = netns;\n", 'shared-imports-provider-or-above'],
      ['a provider imports another provider', 'harness/providers/ssh/ssh-provider.ts', "import { netns } from '../netns/netns-provider.ts';\nexport const s = netns;\n", 'provider-imports-another-provider'],
      ['harness/ imports the specs', 'harness/lifecycle/test.ts', "import { x } from '../../specs/lab/context.ts';\nexport const t = x;\n", 'lifecycle-imports-cli-or-specs'],
    ];
    for (const [what, path, text, rule] of cases) {
      it(`fails, naming ${rule}, when ${what}`, async () => {
        file(path, text);
        file('specs/lab/context.ts', 'export const x = 1;\n');
        const r = await cruise(dir);
        expect(r.exitCode, r.all).to.not.equal(0);
        expect(r.all).to.include(`error ${rule}: ${path}`);
      });
    }
  });
});
