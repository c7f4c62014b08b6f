// Link faults on a host's own interface: the root qdisc there before a latency or rate fault is
// recorded and put back as it was (or the fault refused, the qdisc untouched); interface names
// read from `ip` are checked by Linux's rules and reach a host only as argv words or a script's
// positional parameters. The host here is a stand-in that answers `ip`, `cat` and `tc` as a
// kernel would; the partition script runs for real under sh with a stand-in iptables on PATH.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabStateError, PrerequisiteError } from '../../harness/errors.ts';
import * as faults from '../../harness/faults/apply.ts';
import { interfaceNameProblem, partitionCommand } from '../../harness/faults/commands.ts';
import { type LinkFaultRecord, parseQdiscs, qdiscRestore, qdiscTree, recordedQdiscOn, savedQdiscOf } from '../../harness/faults/qdisc.ts';
import type { ExecOptions, ExecResult, HostAccess } from '../../harness/host.ts';
import type { FaultRecord } from '../../harness/state/faults.ts';
import type { LabState } from '../../harness/state/store.ts';

const NOQUEUE = 'qdisc noqueue 0: root refcnt 2 \n';
const FQ_CODEL_DEFAULT = 'qdisc fq_codel 0: root refcnt 2 limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64 \n';
const FQ_CODEL_SET = 'qdisc fq_codel 8003: root refcnt 2 limit 2000p flows 512 quantum 1514 target 10ms interval 200ms memory_limit 4Mb drop_batch 64 \n';
const MQ_PFIFO_FAST = [
  'qdisc mq 0: root ',
  'qdisc pfifo_fast 0: parent :2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1',
  'qdisc pfifo_fast 0: parent :1 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1',
  '',
].join('\n');
const HTB_TREE = [
  'qdisc htb 1: root refcnt 2 r2q 10 default 0x10 direct_packets_stat 0 direct_qlen 1000',
  'qdisc sfq 10: parent 1:10 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec',
  'qdisc ingress ffff: parent ffff:fff1 ----------------',
  '',
].join('\n');

/** How tc shows a qdisc made with these words (what `tc qdisc replace ... root` was given). */
function shownAs(handle: string, kind: string, words: string[]): string {
  const params: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (kind === 'fq_codel' && w === 'noecn') continue;
    if ((kind === 'fq_codel' || kind === 'pfifo') && w === 'limit') {
      params.push('limit', `${words[++i]}p`);
      continue;
    }
    params.push(w);
  }
  if (kind === 'pfifo_fast') params.push('bands', '3', 'priomap', '1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1');
  return `qdisc ${kind} ${handle} root refcnt 2 ${params.join(' ')} \n`;
}

/**
 * A host whose underlay is `iface`: `ip` names it, `tc` keeps its qdiscs (the kernel attaches
 * `kernelDefault` when the root is deleted), `cat` gives net.core.default_qdisc. Every command
 * is kept; any script's text given to sh is kept too.
 */
