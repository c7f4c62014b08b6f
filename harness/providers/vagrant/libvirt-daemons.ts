// The local libvirt's daemons (virtlogd, libvirtd) in the lab's namespace: how each starts,
// started by hand and recorded by pid before they are waited on, and virsh against them.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { PrerequisiteError } from '../../errors.ts';
import { FatalProbeError, waitFor } from '../../wait.ts';
import { listDir } from '../../system/files.ts';
import { inNamespace, NETNS_DIR } from '../../system/namespaces.ts';
import { isSameProcess, processRef, recordedProcess, type ProcessRef } from '../../system/processes.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { DEFAULT_POOL_DIR, DEFAULT_POOL_XML, LIBVIRT_SOCKET, LIBVIRT_URI, libvirtNamespace, libvirtPrefix, type LocalLibvirtRecord } from './libvirt-settings.ts';
import { boxVolumes } from './libvirt-box.ts';
import { virsh, type LibvirtConnection, type VirshResult } from './virsh.ts';

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

/** The lab's libvirt daemons in their namespace: started, recorded, asked (virsh). */
export class LibvirtDaemons implements LibvirtConnection {
  readonly namespace: string;
  readonly prefix: string;

  constructor(
    readonly lab: string,
    readonly ctx: LabContext,
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

  virsh(args: readonly string[], options: { reject?: boolean } = {}): Promise<VirshResult> {
    return virsh(LIBVIRT_URI, args, options);
  }

  boxRecord(): LocalLibvirtRecord | undefined {
    return LibvirtDaemons.recorded(this.ctx);
  }

  private running(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.daemons()).filter(([, ref]) => isSameProcess(ref)).map(([d, ref]) => [d, ref.pid]));
  }

  /** The recorded daemons, by name. */
  daemons(): Record<string, ProcessRef> {
    const r = LibvirtDaemons.recorded(this.ctx);
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
}
