// The pure part of the overlay forwarding check: which peers each host must have programmed,
// and which of their entries a sandbox's tables lack.
import { expect } from 'chai';
import type Docker from 'dockerode';
import { ensureOverlaysProgrammed, expectedPeers, missingEntries, parseSandboxTables, type DataplaneHost, type OverlayPeer } from '../../harness/engine/dataplane.ts';
import type { ExecResult } from '../../harness/host.ts';

const hosts = new Map([
  ['h1', '172.28.128.6'],
  ['h2', '172.28.128.7'],
]);

describe('overlay forwarding check: expected peers', () => {
  it('gives each host the containers on its overlays that run on other hosts, and none of its own', () => {
    const peers = expectedPeers(
      [
        { name: 'a', host: 'h1', networks: { front: { ip: '10.0.1.2', mac: '02:42:0A:00:01:02' }, back: { ip: '10.0.2.2', mac: '02:42:0a:00:02:02' } } },
        { name: 'b', host: 'h1', networks: { front: { ip: '10.0.1.3', mac: '02:42:0a:00:01:03' } } },
        { name: 'c', host: 'h2', networks: { front: { ip: '10.0.1.4', mac: '02:42:0a:00:01:04' }, bridge: { ip: '172.17.0.2', mac: '02:42:ac:11:00:02' } } },
      ],
      ['front', 'back'],
      hosts,
    );
    expect(peers.get('h1')).to.deep.equal([{ network: 'front', container: 'c', host: 'h2', vtep: '172.28.128.7', ip: '10.0.1.4', mac: '02:42:0a:00:01:04' }]);
    expect(peers.get('h2')!.map((p) => `${p.container}@${p.network} ${p.mac}`)).to.deep.equal(['a@front 02:42:0a:00:01:02', 'b@front 02:42:0a:00:01:03']);
  });

  it('expects nothing of a network no other host has a container on', () => {
    const peers = expectedPeers([{ name: 'a', host: 'h1', networks: { back: { ip: '10.0.2.2', mac: '02:42:0a:00:02:02' } } }], ['back'], hosts);
    expect(peers.get('h1')).to.deep.equal([]);
  });
});

describe('overlay forwarding check: reading a sandbox', () => {
  const peer: OverlayPeer = { network: 'my-net', container: 'c1', host: 'h2', vtep: '172.28.128.7', ip: '10.0.4.3', mac: '02:42:0a:00:04:03' };
  const neigh = '10.0.4.3 dev vxlan0 lladdr 02:42:0a:00:04:03 PERMANENT\n';
  const programmed = '02:42:0a:00:04:03 dev vxlan0 master br0 \n02:42:0a:00:04:03 dev vxlan0 dst 172.28.128.7 link-netnsid 0 self permanent\n';

  it('finds both entries of a programmed peer', () => {
    expect(missingEntries(peer, parseSandboxTables(`${programmed}--neigh--\n${neigh}`))).to.deep.equal([]);
  });

  it('names the forwarding entry when only the bridge and neighbour entries are there (what dockerd 20.10 left in CI)', () => {
    expect(missingEntries(peer, { fdb: '02:42:0a:00:04:03 dev vxlan0 master br0 \n', neigh })).to.deep.equal(['the forwarding entry 02:42:0a:00:04:03 -> 172.28.128.7']);
  });

  it('does not count an entry the VXLAN device learned from traffic, nor one to another host', () => {
    const learned = '02:42:0a:00:04:03 dev vxlan0 dst 172.28.128.7 link-netnsid 0 self \n';
    const elsewhere = '02:42:0a:00:04:03 dev vxlan0 dst 172.28.128.77 link-netnsid 0 self permanent\n';
    expect(missingEntries(peer, { fdb: learned, neigh })).to.have.length(1);
    expect(missingEntries(peer, { fdb: elsewhere, neigh })).to.have.length(1);
  });

  it('names the neighbour entry when it is missing or not permanent', () => {
    expect(missingEntries(peer, { fdb: programmed, neigh: '' })).to.deep.equal(['the neighbour entry 10.0.4.3 -> 02:42:0a:00:04:03']);
    expect(missingEntries(peer, { fdb: programmed, neigh: '10.0.4.3 dev vxlan0 lladdr 02:42:0a:00:04:03 STALE\n' })).to.have.length(1);
    expect(missingEntries(peer, { fdb: programmed, neigh: '10.0.4.31 dev vxlan0 lladdr 02:42:0a:00:04:03 PERMANENT\n' })).to.have.length(1);
  });
});

