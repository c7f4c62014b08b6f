// libvirt of the lab's own, for the vagrant provider on a machine with no hypervisor service:
// a network namespace `ovl.<lab>._libvirt` holding virtlogd and libvirtd (started by hand, as
// there is no systemd, and stopped by their pids), QEMU under software emulation, and the
// locally built box (scripts/build-box.sh). libvirt's management network (dnsmasq on
// 192.168.121.0/24) and the lab's private network exist only inside that namespace; every
// `vagrant` call runs there too, and SSH reaches the guests through `nsenter ... busybox nc`.
// Everything libvirt creates for the lab is named with the lab's prefix, so `down` finds it.
// The pure half (names, the plan and Vagrantfile settings) is unit-tested; the rest is shell.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { CommandFailedError, LabStateError, PrerequisiteError } from '../../errors.ts';
import type { Plan } from '../../lab/types.ts';
import { FatalProbeError, waitFor } from '../../wait.ts';
import { listDir } from '../../system/files.ts';
import { inNamespace, labPrefix, NETNS_DIR, processesInNamedNamespaces } from '../../system/namespaces.ts';
import { isPresent, isSameProcess, processLabel, processRef, recordedProcess, type ProcessRef } from '../../system/processes.ts';
import { findProgram } from '../../system/programs.ts';
import type { SshAddress } from '../../host.ts';
import type { LabContext } from '../../state/lab-context.ts';
import type { LibvirtVagrantSettings } from '../../render/vagrantfile.ts';

/** `--libvirt local` (or OVERLAB_LIBVIRT=local): libvirt in the lab's namespace. */
export type LibvirtMode = 'local';

/** Memory and CPUs of every guest under emulation: a Debian guest with these boots to SSH in about 35 s. */
export const LOCAL_GUEST = { memory: 768, cpus: 1 } as const;
export const MANAGEMENT_NETWORK_ADDRESS = '192.168.121.0/24';
/**
 * How long `vagrant up` waits for a guest's SSH. Three guests booting at once under emulation on
 * two cores took 200-360 s here, past Vagrant's default of 300 s on a slow day.
 */
export const GUEST_BOOT_TIMEOUT_SECONDS = 1200;
/**
 * The box's kernel command line (scripts/build-box.sh) plus `apparmor=0`: Debian's kernel
 * enables AppArmor, the box has no apparmor_parser, and dockerd then refuses every container
 * ("AppArmor enabled on system but the docker-default profile could not be loaded").
 */
export const GUEST_CMD_LINE = 'root=/dev/vda rw console=ttyS0 net.ifnames=0 apparmor=0';
/** The libvirt daemons' own socket: one libvirtd per machine can own it. */
export const LIBVIRT_SOCKET = '/run/libvirt/libvirt-sock';
export const LIBVIRT_URI = 'qemu:///system';
export const DEFAULT_POOL_XML = '/etc/libvirt/storage/default.xml';
export const DEFAULT_POOL_DIR = '/var/lib/libvirt/images';
/** Folders where libvirt leaves files named after a domain or network once it is removed. */
export const LIBVIRT_LEFTOVER_DIRS = ['/var/log/libvirt/qemu', '/var/lib/libvirt/dnsmasq', '/run/libvirt/network'];

/** The namespace holding the lab's libvirtd (a name a lab host cannot take: hosts never start with "_"). */
export function libvirtNamespace(lab: string): string {
  return `${labPrefix(lab)}_libvirt`;
}

/** Domains, volumes and networks of the lab all start with this (the netns prefix, `ovl.<lab>.`). */
export function libvirtPrefix(lab: string): string {
  return labPrefix(lab);
}

/**
 * The local libvirt's Vagrantfile settings. The local box configures itself at boot (hostname,
 * lab address, login key) from the kernel command line (see scripts/build-box.sh): `firstBoot`
 * gives the lab's key for it.
 */
