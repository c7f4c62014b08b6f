// The tutorial lab on real VMs on a libvirt server (`--libvirt qemu+ssh://root@SERVER/system`):
// the server is a network namespace of this machine reached only over SSH (./libvirt-server.ts),
// running sshd, libvirtd and QEMU (software emulation: KVM guests hang on this machine). overlab
// talks to it only through ssh: the box's kernel and initrd are uploaded as volumes, the VMs are
// reached through the server. Three VMs come up, the same acceptance specs as on netns pass, and
// `down` leaves no domain, volume, network or QEMU on the server. A first contact without
// --accept-new-host-keys is refused before anything is made, and so is a second lab of the same
// name (another laptop's state) while the first runs there. Slow (minutes): run with
// `sudo npm run test:vm` (scripts/test-vm.sh), never in the normal suite.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libvirtPrefix } from '../../harness/providers/vagrant/local-libvirt.ts';
import { bootVolumeNames } from '../../harness/providers/vagrant/remote-libvirt-settings.ts';
import { labPrefix, namespacesWithPrefix } from '../../harness/system/namespaces.ts';
import { LibvirtServer, SERVER_ADDRESS } from './libvirt-server.ts';
import { stepTimes, sweepVmLabs, UP_BUDGET, vagrantPhaseTimes } from './support.ts';
import { Scratch, shippedLab, type TestRun } from '../integration/support/labs.ts';

const LAB = 'vm-tutorial';
const MINUTE = 60_000;
const BOX = process.env['OVERLAB_VM_BOX'] ?? 'overlab/none';
/** Emulation on the server: this machine has /dev/kvm, but KVM guests hang here. */
const ENV = { OVERLAB_LIBVIRT_DRIVER: 'qemu' };
const NOTHING = { domains: [], networks: [], volumes: [] };

