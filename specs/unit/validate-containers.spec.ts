// The containers section on its own (harness/lab/validate/containers.ts): hosts, attachments,
// static addresses, the room each network has, and defaults.
import { expect } from 'chai';
import { parseCidr, type Cidr } from '../../harness/lab/ipv4.ts';
import { DEFAULT_IMAGE, type Lab, type LabHost } from '../../harness/lab/types.ts';
import { buildContainers } from '../../harness/lab/validate/containers.ts';
import { IDLE_COMMAND } from '../../harness/lab/validate/defaults.ts';
import { buildNetworks } from '../../harness/lab/validate/networks.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

const host = (name: string, role: 'docker' | 'kv' = 'docker'): LabHost => ({ name, address: '', role, box: 'b', cpus: 1, memory: 1, ssh: { address: '', user: 'root', port: 22 } });
const hosts = [host('h1'), host('h2'), host('k1', 'kv')];
const NETS = labText`
  networks:
    - { name: a, subnet: 10.0.1.0/24 }
    - { name: s, subnet: 10.0.2.0/30 }
    - { name: closed, subnet: 10.0.3.0/24, attachable: false }
`;

/** Runs the network rules then the container rules on NETS + `text`; line 5 is the text's first. */
function run(text: string, mode: Lab['engine']['mode'] = 'kv') {
  const s = section(NETS + text);
  const nets = buildNetworks(s.raw, mode, parseCidr('172.28.128.0/24') as Cidr, s.at);
  const built = buildContainers(s.raw, hosts, mode, nets, s.at);
  return { ...built, located: s.located() };
}

describe('validate: containers', () => {
  it('defaults the image and the command, and gives each attachment the container\'s aliases then its own', () => {
    const { containers, index, located } = run(labText`
      containers:
        - { name: c1, host: h1, aliases: [web], networks: [a, { name: s, aliases: [db], address: 10.0.2.2 }] }
        - { name: c2, host: h2, image: "busybox:1", networks: [a], command: "echo hi" }
        - { name: c3, host: h2, networks: [a], command: [nc, -l] }
    `);
    expect(located).to.deep.equal([]);
    expect(containers).to.deep.equal([
      {
        name: 'c1',
        host: 'h1',
        image: DEFAULT_IMAGE,
        networks: [
          { network: 'a', aliases: ['web'] },
          { network: 's', aliases: ['web', 'db'], address: '10.0.2.2' },
        ],
        command: IDLE_COMMAND,
      },
      { name: 'c2', host: 'h2', image: 'busybox:1', networks: [{ network: 'a', aliases: [] }], command: ['sh', '-c', 'echo hi'] },
      { name: 'c3', host: 'h2', image: DEFAULT_IMAGE, networks: [{ network: 'a', aliases: [] }], command: ['nc', '-l'] },
    ]);
    expect([...index]).to.deep.equal([['c1', 0], ['c2', 1], ['c3', 2]]);
  });

  it('reports a duplicate name, a host that is none or runs no engine, and a host\'s name', () => {
    expect(run(labText`
      containers:
        - { name: c1, host: h1, networks: [a] }
        - { name: c1, host: h3, networks: [a] }
        - { name: c2, host: k1, networks: [a] }
        - { name: h2, host: h2, networks: [a] }
    `).located).to.deep.equal([
      'lab.yaml:7:13: duplicate container name "c1" (first at containers[0])',
      'lab.yaml:7:23: container "c1": host "h3" is not a host of this lab; did you mean "h1"?',
      'lab.yaml:8:23: container "c2": host "k1" has role kv and runs no engine; pick a docker host (h1, h2)',
      'lab.yaml:9:13: container "h2" has the name of a host; container and host names must differ',
    ]);
  });

  it('reports a network that is none, listed twice, or not attachable in swarm mode', () => {
    const text = labText`
      containers:
        - { name: c1, host: h1, networks: [b, a, { name: a }, closed] }
    `;
    expect(run(text).located).to.deep.equal([
      'lab.yaml:6:38: container "c1": network "b" is not a network of this lab (known: a, s, closed)',
      'lab.yaml:6:52: container "c1" lists network "a" twice',
    ]);
    expect(run(text, 'swarm').located).to.include(
      'lab.yaml:6:57: container "c1": network "closed" is not attachable; in swarm mode standalone containers can only join attachable overlays',
    );
  });

  it('reports static addresses that are none, unusable, taken, or the gateway', () => {
    expect(run(labText`
      containers:
        - { name: c1, host: h1, networks: [{ name: a, address: x }] }
        - { name: c2, host: h1, networks: [{ name: a, address: 10.0.1.255 }] }
        - { name: c3, host: h1, networks: [{ name: a, address: 10.0.1.9 }] }
        - { name: c4, host: h1, networks: [{ name: a, address: 10.0.1.9 }] }
        - { name: c5, host: h1, networks: [{ name: a, address: 10.0.1.1 }] }
    `).located).to.deep.equal([
      'lab.yaml:6:58: container "c1": "x" is not an IPv4 address',
      'lab.yaml:7:58: container "c2": address 10.0.1.255 is not a usable address of network "a" (10.0.1.0/24)',
      'lab.yaml:9:58: container "c4": address 10.0.1.9 on "a" is already given to "c3"',
      'lab.yaml:10:58: container "c5": address 10.0.1.1 is the gateway of "a"',
    ]);
  });

  it('reports a network with no room for its containers, at its subnet', () => {
    expect(run(labText`
      containers:
        - { name: c1, host: h1, networks: [s] }
        - { name: c2, host: h2, networks: [s] }
    `).located).to.deep.equal([
      'lab.yaml:3:24: network "s": subnet 10.0.2.0/30 is too small: it needs room for 2 containers and the gateway (3 usable addresses; it has 2)',
    ]);
  });
});
