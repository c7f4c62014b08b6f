// The faults' pure parts: the iptables and tc commands, reading what a host answered, the fault
// facts planned from a lab, the fault verbs' flags, and how reports carry n/a and measured times.
import { expect } from 'chai';
import { faultAction } from '../../harness/cli/fault.ts';
import { UsageError } from '../../harness/errors.ts';
import { enginePidfile, FAULT_CHAIN, faultsOn, interfaceWithAddress, partitionCommand, unpartitionScript } from '../../harness/faults/commands.ts';
import { clearQdiscArgv, kernelLacksQdisc, netemArgv, netemInConfig, tbfArgv } from '../../harness/faults/qdisc.ts';
import { engineExecRoot } from '../../harness/engine/daemon.ts';
import { faultFacts, faultSubject, isFaultFact, recoveryBoundFrom } from '../../harness/lab/fault-facts.ts';
import { FAULT_SPEC_KINDS, faultSpecKindsFrom } from '../../harness/lab/fault-spec-kinds.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { renderJunit, type SpecReport } from '../../harness/report/index.ts';
import { describeFault, type FaultRecord } from '../../harness/state/faults.ts';
import { labText } from './lab-text.ts';

describe('faults: host commands', () => {
  it('a partition drops the underlay both ways in a chain of its own, hooked once, with SSH let through first', () => {
    const { argv, script: s } = partitionCommand({ iface: 'eth1' });
    expect(argv).to.deep.equal(['sh', '-s', '--', 'eth1']);
    expect(s).to.include(`iptables -w -N ${FAULT_CHAIN} 2>/dev/null || iptables -w -F ${FAULT_CHAIN}`);
    expect(s).to.include(`iptables -w -C INPUT -j ${FAULT_CHAIN} 2>/dev/null || iptables -w -I INPUT 1 -j ${FAULT_CHAIN}`);
    expect(s).to.include(`iptables -w -C OUTPUT -j ${FAULT_CHAIN} 2>/dev/null || iptables -w -I OUTPUT 1 -j ${FAULT_CHAIN}`);
    const rules = s.split('\n').filter((l) => l.includes(`-A ${FAULT_CHAIN}`));
    expect(rules).to.deep.equal([
      `iptables -w -A ${FAULT_CHAIN} -p tcp --dport 22 -j RETURN`,
      `iptables -w -A ${FAULT_CHAIN} -p tcp --sport 22 -j RETURN`,
      `iptables -w -A ${FAULT_CHAIN} -i "$dev" -j DROP`,
      `iptables -w -A ${FAULT_CHAIN} -o "$dev" -j DROP`,
    ]);
    // The interface is the script's "$1", never its text.
    expect(s).to.include('dev="$1"').and.not.include('eth1');
    // Nothing outside overlab's chain is added to or flushed.
    expect(s).to.not.match(/-F (INPUT|OUTPUT|FORWARD)\b|-A (INPUT|OUTPUT|FORWARD)\b/);
  });

  it('a partition from one host drops only its address ("$2"); a port partition only that tcp port', () => {
    const from = partitionCommand({ iface: 'enp0s8', from: '172.28.128.6' });
    expect(from.argv).to.deep.equal(['sh', '-s', '--', 'enp0s8', '172.28.128.6']);
    expect(from.script).to.include('peer="$2"').and.include(`-A ${FAULT_CHAIN} -i "$dev" -s "$peer" -j DROP`).and.include(`-o "$dev" -d "$peer" -j DROP`);
    expect(from.script).to.not.include('enp0s8').and.not.include('172.28.128.6');
    const port = partitionCommand({ iface: 'eth1', tcpPort: 2377 }).script;
    expect(port).to.include(`-A ${FAULT_CHAIN} -i "$dev" -p tcp --dport 2377 -j DROP`).and.include(`-o "$dev" -p tcp --sport 2377 -j DROP`);
    expect(port).to.not.include('-i "$dev" -j DROP');
    expect(() => partitionCommand({ iface: 'eth1', tcpPort: 70000 })).to.throw(RangeError, 'tcpPort');
  });

  it('heal removes every hook to the chain, then the chain, and fails on nothing', () => {
    const s = unpartitionScript();
    expect(s).to.include(`while iptables -w -D INPUT -j ${FAULT_CHAIN} 2>/dev/null; do :; done`);
    expect(s).to.include(`iptables -w -X ${FAULT_CHAIN} 2>/dev/null || true`);
  });

  it('finds the underlay as the interface that holds the host address', () => {
    const out = [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic eth0',
      '3: eth1@if12    inet 172.28.128.6/24 scope global eth1',
      '4: docker_gwbridge    inet 172.18.0.1/16 brd 172.18.255.255 scope global docker_gwbridge',
    ].join('\n');
    expect(interfaceWithAddress(out, '172.28.128.6')).to.equal('eth1');
    expect(interfaceWithAddress(out, '10.0.2.15')).to.equal('eth0');
    expect(interfaceWithAddress(out, '172.28.128.60')).to.equal(undefined);
  });

  it('tc: netem with delay and loss, a token bucket, and its removal', () => {
    expect(netemArgv('eth1', 100, 5)).to.deep.equal(['tc', 'qdisc', 'replace', 'dev', 'eth1', 'root', 'netem', 'delay', '100ms', 'loss', '5%']);
    expect(netemArgv('eth1', 50)).to.deep.equal(['tc', 'qdisc', 'replace', 'dev', 'eth1', 'root', 'netem', 'delay', '50ms']);
    expect(tbfArgv('eth1', 10)).to.deep.equal(['tc', 'qdisc', 'replace', 'dev', 'eth1', 'root', 'tbf', 'rate', '10mbit', 'burst', '32kb', 'latency', '400ms']);
    expect(tbfArgv('eth1', 1000)[10]).to.equal('1250kb');
    expect(clearQdiscArgv('eth1')).to.deep.equal(['tc', 'qdisc', 'del', 'dev', 'eth1', 'root']);
  });

  it("tells a kernel without netem from tc's answer and from its config", () => {
    expect(kernelLacksQdisc('Error: Specified qdisc kind is unknown.\n')).to.equal(true);
    expect(kernelLacksQdisc('RTNETLINK answers: No such file or directory\n')).to.equal(true);
    expect(kernelLacksQdisc('RTNETLINK answers: Operation not permitted\n')).to.equal(false);
    expect(netemInConfig('CONFIG_NET_SCH_TBF=y\n# CONFIG_NET_SCH_NETEM is not set\n')).to.equal(undefined);
    expect(netemInConfig('CONFIG_NET_SCH_NETEM=m\n')).to.equal('m');
  });

  it("finds the engine's pidfile and exec root in its flags", () => {
    expect(enginePidfile(['--data-root=/x', '--pidfile=/run/overlab/l/h/docker.pid'])).to.equal('/run/overlab/l/h/docker.pid');
    expect(enginePidfile(['-p', '/run/d.pid'])).to.equal('/run/d.pid');
    expect(enginePidfile([])).to.equal('/var/run/docker.pid');
    expect(engineExecRoot(['--exec-root=/run/overlab/l/h/exec'])).to.equal('/run/overlab/l/h/exec');
    expect(engineExecRoot([])).to.equal('/var/run/docker');
  });

  it('heal HOST picks the faults on that host; heal picks all', () => {
    const f: FaultRecord[] = [
      { kind: 'partition', host: 'd1', since: 'a' },
      { kind: 'kv-down', host: 'kv', since: 'b' },
    ];
    expect(faultsOn(f, 'd1')).to.deep.equal([f[0]]);
    expect(faultsOn(f, undefined)).to.deep.equal(f);
    expect(describeFault(f[0]!)).to.equal('partition of d1 from every host');
    expect(describeFault({ kind: 'latency', host: 'd1', ms: 100, loss: 2, since: 'c' })).to.equal("100 ms of delay and 2% loss on d1's underlay");
  });
});

