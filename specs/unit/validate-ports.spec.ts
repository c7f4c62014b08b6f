// The ports rule on its own (harness/lab/validate/ports.ts): each port used once per host,
// a clash reported at the setting that made it.
import { expect } from 'chai';
import type { Lab, LabHost } from '../../harness/lab/types.ts';
import { claimLabPorts, portTable } from '../../harness/lab/validate/ports.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

const host = (name: string, role: 'docker' | 'kv' = 'docker'): LabHost => ({ name, address: '', role, box: 'b', cpus: 1, memory: 1, ssh: { address: '', user: 'root', port: 22 } });
const kvOn = (h: string | undefined, type: Lab['kv']['type'] = 'consul'): Lab['kv'] => ({ type, fallback: undefined, host: h, port: undefined });

function claims(text: string, hosts: LabHost[], mode: Lab['engine']['mode'], kv: Lab['kv']): string[] {
  const s = section(text);
  claimLabPorts(s.raw, hosts, mode, kv, portTable(s.at), s.at);
  return s.located();
}

describe('validate: ports', () => {
  it('a table reports a port taken twice on a host at the later setting, naming the first use', () => {
    const s = section('a: 1\nb: 2\n');
    const use = portTable(s.at);
    use('h1', { port: 80, use: 'web' });
    use('h2', { port: 80, use: 'web', path: ['a'], setting: 'a 80' });
    use('h1', { port: 80, use: 'other', path: ['b'], setting: 'b 80' });
    expect(s.located()).to.deep.equal(['lab.yaml:2:4: b 80 clashes with web (port 80) on host "h1"; pick another port']);
  });

  it('reports at the setting when the lab\'s own use comes later, and lets a store and its fallback share', () => {
    const s = section('a: 1\n');
    const use = portTable(s.at);
    use('h1', { port: 80, use: 'web', path: ['a'], setting: 'a 80' });
    use('h1', { port: 80, use: 'sshd' });
    use('k', { port: 8300, use: 'consul server RPC', store: 'consul' });
    use('k', { port: 8300, use: 'etcd client', store: 'etcd' });
    expect(s.located()).to.deep.equal(['lab.yaml:1:4: a 80 clashes with sshd (port 80) on host "h1"; pick another port']);
  });

  it('a default lab has no clash', () => {
    expect(claims('hosts: [{ name: h1 }, { name: k1, role: kv }]\n', [host('h1'), host('k1', 'kv')], 'kv', kvOn('k1'))).to.deep.equal([]);
    expect(claims('hosts: [{ name: h1 }]\n', [host('h1')], 'swarm', kvOn(undefined))).to.deep.equal([]);
  });

  it('reports an ssh port that clashes with the lab\'s own ports', () => {
    const text = labText`
      hosts:
        - { name: h1, ssh: { port: 7946 } }
        - { name: h2, ssh: { port: 2377 } }
    `;
    expect(claims(text, [host('h1'), host('h2')], 'swarm', kvOn(undefined))).to.deep.equal([
      'lab.yaml:2:30: hosts[0].ssh.port 7946 clashes with overlay gossip (port 7946) on host "h1"; pick another port',
      'lab.yaml:3:30: hosts[1].ssh.port 2377 clashes with swarm management (port 2377) on host "h2"; pick another port',
    ]);
  });

  it('reports an advertise port that clashes, in mode kv', () => {
    const text = labText`
      hosts: [{ name: h1 }, { name: k1, role: kv }]
      engine: { advertisePort: 4789 }
    `;
    expect(claims(text, [host('h1'), host('k1', 'kv')], 'kv', kvOn('k1'))).to.deep.equal([
      'lab.yaml:2:26: engine.advertisePort 4789 clashes with VXLAN (port 4789) on host "h1"; pick another port',
    ]);
  });

  it('reports a kv.port whose derived port clashes, or runs past 65535', () => {
    const k = [host('h1'), host('k1', 'kv')];
    const hosts = 'hosts: [{ name: h1 }, { name: k1, role: kv }]\n';
    expect(claims(`kv: { type: etcd, port: 21 }\n${hosts}`, k, 'kv', kvOn('k1', 'etcd'))).to.deep.equal([
      'lab.yaml:1:25: kv.port 21: the etcd peer port 22 (kv.port + 1) clashes with sshd (port 22) on host "k1"; pick another port',
    ]);
    expect(claims(`kv: { type: consul, port: 8301 }\n${hosts}`, k, 'kv', kvOn('k1'))).to.deep.equal([
      'lab.yaml:1:27: kv.port 8301 clashes with consul LAN gossip (port 8301) on host "k1"; pick another port',
    ]);
    expect(claims(`kv: { type: etcd, port: 65535 }\n${hosts}`, k, 'kv', kvOn('k1', 'etcd'))).to.deep.equal([
      'lab.yaml:1:25: kv.port 65535: the etcd peer port 65536 (kv.port + 1) is past 65535; use kv.port 65534 or lower',
    ]);
  });
});
