// Every rule of the lab file: a broken lab must be rejected with a message that says what is
// wrong, at the file:line:column of the offending node.
import { expect } from 'chai';
import { LabFileError } from '../../harness/errors.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { expectOnlyProblem, expectProblem, labText, problemsOf } from './lab-text.ts';

describe('lab file validation', () => {
  describe('YAML', () => {
    it('reports a syntax error at the offending token', () => {
      const text = labText`
        name: t
        hosts:
          - name: h1
           cpus: 2
      `;
      expectProblem(text, 4, 4, 'YAML: ');
    });

    it('reports an unclosed quote where the string opens', () => {
      const text = labText`
        name: t
        hosts:
          - name: "h1
      `;
      expectOnlyProblem(text, 3, 11, 'YAML: ', 'never closed');
    });

    it('reports a tab used as indentation', () => {
      const text = 'name: t\nhosts:\n\t- name: h1\n';
      expectProblem(text, 3, 1, 'YAML: ', 'Tabs');
    });

    it('reports a duplicate key at the repeat, naming the line of the first', () => {
      const text = labText`
        name: t
        hosts:
          - name: h1
            cpus: 1
            cpus: 2
      `;
      expectOnlyProblem(text, 5, 5, 'duplicate key "cpus"', 'first set at line 4');
    });

    it('reports a duplicate top-level key', () => {
      const text = labText`
        name: t
        hosts: [{name: h1}]
        name: u
      `;
      expectOnlyProblem(text, 3, 1, 'duplicate key "name"', 'first set at line 1');
    });

    it('reports an alias to an anchor that does not exist instead of crashing', () => {
      const text = labText`
        name: t
        hosts:
          - name: *nowhere
      `;
      expectOnlyProblem(text, 3, 11, 'alias *nowhere');
    });

    it('reports an alias explosion instead of expanding it', () => {
      const text = labText`
        a: &a [x, x, x, x, x, x, x, x, x]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        name: t
        hosts: [{name: h1}]
      `;
      expectOnlyProblem(text, 1, 1, 'YAML: Excessive alias count');
    });

    it('reports an empty file, and one holding only comments', () => {
      expectOnlyProblem('', 1, 1, 'the lab file is empty');
      expectOnlyProblem('# nothing yet\n', 1, 1, 'the lab file is empty');
    });

    it('reports a file that is not a mapping', () => {
      expectOnlyProblem('- name: t\n', 1, 1, 'the lab file must be a mapping, not a list');
    });
  });

  describe('structure (the JSON schema)', () => {
    it('reports a value of the wrong type', () => {
      const text = labText`
        name: t
        hosts:
          - name: h1
            cpus: "two"
      `;
      expectOnlyProblem(text, 4, 11, 'hosts[0].cpus must be a whole number, not the string "two"');
    });

    it('tells to quote a version YAML reads as a number', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
          - name: h1
        engine:
          version: 20.10
      `;
      expectOnlyProblem(text, 7, 12, 'engine.version must be a string, not the number 20.1', 'write it in quotes: "20.10"');
    });

    it('reports an unknown top-level key with the nearest valid key', () => {
      const text = labText`
        name: t
        host:
          - name: h1
      `;
      expectProblem(text, 2, 1, 'unknown key "host"', 'did you mean "hosts"?');
      expectProblem(text, 1, 1, 'missing the required key "hosts"');
      expect(problemsOf(text)).to.have.lengthOf(2);
    });

    it('reports an unknown nested key with the nearest valid key', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
          - name: h1
            adress: 172.28.128.9
      `;
      expectOnlyProblem(text, 6, 5, 'unknown key "adress" in hosts[1]', 'did you mean "address"?');
    });

    it('lists the known keys when no key is near', () => {
      const text = labText`
        name: t
        hosts: [{name: h1}]
        engine:
          flavour: vanilla
      `;
      expectOnlyProblem(text, 4, 3, 'unknown key "flavour" in engine', 'version, mode, install, advertisePort');
    });

    it('reports an unknown key in a network entry of a container, next to another entry of the wrong type', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: ca
            host: h1
            networks: [{name: n1, alias: [x]}]
          - name: cb
            host: h1
            networks: [42]
      `;
      expectProblem(text, 7, 27, 'unknown key "alias" in containers[0].networks[0]', 'did you mean "aliases"?');
      expectProblem(text, 10, 16, 'containers[1].networks[0] must be a string or a mapping, not the integer 42');
      expect(problemsOf(text)).to.have.lengthOf(2);
    });

    it('reports an unknown enum value with the choices', () => {
      const text = labText`
        name: t
        provider: virtualbox
        hosts: [{name: h1}]
      `;
      expectOnlyProblem(text, 2, 11, 'provider must be one of auto, vagrant, netns, ssh, not the string "virtualbox"');
    });

    it('suggests the enum value a typo was meant to be', () => {
      const text = labText`
        name: t
        hosts: [{name: h1}]
        engine:
          mode: swram
      `;
      expectOnlyProblem(text, 4, 9, 'engine.mode must be one of kv, swarm', 'did you mean "swarm"?');
    });

    it('reports a missing required key at the mapping that lacks it', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: n1
      `;
      expectOnlyProblem(text, 4, 5, 'networks[0] is missing the required key "subnet"');
    });

    it('reports an empty host list', () => {
      expectOnlyProblem('name: t\nhosts: []\n', 2, 8, 'hosts must list at least 1 item');
    });

    it('reports numbers out of range with the limit', () => {
      const text = labText`
        name: t
        hosts:
          - name: h1
            memory: 64
            ssh: {port: 70000}
      `;
      expectProblem(text, 4, 13, 'hosts[0].memory must be at least 128');
      expectProblem(text, 5, 17, 'hosts[0].ssh.port must be at most 65535');
    });

    it('reports a name that is not a DNS label, with the rule', () => {
      const text = labText`
        name: t
        hosts:
          - name: Host_1
      `;
      expectOnlyProblem(text, 3, 11, 'hosts[0].name "Host_1" is not valid', 'lower-case letters, digits and dashes', 'at most 31');
    });
  });

  describe('names', () => {
    it('reports a duplicate host name', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
          - name: h1
          - name: h1
      `;
      expectOnlyProblem(text, 6, 11, 'duplicate host name "h1" (first at hosts[1])');
    });

    it('reports a duplicate network name', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: n1
            subnet: 10.0.1.0/24
          - name: n1
            subnet: 10.0.2.0/24
      `;
      expectOnlyProblem(text, 6, 11, 'duplicate network name "n1" (first at networks[0])');
    });

    it('reports a duplicate container name', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: c1
            host: h1
            networks: [n1]
          - name: c1
            host: h1
            networks: [n1]
      `;
      expectOnlyProblem(text, 8, 11, 'duplicate container name "c1" (first at containers[0])');
    });

    it('reports a container named like a host', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: h1
            host: h1
            networks: [n1]
      `;
      expectOnlyProblem(text, 5, 11, 'container "h1" has the name of a host');
    });

    it('reports a network named like one every engine already has', () => {
      const text = labText`
        name: t
        hosts: [{name: h1}]
        engine: {mode: swarm}
        networks:
          - name: ingress
            subnet: 10.0.1.0/24
      `;
      expectOnlyProblem(text, 5, 11, 'network "ingress": every Docker engine already has a network of that name');
    });
  });

  describe('addresses', () => {
    it('reports a private subnet that is not a CIDR', () => {
      const text = labText`
        name: t
        network:
          subnet: 172.28.128.0
        hosts: [{name: kv, role: kv}, {name: h1}]
      `;
      expectOnlyProblem(text, 3, 11, 'network.subnet: "172.28.128.0" is not a CIDR (expected a.b.c.d/n)');
    });

    it('reports a subnet with host bits set, naming the network meant', () => {
      const text = labText`
        name: t
        network:
          subnet: 172.28.128.1/24
        hosts: [{name: kv, role: kv}, {name: h1}]
      `;
      expectOnlyProblem(text, 3, 11, 'has host bits set; the network is 172.28.128.0/24');
    });

    it('reports an overlay subnet with a bad address or prefix', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: a
            subnet: 10.0.0.300/24
          - name: b
            subnet: 10.0.1.0/33
          - name: c
            subnet: 10.0.2.0/31
          - name: d
            subnet: " 10.0.3.0/24"
      `;
      expectProblem(text, 5, 13, 'network "a": "10.0.0.300" is not an IPv4 address');
      expectProblem(text, 7, 13, 'network "b": prefix /33 is longer than 32');
      expectProblem(text, 9, 13, 'network "c": subnet 10.0.2.0/31 is too small');
      expectProblem(text, 11, 13, 'network "d": " 10.0.3.0" is not an IPv4 address');
      expect(problemsOf(text)).to.have.lengthOf(4);
    });

    it('reports a host address that is not IPv4', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
          - name: h1
            address: 172.28.128.256
          - name: h2
            address: 172.28.128.007
      `;
      expectProblem(text, 6, 14, 'host "h1": "172.28.128.256" is not an IPv4 address');
      expectProblem(text, 8, 14, 'host "h2": "172.28.128.007" is not an IPv4 address');
    });

    it('reports a host address outside the private subnet', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
          - name: h1
            address: 172.28.129.5
      `;
      expectOnlyProblem(text, 6, 14, 'host "h1": address 172.28.129.5 is outside the private subnet 172.28.128.0/24');
    });

    it('reports host addresses that are the network or broadcast address', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
            address: 172.28.128.0
          - name: h1
            address: 172.28.128.255
      `;
      expectProblem(text, 5, 14, 'host "kv": address 172.28.128.0 is the network or broadcast address');
      expectProblem(text, 7, 14, 'host "h1": address 172.28.128.255 is the network or broadcast address');
      expect(problemsOf(text)).to.have.lengthOf(2);
    });

    it('reports two hosts with the same address', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
            address: 172.28.128.9
          - name: h1
            address: 172.28.128.9
      `;
      expectOnlyProblem(text, 7, 14, 'host "h1": address 172.28.128.9 is already used by host "kv"');
    });

    it('reports a private subnet too small for the hosts that take default addresses', () => {
      const text = labText`
        name: t
        network: {subnet: 10.9.9.0/29}
        hosts:
          - name: kv
            role: kv
          - name: h1
          - name: h2
      `;
      expectOnlyProblem(text, 7, 5, 'host "h2": no free address left in 10.9.9.0/29');
    });

    it('assigns default addresses from .5 up, skipping the ones hosts declare', () => {
      const lab = parseLab(
        labText`
          name: t
          hosts:
            - name: kv
              role: kv
            - name: h1
              address: 172.28.128.6
            - name: h2
            - name: h3
              address: 172.28.128.2
            - name: h4
        `,
        'lab.yaml',
      );
      expect(lab.hosts.map((h) => [h.name, h.address])).to.deep.equal([
        ['kv', '172.28.128.5'],
        ['h1', '172.28.128.6'],
        ['h2', '172.28.128.7'],
        ['h3', '172.28.128.2'],
        ['h4', '172.28.128.8'],
      ]);
      expect(lab.hosts.map((h) => h.ssh.address)).to.deep.equal(lab.hosts.map((h) => h.address));
    });

    it('reports an overlay subnet overlapping another overlay', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: wide
            subnet: 10.0.0.0/16
          - name: narrow
            subnet: 10.0.4.0/24
      `;
      expectOnlyProblem(text, 7, 13, 'network "narrow": subnet 10.0.4.0/24 overlaps network "wide" (10.0.0.0/16)');
    });

    it('reports an overlay subnet overlapping the private subnet', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: n1
            subnet: 172.28.0.0/16
      `;
      expectOnlyProblem(text, 5, 13, 'network "n1": subnet 172.28.0.0/16 overlaps the private subnet 172.28.128.0/24');
    });

    it('reports an overlay subnet overlapping the swarm ingress network in swarm mode only', () => {
      const text = (mode: string) => labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        engine: {mode: ${mode}}
        networks:
          - name: n1
            subnet: 10.0.0.0/16
      `;
      expectOnlyProblem(text('swarm'), 6, 13, 'overlaps the swarm\'s ingress network 10.0.0.0/24');
      expect(() => parseLab(text('kv'), 'lab.yaml')).not.to.throw();
    });

    it('reports a bad gateway: not an address, outside the subnet, the network address', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: a
            subnet: 10.0.1.0/24
            gateway: nope
          - name: b
            subnet: 10.0.2.0/24
            gateway: 10.0.3.1
          - name: c
            subnet: 10.0.4.0/24
            gateway: 10.0.4.0
      `;
      expectProblem(text, 6, 14, 'network "a": gateway "nope" is not an IPv4 address');
      expectProblem(text, 9, 14, 'network "b": gateway 10.0.3.1 is not a usable address of 10.0.2.0/24');
      expectProblem(text, 12, 14, 'network "c": gateway 10.0.4.0 is not a usable address of 10.0.4.0/24');
      expect(problemsOf(text)).to.have.lengthOf(3);
    });

    it('reports a static container address outside its network, or taken', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: ca
            host: h1
            networks:
              - name: n1
                address: 10.0.2.5
          - name: cb
            host: h1
            networks:
              - name: n1
                address: 10.0.1.9
          - name: cc
            host: h1
            networks:
              - name: n1
                address: 10.0.1.9
          - name: cd
            host: h1
            networks:
              - name: n1
                address: 10.0.1.1
          - name: ce
            host: h1
            networks:
              - name: n1
                address: 10.0.1.255
      `;
      expectProblem(text, 9, 18, 'container "ca": address 10.0.2.5 is not a usable address of network "n1" (10.0.1.0/24)');
      expectProblem(text, 19, 18, 'container "cc": address 10.0.1.9 on "n1" is already given to "cb"');
      expectProblem(text, 24, 18, 'container "cd": address 10.0.1.1 is the gateway of "n1"');
      expectProblem(text, 29, 18, 'container "ce": address 10.0.1.255 is not a usable address');
      expect(problemsOf(text)).to.have.lengthOf(4);
    });
  });

  describe('hosts and the KV store', () => {
    it('reports a lab with no docker host', () => {
      const text = labText`
        name: t
        hosts:
          - name: kv
            role: kv
      `;
      expectOnlyProblem(text, 3, 3, 'the lab has no host with role docker');
    });

    it('reports kv mode (the default) with no kv host, at the hosts', () => {
      const text = labText`
        name: t
        hosts:
          - name: h1
      `;
      expectOnlyProblem(text, 3, 3, 'engine.mode kv (the default) needs a host with role: kv', 'engine.mode: swarm');
    });

    it('reports kv mode with no kv host at engine.mode when the lab sets it', () => {
      const text = labText`
        name: t
        hosts:
          - name: h1
        engine:
          mode: kv
      `;
      expectOnlyProblem(text, 5, 9, 'engine.mode kv needs a host with role: kv');
    });

    it('reports two kv hosts and no kv.host', () => {
      const text = labText`
        name: t
        hosts:
          - name: k1
            role: kv
          - name: k2
            role: kv
          - name: h1
      `;
      expectOnlyProblem(text, 3, 3, '2 hosts have role kv (k1, k2): name the one to use in kv.host');
    });

    it('accepts two kv hosts when kv.host names one', () => {
      const lab = parseLab('name: t\nhosts: [{name: k1, role: kv}, {name: k2, role: kv}, {name: h1}]\nkv: {host: k2}\n', 'lab.yaml');
      expect(lab.kv.host).to.equal('k2');
    });

    it('reports kv.host naming no host, with a suggestion', () => {
      const text = labText`
        name: t
        hosts:
          - name: store
            role: kv
          - name: h1
        kv:
          host: stor
      `;
      expectOnlyProblem(text, 7, 9, 'kv.host "stor" is not a host of this lab', 'did you mean "store"?');
    });

    it('reports kv.host naming a docker host', () => {
      const text = labText`
        name: t
        hosts:
          - name: store
            role: kv
          - name: h1
        kv:
          host: h1
      `;
      expectOnlyProblem(text, 7, 9, 'kv.host "h1" has role docker; give it role: kv');
    });

    it('reports a fallback store that is the preferred one', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        kv:
          type: etcd
          fallback: etcd
      `;
      expectOnlyProblem(text, 5, 13, 'kv.fallback is the same store as kv.type (etcd)');
    });

    it('reports a host with no address when the provider is ssh', () => {
      const text = labText`
        name: t
        provider: ssh
        hosts:
          - name: kv
            role: kv
            address: 172.28.128.5
          - name: h1
      `;
      expectOnlyProblem(text, 7, 5, 'host "h1": provider ssh uses machines that exist; give the address');
    });
  });

  describe('engine', () => {
    const withVersion = (version: string, mode = 'kv') => labText`
      name: t
      hosts: [{name: kv, role: kv}, {name: h1}]
      engine:
        mode: ${mode}
        version: "${version}"
    `;

    for (const version of ['23.0', '24.0.7', 'latest']) {
      it(`reports kv mode with engine.version ${version}: cluster-store was removed in 23.0`, () => {
        expectOnlyProblem(withVersion(version), 5, 12, `engine.version ${version} cannot run mode kv`, 'removed in 23.0', 'engine.mode "swarm"');
      });
    }

    for (const version of ['20.10', '19.03.12', '1.12', 'distro']) {
      it(`accepts kv mode with engine.version ${version}`, () => {
        expect(parseLab(withVersion(version), 'lab.yaml').engine).to.include({ version, mode: 'kv' });
      });
    }

    for (const version of ['23.0', '24.0.7', 'latest', '20.10']) {
      it(`accepts swarm mode with engine.version ${version}`, () => {
        expect(parseLab(withVersion(version, 'swarm'), 'lab.yaml').engine).to.include({ version, mode: 'swarm' });
      });
    }

    it('reports an engine.version that is not a version', () => {
      expectOnlyProblem(withVersion('20.x', 'swarm'), 5, 12, 'engine.version "20.x" is not a version', '"20.10"');
      expectOnlyProblem(withVersion('v20.10', 'kv'), 5, 12, 'engine.version "v20.10" is not a version');
    });

    it('reports an engine too old for overlays (kv) or attachable overlays (swarm)', () => {
      expectOnlyProblem(withVersion('1.8', 'kv'), 5, 12, 'engine.version 1.8 has no overlay networks');
      expectOnlyProblem(withVersion('1.12.6', 'swarm'), 5, 12, 'engine.version 1.12.6 cannot run mode swarm', '1.13');
    });
  });

  describe('networks and containers', () => {
    it('reports an encrypted network in kv mode', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks:
          - name: n1
            subnet: 10.0.1.0/24
            encrypted: true
      `;
      expectOnlyProblem(text, 6, 16, 'network "n1": encrypted overlays need engine.mode swarm');
    });

    it('reports a container on a non-attachable network in swarm mode, and allows it in kv mode', () => {
      const text = (mode: string) => labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        engine: {mode: ${mode}}
        networks:
          - name: n1
            subnet: 10.0.1.0/24
            attachable: false
        containers:
          - name: c1
            host: h1
            networks: [n1]
      `;
      expectOnlyProblem(text('swarm'), 11, 16, 'container "c1": network "n1" is not attachable', 'swarm mode');
      expect(() => parseLab(text('kv'), 'lab.yaml')).not.to.throw();
    });

    it('reports a container on an unknown host, with a suggestion', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: c1
            host: h2
            networks: [n1]
      `;
      expectOnlyProblem(text, 6, 11, 'container "c1": host "h2" is not a host of this lab', 'did you mean "h1"?');
    });

    it('reports a container on an unknown network, in a short and a long entry', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: front, subnet: 10.0.1.0/24}]
        containers:
          - name: c1
            host: h1
            networks: [frnot]
          - name: c2
            host: h1
            networks:
              - name: back
      `;
      expectProblem(text, 7, 16, 'container "c1": network "frnot" is not a network of this lab', 'did you mean "front"?');
      expectProblem(text, 11, 15, 'container "c2": network "back" is not a network of this lab', '(known: front)');
      expect(problemsOf(text)).to.have.lengthOf(2);
    });

    it('reports a container on the kv host', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: c1
            host: kv
            networks: [n1]
      `;
      expectOnlyProblem(text, 6, 11, 'container "c1": host "kv" has role kv and runs no engine; pick a docker host (h1)');
    });

    it('reports a network listed twice by one container', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: c1
            host: h1
            networks: [n1, n1]
      `;
      expectOnlyProblem(text, 7, 20, 'container "c1" lists network "n1" twice');
    });

    it('reports an alias that is another container\'s name, or another container\'s alias there', () => {
      const text = labText`
        name: t
        hosts: [{name: kv, role: kv}, {name: h1}]
        networks: [{name: n1, subnet: 10.0.1.0/24}]
        containers:
          - name: web
            host: h1
            networks: [n1]
            aliases: [db, www]
          - name: db
            host: h1
            networks:
              - name: n1
                aliases: [www]
      `;
      expectProblem(text, 8, 15, 'container "web": alias "db" is the name of another container');
      expectProblem(text, 13, 19, 'container "db": alias "www" on network "n1" is already an alias of "web"');
      expect(problemsOf(text)).to.have.lengthOf(2);
    });
  });

  describe('expect', () => {
    const withFacts = (...facts: string[]) => labText`
      name: t
      hosts: [{name: kv, role: kv}, {name: h1}]
      networks: [{name: n1, subnet: 10.0.1.0/24}]
      containers:
        - name: web
          host: h1
          networks: [n1]
        - name: db
          host: h1
          networks: [{name: n1, aliases: [database]}]
      expect:
${facts.map((f) => `        - ${f}`).join('\n')}
    `;

    it('reports a fact with bad grammar, with the grammar', () => {
      expectOnlyProblem(withFacts('web can ping db'), 12, 5, 'expect[0] "web can ping db" is not valid', '"A can reach B"');
    });

    it('reports a fact about an unknown container, with a suggestion', () => {
      expectOnlyProblem(withFacts('web can reach dbb'), 12, 5, 'expect "web can reach dbb": "dbb" is not a container of this lab', 'did you mean "db"?');
      expectOnlyProblem(withFacts('wbe resolves db'), 12, 5, '"wbe" is not a container of this lab', 'did you mean "web"?');
    });

    it('reports a reach fact naming an alias, and accepts a resolve fact naming one', () => {
      expectOnlyProblem(withFacts('web can reach database'), 12, 5, '"database" is not a container of this lab');
      const lab = parseLab(withFacts('web resolves database', 'db cannot reach web', 'web cannot resolve nothing-here'), 'lab.yaml');
      expect(lab.expect.map((f) => [f.from, f.verb, f.to, f.pos.line, f.pos.column])).to.deep.equal([
        ['web', 'resolves', 'database', 12, 5],
        ['db', 'cannot reach', 'web', 13, 5],
        ['web', 'cannot resolve', 'nothing-here', 14, 5],
      ]);
    });
  });

  describe('reporting', () => {
    const broken = labText`
      name: t
      hosts:
        - name: kv
          role: kv
        - name: h1
          address: 10.1.1.1
        - name: h1
      networks:
        - name: n1
          subnet: 10.0.1.0/24
          encrypted: true
      containers:
        - name: c1
          host: h9
          networks: [n2]
      expect:
        - c1 can reach c2
    `;

    it('reports every problem at once, sorted by position', () => {
      const problems = problemsOf(broken);
      expect(problems.map((p) => [p.line, p.column])).to.deep.equal([
        [6, 14], // address outside the private subnet
        [7, 11], // duplicate host name
        [11, 16], // encrypted in kv mode
        [14, 11], // unknown host
        [15, 16], // unknown network
        [17, 5], // unknown container in a fact
      ]);
    });

    it('lists every problem as file:line:column: message in the error message', () => {
      try {
        parseLab(broken, 'labs/broken.yaml');
        expect.fail('expected a LabFileError');
      } catch (e) {
        expect(e).to.be.instanceOf(LabFileError);
        const err = e as LabFileError;
        expect(err.exitCode).to.equal(65);
        const lines = err.message.split('\n');
        expect(lines[0]).to.equal('6 problems in lab file:');
        expect(lines.slice(1)).to.deep.equal(err.problems.map((p) => `labs/broken.yaml:${p.line}:${p.column}: ${p.message}`));
        expect(lines[1]).to.match(/^labs\/broken\.yaml:6:14: host "h1": address 10\.1\.1\.1 is outside the private subnet/);
      }
    });

    it('reports every structural problem at once', () => {
      const text = labText`
        name: T
        provider: virtualbox
        hosts:
          - name: h1
            cpus: two
      `;
      expect(problemsOf(text).map((p) => [p.line, p.column])).to.deep.equal([
        [1, 7],
        [2, 11],
        [5, 11],
      ]);
    });
  });
});