describe('faults: facts planned from the lab', () => {
  const kv = planLab(
    parseLab(
      labText`
        name: f
        provider: netns
        network: { subnet: 172.28.190.0/24 }
        hosts:
          - { name: kv, role: kv }
          - { name: d0 }
          - { name: d1 }
        kv: { type: etcd }
        engine: { mode: kv }
        networks: [{ name: net, subnet: 10.0.4.0/24 }]
        containers:
          - { name: c0, host: d0, networks: [net] }
          - { name: c1, host: d1, networks: [net] }
      `,
      'f.yaml',
    ),
  );
  const swarm = planLab(
    parseLab(
      labText`
        name: s
        provider: netns
        network: { subnet: 172.28.191.0/24 }
        hosts: [{ name: manager }, { name: worker }]
        engine: { mode: swarm }
        networks: [{ name: net, subnet: 10.0.4.0/24, attachable: true }]
        containers:
          - { name: c0, host: manager, networks: [net] }
          - { name: c1, host: worker, networks: [net] }
      `,
      's.yaml',
    ),
  );

  it('kv mode: the KV outage facts, then partition, engine restart and kill, and latency on the last docker host', () => {
    const facts = faultFacts(kv);
    expect(facts.map((f) => f.kind)).to.deep.equal(['kv-outage-reach', 'kv-outage-create', 'kv-recovered-create', 'partition-heal', 'engine-restart', 'engine-kill', 'latency']);
    expect(faultSubject(kv)).to.deep.equal({ host: 'd1', from: 'c0', to: 'c1', network: 'net' });
    expect(facts.every(isFaultFact)).to.equal(true);
  });

  it('swarm mode: the manager outage (tcp 2377) instead, and never the manager as the subject', () => {
    const facts = faultFacts(swarm);
    expect(facts.map((f) => f.kind)).to.deep.equal(['manager-outage-reach', 'partition-heal', 'engine-restart', 'engine-kill', 'latency']);
    expect(facts[0]).to.include({ host: 'manager', port: 2377 });
    expect(faultSubject(swarm)?.host).to.equal('worker');
  });

  it('--faults KINDS: only those kinds, in the specs\' order; an unknown or empty list is a usage error naming every kind', () => {
    expect(faultFacts(kv, faultSpecKindsFrom('latency, partition-heal,latency')).map((f) => f.kind)).to.deep.equal(['partition-heal', 'latency']);
    expect(faultFacts(swarm, faultSpecKindsFrom('kv-outage-reach'))).to.deep.equal([]);
    expect(() => faultSpecKindsFrom('latency,slow')).to.throw(UsageError, 'unknown fault spec "slow": the fault specs are kv-outage-reach, ');
    expect(() => faultSpecKindsFrom(' , ')).to.throw(UsageError, 'no fault spec named');
    expect(FAULT_SPEC_KINDS).to.include.members(faultFacts(kv).map((f) => f.kind));
  });

  it('--recovery-bound: every fact that waits for a recovery carries the run\'s bound (20 s unless given); whole seconds 1-600, anything else a usage error naming the option', () => {
    const bounds = (facts: ReturnType<typeof faultFacts>) => facts.map((f) => ('boundS' in f ? f.boundS : undefined));
    expect(bounds(faultFacts(kv))).to.deep.equal([20, 20, 20, 20, 20, 20, 20]);
    expect(bounds(faultFacts(kv, undefined, 5))).to.deep.equal([5, 5, 5, 5, 5, 5, 5]);
    expect(bounds(faultFacts(swarm, undefined, 7))).to.deep.equal([undefined, 7, 7, 7, 7]); // the manager outage keeps bounds of its own
    expect([recoveryBoundFrom('5'), recoveryBoundFrom(' 600 '), recoveryBoundFrom('1')]).to.deep.equal([5, 600, 1]);
    for (const bad of ['0', '601', '2.5', '-3', '', ' ', '5s', '1e2', '0x10']) {
      expect(() => recoveryBoundFrom(bad), JSON.stringify(bad)).to.throw(UsageError, /^--recovery-bound ".*": the recovery bound is a whole number of seconds from 1 to 600$/);
    }
  });

  it('no two containers on different hosts sharing a network: no fault facts', () => {
    expect(faultFacts({ ...kv, containers: kv.containers.map((c) => ({ ...c, host: 'd0' })) })).to.deep.equal([]);
  });
});

