// The library's parts that need no live lab: the names Lab.up gives (unique, valid lab names,
// property-tested), a lab written as an object checked as a file is and its problems named by
// key, and the handle bound to a lab outside `overlab test` (n/a throws saying what to do,
// `lacks` tells why a capability is missing).
import { expect } from 'chai';
import fc from 'fast-check';
import { Lab, uniqueName } from '../../harness/api/lab.ts';
import { formatProblem, LabFileError } from '../../harness/errors.ts';
import type { HostCapabilities } from '../../harness/lab/capabilities.ts';
import { expandFacts } from '../../harness/lab/facts.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { checkCopyName, MAX_LAB_NAME } from '../../harness/lifecycle/copies.ts';
import { LabHandle } from '../../harness/probes/handle.ts';
import type { LabState } from '../../harness/state/store.ts';

describe('the library (no live lab)', () => {
  describe('the name Lab.up gives a lab', () => {
    it("is the lab's name and four hex digits", () => {
      expect(uniqueName('tutorial', () => '3f9a')).to.equal('tutorial-3f9a');
    });

    it('is a valid lab name of at most 24 characters for every lab name, never ending the base in a dash', () => {
      const labName = fc.stringMatching(new RegExp(`^[a-z][a-z0-9-]{0,${MAX_LAB_NAME - 1}}$`));
      fc.assert(
        fc.property(labName, fc.stringMatching(/^[0-9a-f]{4}$/), (base, hex) => {
          const name = uniqueName(base, () => hex);
          expect(name.length).to.be.at.most(MAX_LAB_NAME);
          expect(checkCopyName(name)).to.equal(name);
          expect(name).to.match(new RegExp(`[a-z0-9]-${hex}$`));
        }),
      );
    });

    it('differs between two calls (random suffix)', () => {
      const names = new Set(Array.from({ length: 20 }, () => uniqueName('lab')));
      expect(names.size).to.be.greaterThan(15);
    });
  });

  describe('a lab written as an object', () => {
    it('is checked as a lab file is, and its problems name the key, not a line of text nobody wrote', async () => {
      const e = (await Lab.up({ name: 'obj', hosts: [{ name: 'd0' }, { name: 'd1', rol: 'docker' } as never] }).catch((x: unknown) => x)) as LabFileError;
      expect(e).to.be.instanceOf(LabFileError);
      expect(e!.message).to.equal('1 problem in lab file:\nLab.up(object): unknown key "rol" in hosts[1]; did you mean "role"?');
      expect(e!.problems[0]).to.include({ file: 'Lab.up(object)', line: 0 });
    });

    it('a problem with a place is file:line:column, one without (line 0) the file alone', () => {
      expect(formatProblem({ file: 'a.yaml', line: 3, column: 5, message: 'x' })).to.equal('a.yaml:3:5: x');
      expect(formatProblem({ file: 'Lab.up(object)', line: 0, column: 0, message: 'x' })).to.equal('Lab.up(object): x');
    });
  });

  describe('the handle bound to a lab, outside overlab test', () => {
    const plan = planLab(parseLab('name: hb\nengine:\n  mode: swarm\nhosts:\n  - name: d0\n  - name: d1\n', 'hb.yaml'));
    const absent = (host: string): HostCapabilities => ({ host, kernel: { ip_vs: { present: false, evidence: 'not set' }, esp: { present: true, evidence: 'y' }, netem: { present: undefined, evidence: '?' } }, capture: true });
    const handle = new LabHandle(() => ({
      lab: { plan: { ...plan, facts: expandFacts(plan).facts }, state: {} as LabState, hosts: new Map(), engines: new Map(), signal: new AbortController().signal, concurrency: 2, pace: 1, startedAt: 0 },
      capabilities: [absent('d0'), { ...absent('d1'), kernel: { ...absent('d1').kernel, ip_vs: { present: true, evidence: 'y' } } }],
    }));

    it('reads the lab it is bound to', () => {
      expect(handle.name).to.equal('hb');
      expect(handle.plan.dockerHosts).to.deep.equal(['d0', 'd1']);
    });

    it('lacks() says why a capability is missing on which hosts, undefined where all have it (netem unknown counts as there)', () => {
      expect(handle.lacks('ip_vs')).to.match(/IP_VS .* on d0\b/);
      expect(handle.lacks('ip_vs', ['d1'])).to.equal(undefined);
      expect(handle.lacks('esp')).to.equal(undefined);
      expect(handle.lacks('netem')).to.equal(undefined);
      expect(() => handle.lacks('ipvs' as never)).to.throw('no capability ipvs: one of ip_vs, esp, netem, capture');
    });

    it('notApplicable() and a failing requires() throw, naming the reason and mocha\'s this.skip()', () => {
      expect(() => handle.notApplicable('no VIPs here')).to.throw("not applicable: no VIPs here (lab.notApplicable() reports n/a inside `overlab test`; in a test suite of your own, call mocha's this.skip())");
      expect(() => handle.requires('ip_vs')).to.throw(/not applicable: .*IP_VS.*this\.skip\(\)/);
      expect(() => handle.requires('esp')).to.not.throw();
    });
  });
});
