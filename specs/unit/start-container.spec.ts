// The retry policy of container starts, against a stand-in whose start() fails as told and a
// clock the test moves (the real starts are in the integration and VM specs).
import { expect } from 'chai';
import { START_BUDGET_MS, startContainer } from '../../harness/engine/contents.ts';

/** The engine's two words for a swarm manager that did not attach the container in time (both seen on slow VMs). */
const TIMEOUT = '(HTTP code 500) server error - attaching to network failed, make sure your network options are correct and check manager logs: context deadline exceeded';
const TIMEOUT_UNALLOCATED = '(HTTP code 500) server error - Could not attach to network 3yr806vvjlq19y04x67utqj3x: context deadline exceeded';
/** What the start right after a timeout answers (the engine drops its half-made attachment). */
const STALE = '(HTTP code 404) no such container - network secure not found';
/** The same from Docker 28.5.2 (a worker of the services VM spec, before the manager had delivered the fresh overlay). */
const STALE_28 = '(HTTP code 404) no such container - failed to set up container networking: could not find a network matching network mode front: network front not found';

/** A container whose n-th start fails with failures[n], each start taking `tookMs` on the test's clock. */
function standIn(failures: string[], tookMs = 20_000) {
  let calls = 0;
  let clock = 0;
  return {
    get calls() {
      return calls;
    },
    now: () => clock,
    async start() {
      const failure = failures[calls++];
      clock += tookMs;
      if (failure !== undefined) throw new Error(failure);
    },
  };
}

async function start(c: ReturnType<typeof standIn>, budgetMs?: number) {
  const retries: string[] = [];
  const error = await startContainer(c, { budgetMs, pauseMs: 0, now: c.now, onRetry: (n, m) => retries.push(`${n}: ${m}`) }).catch((e: unknown) => e as Error);
  return { error, retries };
}

describe('starting a container', () => {
  it('starts it once when the engine agrees', async () => {
    const c = standIn([]);
    const { error, retries } = await start(c);
    expect(error).to.equal(undefined);
    expect(c.calls).to.equal(1);
    expect(retries).to.deep.equal([]);
  });

  it('tries again when only the swarm attachment timed out, in either wording, and says so each time', async () => {
    const c = standIn([TIMEOUT, TIMEOUT_UNALLOCATED]);
    const { error, retries } = await start(c);
    expect(error).to.equal(undefined);
    expect(c.calls).to.equal(3);
    expect(retries).to.deep.equal([`1: ${TIMEOUT}`, `2: ${TIMEOUT_UNALLOCATED}`]);
  });

  it('takes "network ... not found" right after a timeout as the engine dropping its stale attachment, and asks again', async () => {
    // The sequence the services VM spec met: timeout, stale, timeout, ... then the start.
    const c = standIn([TIMEOUT, STALE, TIMEOUT, STALE]);
    const { error } = await start(c, 10 * 60_000);
    expect(error).to.equal(undefined);
    expect(c.calls).to.equal(5);
  });

  it('does not try again on "network ... not found" on its own: the network is gone (an engine killed by a fault)', async () => {
    const c = standIn([STALE]);
    const { error } = await start(c);
    expect(String(error)).to.include('network secure not found');
    expect(c.calls).to.equal(1);
  });

  it('when the lab just made the networks, takes "not found" as a manager that does not know the fresh overlay yet, and asks again within the budget', async () => {
    // A matrix of swarm cells on a loaded machine: the worker's first start answered "not found".
    const retried = standIn([STALE, STALE]);
    const ok = await startContainer(retried, { networksExist: true, pauseMs: 0, now: retried.now }).catch((e: unknown) => e as Error);
    expect(ok).to.equal(undefined);
    expect(retried.calls).to.equal(3);
    const never = standIn(Array(100).fill(STALE), 20_000);
    const error = await startContainer(never, { networksExist: true, pauseMs: 0, now: never.now, budgetMs: 60_000 }).catch((e: unknown) => e as Error);
    expect(String(error)).to.include('network secure not found');
    expect(never.calls).to.equal(3);
  });

  it('knows "not found" in the words of Docker 28 too, after a timeout and when the lab just made the networks', async () => {
    const afterTimeout = standIn([TIMEOUT, STALE_28]);
    expect(await startContainer(afterTimeout, { pauseMs: 0, now: afterTimeout.now }).catch((e: unknown) => e as Error)).to.equal(undefined);
    expect(afterTimeout.calls).to.equal(3);
    const fresh = standIn([STALE_28, STALE_28]);
    expect(await startContainer(fresh, { networksExist: true, pauseMs: 0, now: fresh.now }).catch((e: unknown) => e as Error)).to.equal(undefined);
    expect(fresh.calls).to.equal(3);
    const gone = standIn([STALE_28]);
    expect(String(await startContainer(gone, { pauseMs: 0, now: gone.now }).catch((e: unknown) => e as Error))).to.include('network front not found');
    expect(gone.calls).to.equal(1);
  });

  it('does not take two "not found" in a row as stale: only the one right after a timeout', async () => {
    const c = standIn([TIMEOUT, STALE, STALE]);
    const { error } = await start(c);
    expect(String(error)).to.include('not found');
    expect(c.calls).to.equal(3);
  });

  it(`gives up once the budget (${START_BUDGET_MS / 1000} s by default) has passed, with the engine's last error`, async () => {
    const c = standIn(Array(100).fill(TIMEOUT), 20_000);
    const { error } = await start(c);
    expect(String(error)).to.include('context deadline exceeded');
    // 20 s per start: starts at 0, 20, 40, 60 and 80 s are tried; the one ending at 100 s is the last.
    expect(c.calls).to.equal(Math.ceil(START_BUDGET_MS / 20_000));
  });

  it('a larger budget (slow hosts) allows more starts', async () => {
    const c = standIn(Array(100).fill(TIMEOUT), 20_000);
    await start(c, 220_000);
    expect(c.calls).to.equal(11);
  });

  it('does not try again on any other error', async () => {
    for (const other of ['(HTTP code 404) no such container', '(HTTP code 500) server error - attaching to network failed: invalid address', 'context deadline exceeded', 'Could not attach to network x: network not found']) {
      const c = standIn([other]);
      const { error } = await start(c);
      expect(String(error)).to.include(other);
      expect(c.calls).to.equal(1);
    }
  });

  it('stops waiting between starts when aborted (Ctrl-C)', async () => {
    const c = standIn(Array(10).fill(TIMEOUT), 0);
    const ac = new AbortController();
    const began = Date.now();
    setTimeout(() => ac.abort(new Error('interrupted')), 50);
    const error = await startContainer(c, { pauseMs: 60_000, signal: ac.signal }).catch((e: unknown) => e as Error);
    expect((error as Error).name).to.equal('AbortError');
    expect(Date.now() - began).to.be.below(5_000);
    expect(c.calls).to.equal(1);
  });
});
