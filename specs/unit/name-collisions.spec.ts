// One name, two labs: `up` never adopts a lab it did not make from this file (or as this copy),
// and says whose it is. The state is written as an earlier `up` would have; no host is made.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { LabStateError } from '../../harness/errors.ts';
import { loadLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { prepareUp } from '../../harness/lifecycle/prepare-up.ts';
import { StateStore } from '../../harness/state/store.ts';

describe('lab names that collide', () => {
  let home = '';
  const saved = process.env['OVERLAB_HOME'];
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'overlab-names-'));
    process.env['OVERLAB_HOME'] = home;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['OVERLAB_HOME'];
    else process.env['OVERLAB_HOME'] = saved;
    rmSync(home, { recursive: true, force: true });
  });

  const recordUp = (file: string, copyOf?: string) => {
    const now = new Date().toISOString();
    new StateStore(join(home, 'tutorial')).write({ version: 1, lab: 'tutorial', provider: 'netns', mode: 'kv', file, ...(copyOf ? { copyOf } : {}), phase: 'up', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
  };

  it('refuses to call an unrelated lab of the same name "already up", naming the file it came from', async () => {
    const plan = planLab(await loadLab('labs/tutorial.yaml'));
    recordUp('/home/ann/labs/tutorial.yaml');
    const error = await prepareUp(plan, { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(LabStateError);
    expect((error as Error).message).to.equal(`a lab named tutorial is already up from /home/ann/labs/tutorial.yaml, not from labs/tutorial.yaml`);
    expect((error as LabStateError).hint).to.include('--as NAME');
    // Untouched.
    expect(new StateStore(join(home, 'tutorial')).read()!.file).to.equal('/home/ann/labs/tutorial.yaml');
  });

  it("adopts a copy when its own plan is brought up again without saying it is a copy (test --all on copies)", async () => {
    const plan = planLab(await loadLab('labs/tutorial.yaml'));
    recordUp(plan.file, 'tutorial');
    const error = await prepareUp(plan, { signal: new AbortController().signal }).catch((e: unknown) => e);
    // Past the name check: the recorded provider and hosts are what decide next (here: no hosts to connect to).
    expect(String(error)).not.to.include('already up from');
  });

  it('refuses a copy of another lab under the name asked for with --as', async () => {
    const plan = planLab(await loadLab('labs/tutorial.yaml'));
    recordUp(plan.file, 'swarm');
    const error = await prepareUp(plan, { signal: new AbortController().signal, copyOf: 'tutorial' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(LabStateError);
    expect((error as Error).message).to.include('already up from a copy of swarm');
  });

  it("a new up is a new life of the lab: an earlier life's spec reports and logs are set aside in previous/ (status --all shows no test it did not run)", async () => {
    const plan = planLab(await loadLab('labs/tutorial.yaml'));
    const dir = join(home, 'tutorial');
    for (const [sub, file] of [['reports', 'report.json'], ['logs', 'mhs-demo0.dockerd.log'], ['previous/reports', 'from-the-life-before.json']]) {
      mkdirSync(join(dir, sub!), { recursive: true });
      writeFileSync(join(dir, sub!, file!), '{}');
    }
    const run = await prepareUp(plan, { provider: 'netns', signal: new AbortController().signal });
    try {
      expect(run.alreadyUp).to.equal(false);
      expect(existsSync(join(dir, 'reports')), 'the reports of the earlier life, where the lab\'s are read').to.equal(false);
      expect(existsSync(join(dir, 'logs', 'mhs-demo0.dockerd.log')), 'the logs of the earlier life, where the engine\'s are read').to.equal(false);
      expect(existsSync(join(dir, 'previous', 'reports', 'report.json')), 'kept readable').to.equal(true);
      expect(existsSync(join(dir, 'previous', 'logs', 'mhs-demo0.dockerd.log')), 'kept readable').to.equal(true);
      expect(existsSync(join(dir, 'previous', 'reports', 'from-the-life-before.json')), 'one life is kept, the last').to.equal(false);
    } finally {
      run.finish(new Error('not brought up: a unit test')); // nothing was made; this releases the lock
    }
  });
});