export function localLibvirtSettings(lab: string, firstBoot?: LibvirtVagrantSettings['firstBoot']): LibvirtVagrantSettings {
  const prefix = libvirtPrefix(lab);
  return {
    defaultPrefix: prefix,
    managementNetworkName: `${prefix}_mgmt`,
    managementNetworkAddress: MANAGEMENT_NETWORK_ADDRESS,
    privateNetworkName: `${prefix}_net`,
    driver: 'qemu',
    cmdLine: GUEST_CMD_LINE,
    graphicsType: 'none',
    videoType: 'none',
    bootTimeoutSeconds: GUEST_BOOT_TIMEOUT_SECONDS,
    ...(firstBoot ? { firstBoot } : {}),
  };
}

/** Where a lab on the local box keeps the key its machines let Vagrant and overlab in with. */
export function guestKeyPath(stateDir: string): string {
  return join(stateDir, 'ssh', 'id_ed25519');
}

/**
 * The plan as the local box runs it: every host on the box, with the memory and CPUs that
 * boot under emulation, and the engine the box already carries (docker.io 20.10; etcd too).
 */
export function localLibvirtPlan(plan: Plan, boxName: string): Plan {
  return {
    ...plan,
    engine: { ...plan.engine, install: 'preinstalled' },
    hosts: plan.hosts.map((h) => ({ ...h, box: boxName, memory: LOCAL_GUEST.memory, cpus: LOCAL_GUEST.cpus })),
  };
}

/** The endpoint as reached from this machine: through a proxy inside the namespace. */
export function proxiedEndpoint<T extends SshAddress>(ns: string, endpoint: T): T {
  return { ...endpoint, proxy: inNamespace(ns, ['busybox', 'nc', endpoint.host, String(endpoint.port)]) };
}

/** What the lab state keeps of the local libvirt (resources.libvirt), recorded before each is made. */
export interface LocalLibvirtRecord {
  mode: LibvirtMode;
  namespace: string;
  prefix: string;
  box: string;
  /** pid per daemon (virtlogd, libvirtd). */
  pids: Record<string, number>;
  /** Start time per daemon (see ProcessRef): a recycled pid is not the daemon. */
  starts?: Record<string, number>;
  /**
   * The box's volumes (`boxVolumePrefix(box)...`) already in the default pool before the lab's
   * libvirtd started: any other volume of the box is the lab's upload, removed on down.
   */
  boxVolumesBefore?: string[];
  /** The default pool was not defined before: the lab's libvirtd defined it, and down undefines it. */
  createdPool?: boolean;
}

/**
 * How the names of the box's volumes in the pool start: vagrant-libvirt names the upload
 * `<box, / as -VAGRANTSLASH->_vagrant_box_image_<version>[_<timestamp>]_box.img` (a box with
 * no version gets a timestamp).
 */
export function boxVolumePrefix(box: string): string {
  return `${box.replaceAll('/', '-VAGRANTSLASH-')}_vagrant_box_image_`;
}

/** The box's volumes in a folder listing. */
export function boxVolumes(box: string, names: readonly string[]): string[] {
  const prefix = boxVolumePrefix(box);
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.img'));
}

/** Binaries the local libvirt needs, with the Debian package that has each. */
export const LOCAL_LIBVIRT_TOOLS: readonly [string, string][] = [
  ['libvirtd', 'libvirt-daemon-system'],
  ['virtlogd', 'libvirt-daemon-system'],
  ['virsh', 'libvirt-clients'],
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['qemu-img', 'qemu-utils'],
  ['dnsmasq', 'dnsmasq-base'],
  ['nsenter', 'util-linux'],
  ['busybox', 'busybox-static'],
  ['ip', 'iproute2'],
];


/** Why the local libvirt cannot run here, or undefined. */
export function localLibvirtUnusableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'the local libvirt needs root (network namespaces, libvirtd)';
  const missing = LOCAL_LIBVIRT_TOOLS.filter(([bin]) => !findProgram(bin, { systemDirs: true }));
  if (missing.length) {
    return `the local libvirt needs ${missing.map(([b]) => b).join(', ')}: apt-get install --no-install-recommends ${[...new Set(missing.map(([, p]) => p))].join(' ')}; or run scripts/setup-host.sh --with-libvirt, which installs all the local libvirt needs`;
  }
  return undefined;
}

