// Which lab a host command is about when no --lab is given, and what `ls` lists for labs that
// are not up or whose file is gone: from state files alone, no live lab.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../harness/errors.ts';
import { recordedLabs } from '../../harness/lifecycle/lab.ts';
import { listMachines, openHostLab } from '../../harness/lifecycle/machine.ts';
import type { LabState } from '../../harness/state/store.ts';

describe('labs of hosts (state files only)', () => {
  let dir: string;
  let saved: string | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-machine-'));
    saved = process.env['OVERLAB_HOME'];
    process.env['OVERLAB_HOME'] = join(dir, 'state');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['OVERLAB_HOME'];
    else process.env['OVERLAB_HOME'] = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A copy of a shipped lab under `name`, with a state file in `phase`. */
  const lab = (shipped: string, name: string, phase: LabState['phase'], hosts: string[]): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, readFileSync(resolve('labs', shipped), 'utf8').replace(/^name: .*$/m, `name: ${name}`));
    const state: LabState = {
      version: 1, lab: name, provider: 'netns', mode: 'kv', file, phase, createdAt: '', updatedAt: '', resources: {},
      hosts: Object.fromEntries(hosts.map((h) => [h, { name: h, address: '192.168.99.1', role: 'docker', resources: {} }])),
    };
    mkdirSync(join(dir, 'state', name), { recursive: true });
    writeFileSync(join(dir, 'state', name, 'state.json'), JSON.stringify(state));
    return file;
  };

  it('finds the one lab that is up and has the host', async () => {
    lab('docker-machine.yaml', 'x-machine', 'up', ['consul', 'machine1', 'machine2']);
    lab('tutorial.yaml', 'x-tutorial', 'up', ['mh-keystore', 'mhs-demo0', 'mhs-demo1']);
    expect((await openHostLab('machine1', undefined)).lab).to.equal('x-machine');
    expect((await openHostLab('mhs-demo0', undefined)).lab).to.equal('x-tutorial');
  });

  it('takes --lab over any lookup', async () => {
    lab('docker-machine.yaml', 'x-machine', 'up', ['consul', 'machine1', 'machine2']);
    expect((await openHostLab('machine1', 'tutorial')).lab).to.equal('tutorial');
  });

  it('refuses a host that two labs that are up have, naming both', async () => {
    lab('docker-machine.yaml', 'x-one', 'up', ['consul', 'machine1', 'machine2']);
    lab('docker-machine.yaml', 'x-two', 'up', ['consul', 'machine1', 'machine2']);
    const e = await openHostLab('machine1', undefined).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UsageError);
    expect((e as Error).message).to.equal('host machine1 is in 2 labs that are up: x-one, x-two');
  });

  it('says which labs are up when none has the host; ignores labs that are not up', async () => {
    lab('docker-machine.yaml', 'x-machine', 'up', ['consul', 'machine1', 'machine2']);
    lab('tutorial.yaml', 'x-failed', 'failed', ['mh-keystore', 'mhs-demo0', 'mhs-demo1']);
    const e = await openHostLab('mhs-demo0', undefined).catch((x: unknown) => x);
    expect(e).to.be.instanceOf(UsageError);
    expect((e as Error).message).to.equal('no lab that is up has a host "mhs-demo0" (up: x-machine with consul, machine1, machine2)');
  });

  it('lists a half-made lab and a lab whose file is gone, with an error per host and no engine', async () => {
    lab('tutorial.yaml', 'x-failed', 'failed', ['mh-keystore', 'mhs-demo0', 'mhs-demo1']);
    rmSync(lab('docker-machine.yaml', 'x-gone', 'up', ['consul', 'machine1']));
    mkdirSync(join(dir, 'state', 'x-broken'));
    writeFileSync(join(dir, 'state', 'x-broken', 'state.json'), '{');
    expect(recordedLabs().map((s) => s.lab)).to.deep.equal(['x-failed', 'x-gone']);
    const rows = await listMachines({ signal: new AbortController().signal, dockerHost: undefined });
    expect(rows.map((r) => [r.lab, r.name, r.driver, r.state, r.url, r.docker, r.active])).to.deep.equal([
      ['x-failed', 'mh-keystore', 'netns', 'not created', undefined, undefined, false],
      ['x-failed', 'mhs-demo0', 'netns', 'not created', undefined, undefined, false],
      ['x-failed', 'mhs-demo1', 'netns', 'not created', undefined, undefined, false],
      ['x-gone', 'consul', 'netns', 'unknown', undefined, undefined, false],
      ['x-gone', 'machine1', 'netns', 'unknown', undefined, undefined, false],
    ]);
    expect(rows[0]!.error).to.equal('lab x-failed is half made');
    expect(rows[3]!.error).to.match(/^lab file .*x-gone\.yaml: /, rows[3]!.error);
  });
});
