// examples/user-specs as a user runs it (netns, as root): a copy of its folder under a lab name of
// the tests' own, `overlab test --destroy always` on it, both spec files' cases passing (the ESP
// one n/a on a kernel without it), and nothing of the lab left afterwards (26 s; 38 s with the machine busy).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { leftovers, NOTHING_LEFT, ROOT, Scratch, type TestRun } from './support/labs.ts';

describe('examples/user-specs as typed (netns)', function () {
  this.timeout(120_000);
  const EXAMPLE = 'us-example';

  it('its lab comes up, its TypeScript and JavaScript specs pass (one n/a here), and it goes down leaving nothing', async () => {
    const s = new Scratch();
    try {
      // The example's folder under a name of the tests' own; its specs import overlab/spec as a user's would.
      cpSync(join(ROOT, 'examples', 'user-specs'), join(s.dir, 'ex'), { recursive: true });
      writeFileSync(join(s.dir, 'ex', 'package.json'), '{"type":"module"}');
      const file = join(s.dir, 'ex', 'lab.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: .*$/m, `name: ${EXAMPLE}`));
      const r = await s.run(['test', file, '--json', '--destroy', 'always']);
      const run = JSON.parse(r.stdout) as TestRun;
      const mine = run.cases.filter((c) => (c as { file?: string }).file);
      expect(mine.map((c) => `${(c as { file?: string }).file} ${c.state}`), r.stderr).to.deep.equal([
        ...Array(3).fill('ex/checks/overlays.spec.ts passed'),
        // The kernel here has no INET_ESP (docs/specs.md); where it has, this one passes.
        `ex/checks/overlays.spec.ts ${mine[3]?.reason ? 'n/a' : 'passed'}`,
        ...Array(4).fill('ex/checks/engines.spec.js passed'),
      ]);
      expect(r.exitCode, r.stderr).to.equal(0);
    } finally {
      await s.run(['down', '--lab', EXAMPLE, '--force']);
      s.dispose();
    }
    expect(await leftovers(EXAMPLE)).to.deep.equal(NOTHING_LEFT);
  });
});

