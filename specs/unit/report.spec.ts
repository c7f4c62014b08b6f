import { expect } from 'chai';
import { renderJunit, reportOfLife, summaryLines, type SpecReport } from '../../harness/report/index.ts';
import { shouldDestroy } from '../../harness/lifecycle/test.ts';
import { checkSpecReport } from '../../harness/report/check.ts';
import { ipCounters, nslookupAnswers, pingReplyFrom } from '../../harness/probes/busybox.ts';
import { plainAssertion } from '../../harness/probes/failure.ts';

describe('spec reports', () => {
  const report: SpecReport = {
    lab: 'tutorial',
    file: 'labs/tutorial.yaml',
    properties: { provider: 'netns', engine: '20.10.24', kv: 'etcd', mode: 'kv' },
    startedAt: '2026-11-23T18:00:00.123Z',
    ms: 1500,
    counts: { tests: 3, passed: 1, failed: 2, pending: 0, na: 0 },
    cases: [
      { suite: 'reachability', title: 'c0 on mhs-demo0 reaches c1 on mhs-demo1 over my-net by name (icmp)', state: 'passed', ms: 12 },
      { suite: 'isolation', title: 'a "quoted" <title> & more', state: 'failed', ms: 900, failure: { kind: 'assertion', message: 'got a reply\nfrom 10.0.5.2', detail: 'ping -c 1 10.0.5.2\nexit 0 <ok> \u0001' } },
      { suite: 'dns', title: 'lookup', state: 'failed', ms: 5, failure: { kind: 'error', message: 'exec refused', detail: 'HTTP 409' } },
    ],
  };
  const xml = renderJunit(report);

  it('puts the lab, provider, engine, KV store and mode in the suite properties', () => {
    for (const [k, v] of Object.entries(report.properties)) expect(xml).to.include(`<property name="${k}" value="${v}"/>`);
  });

  it('counts a broken property as a failure and a check that could not run as an error', () => {
    expect(xml).to.include('<testsuites name="overlab" tests="3" failures="1" errors="1" skipped="0" time="1.500">');
    expect(xml).to.match(/<failure message="got a reply&#10;from 10.0.5.2" type="AssertionError">/);
    expect(xml).to.match(/<error message="exec refused" type="ProbeError">HTTP 409<\/error>/);
  });

  it('escapes titles, messages and output, and drops characters XML cannot hold', () => {
    expect(xml).to.include('name="a &quot;quoted&quot; &lt;title&gt; &amp; more"');
    expect(xml).to.include('exit 0 &lt;ok&gt; \uFFFD</failure>');
    expect(xml).to.not.include('\u0001');
  });

  it("names the user's spec file a case comes from, in JUnit (file=) and in report.json as read back", () => {
    const mine: SpecReport = { ...report, cases: [...report.cases, { suite: 'checks/x.spec.ts / ours', title: 'it', file: 'checks/x.spec.ts', state: 'failed', ms: 1, failure: { kind: 'assertion', message: 'no', detail: 'no' } }] };
    expect(renderJunit(mine)).to.include('<testcase classname="overlab.tutorial.checks/x.spec.ts / ours" name="it" file="checks/x.spec.ts" time="0.001">');
    expect(xml).to.not.include(' file=');
    expect(checkSpecReport(JSON.parse(JSON.stringify(mine))).cases[3]!.file).to.equal('checks/x.spec.ts');
    expect(() => checkSpecReport(JSON.parse(JSON.stringify({ ...mine, cases: [{ ...mine.cases[3], file: 7 }] })))).to.throw(/cases\/0\/file/);
  });
});

describe('which report is the lab\'s: one of its current life only', () => {
  const life = '2026-12-05T08:00:00.000Z';
  const ran = (over: Partial<SpecReport>): SpecReport => ({ lab: 'tutorial-01', file: 'labs/tutorial.yaml', properties: {}, startedAt: '2026-12-05T08:01:00.000Z', ms: 1, counts: { tests: 0, passed: 0, failed: 0, pending: 0, na: 0 }, cases: [], ...over });

  it('shows a report of the life it names', () => {
    const r = ran({ life });
    expect(reportOfLife(r, life)).to.equal(r);
  });

  it('never shows a report of an earlier life of the same name, however recent its time', () => {
    expect(reportOfLife(ran({ life: '2026-12-05T07:20:00.000Z', startedAt: '2026-12-05T07:21:00.000Z' }), life)).to.equal(undefined);
    // Named by its life, not judged by clocks: a later start time does not make it this life's.
    expect(reportOfLife(ran({ life: '2026-12-05T07:20:00.000Z', startedAt: '2026-12-05T08:30:00.000Z' }), life)).to.equal(undefined);
  });

  it('judges a report from before reports named their life by its start: in this life or not', () => {
    const older = ran({ startedAt: '2026-12-05T07:21:00.000Z' });
    const since = ran({ startedAt: '2026-12-05T08:00:00.000Z' });
    expect(reportOfLife(older, life)).to.equal(undefined);
    expect(reportOfLife(since, life)).to.equal(since);
  });

  it('shows nothing when there is no report', () => {
    expect(reportOfLife(undefined, life)).to.equal(undefined);
  });
});

describe('overlab test --destroy', () => {
  it('keeps a lab that was up, and removes one it brought up only when every spec passed', () => {
    expect(shouldDestroy(undefined, { wasUp: true, passed: true })).to.equal(false);
    expect(shouldDestroy(undefined, { wasUp: false, passed: true })).to.equal(true);
    expect(shouldDestroy(undefined, { wasUp: false, passed: false })).to.equal(false);
    expect(shouldDestroy('always', { wasUp: true, passed: false })).to.equal(true);
    expect(shouldDestroy('never', { wasUp: false, passed: true })).to.equal(false);
    expect(shouldDestroy('passing', { wasUp: true, passed: true })).to.equal(true);
  });
});