/** The box name scripts/build-box.sh builds (it hashes itself), and whether Vagrant has it. */
export async function localBox(): Promise<string> {
  const script = resolve(dirname(fileURLToPath(import.meta.url)), '../../../scripts/build-box.sh');
  const name = (await execa('bash', [script, '--name'])).stdout.trim();
  const list = await execa('vagrant', ['box', 'list', '--machine-readable'], { reject: false, env: { VAGRANT_CHECKPOINT_DISABLE: '1' } });
  if (!String(list.stdout).split('\n').some((l) => l.endsWith(`,box-name,${name}`))) {
    throw new PrerequisiteError(`the local box ${name} is not added to Vagrant`, { hint: 'Build it: `sudo npm run box:build` (about 2 min).' });
  }
  return name;
}

const DAEMONS = ['virtlogd', 'libvirtd'] as const;

/** The QEMU driver settings of the lab's libvirtd (bound over /etc/libvirt/qemu.conf in its own mount namespace). */
export const QEMU_CONF = [
  '# overlab: the QEMU driver of a lab-owned libvirtd (--libvirt local).',
  '# QEMU runs as root: the box kernel and initrd live under /root/.vagrant.d, and where /dev/kvm',
  "# is root's alone, libvirt 9.0 probing as root but checking KVM for another user finds its",
  '# capability cache stale on every call and probes QEMU again and again (seconds each).',
  'user = "root"',
  'group = "root"',
  '',
].join('\n');

/**
 * How a daemon starts: in the namespace's network, in the foreground (nsenter, unshare and sh
 * each exec the next, so the pid spawned is the daemon's). libvirtd also gets a private mount
 * namespace in which the lab's qemu.conf is bound over the machine's, which stays untouched.
 */
