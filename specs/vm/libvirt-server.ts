// A "remote" libvirt server for the VM specs: a network namespace of its own on this machine,
// reached only over SSH from the machine's namespace (a veth pair, a /30 of its own), running
// sshd, virtlogd, libvirtd and, once a lab is up, QEMU. It is what `--libvirt qemu+ssh://...`
// drives: overlab talks to it only through ssh (libvirt's transport, and ssh -W to the VMs).
// libvirtd runs with Vagrant's box folder hidden under an empty tmpfs, so the VMs can only boot
// what overlab uploaded to the server. sshd runs with /run on a tmpfs of its own (its privilege
// separation folder), the libvirt socket bound back in. Everything goes on stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { sshdConfig } from '../../harness/providers/netns/topology.ts';
import { QEMU_CONF, DEFAULT_POOL_XML, LIBVIRT_LEFTOVER_DIRS, LIBVIRT_URI, boxFile } from '../../harness/providers/vagrant/local-libvirt.ts';
import { libvirtInventory, poolVolumes, removeEmptyDefaultPool, type LibvirtInventory } from '../../harness/providers/vagrant/libvirt-inventory.ts';
import { virsh } from '../../harness/providers/vagrant/virsh.ts';
import { inNamespace, NETNS_DIR, processesInNamedNamespaces } from '../../harness/system/namespaces.ts';
import { waitFor } from '../../harness/wait.ts';

/** The server's namespace: not a lab's (no lab name starts with "_"). */
export const SERVER_NS = 'ovl._libvirt-server';
const VETH = 'ovlsrv0';
/** The /30 between the machine and the server; the machine's side is .1. */
const NET = '10.251.77';
export const SERVER_ADDRESS = `${NET}.2`;
/** Where sshd finds the server's folder in its mount namespace. */
const SSHD_DIR = '/run/overlab-libvirt-server';

