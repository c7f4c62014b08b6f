// Where `up` spends its time: each task of each step per host, recorded as it ends, and within
// host creation on vagrant the phases of `vagrant up` read from its own lines (box, disk,
// define, boot until the DHCP lease, boot until SSH answers, key, hostname); `status` prints
// them a line per host, and the state keeps them, checked when read.
import { expect } from 'chai';
import { timingLines } from '../../harness/cli/status.ts';
import { phaseMark, vagrantPhases } from '../../harness/providers/vagrant/phases.ts';
import { checkLabState } from '../../harness/state/check-state.ts';
import { runSteps, timedSteps, type Step } from '../../harness/steps.ts';

/** `vagrant up --parallel` of two machines (lines as libvirt's provider prints them), one line a second. */
const VAGRANT_UP = [
  "Bringing machine 'node1' up with 'libvirt' provider...",
  "Bringing machine 'node2' up with 'libvirt' provider...",
  '==> node2: Uploading base box image as volume into Libvirt storage...',
  '==> node1: Creating image (snapshot of base box volume).',
  '==> node2: Creating image (snapshot of base box volume).',
  '==> node1: Creating domain with the following settings...',
  '==> node1:  -- Name:              ovl.vm-services.node1',
  '==> node2: Creating domain with the following settings...',
  '==> node1: Creating shared folders metadata...',
  '==> node1: Starting domain.',
  '==> node2: Starting domain.',
  '==> node1: Waiting for domain to get an IP address...',
  '==> node2: Waiting for domain to get an IP address...',
  '==> node1: Waiting for machine to boot. This may take a few minutes...',
  '    node1: SSH address: 192.168.121.149:22',
  '    node1: Warning: Connection refused. Retrying...',
  '==> node2: Waiting for machine to boot. This may take a few minutes...',
  '    node1: Vagrant insecure key detected. Vagrant will automatically replace',
  '    node1: Inserting generated public key within guest...',
  '    node2: Inserting generated public key within guest...',
  '==> node1: Machine booted and ready!',
  '==> node1: Setting hostname...',
  '==> node2: Machine booted and ready!',
  '==> node2: Setting hostname...',
].map((line, i) => ({ at: i * 1000, line }));

describe("where up's time goes", () => {
  it('reads the phase each vagrant line starts, for the lab\'s machines only', () => {
    const machines = new Set(['node1']);
    expect(phaseMark('==> node1: Starting domain.', machines)).to.deep.equal({ machine: 'node1', phase: 'boot until the DHCP lease' });
    expect(phaseMark('    node1: Inserting generated public key within guest...', machines)).to.deep.equal({ machine: 'node1', phase: 'SSH key' });
    expect(phaseMark('==> node1:  -- Name:              x', machines)).to.equal(undefined);
    expect(phaseMark('==> other: Starting domain.', machines)).to.equal(undefined);
    expect(phaseMark("Bringing machine 'node1' up with 'libvirt' provider...", machines)).to.equal(undefined);
  });

  it("splits each machine's vagrant up into its phases, each until the machine's next one, the last until vagrant ends", () => {
    const phases = vagrantPhases(VAGRANT_UP, ['node1', 'node2'], 30_000);
    expect(phases['node1']).to.deep.equal([
      { phase: 'disk', ms: 2000 },
      { phase: 'define', ms: 4000 },
      { phase: 'boot until the DHCP lease', ms: 4000 },
      { phase: 'boot until SSH answers', ms: 4000 },
      { phase: 'SSH key', ms: 3000 },
      { phase: 'ready', ms: 1000 },
      { phase: 'hostname', ms: 9000 },
    ]);
    expect(phases['node2']!.map((p) => p.phase)).to.deep.equal(['box import', 'disk', 'define', 'boot until the DHCP lease', 'boot until SSH answers', 'SSH key', 'ready', 'hostname']);
    // Every second from the machine's first line to the end is in one phase.
    expect(phases['node2']!.reduce((a, p) => a + p.ms, 0)).to.equal(30_000 - 2000);
  });

  it('records each task of each step as it ends, failed ones too', async () => {
    const recorded: { step: string; host?: string; ms: number }[] = [];
    const steps: Step[] = [
      { title: 'Start the engines', tasks: () => [{ title: 'd0', host: 'd0', run: async () => 'ok' }, { title: 'd1', host: 'd1', run: async () => 'ok' }] },
      { title: 'Run containers', tasks: () => [{ title: 'c0', host: 'd0', run: async () => Promise.reject(new Error('no image')) }] },
    ];
    const error = await runSteps(timedSteps(steps, (t) => recorded.push(t)), { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('no image');
    expect(recorded.map((t) => `${t.step}/${t.host}`)).to.have.members(['Start the engines/d0', 'Start the engines/d1', 'Run containers/d0']);
    for (const t of recorded) expect(t.ms).to.be.a('number').and.at.least(0);
  });

  it('status prints a line per host: each step, vagrant up with its phases in brackets', () => {
    expect(
      timingLines([
        { step: 'vagrant up', host: 'node1', phase: 'disk', ms: 1200 },
        { step: 'vagrant up', host: 'node1', phase: 'boot until SSH answers', ms: 60_000 },
        { step: 'Create hosts (vagrant)', host: 'node1', ms: 250_100 },
        { step: 'Start the engines', host: 'node1', ms: 26_000 },
        { step: 'Create overlay networks', ms: 900 },
      ]),
    ).to.deep.equal(['node1: vagrant up 61.2 (disk 1.2, boot until SSH answers 60.0), Create hosts (vagrant) 250.1, Start the engines 26.0', '(lab): Create overlay networks 0.9']);
  });

  it('the state keeps timings as overlab writes them, and refuses others', () => {
    const now = new Date().toISOString();
    const state = { version: 1, lab: 'tut', provider: 'vagrant', mode: 'kv', file: '/x/tut.yaml', phase: 'up', createdAt: now, updatedAt: now, hosts: {}, resources: {} };
    const ctx = { stateDir: '/x/.overlab/tut', env: {}, uid: 0 };
    const timings = [{ step: 'vagrant up', host: 'node1', phase: 'boot until the DHCP lease', ms: 4000 }, { step: 'Create overlay networks', ms: 12 }];
    expect(checkLabState({ ...state, timings }, ctx).timings).to.deep.equal(timings);
    expect(() => checkLabState({ ...state, timings: [{ step: 'x', ms: -1 }] }, ctx)).to.throw(/\/timings\/0\/ms/);
    expect(() => checkLabState({ ...state, timings: [{ step: 'x', host: '../etc', ms: 1 }] }, ctx)).to.throw(/\/timings\/0\/host/);
    expect(() => checkLabState({ ...state, timings: [{ step: 'a\nb', ms: 1 }] }, ctx)).to.throw(/\/timings\/0\/step/);
  });
});