describe('tutorial lab on real VMs on a libvirt server reached over SSH (vagrant + qemu+ssh://, QEMU emulation there)', function () {
  // Made in before(): a suite left out by --grep runs no hook, and must leave no folder behind.
  let scratch: Scratch | undefined;
  let file = '';
  let stateFile = '';
  const times: Record<string, string> = {};
  let server: LibvirtServer | undefined;
  let up = false;
  const prefix = libvirtPrefix(LAB);
  /** What the server holds of the lab, as its administrator sees it. */
  const onServer = async () => {
    const { pools: _, ...inv } = await server!.inventory(prefix, BOX);
    return inv;
  };

  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      times[name] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    }
  };

  before(async function () {
    this.timeout(5 * MINUTE);
    scratch = new Scratch();
    file = scratch.lab(LAB, shippedLab('tutorial.yaml', LAB));
    stateFile = join(scratch.home, LAB, 'state.json');
    if (process.getuid?.() !== 0) this.skip();
    // What a killed earlier run of a VM spec left (a lab's libvirtd would hold the socket the server's needs).
    await sweepVmLabs(scratch);
    expect(namespacesWithPrefix(labPrefix(LAB)), 'no namespace of the lab before the test').to.deep.equal([]);
    server = new LibvirtServer();
    await timed('server', () => server!.start(BOX));
  });

  after(async function () {
    this.timeout(10 * MINUTE);
    // Whatever happened above: take the lab down, then the server, and say what it took.
    if (scratch && existsSync(stateFile)) {
      const r = await scratch.run(['down', file], { timeoutMs: 10 * MINUTE });
      if (r.exitCode !== 0) console.error(`down in after() failed:\n${r.all}`);
    }
    await server?.stop(prefix);
    console.log(`    times: ${JSON.stringify(times)}`);
    scratch?.dispose();
  });

  it('refuses a server whose host key nobody vouched for, before making anything there', async function () {
    this.timeout(5 * MINUTE);
    const r = await scratch!.run(['up', file, '--libvirt', server!.uri, '--json'], { timeoutMs: 4 * MINUTE, env: ENV });
    expect(r.exitCode, r.all).to.equal(76);
    expect(r.all).to.include(`the libvirt server ${SERVER_ADDRESS} presented a host key that neither ~/.ssh/known_hosts nor the lab's record has`);
    expect(await onServer()).to.deep.equal(NOTHING);
    const d = await scratch!.run(['down', file], { timeoutMs: 4 * MINUTE });
    expect(d.exitCode, d.all).to.equal(0);
  });

  it('brings three VMs up on the server: KV host and two Docker hosts', async function () {
    this.timeout(45 * MINUTE);
    const r = await timed('up', () => scratch!.run(['up', file, '--libvirt', server!.uri, '--accept-new-host-keys', '--json'], { timeoutMs: UP_BUDGET, env: ENV }));
    const steps = stepTimes(String(r.stdout));
    for (const line of steps) console.log(`      ${line}`);
    for (const line of vagrantPhaseTimes(stateFile)) console.log(`      ${line}`);
    expect(r.timedOut, `up still ran after ${UP_BUDGET / MINUTE} min`).to.equal(false);
    expect(r.exitCode, r.all).to.equal(0);
    up = true;
    // The overlay forwarding check read both engines' tables over SSH (sudo) and found them whole.
    expect(steps.find((l) => l.startsWith('Check the overlay forwarding')), r.all).to.match(/\(2 peers programmed in [\d.]+ s\)$/);
    // The first key, recorded in the lab's state: the server's own.
    expect(readFileSync(join(scratch!.home, LAB, 'server_known_hosts'), 'utf8').trim().split(' ').slice(1)).to.deep.equal(server!.hostKeyLine.split(' ').slice(1));
    const inv = await onServer();
    expect(inv.domains.sort()).to.deep.equal(['mh-keystore', 'mhs-demo0', 'mhs-demo1'].map((h) => `${prefix}${h}`));
    expect(inv.networks.sort()).to.deep.equal([`${prefix}_mgmt`, `${prefix}_net`]);
    // Each VM boots the kernel and initrd overlab uploaded to the server (the box's own folder is hidden from the server's libvirtd).
    const boot = bootVolumeNames(LAB);
    for (const d of inv.domains) {
      const xml = (await server!.virsh(['dumpxml', d])).stdout;
      expect(xml).to.match(new RegExp(`<kernel>/var/lib/libvirt/images/${boot.kernel.replaceAll('.', '\\.')}</kernel>`));
      expect(xml).to.match(new RegExp(`<initrd>/var/lib/libvirt/images/${boot.initrd.replaceAll('.', '\\.')}</initrd>`));
    }
    // The emulators run on the server: in its namespace, one per VM.
    expect(server!.guests()).to.have.length(3);
  });

  it("refuses another laptop's lab of the same name on the server, and that laptop's down leaves the running lab alone", async function () {
    if (!up) this.skip();
    this.timeout(5 * MINUTE);
    const other = { ...ENV, OVERLAB_HOME: join(scratch!.dir, 'other-laptop') };
    mkdirSync(other.OVERLAB_HOME);
    const r = await scratch!.run(['up', file, '--libvirt', server!.uri, '--accept-new-host-keys', '--json'], { timeoutMs: 4 * MINUTE, env: other });
    expect(r.exitCode, r.all).to.equal(73);
    expect(r.all).to.include(`the libvirt server ${SERVER_ADDRESS} runs machines named as lab ${LAB}'s`);
    const d = await scratch!.run(['down', file], { timeoutMs: 4 * MINUTE, env: other });
    expect(d.exitCode, d.all).to.equal(0);
    expect((await onServer()).domains).to.have.length(3);
    expect(server!.guests()).to.have.length(3);
  });

  it('passes the same acceptance specs as netns', async function () {
    if (!up) this.skip();
    this.timeout(20 * MINUTE);
    // The specs take ~45 s here; `overlab test` must also exit once it has printed its result.
    const r = await timed('specs', () => scratch!.run(['test', file, '--json'], { timeoutMs: 6 * MINUTE }));
    const run = JSON.parse(String(r.stdout).slice(String(r.stdout).indexOf('{'))) as TestRun;
    // What the engines' speed gave the probes (harness/lifecycle/pace.ts).
    for (const k of ['exec.ms', 'pace', 'concurrency']) times[k] = run.properties[k]!;
    const failed = run.cases.filter((c) => c.state === 'failed').map((c) => `${c.suite} ${c.title}: ${c.failure?.message}`);
    expect(failed, r.all).to.deep.equal([]);
    expect(run.ok).to.equal(true);
    expect(run.counts.passed).to.be.greaterThan(0);
    expect(r.timedOut, '`overlab test` printed its result but did not exit within 6 min (open SSH engine connections?)').to.equal(false);
    expect(r.exitCode, r.all).to.equal(0);
  });

  it('the slow-link fault spec runs for real (the VMs\' kernel has netem): reach holds with 100 ms of delay and the round trip shows it', async function () {
    if (!up) this.skip();
    this.timeout(10 * MINUTE);
    const r = await timed('latency', () => scratch!.run(['test', file, '--faults', 'latency', '--json'], { timeoutMs: 8 * MINUTE }));
    const run = JSON.parse(String(r.stdout).slice(String(r.stdout).indexOf('{'))) as TestRun;
    const cases = run.cases as (TestRun['cases'][number] & { measured?: Record<string, number> })[];
    expect(cases.map((c) => `${c.state} ${c.title}${c.reason ? `: ${c.reason}` : ''}${c.failure ? `: ${c.failure.message}` : ''}`), r.all).to.deep.equal([
      'passed with 100 ms of delay on mhs-demo1\'s link, c0 on mhs-demo0 still reaches c1 and the round trip reflects the delay',
    ]);
    const rtt = cases[0]!.measured?.['rtt.ms'];
    times['latency.rtt.ms'] = String(rtt);
    expect(rtt, 'the measured round trip (ms)').to.be.a('number').and.at.least(100);
    expect(run.properties['suite']).to.equal('faults (latency)');
    expect(r.exitCode, r.all).to.equal(0);
  });

  it('down leaves no domain, volume, network or QEMU of the lab on the server', async function () {
    this.timeout(10 * MINUTE);
    const r = await timed('down', () => scratch!.run(['down', file, '--json'], { timeoutMs: 10 * MINUTE }));
    expect(r.exitCode, r.all).to.equal(0);
    expect(existsSync(stateFile), 'state file').to.equal(false);
    // Also the box volume the lab uploaded (the inventory counts the box's volumes not there before).
    expect(await onServer()).to.deep.equal(NOTHING);
    expect(server!.guests()).to.deep.equal([]);
  });

  it('down --force --libvirt URI removes what a run whose state is gone left on the server', async function () {
    this.timeout(5 * MINUTE);
    // Leftovers under the lab's names, made as the server's administrator would see them: a stopped domain, a volume, a network.
    const xml = join(scratch!.dir, 'leftover.xml');
    writeFileSync(xml, `<domain type='qemu'><name>${prefix}leftover</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`);
    expect((await server!.virsh(['define', xml])).exitCode).to.equal(0);
    expect((await server!.virsh(['vol-create-as', 'default', `${prefix}leftover.img`, '1M'])).exitCode).to.equal(0);
    writeFileSync(xml, `<network><name>${prefix}leftover</name></network>`);
    expect((await server!.virsh(['net-define', xml])).exitCode).to.equal(0);
    expect(await onServer()).to.deep.equal({ domains: [`${prefix}leftover`], networks: [`${prefix}leftover`], volumes: [`default/${prefix}leftover.img`] });
    const r = await scratch!.run(['down', '--force', LAB, '--libvirt', server!.uri, '--json'], { timeoutMs: 4 * MINUTE });
    expect(r.exitCode, r.all).to.equal(0);
    expect(await onServer()).to.deep.equal(NOTHING);
    expect(r.stdout).to.include(`domain ${prefix}leftover on ${SERVER_ADDRESS}`);
  });
});
