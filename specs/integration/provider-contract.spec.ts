// The provider contract (specs/support/provider-contract.ts) on the real providers, as root:
// netns (two hosts, namespaces with their sshd, destroyed with nothing left on the machine by the
// lab's names, an abort inside createHosts) and vagrant against its stand-in (no VM).
// The fake runs the same suite in specs/unit/fake-provider.spec.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { parseLab } from '../../harness/lab/load.ts';
import { planLab } from '../../harness/lab/plan.ts';
import { providerById } from '../../harness/providers/index.ts';
import { sshdConfig } from '../../harness/providers/netns/topology.ts';
import { VagrantProvider } from '../../harness/providers/vagrant/vagrant-provider.ts';
import { waitFor } from '../../harness/wait.ts';
import { providerContract } from '../support/provider-contract.ts';
import { freePort, kvLab, leftovers, NOTHING_LEFT } from './support/labs.ts';

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
  const STANDIN_DIR = join(import.meta.dirname, '..', 'fixtures', 'vagrant-standin');
  const saved = { PATH: process.env['PATH'], log: process.env['VAGRANT_STANDIN_LOG'], ssh: process.env['VAGRANT_STANDIN_SSH'] };
  let dir: string;
  let sshd: ChildProcess | undefined;

  before(async function () {
    this.timeout(30_000);
    dir = mkdtempSync(join(tmpdir(), 'overlab-it-contract-vagrant-'));
    chmodSync(join(STANDIN_DIR, 'vagrant'), 0o755);
    const key = join(dir, 'id_ed25519');
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`), { mode: 0o600 });
    writeFileSync(join(dir, 'sshd_config'), sshdConfig({ hostKey, authorizedKeys: join(dir, 'authorized_keys') }));
    const port = await freePort();
    sshd = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs overlab-it /run && mkdir /run/sshd && exec /usr/sbin/sshd -D -e -f "$1" -o ListenAddress=127.0.0.1:"$2"', 'sshd', join(dir, 'sshd_config'), String(port)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let sshdErr = '';
    sshd.stderr!.on('data', (d: Buffer) => (sshdErr += d.toString()));
    await waitFor(async () => ((await sshBanner(port)) ? true : undefined), { what: `the test sshd on 127.0.0.1:${port}`, timeoutMs: 10_000, intervalMs: 25, detail: () => sshdErr });
    process.env['PATH'] = `${STANDIN_DIR}:${saved.PATH}`;
    process.env['VAGRANT_STANDIN_LOG'] = join(dir, 'calls.jsonl');
    process.env['VAGRANT_STANDIN_SSH'] = JSON.stringify({ host: '127.0.0.1', port, user: 'root', key });
  });

  after(async () => {
    process.env['PATH'] = saved.PATH;
    for (const [k, v] of [['VAGRANT_STANDIN_LOG', saved.log], ['VAGRANT_STANDIN_SSH', saved.ssh]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (sshd?.pid && sshd.exitCode === null) {
      sshd.kill('SIGTERM');
      await new Promise((r) => sshd!.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  providerContract('vagrant (stand-in)', {
    provider: () => new VagrantProvider({ hypervisor: 'libvirt' }),
    plan: () => planLab(parseLab('name: it-contract-vagrant\nprovider: vagrant\nhosts:\n  - name: kv\n    role: kv\n  - name: d0\nkv:\n  type: etcd\n', 'it-contract-vagrant.yaml')),
    createMs: 10_000,
  });
});

/** Resolves once something on 127.0.0.1:port sends an SSH banner. */
function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('SSH-2.0'));
    });
    sock.once('error', () => resolve(false));
  });
}