describe('overlay forwarding check: what it does with what it reads (fake hosts)', () => {
  /** Two hosts, one container each on my-net; `tables(host)` is what reading that host's sandbox gives. */
  const lab = (tables: (host: string) => ExecResult) => {
    const restarted: string[] = [];
    const hostOf = (name: string, address: string, container: string, ip: string, mac: string): DataplaneHost => ({
      name,
      address,
      execRoot: '/x',
      containers: [container],
      runner: { exec: async () => tables(name) },
      docker: {
        getContainer: () => ({
          inspect: async () => ({ NetworkSettings: { Networks: { 'my-net': { IPAddress: ip, MacAddress: mac } } } }),
          restart: async () => void restarted.push(`${container} on ${name}`),
        }),
        getNetwork: () => ({ inspect: async () => ({ Id: 'b1078843c1aaaa' }) }),
      } as unknown as Docker,
    });
    const hosts = [hostOf('h1', '172.28.128.6', 'c0', '10.0.4.2', '02:42:0a:00:04:02'), hostOf('h2', '172.28.128.7', 'c1', '10.0.4.3', '02:42:0a:00:04:03')];
    return { hosts, restarted };
  };
  const programmed = (mac: string, ip: string, vtep: string): ExecResult => ({
    exitCode: 0,
    stdout: `${mac} dev vxlan0 dst ${vtep} link-netnsid 0 self permanent\n--neigh--\n${ip} dev vxlan0 lladdr ${mac} PERMANENT\n`,
    stderr: '',
  });
  const h1Good = programmed('02:42:0a:00:04:03', '10.0.4.3', '172.28.128.7');
  const h2Good = programmed('02:42:0a:00:04:02', '10.0.4.2', '172.28.128.6');

  it('reports nothing and restarts nothing when every entry is there', async () => {
    const { hosts, restarted } = lab((h) => (h === 'h1' ? h1Good : h2Good));
    const r = await ensureOverlaysProgrammed(hosts, ['my-net'], new AbortController().signal, { programMs: 100, repairedMs: 100 });
    expect(r).to.include({ peers: 2 });
    expect(r.warnings).to.deep.equal([]);
    expect(restarted).to.deep.equal([]);
  });

  it('still checks the other hosts when one cannot be read, and says which was not checked', async () => {
    const { hosts, restarted } = lab((h) => (h === 'h1' ? { exitCode: 127, stdout: '', stderr: 'sh: nsenter: not found' } : h2Good));
    const r = await ensureOverlaysProgrammed(hosts, ['my-net'], new AbortController().signal, { programMs: 100, repairedMs: 100 });
    expect(r.warnings.map((w) => w.message)).to.deep.equal(['the overlay forwarding tables of h1 were not checked: reading the sandbox of my-net exited 127: sh: nsenter: not found']);
    expect(restarted).to.deep.equal([]);
  });

  it('restarts the lacking host\'s container once, and says the entries are still missing when the restart did not help', async () => {
    const { hosts, restarted } = lab((h) => (h === 'h1' ? { exitCode: 0, stdout: '--neigh--\n', stderr: '' } : h2Good));
    const r = await ensureOverlaysProgrammed(hosts, ['my-net'], new AbortController().signal, { programMs: 100, repairedMs: 100 });
    expect(restarted).to.deep.equal(['c0 on h1']);
    expect(r.programmedMs).to.equal(undefined);
    expect(r.warnings.map((w) => w.message)).to.deep.equal([
      'h1 lacks the neighbour entry 10.0.4.3 -> 02:42:0a:00:04:03 and the forwarding entry 02:42:0a:00:04:03 -> 172.28.128.7 for c1 on h2 (my-net) 0 s after the containers started (the engine missed the peer); restarted c0 on h1',
      'h1 lacks the neighbour entry 10.0.4.3 -> 02:42:0a:00:04:03 and the forwarding entry 02:42:0a:00:04:03 -> 172.28.128.7 for c1 on h2 (my-net) even after the restart; the reach specs will fail',
    ]);
  });
});