function fakeHost(o: { iface: string; qdiscs: string; kernelDefault: string; defaultQdisc?: string }) {
  const calls: { argv: string[]; input?: string }[] = [];
  const scripts: string[] = [];
  let qdiscs = o.qdiscs;
  const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
  const fail = (stderr: string): ExecResult => ({ exitCode: 2, stdout: '', stderr });
  const runner = {
    async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
      const a = [...argv];
      calls.push({ argv: a, ...(options.input === undefined ? {} : { input: options.input }) });
      if (a[0] === 'sh') {
        scripts.push(a[1] === '-c' ? a[2]! : (options.input ?? ''));
        return ok();
      }
      if (a.join(' ') === 'ip -o -4 addr show') {
        return ok(`1: lo    inet 127.0.0.1/8 scope host lo\n7: ${o.iface}@if12    inet 172.28.128.6/24 scope global ${o.iface}\n`);
      }
      if (a.join(' ') === 'cat /proc/sys/net/core/default_qdisc') return o.defaultQdisc ? ok(`${o.defaultQdisc}\n`) : fail('cat: No such file or directory');
      if (a[0] !== 'tc' || a[1] !== 'qdisc' || a[3] !== 'dev') return { exitCode: 127, stdout: '', stderr: `not here: ${a.join(' ')}` };
      if (a[4] !== o.iface) return fail(`Cannot find device "${a[4]}"`);
      if (a[2] === 'show') return ok(qdiscs);
      if (a[2] === 'del' && a[5] === 'root') {
        if (/^qdisc \S+ 0: root/m.test(qdiscs)) return fail('Error: Cannot delete qdisc with handle of zero.');
        qdiscs = o.kernelDefault;
        return ok();
      }
      if (a[2] === 'replace' && a[5] === 'root') {
        const rest = a.slice(6);
        // tc's own handles: the lowest from 8001: that no qdisc there holds.
        const inUse = /^qdisc \S+ (\S+) root/.exec(qdiscs)?.[1];
        const auto = inUse === '8001:' ? '8002:' : '8001:';
        const handle = rest[0] === 'handle' ? rest[1]! : auto;
        const words = rest[0] === 'handle' ? rest.slice(2) : rest;
        // As the kernel: a replace naming the handle of a qdisc of another kind is refused.
        const there = new RegExp(`^qdisc (\\S+) ${handle} root`).exec(qdiscs);
        if (there && there[1] !== words[0]) return fail('Error: Invalid qdisc name.');
        qdiscs = shownAs(handle, words[0]!, words.slice(1));
        return ok();
      }
      return fail(`tc: unexpected ${a.join(' ')}`);
    },
  };
  const host = { name: 'h1', address: '172.28.128.6', runner, ssh: undefined, engine: undefined, engineFlags: [] } as unknown as HostAccess;
  const t: faults.FaultTarget = {
    plan: { lab: 'l', hosts: [], dockerHosts: [] } as unknown as faults.FaultTarget['plan'],
    state: {} as LabState,
    hosts: new Map([['h1', host]]),
    signal: new AbortController().signal,
  };
  return { host, t, calls, scripts, qdiscs: () => qdiscs };
}

/** A record as heal reads it: through the state file's JSON. */
function stored(f: FaultRecord): FaultRecord {
  return JSON.parse(JSON.stringify(f)) as FaultRecord;
}

