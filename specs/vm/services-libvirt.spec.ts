// The services lab on real VMs (vagrant + a libvirt of the lab's own, QEMU emulation), with
// Docker 28.5.2 from Debian's archive: the tree this machine caches (containerd 2.1.9, runc 1.3,
// glibc 2.43) reaches each VM as a read-only disk, so the VMs need no internet and run what the netns
// labs run. The Debian kernel there has IP_VS and INET_ESP, so every release spec runs for
// real: VIPs spread, the routing mesh answers on every node, the encrypted overlay crosses as
// ESP. No spec may be n/a here. Slow (minutes): `sudo npm run test:vm` (scripts/test-vm.sh).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { libvirtPrefix } from '../../harness/providers/vagrant/local-libvirt.ts';
import { labPrefix, namespacesWithPrefix } from '../../harness/system/namespaces.ts';
import { stepTimes, sweepVmLabs, UP_BUDGET, vagrantPhaseTimes } from './support.ts';
import { Scratch, shippedLab, type TestRun } from '../integration/support/labs.ts';

const LAB = 'vm-services';
const ENGINE = '28.5.2';
/** Debian's suites that ship 28.5.2 (forky, sid) serve indexes past their Valid-Until on this machine's mirror. */
const ENV = { OVERLAB_ARCHIVE_ALLOW_EXPIRED: '1' };
const MINUTE = 60_000;

describe(`services lab on real VMs with Docker ${ENGINE} from Debian's archive: every release spec runs, none n/a`, function () {
  // Made in before(): a suite left out by --grep runs no hook, and must leave no folder behind.
  let scratch: Scratch | undefined;
  let file = '';
  let stateFile = '';
  const times: Record<string, string> = {};
  let up = false;

  before(async function () {
    this.timeout(5 * MINUTE);
    scratch = new Scratch();
    const text = shippedLab('services.yaml', LAB);
    expect(text).to.include('  version: "20.10"\n');
    file = scratch.lab(LAB, text.replace('  version: "20.10"\n', `  version: "${ENGINE}"\n  source: debian\n`));
    stateFile = join(scratch.home, LAB, 'state.json');
    if (process.getuid?.() !== 0) this.skip();
    // What a killed earlier run of a VM spec left (its libvirtd would refuse this lab's).
    await sweepVmLabs(scratch);
    expect(namespacesWithPrefix(labPrefix(LAB)), 'no namespace of the lab before the test').to.deep.equal([]);
  });

  after(async function () {
    this.timeout(10 * MINUTE);
    if (scratch && existsSync(stateFile)) {
      const r = await scratch.run(['down', file], { timeoutMs: 10 * MINUTE, env: ENV });
      if (r.exitCode !== 0) console.error(`down in after() failed:\n${r.all}`);
    }
    console.log(`    times: ${JSON.stringify(times)}`);
    scratch?.dispose();
  });

  it('brings three swarm VMs up with services web (VIP) and api (dnsrr), without --allow-missing', async function () {
    this.timeout(45 * MINUTE);
    const started = Date.now();
    const r = await scratch!.run(['up', file, '--provider', 'vagrant', '--libvirt', 'local', '--json'], { timeoutMs: UP_BUDGET, env: ENV });
    times['up'] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    for (const line of stepTimes(String(r.stdout))) console.log(`      ${line}`);
    for (const line of vagrantPhaseTimes(stateFile)) console.log(`      ${line}`);
    expect(r.timedOut, `up still ran after ${UP_BUDGET / MINUTE} min`).to.equal(false);
    expect(r.exitCode, r.all).to.equal(0);
    up = true;
    // What ran, as each daemon says: the tree's release and its suite's containerd and runc, on every VM.
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { resources: { engineVersions: Record<string, { engine: string; containerd?: string; runc?: string }> } };
    const ran = state.resources.engineVersions;
    expect(Object.keys(ran).sort()).to.deep.equal(['node1', 'node2', 'node3']);
    for (const [host, v] of Object.entries(ran)) {
      expect(v.engine, host).to.match(new RegExp(`^${ENGINE.replaceAll('.', '\\.')}\\b`));
      expect(v.containerd, host).to.match(/^2\.1\./);
      expect(v.runc, host).to.match(/^1\.3\./);
    }
  });

  it('passes every spec, with no spec n/a (the VMs\' kernel has IP_VS and INET_ESP)', async function () {
    if (!up) this.skip();
    this.timeout(20 * MINUTE);
    const started = Date.now();
    const r = await scratch!.run(['test', file, '--json'], { timeoutMs: 8 * MINUTE, env: ENV });
    times['specs'] = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    times['counts'] = JSON.stringify(JSON.parse(String(r.stdout).slice(String(r.stdout).indexOf('{'))).counts);
    const run = JSON.parse(String(r.stdout).slice(String(r.stdout).indexOf('{'))) as TestRun;
    const notPassed = run.cases.filter((c) => c.state !== 'passed').map((c) => `${c.state} ${c.suite} | ${c.title}: ${c.failure?.message ?? c.reason ?? ''}`);
    expect(notPassed, r.all).to.deep.equal([]);
    expect(run.counts.na).to.equal(0);
    expect(r.exitCode, r.all).to.equal(0);
  });

  it('down leaves no domain or namespace of the lab', async function () {
    this.timeout(10 * MINUTE);
    const r = await scratch!.run(['down', file], { timeoutMs: 10 * MINUTE, env: ENV });
    expect(r.exitCode, r.all).to.equal(0);
    expect(existsSync(stateFile), 'state file').to.equal(false);
    expect(readdirSync('/etc/libvirt/qemu').filter((f) => f.startsWith(libvirtPrefix(LAB)))).to.deep.equal([]);
    expect(namespacesWithPrefix(labPrefix(LAB))).to.deep.equal([]);
  });
});
