// Reachability over the overlays: containers that share a network reach each other across
// hosts, by address and by name, with ping and over tcp; and full-size packets cross whole.
import { expect } from 'chai';
import { factSpecs } from './define.ts';
import { ipCounters } from '../../harness/probes/busybox.ts';
import { checkReach } from '../../harness/probes/checks.ts';
import type { Probe } from '../../harness/probes/probe.ts';

factSpecs('reachability', 'reach', {
  title: (f, lab) => {
    const host = (c: string) => lab.plan.containers.find((x) => x.name === c)?.host;
    return `${f.from} on ${host(f.from)} reaches ${f.to} on ${host(f.to)} over ${f.network} by ${f.by} (${f.proto})`;
  },
  probe: (f, p) => checkReach(p, f.from, f.to, { network: f.network, by: f.by, proto: f.proto }),
});

factSpecs('MTU', 'mtu', {
  title: (f, lab) => {
    const host = (c: string) => lab.plan.containers.find((x) => x.name === c)?.host;
    return `${f.from} on ${host(f.from)} sends ${f.mtu}-byte packets whole to ${f.to} on ${host(f.to)} over ${f.network}, and none larger (MTU ${f.mtu})`;
  },
  async probe(f, p) {
    const source = p.address(f.from, f.network);
    const target = p.address(f.to, f.network);
    const addrs = await p.exec(f.from, ['ip', '-o', '-4', 'addr', 'show']);
    const ifname = new RegExp(`^\\d+:\\s+(\\S+)\\s+inet ${source.replaceAll('.', '\\.')}/`, 'm').exec(addrs.stdout)?.[1];
    expect(ifname, `no interface of ${p.where(f.from)} has ${source}`).to.be.a('string');
    const mtu = await p.exec(f.from, ['cat', `/sys/class/net/${ifname}/mtu`]);
    expect(Number(mtu.stdout.trim()), `the MTU of ${ifname}, the ${f.network} interface of ${p.where(f.from)}`).to.equal(f.mtu);
    // busybox ping cannot set don't-fragment, so the kernel's own counters tell whether a packet
    // left whole: Ip FragCreates (sender) and ReasmReqds (receiver) in /proc/net/snmp. They are
    // per network namespace, and only MTU probes send packets this large; run them one at a time.
    await p.alone(async () => {
      const before = await counters(p, f.from, f.to);
      const full = await p.exec(f.from, ['ping', '-c', '1', '-W', '2', '-s', String(f.mtu - 28), target]);
      expect(full.exitCode, `a ${f.mtu}-byte packet (ping -s ${f.mtu - 28}) from ${p.where(f.from)} to ${target} got no reply`).to.equal(0);
      const after = await counters(p, f.from, f.to);
      expect(after.from['FragCreates']! - before.from['FragCreates']!, `fragments ${f.from} made of the ${f.mtu}-byte packet (Ip FragCreates)`).to.equal(0);
      expect(after.to['ReasmReqds']! - before.to['ReasmReqds']!, `fragments ${f.to} received of the ${f.mtu}-byte packet (Ip ReasmReqds)`).to.equal(0);
      await p.exec(f.from, ['ping', '-c', '1', '-W', '2', '-s', String(f.mtu - 27), target]);
      const over = await counters(p, f.from, f.to);
      expect(
        over.from['FragCreates']! - after.from['FragCreates']!,
        `fragments ${f.from} made of a ${f.mtu + 1}-byte packet (ping -s ${f.mtu - 27}); none means it left whole, larger than the MTU`,
      ).to.be.at.least(2);
    });
  },
});

async function counters(p: Probe, from: string, to: string) {
  const [a, b] = [await p.exec(from, ['cat', '/proc/net/snmp']), await p.exec(to, ['cat', '/proc/net/snmp'])];
  return { from: ipCounters(a.stdout), to: ipCounters(b.stdout) };
}
