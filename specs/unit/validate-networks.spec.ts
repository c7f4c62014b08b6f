// The networks section on its own (harness/lab/validate/networks.ts): names, subnets, gateways.
import { expect } from 'chai';
import { parseCidr, type Cidr } from '../../harness/lab/ipv4.ts';
import type { Lab } from '../../harness/lab/types.ts';
import { buildNetworks } from '../../harness/lab/validate/networks.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

const hostSubnet = parseCidr('172.28.128.0/24') as Cidr;

function run(text: string, mode: Lab['engine']['mode'] = 'kv') {
  const s = section(text);
  const nets = buildNetworks(s.raw, mode, hostSubnet, s.at);
  return { ...nets, located: s.located() };
}

describe('validate: networks', () => {
  it('defaults the gateway to the first address, attachable, not internal, not encrypted', () => {
    const { networks, index, cidrs, located } = run(labText`
      networks:
        - { name: front, subnet: 10.0.1.0/24 }
        - { name: back, subnet: 10.0.2.0/24, gateway: 10.0.2.254, internal: true, attachable: false }
    `);
    expect(located).to.deep.equal([]);
    expect(networks).to.deep.equal([
      { name: 'front', subnet: '10.0.1.0/24', gateway: '10.0.1.1', internal: false, encrypted: false, attachable: true },
      { name: 'back', subnet: '10.0.2.0/24', gateway: '10.0.2.254', internal: true, encrypted: false, attachable: false },
    ]);
    expect([...index]).to.deep.equal([['front', 0], ['back', 1]]);
    expect(cidrs.map((c) => [c.name, c.i])).to.deep.equal([['front', 0], ['back', 1]]);
  });

  it('reports a duplicate name and a name every engine has', () => {
    expect(run(labText`
      networks:
        - { name: n, subnet: 10.0.1.0/24 }
        - { name: n, subnet: 10.0.2.0/24 }
        - { name: bridge, subnet: 10.0.3.0/24 }
    `).located).to.deep.equal([
      'lab.yaml:3:13: duplicate network name "n" (first at networks[0])',
      'lab.yaml:4:13: network "bridge": every Docker engine already has a network of that name; choose another name',
    ]);
  });

  it('reports subnets that are bad, public, too small, or overlap ingress, the hosts or another network', () => {
    const { located, cidrs } = run(
      labText`
        networks:
          - { name: a, subnet: 10.0.1.0/33 }
          - { name: b, subnet: 8.8.8.0/24 }
          - { name: c, subnet: 10.0.1.0/31 }
          - { name: d, subnet: 10.0.0.0/16 }
          - { name: e, subnet: 172.28.0.0/16 }
          - { name: f, subnet: 10.0.4.0/24 }
      `,
      'swarm',
    );
    expect(located).to.deep.equal([
      'lab.yaml:2:24: network "a": prefix /33 is longer than 32',
      'lab.yaml:3:24: network "b": subnet 8.8.8.0/24 is public address space; use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)',
      'lab.yaml:4:24: network "c": subnet 10.0.1.0/31 is too small for a gateway and a container; use /30 or shorter (e.g. /24)',
      "lab.yaml:5:24: network \"d\": subnet 10.0.0.0/16 overlaps the swarm's ingress network 10.0.0.0/24; pick another, e.g. 10.0.4.0/24",
      'lab.yaml:6:24: network "e": subnet 172.28.0.0/16 overlaps the private subnet 172.28.128.0/24',
      'lab.yaml:7:24: network "f": subnet 10.0.4.0/24 overlaps network "d" (10.0.0.0/16)',
    ]);
    expect(cidrs.map((c) => c.name)).to.deep.equal(['d', 'e', 'f']);
  });

  it('reports a gateway that is not an address, or not a usable one of the subnet', () => {
    expect(run(labText`
      networks:
        - { name: a, subnet: 10.0.1.0/24, gateway: gw }
        - { name: b, subnet: 10.0.2.0/24, gateway: 10.0.2.255 }
    `).located).to.deep.equal([
      'lab.yaml:2:46: network "a": gateway "gw" is not an IPv4 address',
      'lab.yaml:3:46: network "b": gateway 10.0.2.255 is not a usable address of 10.0.2.0/24',
    ]);
  });

  it('reports an encrypted overlay in mode kv, not in swarm mode', () => {
    const text = 'networks: [{ name: a, subnet: 10.0.1.0/24, encrypted: true }]\n';
    expect(run(text).located).to.deep.equal(['lab.yaml:1:55: network "a": encrypted overlays need engine.mode swarm (the swarm distributes the IPsec keys)']);
    expect(run(text, 'swarm').located).to.deep.equal([]);
  });
});
