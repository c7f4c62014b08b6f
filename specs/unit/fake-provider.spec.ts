// The provider contract (specs/support/provider-contract.ts) on the fake provider, in memory:
// no root, no machines. The same suite runs on netns, vagrant (stand-in) and ssh in specs/integration/.
import { expect } from 'chai';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { PROVIDER_IDS, providerById } from '../../harness/providers/index.ts';
import { FakeProvider, FakeWorld } from '../../harness/providers/fake/fake-provider.ts';
import { FAKE_LAB } from '../support/fake-lab.ts';
import { providerContract } from '../support/provider-contract.ts';

describe('the fake provider', () => {
  const world = new FakeWorld();
  providerContract('fake', {
    provider: () => new FakeProvider({ world, hosts: { d1: { create: { delayMs: 200 } } } }),
    plan: async () => planLab(parseLab(FAKE_LAB, 'fakelab.yaml')),
    createMs: 1_000,
    abortAfterMs: 50,
    abortBoundMs: 100,
  });

  it('is no registered provider: no lab file or command reaches it', async () => {
    expect(PROVIDER_IDS).to.not.include('fake');
    let error: unknown;
    await providerById('fake').catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/unknown provider "fake"/);
    expect(new FakeProvider().fake).to.equal(true);
  });
});
