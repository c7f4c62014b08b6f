// The fault specs (`overlab test --faults`): each puts one fault on the live lab through the
// hosts' runners and service managers (harness/faults/apply.ts), asserts what must hold during
// it and after it is undone, measures the recovery, and always undoes it. One `it` per fact of
// harness/lab/fault-facts.ts; the runner runs them one at a time.
import { expect } from 'chai';
import type Docker from 'dockerode';
import * as faults from '../../harness/faults/apply.ts';
import { NotApplicable, type Probe } from '../../harness/probes/probe.ts';
import { swarmNodes } from '../../harness/engine/contents.ts';
import { factSpecs } from '../lab/define.ts';
import { pings, target, within, withFault, type Restored } from './support.ts';

const engineOf = (p: Probe, host: string): Docker => {
  const e = p.lab.engines.get(host);
  if (!e) throw new Error(`no engine for ${host}`);
  return e;
};

/** Tries to create an overlay network on `host`; the engine's error, or undefined when it was created (and removed again). */
async function createProbeNetwork(p: Probe, host: string): Promise<string | undefined> {
  const name = `overlab-fault-${p.index}-${Date.now() % 100000}`;
  const started = Date.now();
  try {
    const net = await engineOf(p, host).createNetwork({ Name: name, Driver: 'overlay', CheckDuplicate: true });
    p.record(`engine of ${host}`, `docker network create -d overlay ${name}`, { exitCode: 0, stdout: net.id }, Date.now() - started);
    await net.remove().catch(() => {});
    return undefined;
  } catch (e) {
    const message = (e as Error).message;
    p.record(`engine of ${host}`, `docker network create -d overlay ${name}`, { exitCode: 1, stdout: '', stderr: message }, Date.now() - started);
    return message;
  }
}

/** Creating an overlay network on the host works: the KV store (kv mode) answers again, within `boundS`. */
const creates = (p: Probe, host: string, boundS: number): Restored => ({
  what: `creating an overlay network on ${host} once the KV store is back`,
  boundS,
  holds: async () => (await createProbeNetwork(p, host)) === undefined,
});

/** Both containers reach each other by name again. */
const reachBack = (p: Probe, f: { from: string; to: string; boundS: number }, after: string): Restored => ({
  what: `${p.where(f.to)} and ${f.from} reaching each other by name ${after}`,
  boundS: f.boundS,
  holds: async () => (await pings(p, f.to, f.from)) && (await pings(p, f.from, f.to)),
});

factSpecs('KV store outage', 'kv-outage-reach', {
  title: (f, lab) => `with the KV store on ${f.kvHost} down, ${f.from} on ${host(lab, f.from)} still reaches ${f.to} on ${host(lab, f.to)} over ${f.network} by address and by name`,
  async probe(f, p) {
    const t = target(p);
    await withFault(p, {
      put: () => faults.kvDown(t),
      undo: () => faults.kvUp(t),
      during: async () => {
        expect(await pings(p, f.from, p.address(f.to, f.network)), `${p.where(f.from)} got no ping reply from ${f.to}'s address with the KV store down`).to.equal(true);
        expect(await pings(p, f.from, f.to), `${p.where(f.from)} got no ping reply from ${f.to} by name with the KV store down`).to.equal(true);
      },
      restored: creates(p, host(p.lab, f.from)!, f.boundS),
      whole: reachBack(p, f, 'with the KV store up'),
    });
  },
});

factSpecs('KV store outage', 'kv-outage-create', {
  title: (f) => `with the KV store on ${f.kvHost} down, creating an overlay network on ${f.host} fails with an error naming the store`,
  async probe(f, p) {
    const t = target(p);
    await withFault(p, {
      put: () => faults.kvDown(t),
      undo: () => faults.kvUp(t),
      during: async () => {
        const error = await createProbeNetwork(p, f.host);
        expect(error, `an overlay network was created on ${f.host} with the KV store down`).to.be.a('string');
        expect(error, 'the engine\'s error names neither the store nor its address').to.match(new RegExp(`store|etcd|consul|zookeeper|${p.lab.hosts.get(f.kvHost)?.address.replaceAll('.', '\\.') ?? 'kv'}`, 'i'));
      },
      restored: creates(p, f.host, f.boundS),
    });
  },
});

factSpecs('KV store outage', 'kv-recovered-create', {
  title: (f) => `after kv-up, creating an overlay network on ${f.host} works again within ${f.boundS} s (the time is measured)`,
  async probe(f, p) {
    const t = target(p);
    p.measure('recovery.ms', await withFault(p, { put: () => faults.kvDown(t), undo: () => faults.kvUp(t), restored: creates(p, f.host, f.boundS) }));
  },
});