export function daemonArgv(ns: string, daemon: 'virtlogd' | 'libvirtd', qemuConf: string): string[] {
  if (daemon === 'virtlogd') return inNamespace(ns, ['virtlogd']);
  return inNamespace(ns, ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" /etc/libvirt/qemu.conf && exec libvirtd', 'libvirtd', qemuConf]);
}

/** The lab's libvirt: its namespace and daemons, and what they created. */
export class LocalLibvirt {
  readonly namespace: string;
  readonly prefix: string;

  constructor(
    readonly lab: string,
    private readonly ctx: LabContext,
  ) {
    this.namespace = libvirtNamespace(lab);
    this.prefix = libvirtPrefix(lab);
  }

  /** The record in the lab state, when this lab uses a local libvirt. */
  static recorded(ctx: LabContext): LocalLibvirtRecord | undefined {
    const r = ctx.store.read()?.resources['libvirt'] as LocalLibvirtRecord | undefined;
    return r?.mode === 'local' ? r : undefined;
  }

  private record(change: (r: LocalLibvirtRecord) => void, box = ''): void {
    this.ctx.store.update((s) => {
      const r = (s.resources['libvirt'] as LocalLibvirtRecord | undefined) ?? { mode: 'local', namespace: this.namespace, prefix: this.prefix, box, pids: {} };
      change(r);
      s.resources['libvirt'] = r;
    });
  }

  private logFile(daemon: string): string {
    return join(this.ctx.store.dir, 'logs', `${daemon}.log`);
  }

  /** argv in the namespace. */
  wrap(argv: readonly string[]): string[] {
    return inNamespace(this.namespace, argv);
  }

  async virsh(args: readonly string[], options: { reject?: boolean } = {}): Promise<{ exitCode: number; stdout: string; all: string }> {
    const r = await execa('virsh', ['-c', LIBVIRT_URI, ...args], { reject: false, all: true, stdin: 'ignore' });
    const out = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), all: String(r.all ?? '') };
    if (options.reject !== false && out.exitCode !== 0) {
      throw new CommandFailedError({ command: `virsh -c ${LIBVIRT_URI} ${args.join(' ')}`, exitCode: out.exitCode, output: out.all });
    }
    return out;
  }

  private running(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.daemons()).filter(([, ref]) => isSameProcess(ref)).map(([d, ref]) => [d, ref.pid]));
  }

  /** The recorded daemons, by name. */
  private daemons(): Record<string, ProcessRef> {
    const r = LocalLibvirt.recorded(this.ctx);
    return Object.fromEntries(Object.entries(r?.pids ?? {}).map(([d, pid]) => [d, recordedProcess(pid, r?.starts?.[d])]));
  }

  /** Creates the namespace and starts the daemons in it (each pid recorded before it is waited on). */
  async start(box: string): Promise<void> {
    this.record(() => {}, box);
    const running = this.running();
    if (!existsSync(join(NETNS_DIR, this.namespace))) {
      if (existsSync(LIBVIRT_SOCKET) && (await this.virsh(['version'], { reject: false })).exitCode === 0 && !running['libvirtd']) {
        throw new PrerequisiteError(`a libvirtd that is not this lab's answers on ${LIBVIRT_SOCKET}`, {
          hint: 'The local libvirt runs its own libvirtd and cannot share the machine with another one: stop that lab (`overlab down`) or that libvirtd first.',
        });
      }
      await execa('ip', ['netns', 'add', this.namespace]);
      await execa('ip', ['-n', this.namespace, 'link', 'set', 'lo', 'up']);
    }
    // What exists before the lab's libvirtd makes anything: the default pool and the box's
    // volume have shared names, so the lab removes them on down only when it made them. Read
    // from libvirt's files, as the daemon defines the default pool as soon as it starts.
    this.record((r) => {
      r.createdPool ??= !existsSync(DEFAULT_POOL_XML);
      r.boxVolumesBefore ??= boxVolumes(box, listDir(DEFAULT_POOL_DIR));
    });
    mkdirSync(join(this.ctx.store.dir, 'logs'), { recursive: true });
    const qemuConf = join(this.ctx.store.dir, 'qemu.conf');
    writeFileSync(qemuConf, QEMU_CONF);
    for (const daemon of DAEMONS) {
      if (running[daemon]) continue;
      // Foreground (no -d) under a detached nsenter, which execs the daemon: the pid we get is the daemon's.
      const fd = openSync(this.logFile(daemon), 'a');
      try {
        const [bin, ...args] = daemonArgv(this.namespace, daemon, qemuConf);
        const child = spawn(bin!, args, { detached: true, stdio: ['ignore', fd, fd] });
        child.unref();
        const pid = child.pid;
        if (pid === undefined) throw new PrerequisiteError(`cannot start ${daemon} in namespace ${this.namespace}`);
        const ref = processRef(pid);
        this.record((r) => {
          r.pids[daemon] = pid;
          if (ref.start !== undefined) (r.starts ??= {})[daemon] = ref.start;
        });
      } finally {
        closeSync(fd);
      }
    }
    await waitFor(
      async () => {
        for (const d of DAEMONS) if (!isSameProcess(this.daemons()[d]!)) throw new FatalProbeError(new PrerequisiteError(`${d} exited in namespace ${this.namespace}; see ${this.logFile(d)}`));
        return (await this.virsh(['version'], { reject: false })).exitCode === 0 ? true : undefined;
      },
      { what: `libvirtd in namespace ${this.namespace} to answer (virsh -c ${LIBVIRT_URI} version)`, timeoutMs: 30_000, intervalMs: 200, signal: this.ctx.signal },
    );
  }

  /** True when the recorded libvirtd is alive and answers. */
  async answering(): Promise<boolean> {
    return !!this.running()['libvirtd'] && (await this.virsh(['version'], { reject: false })).exitCode === 0;
  }

  private async names(args: string[]): Promise<string[]> {
    const r = await this.virsh(args, { reject: false });
    return r.exitCode === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
  }

  /** What libvirt holds with the lab's prefix (for down, and for the tests that check nothing is left). */
  async inventory(): Promise<{ domains: string[]; networks: string[]; volumes: string[]; pools: string[] }> {
    const record = LocalLibvirt.recorded(this.ctx);
    const mine = (n: string) => n.startsWith(this.prefix);
    const uploaded = (n: string) => record !== undefined && boxVolumes(record.box, [n]).length === 1 && !(record.boxVolumesBefore ?? []).includes(n);
    const pools = await this.names(['pool-list', '--all', '--name']);
    const volumes: string[] = [];
    for (const p of pools) {
      const r = await this.virsh(['vol-list', '--pool', p], { reject: false });
      for (const line of r.stdout.split('\n').slice(2)) {
        const name = line.trim().split(/\s+/)[0];
        if (name && (mine(name) || uploaded(name))) volumes.push(`${p}/${name}`);
      }
    }
    return {
      domains: (await this.names(['list', '--all', '--name'])).filter(mine),
      networks: (await this.names(['net-list', '--all', '--name'])).filter(mine),
      volumes,
      pools,
    };
  }

  /** Destroys and undefines the domains, deletes the volumes, removes the networks; what went, as `kind name`. */
  private async removeObjects(inv: { domains: string[]; networks: string[]; volumes: string[] }): Promise<string[]> {
    const removed: string[] = [];
    for (const d of inv.domains) {
      await this.virsh(['destroy', d], { reject: false });
      await this.virsh(['undefine', d, '--nvram'], { reject: false }).then((r) => (r.exitCode === 0 ? r : this.virsh(['undefine', d], { reject: false })));
      removed.push(`domain ${d}`);
    }
    for (const v of inv.volumes) {
      const [pool, name] = [v.slice(0, v.indexOf('/')), v.slice(v.indexOf('/') + 1)];
      await this.virsh(['vol-delete', '--pool', pool, name], { reject: false });
      removed.push(`volume ${v}`);
    }
    for (const n of inv.networks) {
      await this.virsh(['net-destroy', n], { reject: false });
      await this.virsh(['net-undefine', n], { reject: false });
      removed.push(`network ${n}`);
    }
    return removed;
  }

  /**
   * Before the first `vagrant up` of the lab in its state folder: domains, volumes and networks
   * named with the lab's prefix are what an earlier run of a lab of this name left behind when
   * its state went (a killed run, a deleted state folder). Vagrant does not know them, and
   * would stop on "Name ... of domain about to create is already taken". Removed, and named
   * in a warning. (The lab's libvirtd is the only one on the machine, see start().)
   */
  async removeLeftovers(): Promise<string[]> {
    const removed = await this.removeObjects(await this.inventory());
    if (removed.length > 0) {
      this.ctx.events.emit({ type: 'warn', message: `removed what an earlier run of lab ${this.lab} left in libvirt (its state was gone): ${removed.join(', ')}` });
    }
    return removed;
  }

  /**
   * Removes the lab's domains, volumes and networks (by prefix; the box's volume and the
   * default pool when the lab made them), stops the daemons by pid, kills anything still in
   * the namespace, and deletes it. Idempotent; starts the daemons again when they are gone
   * but the namespace is not, so what they made can be removed.
   */
  async teardown(): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }> {
    const record = LocalLibvirt.recorded(this.ctx);
    const removed: string[] = [];
    const processes: string[] = [];
    if (record && existsSync(join(NETNS_DIR, this.namespace)) && !(await this.answering())) {
      try {
        await this.start(record.box);
      } catch (e) {
        this.ctx.events.emit({ type: 'warn', message: `libvirtd of lab ${this.lab} could not be started to clean up: ${(e as Error).message}` });
      }
    }
    if (await this.answering().catch(() => false)) {
      const inv = await this.inventory();
      removed.push(...(await this.removeObjects(inv)));
      if (LocalLibvirt.recorded(this.ctx)?.createdPool && inv.pools.includes('default')) {
        const left = (await this.virsh(['vol-list', '--pool', 'default'], { reject: false })).stdout.split('\n').slice(2).filter((l) => l.trim());
        if (left.length === 0) {
          await this.virsh(['pool-destroy', 'default'], { reject: false });
          await this.virsh(['pool-undefine', 'default'], { reject: false });
          removed.push('pool default');
          // The folder libvirtd made for the definition, when nothing else is in it.
          try {
            rmdirSync(dirname(DEFAULT_POOL_XML));
          } catch {
            // Not empty, or gone.
          }
        }
      }
    }
    // The daemons, by their recorded pids; then whatever else still runs in the namespace (qemu,
    // dnsmasq). Each by pid and start time: the waits below are long enough for a pid to be reused.
    const daemons = Object.values(this.daemons()).filter((ref) => isSameProcess(ref));
    const inside = processesInNamedNamespaces([this.namespace])
      .filter((p) => !daemons.some((d) => d.pid === p))
      .map(processRef);
    for (const group of [daemons.reverse(), inside]) {
      for (const ref of group) {
        const label = processLabel(ref.pid);
        try {
          process.kill(ref.pid, 'SIGTERM');
          processes.push(label);
        } catch {
          // Gone already.
        }
      }
      // Gone means reaped too, as a census of the machine's processes would see it.
      const left = () => group.filter(isPresent);
      const gone = async () => (left().length ? undefined : true);
      await waitFor(gone, { what: 'the lab libvirt processes to exit', timeoutMs: 15_000, intervalMs: 100 }).catch(async () => {
        for (const ref of left()) process.kill(ref.pid, 'SIGKILL');
        await waitFor(gone, { what: `the lab libvirt processes to exit after SIGKILL (${left().map((r) => r.pid).join(', ')})`, timeoutMs: 10_000, intervalMs: 100 });
      });
    }
    // What libvirt keeps after its objects are gone, named after them: QEMU logs, dnsmasq files.
    for (const dir of LIBVIRT_LEFTOVER_DIRS) {
      for (const name of listDir(dir).filter((n) => n.startsWith(this.prefix))) {
        rmSync(join(dir, name), { force: true, recursive: true });
        removed.push(join(dir, name));
      }
    }
    const namespaces: string[] = [];
    if (existsSync(join(NETNS_DIR, this.namespace))) {
      const r = await execa('ip', ['netns', 'del', this.namespace], { reject: false, all: true });
      if (r.exitCode !== 0) throw new LabStateError(`cannot delete namespace ${this.namespace}: ${String(r.all)}`);
      namespaces.push(this.namespace);
    }
    this.ctx.store.update((s) => {
      const r = s.resources['libvirt'] as LocalLibvirtRecord | undefined;
      if (r) {
        r.pids = {};
        delete r.starts;
      }
    });
    return { processes, namespaces, removed };
  }
}

