// Overlay networks: every engine that should list a network lists it, as an overlay with the
// planned subnet (kv mode: every engine at once; swarm mode: the manager and the hosts using it).
import { expect } from 'chai';
import { factSpecs } from './define.ts';

interface NetworkSummary {
  Name: string;
  Id: string;
  Driver: string;
  Scope: string;
  IPAM?: { Config?: { Subnet?: string }[] | null };
}

factSpecs('overlay networks', 'network-present', {
  title: (f, lab) => `the engine on ${f.host} lists ${f.network} as an overlay network with subnet ${lab.plan.networks.find((n) => n.name === f.network)?.subnet}`,
  async probe(f, p) {
    const planned = p.plan.networks.find((n) => n.name === f.network)!;
    const engine = p.lab.engines.get(f.host)!;
    const started = Date.now();
    const nets = (await engine.listNetworks({ filters: { name: [f.network] } })) as NetworkSummary[];
    const listed = nets.map((n) => ({ Name: n.Name, Id: n.Id.slice(0, 12), Driver: n.Driver, Scope: n.Scope, Subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet) }));
    p.record(`engine of ${f.host}`, `docker network ls --filter name=${f.network}`, { exitCode: 0, stdout: JSON.stringify(listed, null, 2) }, Date.now() - started);
    const found = listed.find((n) => n.Name === f.network);
    expect(found, `the engine on ${f.host} does not list network ${f.network}`).to.not.equal(undefined);
    expect(found!.Driver, `the driver of ${f.network} on ${f.host}`).to.equal('overlay');
    expect(found!.Subnets, `the subnets of ${f.network} on ${f.host}`).to.deep.equal([planned.subnet]);
  },
});