describe('faults: verbs and reports', () => {
  it('the verbs name what they lack', () => {
    expect(() => faultAction('partition', undefined, {})).to.throw(UsageError, 'needs a host');
    expect(() => faultAction('latency', 'd1', {})).to.throw(UsageError, '--ms');
    expect(() => faultAction('rate', 'd1', {})).to.throw(UsageError, '--mbit');
    expect(() => faultAction('kv-down', 'kv', {})).to.throw(UsageError, 'takes no host');
    expect(faultAction('partition', 'd1', { from: 'd0' })).to.deep.equal({ verb: 'partition', host: 'd1', from: 'd0' });
    expect(faultAction('heal', undefined, {})).to.deep.equal({ verb: 'heal' });
    expect(faultAction('latency', 'd1', { ms: 100, loss: 1 })).to.deep.equal({ verb: 'latency', host: 'd1', ms: 100, loss: 1 });
  });

  it('JUnit: an n/a case is skipped with its reason; measured times are testcase properties', () => {
    const report: SpecReport = {
      lab: 'f',
      file: 'f.yaml',
      properties: {},
      startedAt: '2026-12-02T18:00:00.000Z',
      ms: 1000,
      counts: { tests: 3, passed: 2, failed: 0, pending: 0, na: 1 },
      cases: [
        { suite: 'partition', title: 'p', state: 'passed', ms: 10, measured: { 'recovery.ms': 142 } },
        { suite: 'slow link', title: 'l', state: 'n/a', ms: 1, reason: 'the kernel of d1 has no netem qdisc (CONFIG_NET_SCH_NETEM not set)' },
        { suite: 'x', title: 'plain', state: 'passed', ms: 1 },
      ],
    };
    const xml = renderJunit(report);
    expect(xml).to.include('tests="3" failures="0" errors="0" skipped="1"');
    expect(xml).to.include('<property name="recovery.ms" value="142"/>');
    expect(xml).to.include('<skipped message="not applicable: the kernel of d1 has no netem qdisc (CONFIG_NET_SCH_NETEM not set)"/>');
    expect(xml).to.include('name="plain" time="0.001"/>');
  });
});
