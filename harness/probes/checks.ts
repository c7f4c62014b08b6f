// The checks the spec files assert with, and the handle of users' own specs (handle.ts) too:
// replies, silences and name lookups, each run from a container and bounded in time (a lookup
// of an unknown name waits for the upstream resolver); reach, resolve and isolation as wholes.
import { expect } from 'chai';
import { nslookupAnswers, pingReplyFrom } from './busybox.ts';
import type { Probe } from './probe.ts';

/** busybox nslookup waits ~5 s for an upstream that never answers; `timeout` bounds it. */
const LOOKUP_LIMIT_S = 8;

/** One ping from `from` to `target` (a name or address) is answered by one of `acceptable`. */
export async function expectPingReply(p: Probe, from: string, target: string, acceptable: string[]): Promise<void> {
  const r = await p.exec(from, ['ping', '-c', '1', '-W', '2', target]);
  expect(r.exitCode, `${p.where(from)} got no ping reply from ${target}`).to.equal(0);
  expect(pingReplyFrom(r.stdout), `${p.where(from)} pinged ${target}: the reply came from an unexpected address`).to.be.oneOf(acceptable);
}

/** Pings from `from` to each address get no reply (busybox ping exits 1 when none came). */
export async function expectNoPingReply(p: Probe, from: string, targets: { address: string; what: string }[]): Promise<void> {
  expect(targets, `no address to ping from ${p.where(from)}: the check would prove nothing`).to.not.be.empty;
  for (const t of targets) {
    const r = await p.exec(from, ['ping', '-c', '1', '-W', '1', t.address]);
    expect(pingReplyFrom(r.stdout), `${p.where(from)} got a ping reply from ${t.address} (${t.what})`).to.equal(undefined);
    expect(r.exitCode, `ping ${t.address} from ${p.where(from)}: exit code (1 is "no reply")`).to.equal(1);
  }
}

/**
 * `nslookup query` in `from` answers exactly `expected` (order ignored); with `anyOf`, at least
 * one address, each of them in `expected`.
 */
export async function expectLookup(p: Probe, from: string, query: string, expected: string[], match: 'exactly' | 'anyOf' = 'exactly'): Promise<void> {
  expect(expected, `no container called ${query} shares a network with ${p.where(from)}: nothing it could resolve to`).to.not.be.empty;
  const r = await lookup(p, from, query);
  expect(r.exitCode, `nslookup ${query} in ${p.where(from)} failed`).to.equal(0);
  const answers = nslookupAnswers(r.stdout).sort();
  const what = `the addresses ${query} resolves to in ${p.where(from)}`;
  if (match === 'exactly') expect(answers, what).to.deep.equal([...expected].sort());
  else {
    expect(answers, what).to.not.be.empty;
    expect(expected, `${what} (${answers.join(', ')}) must be among the addresses of ${query}`).to.include.members(answers);
  }
}

/** `nslookup name` in `from` fails, and no lab address appears in what it printed. */
export async function expectNoLookup(p: Probe, from: string, name: string): Promise<void> {
  const r = await lookup(p, from, name);
  const known = p.labAddresses();
  const answers = nslookupAnswers(r.stdout).map((a) => (known.has(a) ? `${a} (${known.get(a)})` : a));
  expect(answers, `${name} resolved in ${p.where(from)}`).to.be.empty;
  const leaked = [...known.keys()].filter((a) => new RegExp(`(^|[^0-9.])${a.replaceAll('.', '\\.')}($|[^0-9])`).test(r.stdout));
  expect(leaked, `lab addresses in the answer to nslookup ${name} in ${p.where(from)}`).to.be.empty;
  expect(r.exitCode, `nslookup ${name} in ${p.where(from)}: exit code`).to.not.equal(0);
}

function lookup(p: Probe, from: string, name: string) {
  return p.exec(from, ['timeout', String(LOOKUP_LIMIT_S), 'nslookup', '-type=a', name], { timeoutMs: (LOOKUP_LIMIT_S + 4) * 1000 });
}

/** Networks both containers are attached to, in the plan. */
export function sharedNetworks(p: Probe, a: string, b: string): string[] {
  const nb = new Set(p.container(b).networks.map((x) => x.network));
  return p.container(a).networks.map((x) => x.network).filter((n) => nb.has(n));
}

/** Every address of a container, with what it is, for checks that must find all of them silent. */
export function everyAddress(p: Probe, container: string): { address: string; what: string }[] {
  return Object.entries(p.addresses(container))
    .filter(([, a]) => a)
    .map(([network, address]) => ({ address, what: `${container} on ${network}` }));
}

/** How `from` reaches `to`: over which network, by its name or its address there, with ping or a tcp connection. */
export interface ReachWay {
  network: string;
  by: 'name' | 'address';
  proto: 'icmp' | 'tcp';
}

/**
 * `from` reaches `to` over `network`: a ping reply from `to`'s address there, or (tcp) the
 * token of a listener started in `to`. A name answers with the address on the first network the
 * two share; when they share several, any of `to`'s addresses is accepted.
 */
export async function checkReach(p: Probe, from: string, to: string, way: ReachWay): Promise<void> {
  p.address(from, way.network);
  const address = p.address(to, way.network);
  const shared = sharedNetworks(p, from, to);
  const acceptable = way.by === 'address' || shared.length === 1 ? [address] : everyAddress(p, to).map((a) => a.address);
  const target = way.by === 'address' ? address : to;
  if (way.proto === 'icmp') return expectPingReply(p, from, target, acceptable);
  await p.withListener(to, async (port, token) => {
    const r = await p.exec(from, ['nc', '-w', '2', target, String(port)]);
    expect(r.stdout.trim(), `${p.where(from)} got no answer from the listener in ${p.where(to)} at ${target}:${port}`).to.equal(token);
  });
}

/** `from` resolves `name` to exactly `target`'s address on `network` (NAME.NETWORK when they share several). */
export async function checkResolve(p: Probe, from: string, name: string, target: string, network: string): Promise<void> {
  const expected = p.address(target, network);
  // A bare name answers on the first shared network; NAME.NETWORK picks the network (libnetwork).
  const query = sharedNetworks(p, from, target).length > 1 ? `${name}.${network}` : name;
  await expectLookup(p, from, query, [expected]);
}

/**
 * `from` reaches `to` at none of its addresses: no ping reply, or (tcp) no connection to a
 * listener in `to` that a connection from inside it proves was there.
 */
export async function checkIsolated(p: Probe, from: string, to: string, proto: 'icmp' | 'tcp'): Promise<void> {
  const targets = everyAddress(p, to);
  if (proto === 'icmp') return expectNoPingReply(p, from, targets);
  expect(targets, `${p.where(to)} has no address to try: the check would prove nothing`).to.not.be.empty;
  const { control } = await p.withListener(to, async (port, token) => {
    for (const t of targets) {
      const r = await p.exec(from, ['nc', '-w', '1', t.address, String(port)]);
      expect(r.stdout, `${p.where(from)} connected to the listener at ${t.address}:${port} (${t.what})`).to.not.include(token);
    }
  });
  expect(control?.stdout ?? '', `the listener in ${p.where(to)} did not answer a connection from inside it: the check proves nothing`).to.include(`overlab-${p.port()}`);
}