describe('faults: the root qdisc a link fault replaces', () => {
  it('reads tc\'s lines: kind, handle, parent and parameters without the refcount', () => {
    expect(parseQdiscs(FQ_CODEL_DEFAULT)).to.deep.equal([
      { kind: 'fq_codel', handle: '0:', parent: 'root', params: 'limit 10240p flows 1024 quantum 1514 target 5ms interval 100ms memory_limit 32Mb ecn drop_batch 64'.split(' ') },
    ]);
    expect(parseQdiscs(MQ_PFIFO_FAST)).to.have.length(3);
    expect(parseQdiscs('Error: garbage\n')).to.be.a('string').and.include('Error: garbage');
    expect(qdiscTree('qdisc noqueue 0: root refcnt 2 \n')).to.equal(qdiscTree('qdisc noqueue 8001: root refcnt 3'));
  });

  it('the kernel\'s own (every handle 0:) comes back when overlab\'s is deleted, if the kernel would attach the same kind today', () => {
    expect(qdiscRestore(NOQUEUE, 'fq_codel')).to.deep.equal({ how: 'delete' });
    expect(qdiscRestore(NOQUEUE, undefined)).to.deep.equal({ how: 'delete' });
    expect(qdiscRestore(FQ_CODEL_DEFAULT, 'fq_codel')).to.deep.equal({ how: 'delete' });
    expect(qdiscRestore(MQ_PFIFO_FAST, 'pfifo_fast')).to.deep.equal({ how: 'delete' });
    expect(qdiscRestore('qdisc noop 0: root refcnt 2\n', 'fq_codel')).to.deep.equal({ how: 'delete' });
    // A VM's virtio-net with 4 queues, 2 in use: the kernel puts pfifo_fast on the queues past them.
    const mixed = ['qdisc mq 0: root', ...[4, 3, 2, 1].map((n) => `qdisc ${n > 2 ? 'pfifo_fast' : 'fq_codel'} 0: parent :${n} ${n > 2 ? 'bands 3' : 'limit 10240p'}`)].join('\n');
    expect(qdiscRestore(mixed, 'fq_codel')).to.deep.equal({ how: 'delete' });
    expect(qdiscRestore(mixed.replace('fq_codel 0: parent :1', 'fq 0: parent :1'), 'fq_codel')).to.include({ how: 'refuse' });
  });

  it('one the kernel would not attach again, or one someone set, is made again with its handle and every parameter', () => {
    expect(qdiscRestore(FQ_CODEL_DEFAULT, 'pfifo_fast')).to.deep.equal({
      how: 'recreate',
      args: ['fq_codel', 'limit', '10240', 'flows', '1024', 'quantum', '1514', 'target', '5ms', 'interval', '100ms', 'memory_limit', '32Mb', 'ecn', 'drop_batch', '64'],
    });
    expect(qdiscRestore(FQ_CODEL_SET, 'fq_codel')).to.deep.equal({
      how: 'recreate',
      args: ['handle', '8003:', 'fq_codel', 'limit', '2000', 'flows', '512', 'quantum', '1514', 'target', '10ms', 'interval', '200ms', 'memory_limit', '4Mb', 'drop_batch', '64', 'noecn'],
    });
    expect(qdiscRestore('qdisc noqueue 8001: root refcnt 2\n', 'fq_codel')).to.deep.equal({ how: 'recreate', args: ['handle', '8001:', 'noqueue'] });
    expect(qdiscRestore('qdisc pfifo 1: root refcnt 2 limit 500p\n', 'fq_codel')).to.deep.equal({ how: 'recreate', args: ['handle', '1:', 'pfifo', 'limit', '500'] });
  });

  it('trees someone built, kinds and parameters overlab cannot set, and trees the kernel would not make again are refused', () => {
    const htb = qdiscRestore(HTB_TREE, 'fq_codel');
    expect(htb).to.include({ how: 'refuse' });
    expect((htb as { why: string }).why).to.include('tree of 2 qdiscs (htb 1:, sfq 10:)');
    expect(qdiscRestore('qdisc fq 8001: root refcnt 2 limit 10000p flow_limit 100p buckets 1024\n', 'fq_codel')).to.include({ how: 'refuse' });
    expect(qdiscRestore('qdisc netem 8001: root refcnt 2 limit 1000 delay 100ms\n', 'fq_codel')).to.include({ how: 'refuse' });
    expect(qdiscRestore('qdisc fq_codel 8001: root refcnt 2 limit 10240p ce_threshold_selector 0x1/0x3\n', 'fq_codel')).to.include({ how: 'refuse' });
    expect(qdiscRestore(MQ_PFIFO_FAST, 'fq_codel')).to.include({ how: 'refuse' });
    expect(qdiscRestore('', 'fq_codel')).to.include({ how: 'refuse' });
  });

  it('a second fault on a host keeps the first one\'s record of what was there; a malformed record is a state error', () => {
    const saved = { iface: 'eth1', shown: FQ_CODEL_SET };
    const records: FaultRecord[] = [
      { kind: 'partition', host: 'h1', since: 'a' },
      { kind: 'latency', host: 'h2', ms: 5, since: 'b', qdisc: { iface: 'eth9', shown: NOQUEUE } } as LinkFaultRecord,
      { kind: 'rate', host: 'h1', mbit: 10, since: 'c', qdisc: saved } as LinkFaultRecord,
    ];
    expect(recordedQdiscOn(records.map(stored), 'h1')).to.deep.equal(saved);
    expect(recordedQdiscOn(records, 'h3')).to.equal(undefined);
    expect(savedQdiscOf({ kind: 'rate', host: 'h1', mbit: 1, since: 'd' })).to.equal(undefined);
    expect(() => savedQdiscOf({ kind: 'rate', host: 'h1', mbit: 1, since: 'd', qdisc: { iface: 3 } } as unknown as FaultRecord)).to.throw(LabStateError, 'malformed');
  });
});

