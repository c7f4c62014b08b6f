// Isolation: containers that share no network cannot reach each other at any address, and a
// container only on internal networks has no way out of them.
import { expect } from 'chai';
import { checkIsolated } from '../../harness/probes/checks.ts';
import { factSpecs } from './define.ts';
import { pingReplyFrom } from '../../harness/probes/busybox.ts';

factSpecs('isolation', 'isolated', {
  title: (f, lab) => {
    const host = (c: string) => lab.plan.containers.find((x) => x.name === c)?.host;
    return `${f.from} on ${host(f.from)} cannot reach ${f.to} on ${host(f.to)} at any of its addresses (${f.proto})`;
  },
  probe: (f, p) => checkIsolated(p, f.from, f.to, f.proto),
});

factSpecs('internal networks', 'internal-no-route', {
  title: (f, lab) => `${f.container} on ${lab.plan.containers.find((x) => x.name === f.container)?.host} has no route out of internal network ${f.network}`,
  async probe(f, p) {
    p.address(f.container, f.network);
    const routes = await p.exec(f.container, ['ip', 'route']);
    expect(routes.exitCode, `ip route in ${p.where(f.container)}`).to.equal(0);
    expect(routes.stdout.split('\n').filter((l) => l.startsWith('default')), `default routes in ${p.where(f.container)}`).to.be.empty;
    const host = p.plan.hosts.find((h) => h.name === p.container(f.container).host)!;
    const r = await p.exec(f.container, ['ping', '-c', '1', '-W', '1', host.address]);
    expect(pingReplyFrom(r.stdout), `${p.where(f.container)} got a ping reply from its host's address ${host.address}`).to.equal(undefined);
    // 1: ping ran and got no reply (or no route); a missing ping (127) or a crash proves nothing.
    expect(r.exitCode, `ping ${host.address} from ${p.where(f.container)}: exit code (${r.stderr.trim() || 'no output'})`).to.equal(1);
  },
});
