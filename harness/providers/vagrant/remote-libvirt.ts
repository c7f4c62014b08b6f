// A libvirt on a server, reached over SSH (`--libvirt qemu+ssh://[USER@]SERVER/system`): the
// VMs, their disks and networks live there, named with the lab's prefix as on the local
// libvirt. Before `vagrant up`, the lab writes its ssh command for the server (host key checked),
// checks the server answers, records what it will create, and uploads the box's kernel and
// initrd as volumes (the box boots them directly; the server has no copy of this machine's box
// folder). `down` is `vagrant destroy`, then whatever is left under the lab's prefix and the
// box volume the lab uploaded. Pure parts: ./remote-libvirt-settings.ts.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { HostKeyError, HostUnreachableError, LabStateError, PrerequisiteError } from '../../errors.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { userKnownHosts } from '../../remote/host-keys.ts';
import { NS_PREFIX } from '../../system/namespaces.ts';
import { boxFile, boxVolumes } from './libvirt-box.ts';
import { libvirtInventory, poolVolumes, removeLibvirtObjects, type LibvirtInventory } from './libvirt-inventory.ts';
import { libvirtPrefix } from './libvirt-settings.ts';
import { bootVolumeNames, connectionUri, parseRemoteLibvirtUri, proxyCommand, remoteFiles, serverProblem, serverSshScript, type LibvirtDriver, type RemoteLibvirtTarget } from './remote-libvirt-settings.ts';
import { virsh, type LibvirtConnection, type VirshResult } from './virsh.ts';

/** The pool vagrant-libvirt puts the box's and the machines' volumes in. */
export const SERVER_POOL = 'default';

/** What the lab state keeps of a server's libvirt (resources.libvirt). */
export interface RemoteLibvirtRecord {
  mode: 'remote';
  /** The URI as the user gave it. */
  uri: string;
  prefix: string;
  box: string;
  driver: LibvirtDriver;
  /** The box's volumes already in the server's pool before the lab: any other is the lab's upload, removed on down. */
  boxVolumesBefore?: string[];
  /**
   * The server held no running machine of the lab's names when the lab began making its own
   * there: from then on, what carries the lab's prefix is this lab's, and down removes it.
   */
  claimed?: boolean;
}

export class RemoteLibvirt implements LibvirtConnection {
  readonly prefix: string;
  readonly files: { ssh: string; knownHosts: string };

  constructor(
    readonly lab: string,
    readonly ctx: LabContext,
    readonly target: RemoteLibvirtTarget,
  ) {
    this.prefix = libvirtPrefix(lab);
    this.files = remoteFiles(ctx.store.dir);
  }

  /** The record in the lab state, when the lab's VMs are on a server. */
  static recorded(ctx: LabContext): RemoteLibvirtRecord | undefined {
    const r = ctx.store.read()?.resources['libvirt'] as RemoteLibvirtRecord | undefined;
    return r?.mode === 'remote' ? r : undefined;
  }

  /** The lab's server, from its record. */
  static of(lab: string, ctx: LabContext): RemoteLibvirt | undefined {
    const r = RemoteLibvirt.recorded(ctx);
    return r ? new RemoteLibvirt(lab, ctx, parseRemoteLibvirtUri(r.uri)) : undefined;
  }

  /** The URI libvirt connects with: through the lab's ssh command. */
  get uri(): string {
    return connectionUri(this.target, this.files.ssh);
  }

  /** How Vagrant and overlab reach the VMs through the server. */
  get proxyCommand(): string {
    return proxyCommand(this.target, this.files.ssh);
  }

  virsh(args: readonly string[], options: { reject?: boolean } = {}): Promise<VirshResult> {
    return virsh(this.uri, args, { ...options, signal: this.ctx.signal });
  }

  boxRecord(): RemoteLibvirtRecord | undefined {
    return RemoteLibvirt.recorded(this.ctx);
  }

  /** What the server holds with the lab's prefix. */
  inventory(): Promise<LibvirtInventory> {
    return libvirtInventory(this);
  }

  /** Writes the lab's ssh command for the server: `acceptNew` records a first host key in the lab's state. */
  writeSshCommand(acceptNew: boolean): void {
    writeFileSync(this.files.ssh, serverSshScript(this.target, { knownHosts: this.files.knownHosts, userKnownHosts: userKnownHosts() }, acceptNew), { mode: 0o700 });
  }

  /** The server answers (libvirtd over SSH, host key trusted), or why not, as the user's next step. */
  async reach(): Promise<void> {
    const r = await this.virsh(['version'], { reject: false });
    if (r.exitCode === 0) return;
    const problem = serverProblem(r.all, this.target);
    const said = r.all.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
    if (problem.hostKey) throw new HostKeyError({ host: this.target.server, presented: '', expected: [], message: `${problem.message} (${said})` }, { hint: problem.hint });
    throw new HostUnreachableError(`${problem.message}: ${said}`, { hint: problem.hint });
  }

  private record(r: RemoteLibvirtRecord): void {
    this.ctx.store.update((s) => {
      const was = s.resources['libvirt'] as RemoteLibvirtRecord | undefined;
      // What an earlier up of the lab found and claimed stays: the box volumes before it, its names there.
      s.resources['libvirt'] = { ...r, ...(was?.boxVolumesBefore ? { boxVolumesBefore: was.boxVolumesBefore } : {}), ...(was?.claimed ? { claimed: true } : {}) };
    });
  }

