// The hosts section on its own (harness/lab/validate/hosts.ts): names, addresses, defaults.
import { expect } from 'chai';
import { parseCidr, type Cidr } from '../../harness/lab/ipv4.ts';
import { buildHosts } from '../../harness/lab/validate/hosts.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

const subnet = (text: string) => parseCidr(text) as Cidr;

describe('validate: hosts', () => {
  it('fills in every default and numbers addresses from .5 of the subnet', () => {
    const s = section(labText`
      name: t
      hosts:
        - name: h1
        - name: h2
          role: kv
    `);
    const hosts = buildHosts(s.raw, subnet('172.28.128.0/24'), s.at);
    expect(s.located()).to.deep.equal([]);
    expect(hosts).to.deep.equal([
      { name: 'h1', address: '172.28.128.5', role: 'docker', box: 'ubuntu/focal64', cpus: 1, memory: 1024, ssh: { address: '172.28.128.5', user: 'root', port: 22 } },
      { name: 'h2', address: '172.28.128.6', role: 'kv', box: 'ubuntu/focal64', cpus: 1, memory: 1024, ssh: { address: '172.28.128.6', user: 'root', port: 22 } },
    ]);
  });

  it('keeps given settings, takes the lab box, and skips addresses already given', () => {
    const s = section(labText`
      name: t
      box: debian/bookworm64
      hosts:
        - name: h1
        - name: h2
          address: 10.9.0.5
          cpus: 2
          memory: 2048
          ssh: { address: 192.168.1.2, user: admin, port: 2222, key: ~/.ssh/id, hostKey: "SHA256:abc" }
    `);
    const hosts = buildHosts(s.raw, subnet('10.9.0.0/24'), s.at);
    expect(s.located()).to.deep.equal([]);
    expect(hosts[0]).to.include({ address: '10.9.0.6', box: 'debian/bookworm64' });
    expect(hosts[1]).to.deep.equal({
      name: 'h2',
      address: '10.9.0.5',
      role: 'docker',
      box: 'debian/bookworm64',
      cpus: 2,
      memory: 2048,
      ssh: { address: '192.168.1.2', user: 'admin', port: 2222, key: '~/.ssh/id', hostKey: 'SHA256:abc' },
    });
  });

  it('reports a duplicate name at the repeat', () => {
    const s = section(labText`
      name: t
      hosts:
        - name: h1
        - name: h1
    `);
    buildHosts(s.raw, subnet('172.28.128.0/24'), s.at);
    expect(s.located()).to.deep.equal(['lab.yaml:4:11: duplicate host name "h1" (first at hosts[0])']);
  });

  it('reports addresses that are not IPv4, outside the subnet, reserved or taken', () => {
    const s = section(labText`
      name: t
      hosts:
        - { name: h1, address: 10.1.1 }
        - { name: h2, address: 10.2.0.9 }
        - { name: h3, address: 10.1.0.0 }
        - { name: h4, address: 10.1.0.7 }
        - { name: h5, address: 10.1.0.7 }
    `);
    buildHosts(s.raw, subnet('10.1.0.0/24'), s.at);
    expect(s.located()).to.deep.equal([
      'lab.yaml:3:26: host "h1": "10.1.1" is not an IPv4 address',
      'lab.yaml:4:26: host "h2": address 10.2.0.9 is outside the private subnet 10.1.0.0/24',
      'lab.yaml:5:26: host "h3": address 10.1.0.0 is the network or broadcast address of 10.1.0.0/24',
      'lab.yaml:7:26: host "h5": address 10.1.0.7 is already used by host "h4"',
    ]);
  });

  it('needs an address for each host of provider ssh', () => {
    const s = section(labText`
      name: t
      provider: ssh
      hosts:
        - name: h1
    `);
    buildHosts(s.raw, subnet('172.28.128.0/24'), s.at);
    expect(s.located()).to.deep.equal(['lab.yaml:4:5: host "h1": provider ssh uses machines that exist; give the address of its private network interface']);
  });

  it('reports a host with no free address left in the subnet', () => {
    const s = section(labText`
      name: t
      network: { subnet: 10.1.0.0/29 }
      hosts:
        - name: h1
        - name: h2
        - name: h3
    `);
    const hosts = buildHosts(s.raw, subnet('10.1.0.0/29'), s.at);
    expect(hosts.map((h) => h.address)).to.deep.equal(['10.1.0.5', '10.1.0.6', '10.1.0.8']);
    expect(s.located()).to.deep.equal([
      'lab.yaml:6:5: host "h3": no free address left in 10.1.0.0/29',
    ]);
  });

  it('reports a subnet too small for the hosts and the switch, at network.subnet', () => {
    const s = section(labText`
      name: t
      network: { subnet: 10.1.0.0/29 }
      hosts: [{ name: h1, address: 10.1.0.1 }, { name: h2, address: 10.1.0.2 }, { name: h3, address: 10.1.0.3 },
              { name: h4, address: 10.1.0.4 }, { name: h5, address: 10.1.0.5 }, { name: h6, address: 10.1.0.6 }]
    `);
    buildHosts(s.raw, subnet('10.1.0.0/29'), s.at);
    expect(s.located()).to.deep.equal([
      'lab.yaml:2:20: network.subnet 10.1.0.0/29 is too small: it needs room for 6 hosts and the switch (7 usable addresses; it has 6)',
    ]);
  });

  it('needs a docker host', () => {
    const s = section(labText`
      name: t
      hosts:
        - { name: k1, role: kv }
    `);
    buildHosts(s.raw, subnet('172.28.128.0/24'), s.at);
    expect(s.located()).to.deep.equal(['lab.yaml:3:3: the lab has no host with role docker']);
  });

  it('leaves addresses empty when the subnet is bad (reported by the subnet rule)', () => {
    const s = section(labText`
      name: t
      hosts:
        - name: h1
    `);
    expect(buildHosts(s.raw, undefined, s.at)[0]!.address).to.equal('');
    expect(s.located()).to.deep.equal([]);
  });
});
