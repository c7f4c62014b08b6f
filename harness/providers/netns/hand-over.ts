// A netns lab handed to a Unix user or group (`up --owner`). Root's sockets stay root's; the
// owner gets doors of its own, made by root in the lab's runtime folder (which only root can
// change) and given to the owner alone:
// - `/run/overlab/<lab>/owner/<host>.docker.sock`, a relay to the host's engine socket, for the
//   stock docker CLI (`overlab env`) and the specs;
// - `/run/overlab/<lab>/owner/<host>.ssh.sock`, a relay to the host's sshd, for `overlab ssh`
//   and the owner's command runner (SSH as the host's root, with a key of the owner's own);
// - `.overlab/<lab>/owner/`: that key, and the owner's own test reports and lock.
// The relays are one process in the lab's switch namespace (where every host's address is
// reachable), so `down` ends it with the rest of the lab's processes.
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailedError } from '../../errors.ts';
import type { HostPlan, Plan } from '../../lab/types.ts';
import type { ExecOptions, ExecResult, HostRunner, SshEndpoint } from '../../host.ts';
import { ownership, type LabOwner } from '../../state/owner.ts';
import { labRuntimeDir, ownerKey, ownerStateDir } from '../../state/paths.ts';
import { hostRuntimeDir } from './topology.ts';
import { ensureKeyPair } from '../../system/ssh-keys.ts';

/** The owner's doors to a lab's hosts, in its runtime folder. */
export function ownerRuntimeDir(lab: string): string {
  return join(labRuntimeDir(lab), 'owner');
}

export function ownerEngineSocket(lab: string, host: string): string {
  return join(ownerRuntimeDir(lab), `${host}.docker.sock`);
}

export function ownerSshSocket(lab: string, host: string): string {
  return join(ownerRuntimeDir(lab), `${host}.ssh.sock`);
}

/** One door: a unix socket that relays each connection to a unix socket or a TCP port. */
export interface Relay {
  listen: string;
  to: { path: string } | { host: string; port: number };
}

export interface RelayConfig {
  uid: number;
  gid: number;
  mode: number;
  relays: Relay[];
}

/** The doors of a lab handed to `owner`: each docker host's engine, each host's sshd. */
export function relayConfig(plan: Plan, owner: LabOwner): RelayConfig {
  const relays: Relay[] = [];
  for (const h of plan.hosts) {
    if (h.role === 'docker') relays.push({ listen: ownerEngineSocket(plan.lab, h.name), to: { path: join(hostRuntimeDir(plan.lab, h.name), 'docker.sock') } });
    relays.push({ listen: ownerSshSocket(plan.lab, h.name), to: { host: h.address, port: 22 } });
  }
  return { ...ownership(owner, { user: 0o600, group: 0o660 }), relays };
}

/**
 * The relay process (node -e, CommonJS, no module of the harness): makes each socket with a
 * umask that lets nobody in, gives it to the owner, says `ready`; then pipes each connection to
 * its target, half-closes passed on (a `docker exec -i` whose input ended still gets its output).
 */
export const RELAY_SCRIPT = `
const net = require('net'), fs = require('fs');
const cfg = JSON.parse(process.argv[1]);
process.umask(0o177);
process.on('uncaughtException', () => {});
let left = cfg.relays.length;
for (const r of cfg.relays) {
  try { fs.unlinkSync(r.listen); } catch {}
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    const u = net.connect(r.to.path ? { path: r.to.path, allowHalfOpen: true } : { host: r.to.host, port: r.to.port, allowHalfOpen: true });
    c.pipe(u); u.pipe(c);
    const end = () => { c.destroy(); u.destroy(); };
    c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
  });
  server.on('error', (e) => { process.stderr.write(r.listen + ': ' + e.message + '\\n'); process.exit(1); });
  server.listen(r.listen, () => {
    fs.chownSync(r.listen, cfg.uid, cfg.gid);
    fs.chmodSync(r.listen, cfg.mode);
    if (--left === 0) process.stdout.write('ready\\n');
  });
}
`;

/** The other end, as a ProxyCommand: stdin and stdout joined to a unix socket. */
export const CONNECT_SCRIPT = `
const s = require('net').connect({ path: process.argv[1], allowHalfOpen: true });
process.stdin.pipe(s); s.pipe(process.stdout);
s.on('error', (e) => { process.stderr.write(process.argv[1] + ': ' + e.message + '\\n'); process.exit(255); });
s.on('close', () => process.exit(0));
`;

