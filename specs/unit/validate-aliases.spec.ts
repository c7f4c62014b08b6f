// The alias rule on its own (harness/lab/validate/aliases.ts): one answer per name on a network.
import { expect } from 'chai';
import { checkAliases } from '../../harness/lab/validate/aliases.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

function run(text: string): string[] {
  const s = section(text);
  const index = new Map((s.raw.containers ?? []).map((c, i) => [c.name, i] as const).reverse());
  checkAliases(s.raw, index, s.at);
  return s.located();
}

describe('validate: aliases', () => {
  it('lets an alias repeat on other networks and the container\'s own name be its alias', () => {
    expect(run(labText`
      containers:
        - { name: c1, host: h, aliases: [c1, web], networks: [a] }
        - { name: c2, host: h, networks: [{ name: b, aliases: [web] }] }
    `)).to.deep.equal([]);
  });

  it('reports an alias that is another container\'s name', () => {
    expect(run(labText`
      containers:
        - { name: c1, host: h, aliases: [c2], networks: [a] }
        - { name: c2, host: h, networks: [{ name: a, aliases: [c1] }] }
    `)).to.deep.equal([
      'lab.yaml:2:36: container "c1": alias "c2" is the name of another container; DNS would answer "c2" with either',
      'lab.yaml:3:58: container "c2": alias "c1" is the name of another container; DNS would answer "c1" with either',
    ]);
  });

  it('reports an alias given to two containers on one network, at the later one', () => {
    expect(run(labText`
      containers:
        - { name: c1, host: h, aliases: [web], networks: [a, b] }
        - { name: c2, host: h, networks: [{ name: b, aliases: [web] }] }
    `)).to.deep.equal([
      'lab.yaml:3:58: container "c2": alias "web" on network "b" is already an alias of "c1"; DNS would answer it with either',
    ]);
  });
});