describe('faults: latency and rate put back what the interface had', () => {
  const cases: { what: string; qdiscs: string; kernelDefault: string; defaultQdisc?: string; exact: boolean }[] = [
    { what: 'noqueue, the kernel default (a netns veth)', qdiscs: NOQUEUE, kernelDefault: NOQUEUE, defaultQdisc: 'fq_codel', exact: true },
    { what: 'an mq tree of pfifo_fast, the kernel default (a VM)', qdiscs: MQ_PFIFO_FAST, kernelDefault: MQ_PFIFO_FAST, defaultQdisc: 'pfifo_fast', exact: true },
    { what: 'fq_codel, the kernel default', qdiscs: FQ_CODEL_DEFAULT, kernelDefault: FQ_CODEL_DEFAULT, defaultQdisc: 'fq_codel', exact: true },
    // Attached before default_qdisc became pfifo_fast: deleting would give pfifo_fast; made again instead.
    { what: 'fq_codel from an earlier default', qdiscs: FQ_CODEL_DEFAULT, kernelDefault: shownAs('0:', 'pfifo_fast', []), defaultQdisc: 'pfifo_fast', exact: false },
    { what: 'fq_codel someone set, with parameters', qdiscs: FQ_CODEL_SET, kernelDefault: FQ_CODEL_DEFAULT, defaultQdisc: 'fq_codel', exact: true },

  ];
  for (const c of cases) {
    it(`${c.what}: recorded before, there again after heal`, async () => {
      const h = fakeHost({ iface: 'enp3s0', ...c });
      const record = await faults.latency(h.t, 'h1', 100, 1);
      expect(record.qdisc).to.deep.equal({ iface: 'enp3s0', shown: c.qdiscs });
      expect(h.qdiscs()).to.match(/^qdisc netem 800[12]: root/);
      await faults.undo(h.t, stored(record));
      if (c.exact) expect(h.qdiscs()).to.equal(c.qdiscs);
      else expect(qdiscTree(h.qdiscs())).to.equal(qdiscTree(c.qdiscs));
      // Healed twice (latency and rate both recorded): the second finds it back and changes nothing.
      const before = h.calls.length;
      await faults.undo(h.t, stored(record));
      expect(h.calls.slice(before).map((x) => x.argv[2])).to.deep.equal(['show']);
    });
  }

  it('a rate fault after a latency fault keeps the first record; heal puts the host\'s qdisc back, not overlab\'s netem', async () => {
    // The host's fq_codel has tc's first handle, 8001:; the netem gets 8002:, the tbf 8001: again.
    const theirs = FQ_CODEL_SET.replace('8003:', '8001:');
    const h = fakeHost({ iface: 'eth0', qdiscs: theirs, kernelDefault: FQ_CODEL_DEFAULT, defaultQdisc: 'fq_codel' });
    const first = await faults.latency(h.t, 'h1', 50);
    expect(h.qdiscs()).to.match(/^qdisc netem 8002: /);
    const again = await faults.qdiscBefore(h.t, 'h1', recordedQdiscOn([stored(first)], 'h1'));
    const second = await faults.rate(h.t, 'h1', 10, again);
    expect(second.qdisc).to.deep.equal({ iface: 'eth0', shown: theirs });
    expect(h.qdiscs()).to.match(/^qdisc tbf 8001: /);
    await faults.undo(h.t, stored(second));
    await faults.undo(h.t, stored(first));
    expect(h.qdiscs()).to.equal(theirs);
  });

  it('a qdisc it could not put back is refused, naming the host, the interface and the qdisc, and left as it is', async () => {
    const h = fakeHost({ iface: 'eth0', qdiscs: HTB_TREE, kernelDefault: FQ_CODEL_DEFAULT, defaultQdisc: 'fq_codel' });
    let err: unknown;
    try {
      await faults.latency(h.t, 'h1', 100);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PrerequisiteError);
    expect((err as Error).message).to.include('host h1').and.include('root qdisc of eth0').and.include('qdisc htb 1: root').and.include('nothing was changed');
    expect(h.qdiscs()).to.equal(HTB_TREE);
    expect(h.calls.filter((x) => x.argv[0] === 'tc' && x.argv[2] !== 'show')).to.deep.equal([]);
  });

  it('heal leaves alone a root qdisc that is neither overlab\'s nor the one it replaced', async () => {
    const h = fakeHost({ iface: 'eth0', qdiscs: NOQUEUE, kernelDefault: NOQUEUE });
    const record = await faults.rate(h.t, 'h1', 10);
    await h.host.runner.exec(['tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', 'handle', '8009:', 'cake', 'bandwidth', '20Mbit', 'diffserv3']);
    const theirs = h.qdiscs();
    expect(theirs).to.match(/^qdisc cake 8009: root/);
    await faults.undo(h.t, stored(record));
    expect(h.qdiscs()).to.equal(theirs);
  });
});

