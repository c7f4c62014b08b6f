// The providers by id, the options that shape one for an `up`, and `provider: auto` resolution.
// Each provider's module is loaded when the provider is used: a netns lab never loads ssh2's or
// Vagrant's code, and commands that need no provider start faster.
import { currentUid, PermissionError, PrerequisiteError, UsageError } from '../errors.ts';
import type { ProviderId, ProviderName } from '../lab/types.ts';
import type { LabContext } from '../state/lab-context.ts';
import type { Provider } from './provider.ts';
import type { LibvirtMode } from './vagrant/local-libvirt.ts';
import type { LibvirtDriver } from './vagrant/remote-libvirt-settings.ts';
import { parseRemoteLibvirtUri } from './vagrant/remote-libvirt-settings.ts';
import { setupScript } from '../system/package-root.ts';

/** Choices that shape a provider for one `up`; a lab that is up records what it got in its state. */
export interface ProviderOptions {
  /**
   * vagrant: `local` brings up a libvirtd of the lab's own in a namespace (`--libvirt local`); a
   * `qemu+ssh://` URI puts the VMs on that server's libvirt.
   */
  libvirt?: LibvirtMode;
  /** vagrant on a server's libvirt: `qemu` (emulation) even where the server has KVM (OVERLAB_LIBVIRT_DRIVER). */
  libvirtDriver?: LibvirtDriver;
  /** ssh: trust machines no known_hosts lists yet, recording their keys in the lab's known_hosts (`--accept-new-host-keys`). */
  acceptNewHostKeys?: boolean;
}

/** `--libvirt` (or OVERLAB_LIBVIRT) checked: `local`, a server's qemu+ssh:// URI, or none. */
export function parseLibvirtMode(value: string | undefined): LibvirtMode | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'local') return value;
  parseRemoteLibvirtUri(value);
  return value as LibvirtMode;
}

/** OVERLAB_LIBVIRT_DRIVER checked: `kvm`, `qemu`, or none (then KVM where the server has it). */
export function parseLibvirtDriver(value: string | undefined): LibvirtDriver | undefined {
  if (value === undefined || value === '') return undefined;
  if (value !== 'kvm' && value !== 'qemu') throw new UsageError(`OVERLAB_LIBVIRT_DRIVER must be kvm or qemu; got ${JSON.stringify(value)}`);
  return value;
}

/** The provider each provider option belongs to: a lab-owned libvirt (`--libvirt`) is the vagrant provider's. */
export const OPTION_PROVIDERS: { readonly [K in keyof ProviderOptions]?: ProviderId } = { libvirt: 'vagrant', libvirtDriver: 'vagrant' };

/**
 * The provider an `up` asks for, given its options: an option that belongs to one provider
 * (OPTION_PROVIDERS) implies that provider, and refuses another one requested; otherwise the
 * one requested, if any.
 */
export function providerImpliedBy(options: ProviderOptions, requested?: string): string | undefined {
  for (const [option, owner] of Object.entries(OPTION_PROVIDERS) as [keyof ProviderOptions, ProviderId][]) {
    const value = options[option];
    if (value === undefined) continue;
    if (requested && requested !== owner) throw new UsageError(`--${option} ${String(value)} needs --provider ${owner}; got --provider ${requested}`);
    return owner;
  }
  return requested;
}

/**
 * The provider that runs labs on this machine itself, with nothing but root: what `up --dry-run`
 * shows when `auto` finds no provider usable here, and the one `down` asks to remove a lab
 * whose provider nothing records (it finds what it made here by the lab's name prefix).
 */
export const LOCAL_PROVIDER: ProviderId = 'netns';

const FACTORIES: Record<ProviderId, (options: ProviderOptions) => Promise<Provider>> = {
  netns: async () => new (await import('./netns/netns-provider.ts')).NetnsProvider(),
  vagrant: async (options) =>
    new (await import('./vagrant/vagrant-provider.ts')).VagrantProvider({
      ...(options.libvirt ? { libvirt: options.libvirt } : {}),
      ...(options.libvirtDriver ? { libvirtDriver: options.libvirtDriver } : {}),
      ...(options.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
    }),
  ssh: async (options) => new (await import('./ssh/ssh-provider.ts')).SshProvider(options.acceptNewHostKeys ? { acceptNewHostKeys: true } : {}),
};

export const PROVIDER_IDS: readonly ProviderId[] = ['netns', 'vagrant', 'ssh'];

export async function providerById(id: string, options: ProviderOptions = {}): Promise<Provider> {
  if (!(PROVIDER_IDS as readonly string[]).includes(id)) throw new UsageError(`unknown provider "${id}" (known: auto, ${PROVIDER_IDS.join(', ')})`);
  return FACTORIES[id as ProviderId](options);
}

/** What every provider finds of a lab whose state is gone, by its name, removed (see Provider.sweepOrphans). */
export async function sweepOrphans(lab: string, ctx: LabContext, options: ProviderOptions = {}): Promise<{ processes: string[]; namespaces: string[]; removed: string[] }> {
  const all = { processes: [] as string[], namespaces: [] as string[], removed: [] as string[] };
  for (const id of PROVIDER_IDS) {
    const p = await providerById(id, options);
    if (!p.sweepOrphans) continue;
    const swept = await p.sweepOrphans(lab, ctx);
    all.processes.push(...swept.processes);
    all.namespaces.push(...swept.namespaces);
    all.removed.push(...swept.removed);
  }
  return all;
}

/** Vagrant on PATH with a usable hypervisor: VirtualBox, or vagrant-libvirt with a running libvirtd. */
async function hypervisorUsable(): Promise<boolean> {
  return (await (await providerById('vagrant')).unusableReason()) === undefined;
}

/** Throws the one-line "needs root" error when a provider that needs root runs as another user. */
export function requireRoot(providerId: string, what: string, uid = currentUid()): void {
  if (providerId !== 'netns' || process.platform !== 'linux') return;
  if (uid === undefined || uid === 0) return;
  throw new PermissionError(`${what} needs root: the netns provider makes namespaces, veths and engines (you are uid ${uid})`, {
    root: true,
    hint: 'Run it as root, or with sudo (the overlab command offers sudo itself when it is installed).',
  });
}

/** `auto`: vagrant when it and a hypervisor are usable, else netns on Linux as root. */
export async function resolveProvider(requested: ProviderName, options: ProviderOptions = {}): Promise<Provider> {
  if (requested !== 'auto') {
    requireRoot(requested, `--provider ${requested}`);
    const p = await providerById(requested, options);
    const why = await p.unusableReason();
    if (why) throw new PrerequisiteError(`the ${p.id} provider cannot run here: ${why}`);
    return p;
  }
  if (await hypervisorUsable()) return providerById('vagrant', options);
  const netns = await providerById('netns', options);
  requireRoot('netns', 'this lab (no usable hypervisor for vagrant, so provider auto means netns)');
  const why = await netns.unusableReason();
  if (!why) return netns;
  throw new PrerequisiteError(`no provider can run here: Vagrant with a hypervisor is not installed, and netns cannot run (${why})`, {
    hint: `Install VirtualBox and Vagrant, or run as root on Linux after \`${setupScript()}\`.`,
  });
}
