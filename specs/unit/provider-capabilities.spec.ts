// What each provider declares it can do (copies, cells side by side, hand-over, an orphan sweep,
// a kernel to check before up, a proxy asked afresh, running meaning reachable), and that shared code's decisions follow
// the declaration, never the provider's id: the matrix's jobs, the provider an option implies,
// and the state checker's table of providers whose recorded proxy is never run.
import { expect } from 'chai';
import { UsageError } from '../../harness/errors.ts';
import type { ProviderId } from '../../harness/lab/types.ts';
import { defaultJobs } from '../../harness/lifecycle/matrix.ts';
import { LOCAL_PROVIDER, PROVIDER_IDS, providerById, providerImpliedBy } from '../../harness/providers/index.ts';
import type { Provider } from '../../harness/providers/provider.ts';
import { PROXY_ASKED_AFRESH } from '../../harness/state/check-host-state.ts';

interface Declared {
  copies: Provider['copies'];
  sideBySide: boolean;
  handsOver: boolean;
  sweepsOrphans: boolean;
  checksKernel: boolean;
  asksProxyAfresh: boolean;
  runningMeansReachable: boolean;
}

function declared(p: Provider): Declared {
  return {
    copies: p.copies,
    sideBySide: p.sideBySide,
    handsOver: p.handsOver ?? false,
    sweepsOrphans: typeof p.sweepOrphans === 'function',
    checksKernel: typeof p.kernelRunner === 'function',
    asksProxyAfresh: p.asksProxyAfresh ?? false,
    runningMeansReachable: p.runningMeansReachable ?? false,
  };
}

const EXPECTED: Record<ProviderId, Declared> = {
  netns: { copies: 'same-addresses', sideBySide: true, handsOver: true, sweepsOrphans: false, checksKernel: true, asksProxyAfresh: false, runningMeansReachable: true },
  vagrant: { copies: 'own-subnet', sideBySide: false, handsOver: false, sweepsOrphans: true, checksKernel: false, asksProxyAfresh: true, runningMeansReachable: false },
  ssh: { copies: 'unsupported', sideBySide: false, handsOver: false, sweepsOrphans: false, checksKernel: false, asksProxyAfresh: false, runningMeansReachable: false },
};

describe('provider capabilities', () => {
  for (const id of PROVIDER_IDS) {
    it(`${id} declares what it can do`, async () => {
      expect(declared(await providerById(id))).to.deep.equal(EXPECTED[id]);
    });
  }

  it("the state checker's providers with a proxy asked afresh are those that declare it", async () => {
    const afresh: ProviderId[] = [];
    for (const id of PROVIDER_IDS) if ((await providerById(id)).asksProxyAfresh) afresh.push(id);
    expect([...PROXY_ASKED_AFRESH].sort()).to.deep.equal(afresh.sort());
  });

  it('the local provider is one that runs labs side by side on this machine', async () => {
    const local = await providerById(LOCAL_PROVIDER);
    expect(local.sideBySide).to.equal(true);
    expect(local.kernelRunner).to.be.a('function');
  });

  describe("a matrix's jobs follow sideBySide, not the id", () => {
    it('one cell at a time where labs do not run side by side, whatever the id', () => {
      expect(defaultJobs({ id: 'netns', sideBySide: false }, 500, 8000, 4, 6).jobs).to.equal(1);
    });
    it('cells at once where they do, whatever the id', () => {
      expect(defaultJobs({ id: 'vagrant', sideBySide: true }, 500, 8000, 4, 6).jobs).to.equal(4);
    });
  });

  describe('providerImpliedBy: an option that belongs to one provider', () => {
    it('implies it when none is asked for', () => {
      expect(providerImpliedBy({ libvirt: 'local' })).to.equal('vagrant');
      expect(providerImpliedBy({ libvirt: 'local' }, 'vagrant')).to.equal('vagrant');
    });
    it('refuses another one, naming the option and both providers', () => {
      expect(() => providerImpliedBy({ libvirt: 'local' }, 'netns')).to.throw(UsageError, '--libvirt local needs --provider vagrant; got --provider netns');
    });
    it('leaves the choice alone for options every provider may take, or none', () => {
      expect(providerImpliedBy({ acceptNewHostKeys: true }, 'ssh')).to.equal('ssh');
      expect(providerImpliedBy({ acceptNewHostKeys: true })).to.equal(undefined);
      expect(providerImpliedBy({}, 'netns')).to.equal('netns');
    });
  });
});
