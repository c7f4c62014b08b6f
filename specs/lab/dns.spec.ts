// Name resolution by the embedded DNS (127.0.0.11): a container resolves the names and aliases
// on the networks it shares to exactly the address there, and no name on networks it does not.
import { expectLookup, expectNoLookup, sharedNetworks } from './checks.ts';
import { factSpecs } from './define.ts';

factSpecs('name resolution', 'resolve', {
  title: (f, lab) => {
    const host = lab.plan.containers.find((x) => x.name === f.from)?.host;
    return f.name === f.target
      ? `${f.from} on ${host} resolves ${f.name} to its address on ${f.network}`
      : `${f.from} on ${host} resolves ${f.name} to the address of ${f.target} on ${f.network}`;
  },
  async probe(f, p) {
    const expected = p.address(f.target, f.network);
    // A bare name answers on the first shared network; NAME.NETWORK picks the network (libnetwork).
    const query = sharedNetworks(p, f.from, f.target).length > 1 ? `${f.name}.${f.network}` : f.name;
    await expectLookup(p, f.from, query, [expected]);
  },
});

factSpecs('name isolation', 'no-resolve', {
  title: (f, lab) => `${f.from} on ${lab.plan.containers.find((x) => x.name === f.from)?.host} cannot resolve ${f.name}`,
  probe: (f, p) => expectNoLookup(p, f.from, f.name),
});
