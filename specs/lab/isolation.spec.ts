// Isolation: containers that share no network cannot reach each other at any address, and a
// container only on internal networks has no way out of them.
import { expect } from 'chai';
import { everyAddress, expectNoPingReply } from './checks.ts';
import { factSpecs } from './define.ts';
import { pingReplyFrom } from '../../harness/probes/busybox.ts';

factSpecs('isolation', 'isolated', {
  title: (f, lab) => {
    const host = (c: string) => lab.plan.containers.find((x) => x.name === c)?.host;
    return `${f.from} on ${host(f.from)} cannot reach ${f.to} on ${host(f.to)} at any of its addresses (${f.proto})`;
  },
  async probe(f, p) {
    const targets = everyAddress(p, f.to);
    if (f.proto === 'icmp') return expectNoPingReply(p, f.from, targets);
    expect(targets, `${p.where(f.to)} has no address to try: the check would prove nothing`).to.not.be.empty;
    const { control } = await p.withListener(f.to, async (port, token) => {
      for (const t of targets) {
        const r = await p.exec(f.from, ['nc', '-w', '1', t.address, String(port)]);
        expect(r.stdout, `${p.where(f.from)} connected to the listener at ${t.address}:${port} (${t.what})`).to.not.include(token);
      }
    });
    expect(control?.stdout ?? '', `the listener in ${p.where(f.to)} did not answer a connection from inside it: the check proves nothing`).to.include(`overlab-${p.port()}`);
  },
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
