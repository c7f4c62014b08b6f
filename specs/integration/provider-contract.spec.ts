// The provider contract (specs/support/provider-contract.ts) on the real providers, as root:
// netns (two hosts, namespaces with their sshd, destroyed with nothing left on the machine by the
// lab's names, an abort inside createHosts) and vagrant against its stand-in (no VM).
// The fake runs the same suite in specs/unit/fake-provider.spec.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { providerById } from '../../harness/providers/index.ts';
import { VagrantProvider } from '../../harness/providers/vagrant/vagrant-provider.ts';
import { providerContract } from '../support/provider-contract.ts';
import { kvLab, leftovers, NOTHING_LEFT } from './support/labs.ts';
import { startStandinSshd, useStandinVagrant, type StandinSshd } from './support/standin-sshd.ts';

const LAB = 'it-contract';

providerContract('netns (real namespaces, as root)', {
  provider: () => providerById('netns'),
  plan: () => planLab(parseLab(kvLab(LAB, { dockers: 1, third: 158 }), `${LAB}.yaml`)),
  createMs: 20_000,
  abortAfterMs: 150,
  cleanup: async () => {
    expect(await leftovers(LAB), `lab ${LAB} left on the machine`).to.deep.equal(NOTHING_LEFT);
  },
});

// vagrant against its stand-in (specs/fixtures/vagrant-standin, as in vagrant-provider.spec.ts):
// no VM; every machine's "sshd" is one real sshd on 127.0.0.1 in a private mount namespace.
describe('vagrant with the stand-in vagrant, one sshd for every machine', function () {
  let dir: string;
  let sshd: StandinSshd | undefined;
  let restoreEnv: () => void = () => {};

  before(async function () {
    this.timeout(30_000);
    dir = mkdtempSync(join(tmpdir(), 'overlab-it-contract-vagrant-'));
    sshd = await startStandinSshd(dir);
    restoreEnv = useStandinVagrant(sshd, join(dir, 'calls.jsonl'));
  });

  after(async () => {
    restoreEnv();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  providerContract('vagrant (stand-in)', {
    provider: () => new VagrantProvider({ hypervisor: 'libvirt' }),
    plan: () => planLab(parseLab('name: it-contract-vagrant\nprovider: vagrant\nhosts:\n  - name: kv\n    role: kv\n  - name: d0\nkv:\n  type: etcd\n', 'it-contract-vagrant.yaml')),
    createMs: 10_000,
  });
});
