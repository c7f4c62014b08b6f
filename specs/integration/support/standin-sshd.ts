// The machines of the stand-in vagrant (specs/fixtures/vagrant-standin): one real sshd on
// 127.0.0.1, in a private mount namespace (sshd wants /run/sshd; a tmpfs there gives it one
// without touching the machine's /run), with a key pair and a host key of its own in `dir`;
// and the environment that puts the stand-in first on PATH and points it at that sshd.
// The ssh provider's machines (provider-contract.spec.ts) are such sshds too, one per machine,
// each with a tmpfs of its own over every path overlab changes on a machine (`privatePaths`).
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
  /** sshd's process: its mount namespace is the machine's view (/proc/PID/ns/mnt); its children are its sessions. */
  pid: number;
  /** The host key's public line ("ssh-ed25519 AAAA..."), for a known_hosts. */
  hostKey: string;
  /** Stops sshd and waits for it to exit. */
  stop(): Promise<void>;
}

/** Where sshd finds `dir` in its namespace (bound there before `privatePaths` may hide `dir` itself). */
const SSHD_DIR = '/run/overlab-it-sshd';

/**
 * Starts the sshd and resolves once it sends its banner. `privatePaths` (absolute, existing
 * folders) each get an empty tmpfs in sshd's namespace, named `tag` in its mount table: what
 * is made or removed there over SSH never reaches the machine's own.
 */
export async function startStandinSshd(dir: string, options: { privatePaths?: readonly string[]; tag?: string } = {}): Promise<StandinSshd> {
  const key = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`), { mode: 0o600 });
  writeFileSync(join(dir, 'sshd_config'), sshdConfig({ hostKey: join(SSHD_DIR, 'ssh_host_ed25519_key'), authorizedKeys: join(SSHD_DIR, 'authorized_keys') }));
  const port = await freePort();
  const tag = options.tag ?? 'overlab-it';
  const script = [
    'set -e',
    'tag=$1 dir=$2 port=$3',
    'shift 3',
    'mount -n -t tmpfs "$tag" /run',
    `mkdir /run/sshd ${SSHD_DIR}`,
    `mount -n --bind "$dir" ${SSHD_DIR}`,
    'for p in "$@"; do mount -n -t tmpfs "$tag" "$p"; done',
    `exec /usr/sbin/sshd -D -e -f ${SSHD_DIR}/sshd_config -o ListenAddress=127.0.0.1:"$port"`,
  ].join('\n');
  const sshd = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sshd', tag, dir, String(port), ...(options.privatePaths ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let sshdErr = '';
  sshd.stderr!.on('data', (d: Buffer) => (sshdErr += d.toString()));
  const stop = async () => {
    if (sshd.pid && sshd.exitCode === null && sshd.signalCode === null) {
      const exited = new Promise((r) => sshd.once('exit', r));
      sshd.kill('SIGTERM');
      await exited;
    }
  };
  try {
    await waitFor(async () => sshBanner(port), { what: `the test sshd on 127.0.0.1:${port}`, timeoutMs: 10_000, intervalMs: 25, detail: () => sshdErr });
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, key, pid: sshd.pid!, hostKey: readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' '), stop };
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