describe('faults: interface names read from a host', () => {
  it('follow Linux\'s rule: 1-15 bytes, not . or .., no /, : or whitespace', () => {
    for (const ok of ['eth0', 'enp0s8', 'wlp2s0', 'br-0123456789ab', 'a'.repeat(15), '$(id)', 'eth0;reboot', '`x`', "e'\"x"]) expect(interfaceNameProblem(ok), ok).to.equal(undefined);
    for (const bad of ['', '.', '..', 'a'.repeat(16), 'a/b', '../../x', 'eth0:1', 'eth0;touch /tmp/x', 'a\tb', 'a\nb', 'é'.repeat(8)]) {
      expect(interfaceNameProblem(bad), JSON.stringify(bad)).to.be.a('string');
    }
  });

  it('one Linux would refuse is refused before any command names it', async () => {
    const h = fakeHost({ iface: '../../x', qdiscs: NOQUEUE, kernelDefault: NOQUEUE });
    let err: unknown;
    try {
      await faults.latency(h.t, 'h1', 100);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PrerequisiteError);
    expect((err as Error).message).to.include('"../../x"').and.include('no Linux interface name');
    expect(h.calls.map((c) => c.argv.join(' '))).to.deep.equal(['ip -o -4 addr show']);
  });

  it('so is one in a lab state record, before heal runs anything with it', async () => {
    const h = fakeHost({ iface: 'eth0', qdiscs: NOQUEUE, kernelDefault: NOQUEUE });
    const record = { kind: 'latency', host: 'h1', ms: 1, since: 'x', qdisc: { iface: 'eth0;touch /tmp/x', shown: NOQUEUE } } as LinkFaultRecord;
    let err: unknown;
    try {
      await faults.undo(h.t, stored(record));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PrerequisiteError);
    expect((err as Error).message).to.include('"eth0;touch /tmp/x"');
    expect(h.calls).to.deep.equal([]);
  });

  it('a valid name full of shell metacharacters goes only as a whole argv word, never into a script\'s text', async () => {
    const iface = '$(id);`x`';
    const h = fakeHost({ iface, qdiscs: FQ_CODEL_SET, kernelDefault: FQ_CODEL_DEFAULT, defaultQdisc: 'fq_codel' });
    const lat = await faults.latency(h.t, 'h1', 100);
    await faults.undo(h.t, stored(lat));
    const rate = await faults.rate(h.t, 'h1', 10);
    await faults.undo(h.t, stored(rate));
    await faults.partition(h.t, 'h1', { tcpPort: 2377 });
    expect(h.qdiscs()).to.equal(FQ_CODEL_SET);
    const named = h.calls.filter((c) => c.argv.some((w) => w.includes('$(id)')));
    expect(named.length).to.be.greaterThan(4);
    for (const c of named) expect(c.argv.filter((w) => w.includes('$(id)')), c.argv.join(' ')).to.deep.equal([iface]);
    expect(h.scripts).to.have.length(1);
    for (const s of h.scripts) expect(s).to.not.include('$(id)').and.not.include('`x`');
  });
});

describe('faults: the partition script under a real sh', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-partition-'));
    // A stand-in iptables: each call's words, one per line, then a blank line.
    writeFileSync(join(dir, 'iptables'), '#!/bin/sh\nfor w; do printf "%s\\n" "$w"; done >> "$IPT_LOG"\necho >> "$IPT_LOG"\n');
    chmodSync(join(dir, 'iptables'), 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses (sh -n) for every shape', () => {
    for (const p of [{ iface: 'eth1' }, { iface: 'eth1', from: '10.0.0.2' }, { iface: 'eth1', tcpPort: 2377 }, { iface: 'eth1', from: '10.0.0.2', tcpPort: 2377 }]) {
      const r = spawnSync('sh', ['-n'], { input: partitionCommand(p).script, encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
    }
  });

  for (const iface of ['$(touch${IFS}pwned)', 'e;touch${IFS}pwned', '`touch${IFS}pwned`', "e'\"x", '-z']) {
    it(`hands iptables the name ${JSON.stringify(iface)} as one word, and runs nothing in it`, () => {
      const log = join(dir, `log-${Math.random().toString(36).slice(2)}`);
      const { argv, script } = partitionCommand({ iface, from: '10.0.0.2' });
      expect(script).to.not.include(iface);
      const r = spawnSync(argv[0]!, argv.slice(1), { input: script, cwd: dir, env: { PATH: `${dir}:/usr/bin:/bin`, IPT_LOG: log }, encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      const calls = readFileSync(log, 'utf8').split('\n\n').filter(Boolean).map((c) => c.split('\n'));
      const drops = calls.filter((c) => c.includes('DROP'));
      expect(drops).to.deep.equal([
        ['-w', '-A', 'OVERLAB-FAULT', '-i', iface, '-s', '10.0.0.2', '-j', 'DROP'],
        ['-w', '-A', 'OVERLAB-FAULT', '-o', iface, '-d', '10.0.0.2', '-j', 'DROP'],
      ]);
      expect(existsSync(join(dir, 'pwned'))).to.equal(false);
      expect(readdirSync(dir).filter((f) => !f.startsWith('log-') && f !== 'iptables')).to.deep.equal([]);
    });
  }
});
