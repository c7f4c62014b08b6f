// What a run of a lab leaves in libvirt when its state goes with it (a killed run, a deleted
// state folder): the domain definitions, volumes and networks stay, named with the lab's prefix,
// and the next `vagrant up` of a lab of that name stops on "Name ... of domain about to create is
// already taken". The lab's libvirt removes them before the first `vagrant up` of a fresh state
// folder, and `overlab down --force` removes them with no state at all; both say so. Seconds, no
// guest boots: the domain is defined, never started.
// Runs with the VM specs (`sudo npm run test:vm`), where libvirt is installed.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { EventLog } from '../../harness/events.ts';
import type { LabContext } from '../../harness/state/lab-context.ts';
import { DEFAULT_POOL_DIR, DEFAULT_POOL_XML, LocalLibvirt, libvirtLeftoverFiles, libvirtNamespace, libvirtPrefix } from '../../harness/providers/vagrant/local-libvirt.ts';
import { StateStore } from '../../harness/state/store.ts';
import { NETNS_DIR } from '../../harness/system/namespaces.ts';
import { isAlive } from '../../harness/system/processes.ts';
import { Scratch } from '../integration/support/labs.ts';
import { sweepVmLabs } from './support.ts';

const LAB = 'vm-leftovers';
const BOX = process.env['OVERLAB_VM_BOX'] ?? 'overlab/none';

describe('libvirt leftovers of an earlier run whose state is gone', function () {
  this.timeout(120_000);
  let scratch: Scratch | undefined;
  const contexts: (LabContext & { events: EventLog })[] = [];

  function freshContext(): LabContext & { events: EventLog } {
    const store = new StateStore(join(scratch!.dir, `state${contexts.length}`));
    const now = new Date().toISOString();
    store.write({ version: 1, lab: LAB, provider: 'vagrant', mode: 'kv', file: '', phase: 'creating', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
    const ctx = { store, events: new EventLog(), signal: new AbortController().signal };
    contexts.push(ctx);
    return ctx;
  }

  const prefix = libvirtPrefix(LAB);
  let madePool = false;
  const definitions = () => readdirSync('/etc/libvirt/qemu').filter((f) => f.startsWith(prefix));

  /** A run of the lab defines a domain, a volume and a network, then dies with its state (nothing removed in libvirt). */
  async function killedRun(): Promise<void> {
    const ctx = freshContext();
    const local = new LocalLibvirt(LAB, ctx);
    await local.start(BOX);
    // A fresh machine's libvirt has no default pool until vagrant-libvirt makes one: make it as
    // vagrant-libvirt would (a directory pool), and remove it after, as the spec made it.
    if ((await local.virsh(['pool-info', 'default'], { reject: false })).exitCode !== 0) {
      await local.virsh(['pool-define-as', 'default', 'dir', '--target', DEFAULT_POOL_DIR]);
      await local.virsh(['pool-build', 'default']);
      await local.virsh(['pool-start', 'default']);
      madePool = true;
    }
    const xml = join(scratch!.dir, 'domain.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${prefix}node1</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    await local.virsh(['define', xml]);
    await local.virsh(['vol-create-as', 'default', `${prefix}node1.img`, '1M']);
    const net = join(scratch!.dir, 'network.xml');
    writeFileSync(net, `<network><name>${prefix}private</name></network>`);
    await local.virsh(['net-define', net]);
    expect(await local.inventory()).to.deep.include({ domains: [`${prefix}node1`], networks: [`${prefix}private`], volumes: [`default/${prefix}node1.img`] });
    const pids = Object.values(LocalLibvirt.recorded(ctx)?.pids ?? {});
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    while (pids.some(isAlive)) await new Promise((r) => setTimeout(r, 50));
    await execa('ip', ['netns', 'del', libvirtNamespace(LAB)]);
    rmSync(ctx.store.dir, { recursive: true, force: true });
    contexts.pop();
    expect(definitions()).to.deep.equal([`${prefix}node1.xml`]);
    expect(libvirtLeftoverFiles(LAB).map((f) => f.slice(f.lastIndexOf('/') + 1)).sort()).to.deep.equal([`${prefix}node1.img`, `${prefix}node1.xml`, `${prefix}private.xml`]);
  }

  before(async function () {
    if (process.getuid?.() !== 0) this.skip();
    scratch = new Scratch();
    // What a killed earlier run of a VM spec left (its libvirtd would refuse this lab's).
    await sweepVmLabs(scratch);
  });

  after(async function () {
    // Whatever happened: every context's libvirt down, the namespace gone.
    for (const ctx of contexts.reverse()) await new LocalLibvirt(LAB, ctx).teardown().catch((e: Error) => console.error(`teardown: ${e.message}`));
    if (scratch && libvirtLeftoverFiles(LAB).length) await scratch.run(['down', '--force', LAB, '--provider', 'vagrant', '--libvirt', 'local']);
    // The default pool this spec defined (its libvirtd is gone: its definition is a file).
    if (madePool) rmSync(DEFAULT_POOL_XML, { force: true });
    scratch?.dispose();
  });

  it('the first up of the lab in a fresh state folder removes them before vagrant runs, and names them in a warning', async function () {
    await killedRun();
    const ctx = freshContext();
    const local = new LocalLibvirt(LAB, ctx);
    await local.start(BOX);
    const removed = await local.removeLeftovers();
    expect(removed).to.deep.equal([`domain ${prefix}node1`, `volume default/${prefix}node1.img`, `network ${prefix}private`]);
    expect(ctx.events.events.map((e) => ('message' in e ? e.message : ''))).to.include(
      `removed what an earlier run of lab ${LAB} left in libvirt (its state was gone): ${removed.join(', ')}`,
    );
    expect(await local.inventory()).to.deep.include({ domains: [], networks: [], volumes: [] });
    expect(definitions()).to.deep.equal([]);
    const pids = Object.values(LocalLibvirt.recorded(ctx)?.pids ?? {});
    await local.teardown();
    expect(existsSync(join(NETNS_DIR, libvirtNamespace(LAB)))).to.equal(false);
    expect(pids.filter(isAlive)).to.deep.equal([]);
  });

  it('down --force with no state removes them, through a libvirtd started for it and stopped after', async function () {
    await killedRun();
    const r = await scratch!.run(['down', '--force', LAB, '--provider', 'vagrant', '--libvirt', 'local', '--json'], { timeoutMs: 120_000 });
    expect(r.exitCode, r.all).to.equal(0);
    const report = JSON.parse(r.stdout) as { paths: string[]; processes: string[]; namespaces: string[] };
    expect(report.paths).to.include.members([`domain ${prefix}node1`, `volume default/${prefix}node1.img`, `network ${prefix}private`]);
    expect(report.processes.some((p) => p.startsWith('libvirtd (pid '))).to.equal(true);
    expect(libvirtLeftoverFiles(LAB)).to.deep.equal([]);
    expect(existsSync(join(NETNS_DIR, libvirtNamespace(LAB)))).to.equal(false);
    expect(existsSync(join(scratch!.home, LAB, 'state.json'))).to.equal(false);
    // And once nothing is left, down --force starts no libvirtd.
    const again = await scratch!.run(['down', '--force', LAB, '--provider', 'vagrant', '--libvirt', 'local', '--json']);
    expect(again.exitCode, again.all).to.equal(0);
    expect((JSON.parse(again.stdout) as { processes: string[] }).processes).to.deep.equal([]);
  });
});
