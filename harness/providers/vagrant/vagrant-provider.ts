// The vagrant provider: the real `vagrant` CLI, run in the lab's state folder with the
// Vagrantfile rendered from the plan, creates the machines (`vagrant up --no-provision`, in
// parallel only where the hypervisor supports it) and says how to reach them (`vagrant
// ssh-config`); from there they are SSH hosts like the ssh provider's (shared code in
// ../ssh-hosts.ts). Host keys: trusted on first use, at the `up` that creates the machines
// (recorded in .overlab/<lab>/known_hosts), and checked against that record afterwards.
// `down` is `vagrant destroy -f`. With `libvirt: 'local'` the lab brings its own libvirt in a
// namespace (./local-libvirt.ts) and the locally built box, and an engine tree reaches its VMs
// as a disk (./libvirt-folders.ts); with a `qemu+ssh://` URI the VMs are on that server's
// libvirt, reached through it (./remote-libvirt.ts), on the same box; ./lab-libvirt.ts is what
// the two share here. Which hypervisor Vagrant uses is ./hypervisor.ts; running `vagrant`
// itself, ./vagrant-cli.ts.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { inNamespace } from '../../system/namespaces.ts';
import { findProgram } from '../../system/programs.ts';
import { CommandFailedError, HostUnreachableError, LabStateError, PrerequisiteError } from '../../errors.ts';
import type { Plan } from '../../lab/types.ts';
import { provisionHost } from '../../provision/index.ts';
import { renderVagrantfile } from '../../render/vagrantfile.ts';
import { sshConfigEndpoints } from '../../remote/ssh-config.ts';
import { shellJoin } from '../../quote.ts';
import { emptyDestroyReport, type DestroyReport, type HostCommands, type Provider } from '../provider.ts';
import type { HostAccess, HostKeyPolicy, SshAddress, SshEndpoint } from '../../host.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { labKnownHosts, labStateDir } from '../../state/paths.ts';
import { connectSshHosts, describeSshHost, recordSshHosts, sshCommandArgv, type SshHostSpec } from '../ssh-hosts.ts';
import { machineStates, type MachineState } from './machine-readable.ts';
import { guestKeyPath, LOCAL_GUEST, LocalLibvirt, localBox, localLibvirtPlan, localLibvirtUnusableReason, missingTools, proxiedEndpoint, libvirtNamespace, daemonArgv, type LibvirtMode } from './local-libvirt.ts';
import { folderDisks, type FolderImages } from './libvirt-folders.ts';
import { RemoteLibvirt } from './remote-libvirt.ts';
import { describeServerUpload, parseRemoteLibvirtUri, SERVER_LIBVIRT_TOOLS, type LibvirtDriver } from './remote-libvirt-settings.ts';
import { destroyOnLabLibvirt, guestPlan, prepareLabLibvirt, sweepLabLibvirt } from './lab-libvirt.ts';
import { runVagrant } from './vagrant-cli.ts';
import { vagrantPhases, type TimedLine } from './phases.ts';
import { ensureKeyPair } from '../../system/ssh-keys.ts';
import { BOOTING_LINE, DESTROY_ARGS, detectHypervisor, SSH_CONFIG_ARGS, STATUS_ARGS, upCommands, vagrantLibvirtInstalled, vagrantUpCalls } from './hypervisor.ts';
import { setupScript } from '../../system/package-root.ts';

// (Re-exported for the provider's importers.)
export { DESTROY_ARGS, detectHypervisor, machineProbe, PARALLEL_HYPERVISORS, SSH_CONFIG_ARGS, STATUS_ARGS, vagrantUpArgs, type HypervisorProbe, type VagrantHypervisor } from './hypervisor.ts';

/** Trust on first use: the `up` that creates the machines records their keys; later connections check them. */
export function vagrantHostKeys(stateDir: string, firstUp: boolean): HostKeyPolicy {
  return { knownHosts: [], recordIn: labKnownHosts(stateDir), ...(firstUp ? { acceptNew: true } : {}), vouchedBy: 'overlab' };
}

