// Counts in messages agree in number.
import { expect } from 'chai';
import { count, plural } from '../../harness/plural.ts';

describe('plural', () => {
  it('says "1 network" and "0 networks", "2 networks"', () => {
    expect([0, 1, 2].map((n) => count(n, 'network'))).to.deep.equal(['0 networks', '1 network', '2 networks']);
  });

  it('adds "es" after s, x, z, ch and sh', () => {
    expect(count(1, 'process')).to.equal('1 process');
    expect(count(3, 'process')).to.equal('3 processes');
    expect(plural(2, 'box')).to.equal('boxes');
    expect(plural(2, 'switch')).to.equal('switches');
  });

  it('takes an irregular plural', () => {
    expect(plural(1, 'has', 'have')).to.equal('has');
    expect(plural(4, 'has', 'have')).to.equal('have');
  });
});