describe('reading busybox output', () => {
  it('takes the answers of nslookup, not the server address', () => {
    const out = 'Server:\t\t127.0.0.11\nAddress:\t127.0.0.11:53\n\nNon-authoritative answer:\nName:\tc1\nAddress: 10.0.4.3\n\n';
    expect(nslookupAnswers(out)).to.deep.equal(['10.0.4.3']);
    expect(nslookupAnswers(';; connection timed out; no servers could be reached\n')).to.deep.equal([]);
  });

  it('finds who answered a ping', () => {
    expect(pingReplyFrom('PING c0 (10.0.4.2): 56 data bytes\n64 bytes from 10.0.4.2: seq=0 ttl=64 time=0.3 ms\n')).to.equal('10.0.4.2');
    expect(pingReplyFrom('1 packets transmitted, 0 packets received, 100% packet loss')).to.equal(undefined);
  });

  it('reads the kernel IP counters', () => {
    const snmp = 'Ip: Forwarding DefaultTTL FragCreates ReasmOKs\nIp: 1 64 2 0\nIcmp: InMsgs\nIcmp: 3\n';
    expect(ipCounters(snmp)).to.deep.equal({ Forwarding: 1, DefaultTTL: 64, FragCreates: 2, ReasmOKs: 0 });
  });
});

describe('spec reports: not applicable', () => {
  const reason = 'kernel has no IP_VS (CONFIG_IP_VS) on sv-a, sv-b: service VIPs and the routing mesh';
  const report: SpecReport = {
    lab: 'services',
    file: 'labs/services.yaml',
    properties: { provider: 'netns' },
    startedAt: '2026-12-02T18:00:00.000Z',
    ms: 2000,
    counts: { tests: 4, passed: 2, failed: 1, pending: 0, na: 1 },
    cases: [
      { suite: 'services', title: 'probe reaches every task of web', state: 'passed', ms: 10 },
      { suite: 'services', title: 'tasks.web resolves to every task', state: 'passed', ms: 10 },
      { suite: 'services', title: 'web answers', state: 'failed', ms: 10, failure: { kind: 'assertion', message: 'no answer', detail: 'nc' } },
      { suite: 'service VIPs', title: 'connections to the VIP of web reach each of its 3 replicas', state: 'n/a', ms: 0, reason },
    ],
  };

  it('JUnit, JSON and the terminal summary agree on passed, failed and n/a counts', () => {
    const xml = renderJunit(report);
    const suite = /<testsuites [^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/.exec(xml)!;
    const [tests, failures, errors, skipped] = suite.slice(1).map(Number) as [number, number, number, number];
    const json = JSON.parse(JSON.stringify(report)) as SpecReport;
    const lines = summaryLines(report);
    const fromJson = { passed: json.cases.filter((c) => c.state === 'passed').length, failed: json.cases.filter((c) => c.state === 'failed').length, na: json.cases.filter((c) => c.state === 'n/a').length };
    const fromSummary = /^(\d+) passed, (\d+) failed, (\d+) n\/a of (\d+) specs$/.exec(lines.counts)!.slice(1).map(Number);
    expect(fromJson).to.deep.equal({ passed: 2, failed: 1, na: 1 });
    expect(fromSummary).to.deep.equal([fromJson.passed, fromJson.failed, fromJson.na, json.cases.length]);
    expect([tests - failures - errors - skipped, failures + errors, skipped]).to.deep.equal([fromJson.passed, fromJson.failed, fromJson.na]);
    expect(lines.notApplicable).to.deep.equal([`n/a: service VIPs | connections to the VIP of web reach each of its 3 replicas: ${reason}`]);
  });

  it('reports an n/a spec as a skipped testcase whose message names the missing kernel feature', () => {
    const xml = renderJunit(report);
    expect(xml).to.include(`<skipped message="not applicable: ${reason}"/>`);
    expect(xml).to.not.match(/n\/a[^]*<failure[^>]*VIP/);
  });
});

describe('failure text: what was seen and what was wanted, in the spec\'s words', () => {
  /** chai's message for an assertion that fails. */
  const chaiSays = (assert: () => void): string => {
    try {
      assert();
    } catch (e) {
      return (e as Error).message;
    }
    return expect.fail('the assertion passed');
  };

  for (const [assert, plain] of [
    [() => expect(undefined, 'the version the engine on d0 reports').to.be.a('string'), 'the version the engine on d0 reports: got undefined, wanted a string'],
    [() => expect(2, 'ping from d0 to d1: exit code').to.equal(0), 'ping from d0 to d1: exit code: got 2, wanted 0'],
    [() => expect(0, 'exit code').to.not.equal(0), 'exit code: got 0, wanted anything but 0'],
    [() => expect(['d1'], 'engines missing under docker/nodes').to.deep.equal([]), "engines missing under docker/nodes: got [ 'd1' ], wanted []"],
    [() => expect(['x'], 'names').to.include('y'), "names: got [ 'x' ], wanted one that includes 'y'"],
    [() => expect(5).to.be.below(3), 'got 5, wanted below 3'],
  ] as const) {
    it(plain, () => {
      const said = chaiSays(assert);
      expect(said).to.match(/expected/);
      expect(plainAssertion(said)).to.equal(plain);
    });
  }

  it('keeps a message it cannot split safely (a quoted " to ") or that is not chai\'s', () => {
    const said = chaiSays(() => expect('a to b', 'x').to.equal('c'));
    expect(plainAssertion(said)).to.equal(said);
    expect(plainAssertion('the probe did not finish within 30 s')).to.equal('the probe did not finish within 30 s');
  });
});