export interface VagrantProviderOptions {
  /** The hypervisor (`--provider`); detected when absent. */
  hypervisor?: string;
  /** Deadline for connecting to each machine over SSH after `vagrant up` (default 60 s). */
  connectDeadlineMs?: number;
  /** `local`: a libvirtd of the lab's own in a namespace, QEMU under emulation, the local box; a `qemu+ssh://` URI: a server's libvirt, the same box. */
  libvirt?: LibvirtMode;
  /** On a server's libvirt: `qemu` (emulation) even where the server has KVM. */
  libvirtDriver?: LibvirtDriver;
  /** On a server's libvirt: trust the server's first host key, recorded in the lab's state (`--accept-new-host-keys`). */
  acceptNewHostKeys?: boolean;
}

export class VagrantProvider implements Provider {
  readonly id = 'vagrant' as const;
  /** Host-only (VirtualBox) and libvirt networks are the machine's: each copy needs a subnet of its own. */
  readonly copies = 'own-subnet' as const;
  readonly sideBySide = false;
  /** `vagrant ssh-config` gives each connection its proxy (inside the lab's libvirt namespace when it has one). */
  readonly asksProxyAfresh = true;

  /** Domains, volumes and networks a lab-owned libvirt (or the server's, with `--libvirt qemu+ssh://...`) still holds of a lab whose state is gone. */
  async sweepOrphans(lab: string, ctx: LabContext): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }> {
    return sweepLabLibvirt(this.options.libvirt, lab, ctx);
  }

  constructor(private readonly options: VagrantProviderOptions = {}) {}

  /** The guests' memory on this machine as the Vagrantfile asks for it (the local libvirt's fixed size under emulation; none on a server). */
  estimateMemoryMiB(plan: Plan, where: 'local' | 'server' | 'hypervisor' = this.where()): number {
    if (where === 'server') return 0;
    return plan.hosts.reduce((sum, h) => sum + (where === 'local' ? LOCAL_GUEST.memory : h.memory), 0);
  }

  /** What the lab's VMs were given here, as recorded: a guest's memory is taken whole by its hypervisor. */
  async memoryInUseMiB(_lab: string, ctx: LabContext): Promise<number | undefined> {
    const plan = ctx.store.readPlan();
    if (!plan) return undefined;
    return this.estimateMemoryMiB(plan, LocalLibvirt.recorded(ctx) ? 'local' : RemoteLibvirt.recorded(ctx) ? 'server' : 'hypervisor');
  }

  /** Where the VMs run: the lab's own libvirt, a server's, or this machine's hypervisor. */
  private where(): 'local' | 'server' | 'hypervisor' {
    const l = this.options.libvirt;
    return l === 'local' ? 'local' : l ? 'server' : 'hypervisor';
  }

  async unusableReason(): Promise<string | undefined> {
    if (!findProgram('vagrant')) return `vagrant is not installed (not found on PATH): run \`sudo ${setupScript()}\` or install it from vagrantup.com`;
    if (this.options.libvirt) {
      if (!vagrantLibvirtInstalled(homedir())) return `the vagrant-libvirt plugin is not installed: apt-get install --no-install-recommends vagrant-libvirt; or run ${setupScript()} --with-libvirt, which installs all the local libvirt needs`;
      if (this.options.libvirt === 'local') return localLibvirtUnusableReason();
      const missing = missingTools(SERVER_LIBVIRT_TOOLS);
      return missing && `a server's libvirt needs ${missing.names} here: ${missing.install}`;
    }
    if (this.options.hypervisor) return undefined;
    const found = detectHypervisor();
    return 'reason' in found ? found.reason : undefined;
  }

  private hypervisor(): string {
    if (this.options.libvirt) return 'libvirt';
    if (this.options.hypervisor) return this.options.hypervisor;
    const found = detectHypervisor();
    if ('reason' in found) throw new PrerequisiteError(`the vagrant provider cannot run here: ${found.reason}`, { hint: 'Install VirtualBox, or vagrant-libvirt with libvirtd, or use --provider netns.' });
    return found.hypervisor;
  }

  /** Runs `vagrant ARGS` in the lab's state folder; its output is streamed to logs/vagrant.log. */
  vagrant(args: readonly string[], ctx: LabContext, options: { onLine?: (line: string) => void } = {}): Promise<string> {
    return runVagrant(args, ctx, options);
  }

  /**
   * How to reach each of the plan's machines, from `vagrant ssh-config`; `firstUp` trusts the
   * host keys the new machines present (and records them), later connections check that record.
   */
  async endpoints(plan: Plan, ctx: LabContext, options: { firstUp?: boolean } = {}): Promise<SshHostSpec[]> {
    const text = await this.vagrant(SSH_CONFIG_ARGS, ctx);
    const hostKeys = vagrantHostKeys(ctx.store.dir, options.firstUp ?? false);
    let parsed: Map<string, SshAddress>;
    try {
      parsed = sshConfigEndpoints(text, { home: homedir() });
    } catch (e) {
      throw new CommandFailedError({ command: `vagrant ssh-config (in ${ctx.store.dir})`, exitCode: 0, output: `${text}\n${(e as Error).message}` });
    }
    return plan.hosts.map((h) => {
      const ssh = parsed.get(h.name);
      if (!ssh) {
        throw new CommandFailedError({ command: `vagrant ssh-config (in ${ctx.store.dir})`, exitCode: 0, output: `${text}\nno Host block for machine ${h.name}` });
      }
      const local = LocalLibvirt.recorded(ctx);
      const endpoint: SshEndpoint = { ...(local ? proxiedEndpoint(local.namespace, ssh) : ssh), hostKeys };
      return { name: h.name, address: h.address, role: h.role, ssh: endpoint };
    });
  }

  /** Each machine's state, from `vagrant status --machine-readable`. */
  async machineStates(ctx: LabContext): Promise<Map<string, MachineState>> {
    return machineStates(await this.vagrant(STATUS_ARGS, ctx));
  }

  /** `vagrant status --machine-readable`, folded into `overlab status` ("running", "poweroff", "not_created" ...). */
  async hostStates(plan: Plan, ctx: LabContext): Promise<Record<string, string>> {
    const states = await this.machineStates(ctx);
    return Object.fromEntries(plan.hosts.map((h) => [h.name, states.get(h.name)?.state ?? 'unknown']));
  }

  async createHosts(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    const hypervisor = this.hypervisor();
    const dir = ctx.store.dir;
    const box = this.options.libvirt ? await localBox({ forServer: this.options.libvirt !== 'local' }) : undefined;
    ctx.store.update((s) => {
      s.resources = { ...s.resources, kind: 'vagrant', vagrantDir: dir, hypervisor };
      for (const h of plan.hosts) s.hosts[h.name] = { name: h.name, address: h.address, role: h.role, resources: { machine: h.name } };
    });
    mkdirSync(dir, { recursive: true });
    if (box !== undefined) {
      // Vagrant knows no machine of the lab here yet: whatever libvirt holds under its names is left over.
      const fresh = !existsSync(join(dir, '.vagrant'));
      // The lab's own login key, handed to the box on its kernel command line: no key insertion over SSH.
      const privateKeyPath = guestKeyPath(dir);
      mkdirSync(dirname(privateKeyPath), { recursive: true, mode: 0o700 });
      const firstBoot = { publicKey: await ensureKeyPair(privateKeyPath, `overlab-${plan.lab}`, ctx.signal), privateKeyPath, guest: 'debian' as const };
      const settings = await prepareLabLibvirt(this.options.libvirt!, plan, ctx, {
        box,
        fresh,
        firstBoot,
        acceptNewHostKeys: this.options.acceptNewHostKeys ?? false,
        ...(this.options.libvirtDriver ? { driver: this.options.libvirtDriver } : {}),
      });
      writeFileSync(join(dir, 'Vagrantfile'), renderVagrantfile(localLibvirtPlan(plan, box, settings.driver === 'qemu'), { libvirt: settings }));
    } else {
      writeFileSync(join(dir, 'Vagrantfile'), renderVagrantfile(plan));
    }
    const names = new Set(plan.hosts.map((h) => h.name));
    const lines: TimedLine[] = [];
    // Per-machine progress: the `==> NAME: step` lines of every vagrant up.
    const onLine = (line: string) => {
      lines.push({ at: Date.now(), line });
      const m = /^==> ([^:\s]+): (.*)$/.exec(line.trim());
      // (Not the domain's settings, one ` -- ` line each.)
      if (m && names.has(m[1]!) && !m[2]!.startsWith(' -- ')) ctx.events.emit({ type: 'info', host: m[1]!, message: `${m[1]}: ${m[2]}` });
    };
    const calls = vagrantUpCalls(hypervisor, [...names]);
    // One vagrant up failing stops the others (a signal stops them all): none is left running.
    const stop = new AbortController();
    const upCtx: LabContext = { ...ctx, signal: AbortSignal.any([ctx.signal, stop.signal]) };
    let booted: () => void = () => {};
    const firstBoots = new Promise<void>((resolve) => (booted = resolve));
    const first = this.vagrant(calls.first, upCtx, { onLine: (line) => (onLine(line), BOOTING_LINE.test(line.trim()) && booted()) });
    // The others once the first boots (or is up, where no boot line came); none when it failed.
    const rest = Promise.race([firstBoots, first]).then(() => Promise.all(calls.rest.map((args) => this.vagrant(args, upCtx, { onLine }))));
    let cause: unknown;
    const settle = (p: Promise<unknown>) =>
      p.catch((e: unknown) => {
        cause ??= e;
        stop.abort(e);
      });
    await Promise.all([settle(first), settle(rest)]);
    if (cause !== undefined) throw cause;
    // Where vagrant up spent its time, per machine (status shows it beside overlab's own steps).
    const phases = vagrantPhases(lines, [...names], Date.now());
    ctx.store.update((s) => {
      for (const [host, list] of Object.entries(phases)) for (const p of list) (s.timings ??= []).push({ step: 'vagrant up', host, phase: p.phase, ms: p.ms });
    });
    // New machines: whatever an earlier lab of this name recorded is not theirs.
    rmSync(labKnownHosts(dir), { force: true });
    const specs = await this.endpoints(plan, ctx, { firstUp: true });
    recordSshHosts(ctx, specs, {});
    return connectSshHosts(specs, ctx, this.connectOptions(plan, ctx));
  }

  async connect(plan: Plan, ctx: LabContext): Promise<HostAccess[]> {
    if (!existsSync(join(ctx.store.dir, 'Vagrantfile'))) {
      throw new LabStateError(`lab ${plan.lab} has no Vagrantfile in ${ctx.store.dir}`, { hint: `Run \`overlab down --lab ${plan.lab}\`, then \`overlab up --lab ${plan.lab}\`.` });
    }
    const states = await this.machineStates(ctx);
    for (const h of plan.hosts) {
      const state = states.get(h.name)?.state ?? 'missing';
      if (state !== 'running') {
        throw new HostUnreachableError(`host ${h.name} of lab ${plan.lab} is not running (vagrant status: ${state})`, {
          hint: `Run \`overlab down --lab ${plan.lab}\`, then \`overlab up --lab ${plan.lab}\`.`,
        });
      }
    }
    return connectSshHosts(await this.endpoints(plan, ctx), ctx, this.connectOptions(plan, ctx));
  }

  /** The connection deadline, and on the lab's own libvirt, folders (an engine tree) as disks of the VMs instead of over SSH. */
  private connectOptions(plan: Plan, ctx: LabContext): Parameters<typeof connectSshHosts>[2] {
    const local = LocalLibvirt.recorded(ctx) ? new LocalLibvirt(plan.lab, ctx) : undefined;
    const images: FolderImages = new Map();
    return {
      ...(this.options.connectDeadlineMs === undefined ? {} : { deadlineMs: this.options.connectDeadlineMs }),
      ...(local ? { deliverFolder: (machine: string) => folderDisks(local, machine, images) } : {}),
    };
  }

  provision(plan: Plan, host: HostAccess, ctx: LabContext): Promise<string | void> {
    return provisionHost(guestPlan(plan, ctx), host, ctx);
  }

  sshArgv(host: HostAccess, _ctx: LabContext, command: string[]): string[] {
    return sshCommandArgv(host.ssh!, command);
  }

  engineFlagsFor(): string[] {
    return [];
  }

  describe(plan: Plan): HostCommands[] {
    const local = this.options.libvirt === 'local';
    const found = this.options.libvirt ? { hypervisor: 'libvirt' } : this.options.hypervisor ? { hypervisor: this.options.hypervisor } : detectHypervisor();
    const hypervisor = 'hypervisor' in found ? found.hypervisor : 'virtualbox';
    const ns = libvirtNamespace(plan.lab);
    const run = (argv: string[]) => shellJoin(local ? inNamespace(ns, argv) : argv);
    return [
      {
        host: '(vagrant)',
        commands: [
          ...(local
            ? [
                `# the lab's own libvirt: namespace ${ns}, virtlogd and libvirtd in it (stopped by pid on down)`,
                shellJoin(['ip', 'netns', 'add', ns]),
                shellJoin(daemonArgv(ns, 'virtlogd', '')),
                shellJoin(daemonArgv(ns, 'libvirtd', `.overlab/${plan.lab}/qemu.conf`)),
              ]
            : []),
          ...(this.options.libvirt && !local ? describeServerUpload(plan.lab, parseRemoteLibvirtUri(this.options.libvirt)) : []),
          `# in .overlab/${plan.lab}/, with the Vagrantfile of \`overlab render\``,
          ...upCommands(vagrantUpCalls(hypervisor, plan.hosts.map((h) => h.name)), run),
          run(['vagrant', ...SSH_CONFIG_ARGS]),
        ],
      },
      ...plan.hosts.map((h) => {
        const ssh: SshEndpoint = { host: 'HOSTNAME', port: 22, username: 'vagrant', privateKeyPath: 'IDENTITYFILE', hostKeys: vagrantHostKeys(labStateDir(plan.lab), true) };
        return { host: h.name, commands: describeSshHost(this.options.libvirt ? localLibvirtPlan(plan, '(local box)') : plan, { name: h.name, address: h.address, role: h.role, ssh }, sshCommandArgv(ssh, ['true'])) };
      }),
    ];
  }

  /** `vagrant destroy -f` where the lab's Vagrantfile is; the machines go, and everything on them. */
  async destroy(lab: string, ctx: LabContext, _options: { force: boolean }): Promise<DestroyReport> {
    const report = emptyDestroyReport();
    const dir = ctx.store.dir;
    if (!(await destroyOnLabLibvirt(lab, ctx, () => this.vagrant(DESTROY_ARGS, ctx), report))) {
      if (!existsSync(join(dir, 'Vagrantfile'))) return report;
      await this.vagrant(DESTROY_ARGS, ctx);
    }
    // The machines destroyed, as far as the lab state knew them.
    report.vms.push(...Object.keys(ctx.store.read()?.hosts ?? {}));
    const knownHosts = labKnownHosts(dir);
    if (existsSync(knownHosts)) {
      rmSync(knownHosts, { force: true });
      report.paths.push(knownHosts);
    }
    const dotVagrant = join(dir, '.vagrant');
    if (existsSync(dotVagrant)) {
      rmSync(dotVagrant, { recursive: true, force: true });
      report.paths.push(dotVagrant);
    }
    return report;
  }
}
