// Name resolution by the embedded DNS (127.0.0.11): a container resolves the names and aliases
// on the networks it shares to exactly the address there, and no name on networks it does not.
import { checkResolve, expectNoLookup } from '../../harness/probes/checks.ts';
import { factSpecs } from './define.ts';

factSpecs('name resolution', 'resolve', {
  title: (f, lab) => {
    const host = lab.plan.containers.find((x) => x.name === f.from)?.host;
    return f.name === f.target
      ? `${f.from} on ${host} resolves ${f.name} to its address on ${f.network}`
      : `${f.from} on ${host} resolves ${f.name} to the address of ${f.target} on ${f.network}`;
  },
  probe: (f, p) => checkResolve(p, f.from, f.name, f.target, f.network),
});

factSpecs('name isolation', 'no-resolve', {
  title: (f, lab) => `${f.from} on ${lab.plan.containers.find((x) => x.name === f.from)?.host} cannot resolve ${f.name}`,
  probe: (f, p) => expectNoLookup(p, f.from, f.name),
});
