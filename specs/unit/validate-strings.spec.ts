// The small sections on their own: network.subnet (validate/subnet.ts), the free strings
// (validate/strings.ts) and specs.pairs (validate/pairs.ts).
import { expect } from 'chai';
import { readPairs } from '../../harness/lab/validate/pairs.ts';
import { checkFreeStrings } from '../../harness/lab/validate/strings.ts';
import { readSubnet } from '../../harness/lab/validate/subnet.ts';
import { labText } from './lab-text.ts';
import { section } from './validate-section.ts';

describe('validate: network.subnet', () => {
  it('defaults to 172.28.128.0/24', () => {
    const s = section('name: t\n');
    expect(readSubnet(s.raw, s.at)).to.deep.equal({ text: '172.28.128.0/24', subnet: { base: 0xac1c8000, prefix: 24 } });
    expect(s.located()).to.deep.equal([]);
  });

  it('reports a subnet that is not one, or not private, and gives none back', () => {
    const bad = section('network: { subnet: 10.0.0.0/99 }\n');
    expect(readSubnet(bad.raw, bad.at)).to.deep.equal({ text: '10.0.0.0/99', subnet: undefined });
    expect(bad.located()).to.deep.equal(['lab.yaml:1:20: network.subnet: prefix /99 is longer than 32']);
    const pub = section('network: { subnet: 8.8.0.0/16 }\n');
    expect(readSubnet(pub.raw, pub.at).subnet).to.equal(undefined);
    expect(pub.located()).to.deep.equal([
      'lab.yaml:1:20: network.subnet 8.8.0.0/16 is public address space; use a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10)',
    ]);
  });
});

describe('validate: free strings', () => {
  it('accepts ordinary values', () => {
    const s = section(labText`
      description: A lab
      box: ubuntu/jammy64
      hosts: [{ name: h1, box: debian/bookworm64, ssh: { user: admin, address: h1.example, key: ~/.ssh/id } }]
      containers: [{ name: c, host: h1, image: "alpine:3", aliases: [web], networks: [{ name: a, aliases: [db] }], command: [sleep, "1"] }]
    `);
    checkFreeStrings(s.raw, s.at);
    expect(s.located()).to.deep.equal([]);
  });

  it('reports each value off its grammar at the value, naming the setting', () => {
    const s = section(labText`
      box: "-b"
      hosts: [{ name: h1, box: "--x", ssh: { user: "-u", address: "-a", key: "-k" } }]
      containers: [{ name: c, host: h1, image: "-i", aliases: ["-x"], networks: [{ name: a, aliases: ["-y"] }], command: "a\0b" }]
    `);
    checkFreeStrings(s.raw, s.at);
    const where = s.located().map((p) => /^(lab\.yaml:\d+:\d+: \S+)/.exec(p)![1]);
    expect(where).to.deep.equal([
      'lab.yaml:1:6: box',
      'lab.yaml:2:26: hosts[0].box',
      'lab.yaml:2:46: hosts[0].ssh.user',
      'lab.yaml:2:61: hosts[0].ssh.address',
      'lab.yaml:2:72: hosts[0].ssh.key',
      'lab.yaml:3:42: containers[0].image',
      'lab.yaml:3:58: containers[0].aliases[0]',
      'lab.yaml:3:97: containers[0].networks[0].aliases[0]',
      'lab.yaml:3:116: containers[0].command',
    ]);
    expect(s.located()[0]).to.match(/^lab\.yaml:1:6: box "-b" \S/);
  });

  it('checks each word of a command list', () => {
    const s = section('containers: [{ name: c, host: h, networks: [], command: [sh, "a\\0b"] }]\n');
    checkFreeStrings({ ...s.raw, hosts: [] }, s.at);
    expect(s.located()).to.have.lengthOf(1);
    expect(s.located()[0]).to.match(/^lab\.yaml:1:62: containers\[0\]\.command\[1\] "a.*" holds a NUL character, which no process argument can$/);
  });
});

describe('validate: specs.pairs', () => {
  it('defaults to all, and reads the other policies', () => {
    const s = section('name: t\n');
    expect(readPairs(s.raw, s.at)).to.deep.equal({ kind: 'all' });
    const c = section('specs: { pairs: cross-host }\n');
    expect(readPairs(c.raw, c.at)).to.deep.equal({ kind: 'cross-host' });
    expect([...s.located(), ...c.located()]).to.deep.equal([]);
  });

  it('reports a policy that is none, and plans all', () => {
    const s = section('specs: { pairs: some }\n');
    expect(readPairs(s.raw, s.at)).to.deep.equal({ kind: 'all' });
    expect(s.located()).to.deep.equal(['lab.yaml:1:17: specs.pairs "some" is not a pairs policy: write all, cross-host or "sample N" (N from 1 to 1000000)']);
  });
});
