// The pure part of the overlay forwarding check: which peers each host must have programmed,
// and which of their entries a sandbox's tables lack.
import { expect } from 'chai';
import { expectedPeers, missingEntries, parseSandboxTables, type OverlayPeer } from '../../harness/engine/dataplane.ts';

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
    expect(missingEntries(peer, { fdb: '02:42:0a:00:04:03 dev vxlan0 master br0 \n', neigh })).to.deep.equal(['forwarding entry 02:42:0a:00:04:03 -> 172.28.128.7']);
  });

  it('does not count an entry the VXLAN device learned from traffic, nor one to another host', () => {
    const learned = '02:42:0a:00:04:03 dev vxlan0 dst 172.28.128.7 link-netnsid 0 self \n';
    const elsewhere = '02:42:0a:00:04:03 dev vxlan0 dst 172.28.128.77 link-netnsid 0 self permanent\n';
    expect(missingEntries(peer, { fdb: learned, neigh })).to.have.length(1);
    expect(missingEntries(peer, { fdb: elsewhere, neigh })).to.have.length(1);
  });

  it('names the neighbour entry when it is missing or not permanent', () => {
    expect(missingEntries(peer, { fdb: programmed, neigh: '' })).to.deep.equal(['neighbour entry 10.0.4.3 -> 02:42:0a:00:04:03']);
    expect(missingEntries(peer, { fdb: programmed, neigh: '10.0.4.3 dev vxlan0 lladdr 02:42:0a:00:04:03 STALE\n' })).to.have.length(1);
    expect(missingEntries(peer, { fdb: programmed, neigh: '10.0.4.31 dev vxlan0 lladdr 02:42:0a:00:04:03 PERMANENT\n' })).to.have.length(1);
  });
});
