// Address arithmetic the validator relies on, and the typo suggestions in its messages.
import { expect } from 'chai';
import { cidrContains, cidrsOverlap, formatIpv4, isReservedInCidr, parseCidr, parseIpv4, type Cidr } from '../../harness/lab/ipv4.ts';
import { editDistance, nearest } from '../../harness/lab/text.ts';

const cidr = (text: string): Cidr => parseCidr(text) as Cidr;

describe('ipv4', () => {
  it('parses dotted quads and formats them back', () => {
    for (const a of ['0.0.0.0', '10.0.4.1', '172.28.128.5', '255.255.255.255']) expect(formatIpv4(parseIpv4(a)!)).to.equal(a);
    expect(parseIpv4('10.0.0.1')).to.equal(10 * 2 ** 24 + 1);
  });

  it('rejects what dockerd would reject: octets over 255, leading zeros, blanks, short forms', () => {
    for (const bad of ['10.0.0.256', '10.0.0.01', ' 10.0.0.1', '10.0.0.1 ', '10.0.1', '10.0.0.0.1', '10.0.0.x', '']) {
      expect(parseIpv4(bad), JSON.stringify(bad)).to.equal(undefined);
    }
  });

  it('parses CIDRs and says why one is not valid', () => {
    expect(parseCidr('10.0.4.0/24')).to.deep.equal({ base: parseIpv4('10.0.4.0'), prefix: 24 });
    expect(parseCidr('0.0.0.0/0')).to.deep.equal({ base: 0, prefix: 0 });
    expect(parseCidr('10.0.4.0')).to.include('is not a CIDR');
    expect(parseCidr('10.0.4.0/024')).to.include('is not a CIDR');
    expect(parseCidr('10.0.4.0/33')).to.include('longer than 32');
    expect(parseCidr('10.0.4.1/24')).to.include('the network is 10.0.4.0/24');
    expect(parseCidr('10.0.4.0/16')).to.include('the network is 10.0.0.0/16');
  });

  it('tells containment, overlap and reserved addresses', () => {
    const net = cidr('10.0.4.0/24');
    expect(cidrContains(net, parseIpv4('10.0.4.255')!)).to.equal(true);
    expect(cidrContains(net, parseIpv4('10.0.5.0')!)).to.equal(false);
    expect(cidrsOverlap(net, cidr('10.0.0.0/16'))).to.equal(true);
    expect(cidrsOverlap(net, cidr('10.0.5.0/24'))).to.equal(false);
    expect(isReservedInCidr(net, parseIpv4('10.0.4.0')!)).to.equal(true);
    expect(isReservedInCidr(net, parseIpv4('10.0.4.255')!)).to.equal(true);
    expect(isReservedInCidr(net, parseIpv4('10.0.4.1')!)).to.equal(false);
    expect(isReservedInCidr(cidr('10.0.4.0/31'), parseIpv4('10.0.4.0')!)).to.equal(false);
  });
});

describe('typo suggestions', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('swram', 'swarm')).to.equal(1);
    expect(editDistance('host', 'hosts')).to.equal(1);
    expect(editDistance('', 'abc')).to.equal(3);
  });

  it('suggests a near key or name, and nothing for a word unlike any', () => {
    expect(nearest('host', ['name', 'hosts', 'kv'])).to.equal('hosts');
    expect(nearest('swram', ['kv', 'swarm'])).to.equal('swarm');
    expect(nearest('h2', ['kv', 'h1'])).to.equal('h1');
    expect(nearest('zz', ['a', 'web'])).to.equal(undefined);
    expect(nearest('c', ['c0', 'c1'])).to.equal(undefined);
    expect(nearest('virtualbox', ['auto', 'vagrant', 'netns', 'ssh'])).to.equal(undefined);
    expect(nearest('x', [])).to.equal(undefined);
  });
});
