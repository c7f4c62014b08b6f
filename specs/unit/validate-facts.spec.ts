// The stated facts on their own (harness/lab/validate/facts.ts): who acts and what it names.
import { expect } from 'chai';
import type { LabContainer } from '../../harness/lab/types.ts';
import { buildFacts } from '../../harness/lab/validate/facts.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

const containers: LabContainer[] = [
  { name: 'c1', host: 'h', image: 'i', networks: [{ network: 'a', aliases: ['web'] }], command: [] },
  { name: 'c2', host: 'h', image: 'i', networks: [{ network: 'a', aliases: [] }], command: [] },
];
const index = new Map([['c1', 0], ['c2', 1]]);

describe('validate: facts (expect)', () => {
  it('reads each fact, trimmed, with its position', () => {
    const s = section(labText`
      expect:
        - "c1 can reach c2 "
        - c2 resolves web
        - c1 cannot resolve nothing
    `);
    const facts = buildFacts(s.src, s.raw, containers, index, s.at);
    expect(s.located()).to.deep.equal([]);
    expect(facts.map(({ pos, ...f }) => ({ ...f, line: pos.line }))).to.deep.equal([
      { from: 'c1', verb: 'can reach', to: 'c2', text: 'c1 can reach c2', line: 2 },
      { from: 'c2', verb: 'resolves', to: 'web', text: 'c2 resolves web', line: 3 },
      { from: 'c1', verb: 'cannot resolve', to: 'nothing', text: 'c1 cannot resolve nothing', line: 4 },
    ]);
  });

  it('reports a container that is none, and a target that is no container (or alias, for resolve facts)', () => {
    const s = section(labText`
      expect:
        - c3 can reach c1
        - c1 can reach web
        - c1 resolves c4
    `);
    buildFacts(s.src, s.raw, containers, index, s.at);
    expect(s.located()).to.deep.equal([
      'lab.yaml:2:5: expect "c3 can reach c1": "c3" is not a container of this lab; did you mean "c1"?',
      'lab.yaml:3:5: expect "c1 can reach web": "web" is not a container of this lab (known: c1, c2)',
      'lab.yaml:4:5: expect "c1 resolves c4": "c4" is not a container or alias of this lab; did you mean "c1"?',
    ]);
  });
});
