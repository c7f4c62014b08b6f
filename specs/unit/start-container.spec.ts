// The retry policy of container starts, against a stand-in whose start() fails as told (the
// real starts are in the integration specs).
import { expect } from 'chai';
import { START_ATTEMPTS, startContainer } from '../../harness/engine/contents.ts';

/** The error dockerode gives when a swarm manager did not allocate the attachment in time (seen in CI). */
const ATTACHMENT_TIMEOUT =
  '(HTTP code 500) server error - attaching to network failed, make sure your network options are correct and check manager logs: context deadline exceeded';

function standIn(failures: string[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    async start() {
      const failure = failures[calls++];
      if (failure !== undefined) throw new Error(failure);
    },
  };
}

describe('starting a container', () => {
  it('starts it once when the engine agrees', async () => {
    const c = standIn([]);
    await startContainer(c);
    expect(c.calls).to.equal(1);
  });

  it('tries again when only the swarm attachment timed out', async () => {
    const c = standIn([ATTACHMENT_TIMEOUT, ATTACHMENT_TIMEOUT]);
    await startContainer(c);
    expect(c.calls).to.equal(3);
  });

  it('tries again on the other wording of that timeout, and on a swarm network not there yet (both seen on slow emulated VMs)', async () => {
    const c = standIn(['(HTTP code 500) server error - Could not attach to network 3yr806vvjlq19y04x67utqj3x: context deadline exceeded', '(HTTP code 404) no such container - network secure not found']);
    await startContainer(c);
    expect(c.calls).to.equal(3);
  });

  it(`gives up after ${START_ATTEMPTS} attachment timeouts, with the engine's error`, async () => {
    const c = standIn(Array(START_ATTEMPTS).fill(ATTACHMENT_TIMEOUT));
    const error = await startContainer(c).catch((e: unknown) => e);
    expect(String(error)).to.include('context deadline exceeded');
    expect(c.calls).to.equal(START_ATTEMPTS);
  });

  it('does not try again on any other error', async () => {
    for (const other of ['(HTTP code 404) no such container', '(HTTP code 500) server error - attaching to network failed: invalid address', 'context deadline exceeded', 'Could not attach to network x: network not found']) {
      const c = standIn([other]);
      const error = await startContainer(c).catch((e: unknown) => e);
      expect(String(error)).to.include(other);
      expect(c.calls).to.equal(1);
    }
  });
});
