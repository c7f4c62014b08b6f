import { expect } from 'chai';
import { DEFAULT_CONCURRENCY, MAX_PACE, PACE_UNIT_MS, concurrencyFor, paceFor } from '../../harness/lifecycle/pace.ts';

describe('pace: time allowances from how fast the engines run a command', function () {
  it('is 1 for an exec as fast as on netns (~0.1 s) and up to one unit', function () {
    expect(paceFor(0)).to.equal(1);
    expect(paceFor(90)).to.equal(1);
    expect(paceFor(PACE_UNIT_MS)).to.equal(1);
  });

  it('grows by one per unit above that (a VM under emulation: seconds per exec)', function () {
    expect(paceFor(PACE_UNIT_MS + 1)).to.equal(2);
    expect(paceFor(1500)).to.equal(Math.ceil(1500 / PACE_UNIT_MS));
  });

  it(`stops at ${MAX_PACE}, also for an engine that never answered`, function () {
    expect(paceFor(PACE_UNIT_MS * 50)).to.equal(MAX_PACE);
    expect(paceFor(30_000)).to.equal(MAX_PACE);
  });

  it(`runs ${DEFAULT_CONCURRENCY} probes at once at pace 1, fewer when slower, never fewer than 2`, function () {
    expect(concurrencyFor(1)).to.equal(DEFAULT_CONCURRENCY);
    expect(concurrencyFor(2)).to.equal(4);
    expect(concurrencyFor(3)).to.equal(3);
    expect(concurrencyFor(MAX_PACE)).to.equal(2);
  });

  it('keeps the concurrency the user asked for, whatever the pace', function () {
    expect(concurrencyFor(1, 3)).to.equal(3);
    expect(concurrencyFor(MAX_PACE, 16)).to.equal(16);
  });
});
