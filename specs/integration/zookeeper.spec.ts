// ZooKeeper as cluster store: Debian's dockerd 20.10.24 panics (nil pointer in libnetwork's
// endpoint count watch) as soon as a container joins an overlay. overlab must bring the lab up
// as far as the engine allows and report the death within seconds, never hang. The day the
// engine is fixed this test fails, and the lab becomes a passing one.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { kvLab, leftovers, NOTHING_LEFT, Scratch } from './support/labs.ts';

describe('ZooKeeper cluster store with dockerd 20.10.24 (a known engine panic)', function () {
  this.timeout(180_000);
  let s: Scratch;
  let file: string;

  before(() => {
    s = new Scratch();
    file = s.lab('it-zk', kvLab('it-zk', { kv: 'zookeeper', third: 144 }));
  });
  after(async () => {
    await s.run(['down', '--force', 'it-zk']);
    s.dispose();
  });

  it('reports the engine death naming the host, quoting the panic and pointing at the log, within seconds', async () => {
    const started = Date.now();
    const up = await s.run(['up', '--lab', file, '--quiet'], { timeoutMs: 90_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(up.exitCode, up.all).to.equal(71);
    // The whole output in every message: a failure here once showed only its first 40 characters.
    expect(up.stderr, up.all).to.match(/the Docker engine on d[01] died while starting container c[01]/);
    // And how the engine's log ends: the panic once went unquoted, and its log was gone with the run.
    const log = /engine log: (\S+)/.exec(up.stderr)?.[1];
    const tail = log && existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => !/level=(info|debug)/.test(l)).slice(-60).join('\n') : '(no log)';
    expect(up.stderr, `${up.all}\n--- the engine log's end, info lines left out:\n${tail}`).to.include('panic: runtime error: invalid memory address or nil pointer dereference');
    expect(up.stderr, up.all).to.include('libnetwork.(*endpointCnt).Key');
    expect(up.stderr, up.all).to.match(/engine log: \S+\/it-zk\/logs\/d[01]\.dockerd\.log/);
    expect(seconds).to.be.below(30);
  });

  it('got as far as the engine allows: ZooKeeper was started, probed and recorded as the cluster store', async () => {
    const st = JSON.parse((await s.run(['status', '--lab', file, '--json'])).stdout);
    expect(st.phase).to.equal('failed');
    expect(st.kv).to.include({ type: 'zookeeper', clusterStore: 'zk://172.28.144.5:2181' });
  });

  it('leaves nothing behind after down', async () => {
    const down = await s.run(['down', '--lab', file]);
    expect(down.exitCode, down.all).to.equal(0);
    expect(await leftovers('it-zk')).to.deep.equal(NOTHING_LEFT);
  });
});
