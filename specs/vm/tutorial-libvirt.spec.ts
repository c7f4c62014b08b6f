// The tutorial lab on real VMs: the vagrant provider with a libvirt of the lab's own
// (`--libvirt local`: libvirtd in a namespace, QEMU under software emulation, the box of
// scripts/build-box.sh). Three VMs come up, the same acceptance specs as on netns pass, and
// `down` leaves no domain, volume, network, daemon or namespace of the lab. Slow (minutes):
// run with `sudo npm run test:vm` (scripts/test-vm.sh), never in the normal suite.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { labPrefix, namespacesWithPrefix, processesInNamedNamespaces } from '../../harness/system/namespaces.ts';
import { DEFAULT_POOL_XML, LIBVIRT_LEFTOVER_DIRS, boxVolumes, libvirtNamespace, libvirtPrefix, type LocalLibvirtRecord } from '../../harness/providers/vagrant/local-libvirt.ts';
import { stepTimes, sweepVmLabs, UP_BUDGET, vagrantPhaseTimes } from './support.ts';
import { Scratch, shippedLab, type TestRun } from '../integration/support/labs.ts';

const LAB = 'vm-tutorial';
const MINUTE = 60_000;

/** Where libvirt keeps what persists: domain and network definitions, and the default pool's volumes. */
const DOMAINS_DIR = '/etc/libvirt/qemu';
const NETWORKS_DIR = '/etc/libvirt/qemu/networks';
const IMAGES_DIR = '/var/lib/libvirt/images';

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The command name and arguments of every process (for emulators that must be gone). */
function commands(): { pid: number; comm: string; args: string[] }[] {
  return list('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((p) => {
      try {
        return [{ pid: Number(p), comm: readFileSync(`/proc/${p}/comm`, 'utf8').trim(), args: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0') }];
      } catch {
        return [];
      }
    });
}

/** QEMU of one of the lab's domains (libvirt names the guest `guest=DOMAIN,...`); other VMs on the machine are not the lab's. */
function labEmulator(p: { comm: string; args: string[] }, prefix: string): boolean {
  return p.comm.startsWith('qemu-system') && p.args.some((a) => a.startsWith(`guest=${prefix}`));
}

/** Everything of the lab's libvirt still on the machine, by the lab's names and recorded pids. */
function libvirtLeftovers(record: LocalLibvirtRecord | undefined) {
  const prefix = libvirtPrefix(LAB);
  const namespaces = namespacesWithPrefix(labPrefix(LAB));
  return {
    domains: list(DOMAINS_DIR).filter((f) => f.startsWith(prefix)),
    networks: list(NETWORKS_DIR).filter((f) => f.startsWith(prefix)),
    volumes: list(IMAGES_DIR).filter((f) => f.startsWith(prefix) || (record !== undefined && boxVolumes(record.box, [f]).length === 1 && !(record.boxVolumesBefore ?? []).includes(f))),
    daemons: Object.values(record?.pids ?? {}).filter(alive),
    emulators: commands().filter((p) => labEmulator(p, prefix)).map((p) => p.pid),
    files: LIBVIRT_LEFTOVER_DIRS.flatMap((d) => list(d).filter((f) => f.startsWith(prefix))),
    pools: record?.createdPool && existsSync(DEFAULT_POOL_XML) ? ['default'] : [],
    namespaces,
    processes: processesInNamedNamespaces(namespaces),
  };
}

const NONE = { domains: [], networks: [], volumes: [], daemons: [], emulators: [], files: [], pools: [], namespaces: [], processes: [] };

describe('tutorial lab on real VMs (vagrant + a libvirt of its own, QEMU emulation)', function () {
  // Made in before(): a suite left out by --grep runs no hook, and must leave no folder behind.
  let scratch: Scratch | undefined;
  let file = '';
  let stateFile = '';
  const times: Record<string, string> = {};
  let record: LocalLibvirtRecord | undefined;
  let up = false;

  const remember = () => {
    if (!existsSync(stateFile)) return;
    const r = (JSON.parse(readFileSync(stateFile, 'utf8')) as { resources: { libvirt?: LocalLibvirtRecord } }).resources.libvirt;
    if (r) record = { ...r, pids: { ...record?.pids, ...r.pids } };
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
    // What a killed earlier run of a VM spec left (its libvirtd would refuse this lab's).
    await sweepVmLabs(scratch);
    expect(namespacesWithPrefix(labPrefix(LAB)), 'no namespace of the lab before the test').to.deep.equal([]);
  });

  after(async function () {
    this.timeout(10 * MINUTE);
    // Whatever happened above: take the lab down, and say what it took.
    remember();
    if (scratch && existsSync(stateFile)) {
      const r = await scratch.run(['down', file], { timeoutMs: 10 * MINUTE });
      if (r.exitCode !== 0) console.error(`down in after() failed:\n${r.all}`);
    }
    console.log(`    times: ${JSON.stringify(times)}`);
    scratch?.dispose();
  });

  it('brings three VMs up: KV host and two Docker hosts', async function () {
    this.timeout(45 * MINUTE);
    const r = await timed('up', () => scratch!.run(['up', file, '--provider', 'vagrant', '--libvirt', 'local', '--json'], { timeoutMs: UP_BUDGET }));
    remember();
    const steps = stepTimes(String(r.stdout));
    for (const line of steps) console.log(`      ${line}`);
    for (const line of vagrantPhaseTimes(stateFile)) console.log(`      ${line}`);
    expect(r.timedOut, `up still ran after ${UP_BUDGET / MINUTE} min`).to.equal(false);
    expect(r.exitCode, r.all).to.equal(0);
    up = true;
    // The overlay forwarding check read both engines' tables over SSH (sudo) and found them whole.
    expect(steps.find((l) => l.startsWith('Check the overlay forwarding')), r.all).to.match(/\(2 peers programmed in [\d.]+ s\)$/);
    expect(record?.namespace).to.equal(libvirtNamespace(LAB));
    const domains = list(DOMAINS_DIR).filter((f) => f.startsWith(libvirtPrefix(LAB)));
    expect(domains.sort()).to.deep.equal(['mh-keystore', 'mhs-demo0', 'mhs-demo1'].map((h) => `${libvirtPrefix(LAB)}${h}.xml`));
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

  it('down leaves no domain, volume, network, daemon or namespace of the lab', async function () {
    this.timeout(10 * MINUTE);
    remember();
    const r = await timed('down', () => scratch!.run(['down', file, '--json'], { timeoutMs: 10 * MINUTE }));
    expect(r.exitCode, r.all).to.equal(0);
    expect(existsSync(stateFile), 'state file').to.equal(false);
    expect(libvirtLeftovers(record)).to.deep.equal(NONE);
  });
});
