// The machines of the stand-in vagrant (specs/fixtures/vagrant-standin): one real sshd on
// 127.0.0.1, in a private mount namespace (sshd wants /run/sshd; a tmpfs there gives it one
// without touching the machine's /run), with a key pair and a host key of its own in `dir`;
// and the environment that puts the stand-in first on PATH and points it at that sshd.
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { sshdConfig } from '../../../harness/providers/netns/topology.ts';
import { waitFor } from '../../../harness/wait.ts';
import { freePort } from './labs.ts';

export const STANDIN_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'vagrant-standin');

/** Resolves to the SSH banner something on 127.0.0.1:port sends, or undefined. */
export function sshBanner(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('SSH-2.0') ? d.toString().trim() : undefined);
    });
    sock.once('error', () => resolve(undefined));
  });
}

export interface StandinSshd {
  port: number;
  /** The private key every machine takes (root's authorized key). */
  key: string;
  /** Stops sshd and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts the sshd and resolves once it sends its banner. */
export async function startStandinSshd(dir: string): Promise<StandinSshd> {
  const key = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`), { mode: 0o600 });
  writeFileSync(join(dir, 'sshd_config'), sshdConfig({ hostKey, authorizedKeys: join(dir, 'authorized_keys') }));
  const port = await freePort();
  const sshd = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs overlab-it /run && mkdir /run/sshd && exec /usr/sbin/sshd -D -e -f "$1" -o ListenAddress=127.0.0.1:"$2"', 'sshd', join(dir, 'sshd_config'), String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let sshdErr = '';
  sshd.stderr!.on('data', (d: Buffer) => (sshdErr += d.toString()));
  const stop = async () => {
    if (sshd.pid && sshd.exitCode === null) {
      sshd.kill('SIGTERM');
      await new Promise((r) => sshd.once('exit', r));
    }
  };
  try {
    await waitFor(async () => sshBanner(port), { what: `the test sshd on 127.0.0.1:${port}`, timeoutMs: 10_000, intervalMs: 25, detail: () => sshdErr });
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, key, stop };
}

/**
 * Puts the stand-in vagrant first on PATH, logging its calls to `callLog` and handing out the
 * sshd's address as every machine's; returns what puts the environment back as it was.
 */
export function useStandinVagrant(sshd: StandinSshd, callLog: string): () => void {
  chmodSync(join(STANDIN_DIR, 'vagrant'), 0o755);
  const saved = { PATH: process.env['PATH'], VAGRANT_STANDIN_LOG: process.env['VAGRANT_STANDIN_LOG'], VAGRANT_STANDIN_SSH: process.env['VAGRANT_STANDIN_SSH'] };
  process.env['PATH'] = `${STANDIN_DIR}:${saved.PATH}`;
  process.env['VAGRANT_STANDIN_LOG'] = callLog;
  process.env['VAGRANT_STANDIN_SSH'] = JSON.stringify({ host: '127.0.0.1', port: sshd.port, user: 'root', key: sshd.key });
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