  /**
   * Before the lab's `vagrant up`: the server reached, what the lab makes there recorded before
   * it is made, leftovers of an earlier run of this lab removed (`fresh`: Vagrant knows no machine
   * of it), the box's kernel and initrd uploaded, and KVM chosen where the server has it.
   */
  async prepare(box: string, options: { acceptNew: boolean; fresh: boolean; driver?: LibvirtDriver }): Promise<{ kernel: string; initrd: string; driver: LibvirtDriver }> {
    this.writeSshCommand(options.acceptNew);
    await this.reach();
    if ((await this.virsh(['pool-info', SERVER_POOL], { reject: false })).exitCode !== 0) {
      throw new PrerequisiteError(`the libvirt server ${this.target.server} has no storage pool "${SERVER_POOL}"`, {
        hint: `On the server: virsh pool-define-as ${SERVER_POOL} dir --target /var/lib/libvirt/images && virsh pool-build ${SERVER_POOL} && virsh pool-start ${SERVER_POOL} && virsh pool-autostart ${SERVER_POOL}`,
      });
    }
    const kvm = (await this.virsh(['domcapabilities', '--virttype', 'kvm'], { reject: false })).exitCode === 0;
    const driver = options.driver ?? (kvm ? 'kvm' : 'qemu');
    this.record({ mode: 'remote', uri: this.target.uri, prefix: this.prefix, box, driver, boxVolumesBefore: boxVolumes(box, await poolVolumes(this, SERVER_POOL, { reject: true })) });
    if (options.fresh) await this.removeLeftovers();
    this.ctx.store.update((st) => ((st.resources['libvirt'] as RemoteLibvirtRecord).claimed = true));
    this.ctx.events.emit({ type: 'info', message: `libvirt on ${this.target.server}: uploading the box's kernel and initrd` });
    const names = bootVolumeNames(this.lab);
    const kernel = await this.upload(names.kernel, boxFile(box, 'vmlinuz'));
    const initrd = await this.upload(names.initrd, boxFile(box, 'initrd.img'));
    return { kernel, initrd, driver };
  }

  /**
   * Before the first `vagrant up` of the lab in its state folder: what the server holds under
   * the lab's names. Stopped machines, volumes and networks are what an earlier run left when its
   * state went: removed, and named in a warning. A running machine may be another laptop's lab
   * of the same name: refused, never touched.
   */
  private async removeLeftovers(): Promise<void> {
    const inv = await this.inventory();
    const running = (await this.virsh(['list', '--name'], { reject: false })).stdout.split('\n').map((l) => l.trim()).filter((d) => inv.domains.includes(d));
    if (running.length) {
      throw new LabStateError(`the libvirt server ${this.target.server} runs machines named as lab ${this.lab}'s (${running.join(', ')}), which this lab's state does not know`, {
        hint: `Another lab of that name on the server (give yours another \`name:\`), or an earlier run of this one whose state is gone: then stop them first (virsh -c ${this.target.uri} destroy DOMAIN), and \`overlab up\` removes the rest.`,
      });
    }
    const removed = await removeLibvirtObjects(this, inv);
    if (removed.length) this.ctx.events.emit({ type: 'warn', message: `removed what an earlier run of lab ${this.lab} left on ${this.target.server}: ${removed.join(', ')}` });
  }

  /**
   * `down --force --libvirt URI` of a lab whose state is gone: everything the server holds under
   * the lab's names, running or not (the user names the server and the lab), but no box volume
   * (which lab uploaded it is not known).
   */
  async sweep(): Promise<string[]> {
    mkdirSync(this.ctx.store.dir, { recursive: true });
    this.writeSshCommand(false);
    await this.reach();
    // With no record, the inventory counts no box volume as the lab's.
    return (await removeLibvirtObjects(this, await this.inventory())).map((r) => `${r} on ${this.target.server}`);
  }

  /** A file of this machine as a volume of the server's pool (made afresh); its path there. */
  private async upload(name: string, file: string): Promise<string> {
    const size = statSync(file).size;
    await this.virsh(['vol-delete', '--pool', SERVER_POOL, name], { reject: false });
    await this.virsh(['vol-create-as', SERVER_POOL, name, String(size), '--format', 'raw']);
    await this.virsh(['vol-upload', '--pool', SERVER_POOL, name, file]);
    return (await this.virsh(['vol-path', '--pool', SERVER_POOL, name])).stdout.trim();
  }

  /**
   * Removes what the server still holds of the lab (after `vagrant destroy`), once the lab has
   * claimed its names there; unreachable, it throws, and `down` keeps the state to try again.
   * The box volume the lab uploaded stays while another overlab lab's machines are on the
   * server: their disks are layered on it.
   */
  async teardown(): Promise<string[]> {
    // An up refused before it made anything (a host key, another lab's machines running there): nothing is the lab's.
    if (!this.boxRecord()?.claimed) return [];
    if (!existsSync(this.files.ssh)) this.writeSshCommand(false);
    await this.reach();
    const inv = await this.inventory();
    const domains = (await this.virsh(['list', '--all', '--name'], { reject: false })).stdout.split('\n').map((l) => l.trim());
    const others = domains.filter((d) => d.startsWith(NS_PREFIX) && !d.startsWith(this.prefix));
    const box = this.boxRecord()?.box;
    const shared = (v: string) => others.length > 0 && box !== undefined && boxVolumes(box, [v.slice(v.indexOf('/') + 1)]).length === 1;
    for (const v of inv.volumes.filter(shared)) this.ctx.events.emit({ type: 'info', message: `kept the box volume ${v} on ${this.target.server}: other labs' machines use it (${others.join(', ')})` });
    const removed = await removeLibvirtObjects(this, { ...inv, volumes: inv.volumes.filter((v) => !shared(v)) });
    return removed.map((r) => `${r} on ${this.target.server}`);
  }
}
