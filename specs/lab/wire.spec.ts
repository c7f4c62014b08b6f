// What crosses the underlay: traffic between two containers on different hosts is captured on
// the sending host (tcpdump, through the host's runner) while one pings the other. A plain
// overlay's shows as VXLAN on udp 4789 carrying the containers' own addresses; an encrypted
// one's as ESP between the hosts, with IPsec states on both, and no VXLAN in the clear.
import { expect } from 'chai';
import { ProbeError, type Probe } from '../../harness/probes/probe.ts';
import { factSpecs } from './define.ts';

/** How long a capture lasts (times the pace): the pings start 1.5 s in and take under a second. */
const CAPTURE_S = 4;

/** Runs a command on a lab host through its runner, recorded as a step. */
async function onHost(p: Probe, host: string, argv: string[], timeoutMs: number) {
  const access = p.lab.hosts.get(host);
  if (!access) throw new ProbeError(`no access to host ${host}`);
  const started = Date.now();
  const r = await access.runner.exec(argv, { timeoutMs });
  p.record(`host ${host}`, argv.join(' '), r, Date.now() - started);
  return r;
}

factSpecs('the underlay', 'overlay-wire', {
  title: (f, lab) => {
    const host = (c: string) => lab.plan.containers.find((x) => x.name === c)?.host;
    return f.encrypted
      ? `traffic on ${f.network} from ${host(f.from)} to ${host(f.to)} crosses the underlay as ESP, with IPsec states on both hosts, and no VXLAN in the clear`
      : `traffic on ${f.network} from ${host(f.from)} to ${host(f.to)} crosses the underlay as VXLAN on udp 4789`;
  },
  async probe(f, p) {
    const [a, b] = [p.container(f.from).host, p.container(f.to).host];
    const [ha, hb] = [p.plan.hosts.find((h) => h.name === a)!, p.plan.hosts.find((h) => h.name === b)!];
    const source = p.address(f.from, f.network);
    const target = p.address(f.to, f.network);
    if (f.encrypted) {
      for (const h of [a, b]) {
        const x = await onHost(p, h, ['ip', 'xfrm', 'state'], 10_000);
        expect(x.stdout, `IPsec (xfrm) ESP states on ${h} for ${f.network}`).to.match(/proto esp/);
      }
    }
    // One capture at a time: each sees every probe's traffic between the two hosts.
    await p.alone(async () => {
      const filter = `host ${hb.address} and (udp port 4789 or esp)`;
      const capture = onHost(p, a, ['timeout', String(CAPTURE_S * p.lab.pace), 'tcpdump', '-i', 'any', '-n', '-l', '-c', '1000', filter], (CAPTURE_S * p.lab.pace + 5) * 1000);
      await new Promise((r) => setTimeout(r, 1500 * p.lab.pace));
      await p.exec(f.from, ['ping', '-c', '4', '-i', '0.2', '-W', '2', target]);
      const seen = (await capture).stdout;
      const ours = new RegExp(`${source.replaceAll('.', '\\.')} > ${target.replaceAll('.', '\\.')}`);
      const vxlan = seen.split('\n').filter((l) => /VXLAN|\.4789:/.test(l));
      if (f.encrypted) {
        expect(seen, `tcpdump on ${a} (${ha.address}) shows no ESP to ${b} while ${f.from} pinged ${f.to}`).to.match(/ESP\(spi=/);
        expect(seen, `tcpdump on ${a} shows ${f.network}'s traffic (${source} > ${target}) in clear VXLAN`).to.not.match(ours);
      } else {
        expect(vxlan, `tcpdump on ${a} (${ha.address}) shows no VXLAN (udp 4789) to ${b} while ${f.from} pinged ${f.to}`).to.not.be.empty;
        expect(seen, `tcpdump on ${a}: ${f.from}'s pings (${source} > ${target}) inside the VXLAN`).to.match(ours);
      }
    });
  },
});