/** Where libvirt keeps, with no daemon running, what is defined or stored under the lab's prefix. */
const DEFINITION_DIRS = ['/etc/libvirt/qemu', '/etc/libvirt/qemu/networks', DEFAULT_POOL_DIR];

/** Files of domains, networks and volumes named with the lab's prefix: what a run left when its state went. */
export function libvirtLeftoverFiles(lab: string): string[] {
  const prefix = libvirtPrefix(lab);
  return DEFINITION_DIRS.flatMap((dir) => listDir(dir).filter((n) => n.startsWith(prefix)).map((n) => join(dir, n)));
}

/**
 * `down --force` of a lab with no state: when libvirt still defines domains, networks or volumes
 * under the lab's prefix, a libvirtd of the lab's own is started for the time it takes to remove
 * them, then stopped, its namespace deleted. Nothing happens when libvirt holds nothing of the
 * lab's; a libvirt that cannot run here, or another libvirtd owning the machine's socket, leaves
 * them in place with a warning naming them.
 */
export async function sweepLocalLibvirt(lab: string, ctx: LabContext): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }> {
  const none = { processes: [], namespaces: [], removed: [] };
  const files = libvirtLeftoverFiles(lab);
  if (files.length === 0) return none;
  const unusable = localLibvirtUnusableReason();
  const leave = (why: string) => {
    ctx.events.emit({ type: 'warn', message: `libvirt still holds what lab ${lab} left (${files.join(', ')}), not removed: ${why}` });
    return none;
  };
  if (unusable) return leave(unusable);
  if (!ctx.store.read()) {
    const now = new Date().toISOString();
    ctx.store.write({ version: 1, lab, provider: 'vagrant', mode: 'kv', file: '', phase: 'destroying', createdAt: now, updatedAt: now, hosts: {}, resources: {} });
  }
  const local = new LocalLibvirt(lab, ctx);
  try {
    await local.start('');
  } catch (e) {
    await local.teardown().catch(() => undefined);
    return leave((e as Error).message);
  }
  const removed = await local.removeLeftovers();
  const t = await local.teardown();
  return { processes: t.processes, namespaces: t.namespaces, removed: [...removed, ...t.removed] };
}
