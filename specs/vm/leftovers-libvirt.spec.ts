// What a run of a lab leaves in libvirt when its state goes with it (a killed run, a deleted
// state folder): the domain definitions, volumes and networks stay, named with the lab's prefix,
// and the next `vagrant up` of a lab of that name stops on "Name ... of domain about to create is
// already taken". The lab's libvirt removes them before the first `vagrant up` of a fresh state
// folder, and says so. Seconds, no guest boots: the domain is defined, never started.
// Runs with the VM specs (`sudo npm run test:vm`), where libvirt is installed.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { EventLog } from '../../harness/events.ts';
import type { LabContext } from '../../harness/host.ts';
import { LocalLibvirt, libvirtNamespace, libvirtPrefix } from '../../harness/providers/vagrant/local-libvirt.ts';
import { StateStore } from '../../harness/state/store.ts';
import { NETNS_DIR } from '../../harness/system/namespaces.ts';
import { isAlive } from '../../harness/system/processes.ts';

const LAB = 'vm-leftovers';
const BOX = process.env['OVERLAB_VM_BOX'] ?? 'overlab/none';

describe('libvirt leftovers of an earlier run whose state is gone', function () {
  this.timeout(120_000);
  let dir = '';
  const contexts: (LabContext & { events: EventLog })[] = [];

  function freshContext(): LabContext & { events: EventLog } {
    const store = new StateStore(join(dir, `state${contexts.length}`));
    const now = new Date().toISOString();
    store.write({ version: 1, lab: LAB, provider: 'vagrant', mode: 'kv', file: '', phase: 'creating', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
    const ctx = { store, events: new EventLog(), signal: new AbortController().signal };
    contexts.push(ctx);
    return ctx;
  }

  const prefix = libvirtPrefix(LAB);
  const definitions = () => readdirSync('/etc/libvirt/qemu').filter((f) => f.startsWith(prefix));

  before(function () {
    if (process.getuid?.() !== 0) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'overlab-it-leftovers-'));
  });

  after(async function () {
    // Whatever happened: every context's libvirt down, the namespace gone.
    for (const ctx of contexts.reverse()) await new LocalLibvirt(LAB, ctx).teardown().catch((e: Error) => console.error(`teardown: ${e.message}`));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a run killed with its state: its libvirtd stopped, its domain, volume and network still defined', async function () {
    const ctx = freshContext();
    const local = new LocalLibvirt(LAB, ctx);
    await local.start(BOX);
    const xml = join(dir, 'domain.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${prefix}node1</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>`);
    await local.virsh(['define', xml]);
    await local.virsh(['vol-create-as', 'default', `${prefix}node1.img`, '1M']);
    const net = join(dir, 'network.xml');
    writeFileSync(net, `<network><name>${prefix}private</name></network>`);
    await local.virsh(['net-define', net]);
    expect(await local.inventory()).to.deep.include({ domains: [`${prefix}node1`], networks: [`${prefix}private`], volumes: [`default/${prefix}node1.img`] });
    // The run dies: its daemons go, its namespace too, and its state folder (nothing removed in libvirt).
    const pids = Object.values(LocalLibvirt.recorded(ctx)?.pids ?? {});
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    while (pids.some(isAlive)) await new Promise((r) => setTimeout(r, 50));
    await execa('ip', ['netns', 'del', libvirtNamespace(LAB)]);
    rmSync(ctx.store.dir, { recursive: true, force: true });
    contexts.pop();
    expect(definitions()).to.deep.equal([`${prefix}node1.xml`]);
  });

  it('the next first up of the lab removes them before vagrant runs, and names them in a warning', async function () {
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
  });

  it('down leaves no namespace or daemon of the lab', async function () {
    const ctx = contexts[contexts.length - 1]!;
    const pids = Object.values(LocalLibvirt.recorded(ctx)?.pids ?? {});
    await new LocalLibvirt(LAB, ctx).teardown();
    expect(existsSync(join(NETNS_DIR, libvirtNamespace(LAB)))).to.equal(false);
    expect(pids.filter(isAlive)).to.deep.equal([]);
  });
});