/** The ProxyCommand argv that reaches a host's sshd through the owner's door. */
export function connectProxy(socket: string, node = process.execPath): string[] {
  // One line: OpenSSH reads `-o ProxyCommand=...` as a line of its configuration.
  return [node, '-e', CONNECT_SCRIPT.trim().replace(/\n/g, ' '), socket];
}

/**
 * Hands the lab over: the owner's key (authorized on every host beside root's), its folder,
 * the known_hosts it checks the hosts against, and the relay process in the switch namespace.
 */
export async function handOver(plan: Plan, owner: LabOwner, dirs: { stateDir: string; sshDir: string; switchNamespace: string; knownHosts: string }, signal: AbortSignal): Promise<void> {
  const folder = ownerStateDir(dirs.stateDir);
  // An earlier life's owner folder (down removes it; an interrupted one may not have) is not this owner's.
  await removeOwnerFolder(dirs.stateDir);
  mkdirSync(folder, { mode: 0o700 });
  const key = ownerKey(dirs.stateDir);
  appendFileSync(join(dirs.sshDir, 'authorized_keys'), `${await ensureKeyPair(key, `overlab-owner-${owner.name}`, signal)}\n`);
  // Made by root, then given: the owner's folder and key (group owners share them, read-only key).
  const folderAccess = ownership(owner, { user: 0o700, group: 0o770 });
  const keyAccess = ownership(owner, { user: 0o600, group: 0o640 });
  for (const f of readdirSync(folder)) chownSync(join(folder, f), keyAccess.uid, keyAccess.gid);
  chmodSync(key, keyAccess.mode);
  chownSync(folder, folderAccess.uid, folderAccess.gid);
  chmodSync(folder, folderAccess.mode);
  // Public: the hosts' key, as the owner's ssh checks it.
  chmodSync(dirs.knownHosts, 0o644);

  mkdirSync(ownerRuntimeDir(plan.lab), { recursive: true, mode: 0o755 });
  await startRelay(relayConfig(plan, owner), dirs.switchNamespace, signal);
}

async function startRelay(config: RelayConfig, namespace: string, signal: AbortSignal): Promise<void> {
  const child = spawn('nsenter', [`--net=/run/netns/${namespace}`, '--', process.execPath, '-e', RELAY_SCRIPT, JSON.stringify(config)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
      const abort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', abort, { once: true });
      const done = (e?: Error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', abort);
        if (e) reject(e);
        else resolve();
      };
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready\n')) done();
      });
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.once('error', done);
      child.once('exit', (code) => done(new CommandFailedError({ command: "the owner's relay", exitCode: code, output: err })));
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e instanceof CommandFailedError ? e : new CommandFailedError({ command: "the owner's relay", exitCode: null, output: `${(e as Error).message}\n${err}` });
  } finally {
    // The relay outlives this process; its pipes must not hold the event loop.
    child.stdout!.destroy();
    child.stderr!.destroy();
    child.unref();
  }
}

/**
 * Removes the owner's folder, which its owner can change while root removes it: by GNU rm,
 * which walks it without following a link swapped in on the way (Node's recursive rm checks,
 * then opens: a window for a folder to become a link to /etc). True when there was one.
 */
export async function removeOwnerFolder(stateDir: string): Promise<boolean> {
  const folder = ownerStateDir(stateDir);
  if (!existsSync(folder)) return false;
  const { execa } = await import('execa');
  await execa('rm', ['-rf', '--one-file-system', '--', folder]);
  return true;
}

/** Where the owner reaches a host's sshd: through its door, with its key, checking the lab's host key. */
export function ownerSshEndpoint(plan: Plan, h: HostPlan, stateDir: string, hostKeys: SshEndpoint['hostKeys']): SshEndpoint {
  return { host: h.address, port: 22, username: 'root', privateKeyPath: ownerKey(stateDir), proxy: connectProxy(ownerSshSocket(plan.lab, h.name)), hostKeys };
}

/** A runner over SSH that connects on its first command (a host that is down fails that command, not the whole lab). */
export class OwnerRunner implements HostRunner {
  private runner: Promise<import('../../remote/runner.ts').SshRunner> | undefined;

  constructor(
    private readonly endpoint: SshEndpoint,
    private readonly host: string,
    private readonly signal: AbortSignal,
  ) {}

  async exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.runner ??= import('../../remote/runner.ts').then(({ SshRunner }) =>
      SshRunner.connect(this.endpoint, { host: this.host, deadlineMs: 10_000, signal: this.signal }),
    );
    return (await this.runner).exec(argv, options);
  }

  close(): void {
    void this.runner?.then((r) => r.connection.close()).catch(() => {});
  }
}