export class LibvirtServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'overlab-libvirt-server-'));
  private readonly children: ChildProcess[] = [];
  private createdPool = false;
  /** The box's volumes in the pool before any lab: a lab must remove only those it uploaded. */
  boxVolumesBefore: string[] = [];

  /** The key root logs in with, and the server's host key as a known_hosts line. */
  get clientKey(): string {
    return join(this.dir, 'id_ed25519');
  }

  get hostKeyLine(): string {
    return `${SERVER_ADDRESS} ${readFileSync(join(this.dir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}`;
  }

  /** The URI overlab is given: root on the server, this key. */
  get uri(): string {
    return `qemu+ssh://root@${SERVER_ADDRESS}/system?keyfile=${this.clientKey}`;
  }

  private log(name: string): number {
    return openSync(join(this.dir, `${name}.log`), 'a');
  }

  private spawnDaemon(name: string, argv: string[]): void {
    const fd = this.log(name);
    try {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd] });
      child.on('error', () => {});
      this.children.push(child);
    } finally {
      closeSync(fd);
    }
  }

  /** virsh on the server's own socket (as the server's administrator would, not through overlab). */
  virsh(args: readonly string[]) {
    return virsh(LIBVIRT_URI, args, { reject: false });
  }

  /** What the server holds of a lab: its prefix, and the box volume it uploaded. */
  inventory(prefix: string, box: string): Promise<LibvirtInventory> {
    return libvirtInventory({ prefix, virsh: (args) => this.virsh(args), boxRecord: () => ({ box, boxVolumesBefore: this.boxVolumesBefore }) });
  }

  /** Processes in the server's namespace other than its daemons: the lab's QEMUs. */
  guests(): number[] {
    const daemons = new Set(this.children.map((c) => c.pid));
    return processesInNamedNamespaces([SERVER_NS]).filter((p) => !daemons.has(p) && readComm(p).startsWith('qemu'));
  }

  /** Brings the server up: namespace and veth, virtlogd and libvirtd, then sshd; resolves once ssh into it runs virsh. */
  async start(box: string): Promise<void> {
    // A killed earlier run's server (its after hook never ran): everything in its namespace goes first.
    if (existsSync(join(NETNS_DIR, SERVER_NS))) await removeNamespace();
    if ((await virsh(LIBVIRT_URI, ['version'], { reject: false })).exitCode === 0) throw new Error('a libvirtd already answers on this machine: the server needs the socket');
    const routes = (await execa('ip', ['-4', 'route'])).stdout;
    if (routes.includes(`${NET}.`)) throw new Error(`${NET}.0/30 is routed on this machine already:\n${routes}`);
    for (const k of ['id_ed25519', 'ssh_host_ed25519_key']) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, k)]);
    writeFileSync(join(this.dir, 'authorized_keys'), readFileSync(`${this.clientKey}.pub`), { mode: 0o600 });
    writeFileSync(join(this.dir, 'sshd_config'), sshdConfig({ hostKey: join(SSHD_DIR, 'ssh_host_ed25519_key'), authorizedKeys: join(SSHD_DIR, 'authorized_keys') }));
    writeFileSync(join(this.dir, 'qemu.conf'), QEMU_CONF);
    mkdirSync(join(this.dir, 'libvirt-run'));

    await execa('ip', ['netns', 'add', SERVER_NS]);
    await execa('ip', ['-n', SERVER_NS, 'link', 'set', 'lo', 'up']);
    await execa('ip', ['link', 'add', VETH, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', SERVER_NS]);
    await execa('ip', ['addr', 'add', `${NET}.1/30`, 'dev', VETH]);
    await execa('ip', ['link', 'set', VETH, 'up']);
    await execa('ip', ['-n', SERVER_NS, 'addr', 'add', `${SERVER_ADDRESS}/30`, 'dev', 'eth0']);
    await execa('ip', ['-n', SERVER_NS, 'link', 'set', 'eth0', 'up']);

    this.createdPool = !existsSync(DEFAULT_POOL_XML);
    this.spawnDaemon('virtlogd', inNamespace(SERVER_NS, ['virtlogd']));
    const boxes = dirname(dirname(dirname(boxFile(box, ''))));
    this.spawnDaemon(
      'libvirtd',
      inNamespace(SERVER_NS, ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" /etc/libvirt/qemu.conf && mount -t tmpfs overlab-hidden "$2" && exec libvirtd', 'libvirtd', join(this.dir, 'qemu.conf'), boxes]),
    );
    await waitFor(async () => ((await virsh(LIBVIRT_URI, ['version'], { reject: false })).exitCode === 0 ? true : undefined), { what: 'the server libvirtd', timeoutMs: 30_000, intervalMs: 200 });
    // The pool overlab's labs use, as a server's administrator would have it.
    if ((await this.virsh(['pool-info', 'default'])).exitCode !== 0) {
      await this.virsh(['pool-define-as', 'default', 'dir', '--target', '/var/lib/libvirt/images']);
      await this.virsh(['pool-build', 'default']);
      await this.virsh(['pool-start', 'default']);
    }
    this.boxVolumesBefore = (await poolVolumes(this, 'default')).filter((n) => n.includes('_vagrant_box_image_'));

    const script = [
      'set -e',
      'dir=$1',
      'mount -n --bind /run/libvirt "$dir/libvirt-run"',
      'mount -n -t tmpfs overlab-libvirt-server /run',
      `mkdir /run/sshd /run/libvirt ${SSHD_DIR}`,
      'mount -n --bind "$dir/libvirt-run" /run/libvirt',
      `mount -n --bind "$dir" ${SSHD_DIR}`,
      `exec /usr/sbin/sshd -D -e -f ${SSHD_DIR}/sshd_config -o ListenAddress=${SERVER_ADDRESS}:22`,
    ].join('\n');
    this.spawnDaemon('sshd', inNamespace(SERVER_NS, ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sshd', this.dir]));
    writeFileSync(join(this.dir, 'known_hosts'), `${this.hostKeyLine}\n`);
    const ssh = ['-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${join(this.dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-i', this.clientKey, `root@${SERVER_ADDRESS}`, 'virsh', '-c', 'qemu:///system', 'version'];
    await waitFor(async () => ((await execa('ssh', ssh, { reject: false })).exitCode === 0 ? true : undefined), {
      what: `ssh root@${SERVER_ADDRESS} virsh version`,
      timeoutMs: 30_000,
      intervalMs: 250,
      detail: () => readFileSync(join(this.dir, 'sshd.log'), 'utf8'),
    });
  }

  /**
   * Stops everything the server runs, removes its namespace (the veth goes with it), its pool
   * when it made it, the logs libvirt kept of the labs (`prefix`), and its folder.
   */
  async stop(prefix: string): Promise<void> {
    if ((await this.virsh(['version'])).exitCode === 0 && this.createdPool) await removeEmptyDefaultPool(this);
    for (const c of [...this.children].reverse()) {
      if (c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
    }
    await removeNamespace();
    for (const f of serverLeftoverFiles(prefix)) rmSync(f, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kills what still runs in the server's namespace (QEMU, a killed run's daemons), waits for it, and deletes the namespace (the veth goes with it). */
async function removeNamespace(): Promise<void> {
  if (!existsSync(join(NETNS_DIR, SERVER_NS))) return;
  const left = () => processesInNamedNamespaces([SERVER_NS]);
  for (const pid of left()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  await waitFor(async () => (left().length === 0 ? true : undefined), { what: `the processes in namespace ${SERVER_NS} to exit`, timeoutMs: 15_000, intervalMs: 100 });
  await execa('ip', ['netns', 'del', SERVER_NS]);
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Files libvirt keeps on the server after a domain or network with the prefix is gone (QEMU logs, dnsmasq status). */
export function serverLeftoverFiles(prefix: string): string[] {
  return LIBVIRT_LEFTOVER_DIRS.flatMap((d) => (existsSync(d) ? readdirSync(d) : []).filter((f) => f.startsWith(prefix)).map((f) => join(d, f)));
}
