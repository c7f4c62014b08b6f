// The services section on its own (harness/lab/validate/services.ts): swarm only, names,
// networks, placement, published ports, defaults.
import { expect } from 'chai';
import { DEFAULT_IMAGE, DEFAULT_SERVICE_PORT, type Lab, type LabHost } from '../../harness/lab/types.ts';
import { portTable } from '../../harness/lab/validate/ports.ts';
import { buildServices } from '../../harness/lab/validate/services.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

const host = (name: string, role: 'docker' | 'kv' = 'docker'): LabHost => ({ name, address: '', role, box: 'b', cpus: 1, memory: 1, ssh: { address: '', user: 'root', port: 22 } });
const hosts = [host('h1'), host('h2'), host('k1', 'kv')];

function run(text: string, mode: Lab['engine']['mode'] = 'swarm', taken: { host: string; port: number }[] = []) {
  const s = section(text);
  const usePort = portTable(s.at);
  for (const t of taken) usePort(t.host, { port: t.port, use: 'sshd' });
  const services = buildServices(
    s.raw,
    { mode, hosts, containerIndex: new Map([['c1', 0]]), networkIndex: new Map([['a', 0], ['b', 1]]), networkNames: ['a', 'b'], usePort },
    s.at,
  );
  return { services, located: s.located() };
}

describe('validate: services', () => {
  it('fills in the image, one replica, a VIP, the port, ingress publishing and no placement', () => {
    const { services, located } = run(labText`
      services:
        - { name: web, networks: [a], publish: [{ published: 8080 }] }
        - { name: db, image: "redis:7", replicas: 3, networks: [b], endpointMode: dnsrr, port: 6379, publish: [{ published: 6379, mode: host }], placement: [h2] }
    `);
    expect(located).to.deep.equal([]);
    expect(services).to.deep.equal([
      { name: 'web', image: DEFAULT_IMAGE, replicas: 1, networks: ['a'], endpointMode: 'vip', port: DEFAULT_SERVICE_PORT, publish: [{ published: 8080, mode: 'ingress' }], placement: [] },
      { name: 'db', image: 'redis:7', replicas: 3, networks: ['b'], endpointMode: 'dnsrr', port: 6379, publish: [{ published: 6379, mode: 'host' }], placement: ['h2'] },
    ]);
  });

  it('needs swarm mode, and leaves the service out otherwise', () => {
    const { services, located } = run('services: [{ name: web, networks: [a] }]\n', 'kv');
    expect(services).to.deep.equal([]);
    expect(located).to.deep.equal(['lab.yaml:1:12: service "web": services need engine.mode swarm (the swarm schedules their tasks)']);
  });

  it('reports a bad image, a duplicate name, and the name of a container or a host', () => {
    const { located } = run(labText`
      services:
        - { name: web, image: "-x", networks: [a] }
        - { name: web, networks: [a] }
        - { name: c1, networks: [a] }
        - { name: h1, networks: [a] }
    `);
    expect(located).to.have.lengthOf(4);
    expect(located[0]).to.match(/^lab\.yaml:2:25: services\[0\]\.image "-x" /);
    expect(located.slice(1)).to.deep.equal([
      'lab.yaml:3:13: duplicate service name "web" (first at services[0])',
      'lab.yaml:4:13: service "c1" has the name of a container; DNS would answer "c1" with either',
      'lab.yaml:5:13: service "h1" has the name of a host; DNS would answer "h1" with either',
    ]);
  });

  it('reports a network that is none or listed twice, and a placement on no host or one with no engine', () => {
    expect(run('services: [{ name: web, networks: [a, c, a], placement: [h3, k1] }]\n').located).to.deep.equal([
      'lab.yaml:1:39: service "web": network "c" is not a network of this lab (known: a, b)',
      'lab.yaml:1:42: service "web" lists network "a" twice',
      'lab.yaml:1:58: service "web": host "h3" is not a host of this lab; did you mean "h1"?',
      'lab.yaml:1:62: service "web": host "k1" has role kv and runs no engine',
    ]);
  });

  it('reports ingress publishing with dnsrr, and published ports that clash on the hosts they take', () => {
    expect(run(labText`
      services:
        - { name: a1, networks: [a], endpointMode: dnsrr, publish: [{ published: 80 }] }
        - { name: a2, networks: [a], publish: [{ published: 22, mode: host }], placement: [h2] }
    `, 'swarm', [{ host: 'h2', port: 22 }]).located).to.deep.equal([
      'lab.yaml:2:63: service "a1": the routing mesh (ingress) needs a VIP; with endpointMode dnsrr publish in mode host',
      'lab.yaml:3:55: services[1].publish[0].published 22 (host) clashes with sshd (port 22) on host "h2"; pick another port',
    ]);
  });
});
