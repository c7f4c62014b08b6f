// The lab file's own `expect` lines, each proved as stated: can reach and cannot reach (icmp),
// resolves and cannot resolve.
import { basename } from 'node:path';
import { everyAddress, expectLookup, expectNoLookup, expectNoPingReply, expectPingReply, sharedNetworks } from '../../harness/probes/checks.ts';
import { factSpecs } from './define.ts';
import type { Probe } from '../../harness/probes/probe.ts';

factSpecs('stated in the lab file', 'stated', {
  title: ({ fact }) => `${fact.text} (${basename(fact.pos.file)}:${fact.pos.line})`,
  async probe({ fact }, p) {
    switch (fact.verb) {
      case 'can reach':
        return expectPingReply(p, fact.from, fact.to, everyAddress(p, fact.to).map((a) => a.address));
      case 'cannot reach':
        return expectNoPingReply(p, fact.from, everyAddress(p, fact.to));
      case 'resolves':
        return expectLookup(p, fact.from, fact.to, namedAddresses(p, fact.from, fact.to), 'anyOf');
      case 'cannot resolve':
        return expectNoLookup(p, fact.from, fact.to);
    }
  },
});

/** Addresses of the containers called `name` (or aliased so) on networks `from` is attached to. */
function namedAddresses(p: Probe, from: string, name: string): string[] {
  const found = new Set<string>();
  for (const c of p.plan.containers) {
    if (c.name === from) continue;
    for (const a of c.networks) {
      if ((c.name === name || a.aliases.includes(name)) && sharedNetworks(p, from, c.name).includes(a.network)) found.add(p.address(c.name, a.network));
    }
  }
  return [...found];
}
