// The control plane: in kv mode every engine registered in the cluster store; in swarm mode
// every docker host is a ready node of the swarm.
import { expect } from 'chai';
import { registeredNodes } from '../../harness/kv/run.ts';
import { factSpecs } from './define.ts';
import { ProbeError } from '../../harness/probes/probe.ts';

factSpecs('cluster store', 'kv-registered', {
  title: (f, lab) => `every docker host (${f.hosts.join(', ')}) is registered in the ${lab.state.kv?.type ?? lab.plan.kv?.candidates[0]?.type} store on ${lab.plan.kv?.host}`,
  async probe(f, p) {
    const kv = p.plan.kv;
    if (!kv) throw new ProbeError('the plan has no KV store');
    const chosen = p.lab.state.kv?.type;
    const store = kv.candidates.find((c) => c.type === chosen);
    if (!store) throw new ProbeError(`the lab state records no KV store among ${kv.candidates.map((c) => c.type).join(', ')} (state kv: ${chosen ?? 'none'})`);
    const access = p.lab.hosts.get(kv.host);
    if (!access) throw new ProbeError(`no access to the kv host ${kv.host}`);
    const started = Date.now();
    const keys = await registeredNodes(store, access);
    p.record(`host ${kv.host}`, `list the keys under docker/nodes in ${store.type} at ${kv.address}:${store.port}`, { exitCode: 0, stdout: keys.join('\n') }, Date.now() - started);
    const expected = f.hosts.map((h) => `${p.plan.hosts.find((x) => x.name === h)!.address}:${p.plan.engine.advertisePort}`);
    const missing = expected.filter((k) => !keys.includes(k));
    expect(missing, `engines missing under docker/nodes in ${store.type} (registered: ${keys.join(', ') || 'none'})`).to.deep.equal([]);
  },
});

interface SwarmNode {
  ID: string;
  Description: { Hostname: string };
  Status: { State: string; Addr?: string };
  Spec: { Role: string };
}

factSpecs('swarm', 'swarm-ready', {
  title: (f) => `every docker host (${f.hosts.join(', ')}) is a ready node of the swarm`,
  async probe(f, p) {
    const manager = p.plan.dockerHosts[0]!;
    const engine = p.lab.engines.get(manager);
    if (!engine) throw new ProbeError(`no engine for the manager ${manager}`);
    let started = Date.now();
    const nodes = (await engine.listNodes()) as SwarmNode[];
    const table = nodes.map((n) => `${n.ID.slice(0, 12)} ${n.Description.Hostname} ${n.Status.State} ${n.Spec.Role}`).join('\n');
    p.record(`engine of ${manager}`, 'docker node ls', { exitCode: 0, stdout: table }, Date.now() - started);
    for (const h of f.hosts) {
      // The manager notices a node that left only when its heartbeats stop: ask the node too.
      const hostEngine = p.lab.engines.get(h);
      if (!hostEngine) throw new ProbeError(`no engine for host ${h}`);
      started = Date.now();
      const swarm = ((await hostEngine.info()) as { Swarm?: { LocalNodeState?: string; NodeID?: string } }).Swarm ?? {};
      p.record(`engine of ${h}`, 'docker info (Swarm)', { exitCode: 0, stdout: `LocalNodeState: ${swarm.LocalNodeState}\nNodeID: ${swarm.NodeID}` }, Date.now() - started);
      expect(swarm.LocalNodeState, `the swarm state of the engine on ${h}`).to.equal('active');
      const node = nodes.find((n) => n.ID === swarm.NodeID);
      expect(node, `node ${swarm.NodeID} of ${h} in docker node ls on ${manager}`).to.not.equal(undefined);
      expect(node!.Description.Hostname, `the hostname of node ${swarm.NodeID}`).to.equal(p.plan.hosts.find((x) => x.name === h)!.hostname);
      expect(node!.Status.State, `the state of node ${node!.Description.Hostname} in docker node ls on ${manager}`).to.equal('ready');
    }
  },
});

/** One ping from a host to an address: the machine's ping, else busybox's (netns hosts run this machine's programs). */
const PING_SCRIPT = 'if command -v ping >/dev/null 2>&1; then exec ping -c 1 -W 2 "$1"; else exec busybox ping -c 1 -W 2 "$1"; fi';

factSpecs('engines alone', 'engines-alone', {
  title: (f) => `every docker host (${f.hosts.join(', ')}) runs an engine that answers and reaches the others' addresses, ready for a swarm of your own`,
  async probe(f, p) {
    for (const h of f.hosts) {
      const engine = p.lab.engines.get(h);
      const access = p.lab.hosts.get(h);
      if (!engine || !access) throw new ProbeError(`no engine or host access for ${h}`);
      let started = Date.now();
      const info = (await engine.info()) as { ServerVersion?: string; Swarm?: { LocalNodeState?: string } };
      p.record(`engine of ${h}`, 'docker info', { exitCode: 0, stdout: `ServerVersion: ${info.ServerVersion}\nSwarm: ${info.Swarm?.LocalNodeState}` }, Date.now() - started);
      expect(info.ServerVersion, `the version the engine on ${h} reports`).to.be.a('string');
      for (const other of f.hosts.filter((o) => o !== h)) {
        const address = p.plan.hosts.find((x) => x.name === other)!.address;
        started = Date.now();
        const r = await access.runner.exec(['sh', '-c', PING_SCRIPT, 'ping', address], { timeoutMs: 10_000 });
        p.record(`host ${h}`, `ping -c 1 ${address} (${other})`, r, Date.now() - started);
        expect(r.exitCode, `ping from ${h} to ${other} (${address}): ${r.stderr.trim() || r.stdout.trim()}`).to.equal(0);
      }
    }
  },
});