factSpecs('unreachable swarm manager', 'manager-outage-reach', {
  title: (f, lab) => `with the swarm manager ${f.host} unreachable (tcp ${f.port} cut), ${f.from} on ${host(lab, f.from)} and ${f.to} on ${host(lab, f.to)} keep reaching each other over ${f.network}`,
  async probe(f, p) {
    const t = target(p);
    const manager = engineOf(p, f.host);
    const workers = p.plan.dockerHosts.filter((h) => h !== f.host);
    const seen = async (state: string) => (await swarmNodes(manager)).filter((n) => workers.includes(n.hostname)).every((n) => n.state === state);
    const recovered = await withFault(p, {
      put: () => faults.partition(t, f.host, { tcpPort: f.port }),
      undo: () => faults.unpartition(faults.hostOf(t, f.host)),
      during: async () => {
        // Proof the manager is cut off: it marks the workers down once their heartbeats stop.
        p.measure('manager.lost.ms', await within(p, `the manager ${f.host} to see ${workers.join(', ')} as down`, 45, () => seen('down')));
        expect(await pings(p, f.from, f.to), `${p.where(f.from)} got no ping reply from ${f.to} by name with the manager unreachable`).to.equal(true);
        expect(await pings(p, f.to, f.from), `${p.where(f.to)} got no ping reply from ${f.from} by name with the manager unreachable`).to.equal(true);
      },
      restored: { what: `the manager ${f.host} to see ${workers.join(', ')} ready again`, boundS: 30, holds: () => seen('ready') },
    });
    p.measure('recovery.ms', recovered);
  },
});

factSpecs('partition', 'partition-heal', {
  title: (f, lab) => `while ${f.host} is partitioned, ${f.to} on it is unreachable from ${f.from} on ${host(lab, f.from)}, and reachable again by name within ${f.boundS} s of heal (the time is measured)`,
  async probe(f, p) {
    const t = target(p);
    const address = p.address(f.to, f.network);
    const recovered = await withFault(p, {
      put: () => faults.partition(t, f.host),
      undo: () => faults.unpartition(faults.hostOf(t, f.host)),
      during: async () => {
        expect(await pings(p, f.from, address), `${p.where(f.from)} got a ping reply from ${f.to} (${address}) while ${f.host} was partitioned`).to.equal(false);
      },
      restored: { what: `${p.where(f.from)} reaching ${f.to} by name after heal`, boundS: f.boundS, holds: () => pings(p, f.from, f.to) },
    });
    p.measure('recovery.ms', recovered);
  },
});

factSpecs('engine restart', 'engine-restart', {
  title: (f, lab) => `after the engine on ${f.host} restarts, ${f.to} comes back and reaches ${f.from} on ${host(lab, f.from)} by name within ${f.boundS} s (the time is measured)`,
  async probe(f, p) {
    const t = target(p);
    const started = Date.now();
    // A restart is a stop and a start: the start is the fault's undo, so a run that keeps
    // faults in place leaves the engine stopped, and reach does not come back.
    await withFault(p, {
      put: () => faults.stopEngine(t, f.host),
      undo: async () => {
        await faults.startEngine(t, f.host);
        p.measure('engine.ms', Date.now() - started);
      },
      restored: reachBack(p, f, 'after the restart'),
    });
    p.measure('recovery.ms', Date.now() - started);
  },
});

factSpecs('engine kill', 'engine-kill', {
  title: (f, lab) => `after the engine on ${f.host} is killed (SIGKILL) and healed, ${f.to} comes back and reaches ${f.from} on ${host(lab, f.from)} by name within ${f.boundS} s (the time is measured)`,
  async probe(f, p) {
    const t = target(p);
    let healedAt = 0;
    const recovered = await withFault(p, {
      put: () => faults.killEngine(t, f.host),
      undo: async () => {
        healedAt = Date.now();
        await faults.startEngine(t, f.host);
        p.measure('engine.ms', Date.now() - healedAt);
      },
      during: async () => {
        const answered = await engineOf(p, f.host).ping().then(() => true, () => false);
        expect(answered, `the engine on ${f.host} still answers after SIGKILL`).to.equal(false);
      },
      restored: reachBack(p, f, 'after heal'),
    });
    p.measure('recovery.ms', recovered);
  },
});

factSpecs('slow link', 'latency', {
  title: (f, lab) => `with ${f.ms} ms of delay on ${f.host}'s link, ${f.from} on ${host(lab, f.from)} still reaches ${f.to} and the round trip reflects the delay`,
  async probe(f, p) {
    const t = target(p);
    const why = await faults.netemUnavailable(faults.hostOf(t, f.host));
    if (why) throw new NotApplicable(why);
    const address = p.address(f.to, f.network);
    const roundTrip = async (): Promise<number | undefined> => {
      const r = await p.exec(f.from, ['ping', '-c', '3', '-W', String(Math.ceil((f.ms * 4) / 1000) + 1), address]);
      return r.exitCode === 0 ? Number(/= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1]) : undefined;
    };
    await withFault(p, {
      put: () => faults.latency(t, f.host, f.ms),
      undo: () => faults.clearQdisc(faults.hostOf(t, f.host)),
      during: async () => {
        const avg = await roundTrip();
        expect(avg, `${p.where(f.from)} got no ping reply from ${f.to} with ${f.ms} ms of delay`).to.be.a('number');
        p.measure('rtt.ms', Math.round(avg!));
        // Added on the egress of one end only: every round trip crosses it once.
        expect(avg, `the average round trip to ${f.to} (ms) with ${f.ms} ms of delay`).to.be.at.least(f.ms);
      },
      restored: { what: `the round trip from ${f.from} to ${f.to} below ${f.ms} ms once the delay is taken away`, boundS: f.boundS, holds: async () => ((await roundTrip()) ?? Infinity) < f.ms },
    });
  },
});

function host(lab: { plan: { containers: { name: string; host: string }[] } }, c: string): string | undefined {
  return lab.plan.containers.find((x) => x.name === c)?.host;
}
