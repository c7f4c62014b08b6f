// What a spec needs of a host's kernel and tools, and whether a host has it: pure. The facts are
// read on each host by harness/probes/capabilities.ts; here they are parsed and judged, so a
// spec that a host cannot run is reported as not applicable with the reason, never faked.
import type { Fact, Plan } from './types.ts';
import { setupScript } from '../system/package-root.ts';

/** What some specs need beyond VXLAN overlays. */
export type Capability = 'ip_vs' | 'esp' | 'netem' | 'capture';

/** Kernel features, by the config symbol a kernel is built with and the module that provides it. */
export const KERNEL_FEATURES = {
  ip_vs: { name: 'IP_VS', config: 'CONFIG_IP_VS', module: 'ip_vs', why: 'service VIPs and the routing mesh' },
  esp: { name: 'INET_ESP', config: 'CONFIG_INET_ESP', module: 'esp4', why: 'encrypted overlays (IPsec ESP)' },
  netem: { name: 'NET_SCH_NETEM', config: 'CONFIG_NET_SCH_NETEM', module: 'sch_netem', why: 'delay and loss on links' },
} as const;
export type KernelFeature = keyof typeof KERNEL_FEATURES;

/** What one host can run: each kernel feature (undefined when nothing on the host tells), tools, engine. */
export interface HostCapabilities {
  host: string;
  kernel: Record<KernelFeature, { present: boolean | undefined; evidence: string }>;
  /** tcpdump on the host, for captures on the underlay. */
  capture: boolean;
  engine?: { version: string; swarm: string };
}

/**
 * Reads a host's kernel facts: its config text (/proc/config.gz or /boot/config-RELEASE; empty
 * when neither is readable), loaded modules (/proc/modules and /sys/module names) and module
 * files present for the running kernel. Built in (=y) or loaded: present. A module (=m): present
 * when its file is there and modules can be loaded. Not set: absent. Nothing known: undefined.
 */
export function judgeKernel(input: { config: string; configSource: string; loaded: string[]; moduleFiles: string[]; modulesDisabled: boolean }): HostCapabilities['kernel'] {
  const out = {} as HostCapabilities['kernel'];
  for (const [key, f] of Object.entries(KERNEL_FEATURES) as [KernelFeature, (typeof KERNEL_FEATURES)[KernelFeature]][]) {
    const value = new RegExp(`^${f.config}=(\\w+)$`, 'm').exec(input.config)?.[1];
    const notSet = new RegExp(`^# ${f.config} is not set$`, 'm').test(input.config);
    if (input.loaded.includes(f.module)) out[key] = { present: true, evidence: `module ${f.module} is loaded` };
    else if (value === 'y') out[key] = { present: true, evidence: `${f.config}=y in ${input.configSource}` };
    else if (value === 'm') {
      const file = input.moduleFiles.some((m) => m === f.module);
      out[key] = file && !input.modulesDisabled
        ? { present: true, evidence: `${f.config}=m in ${input.configSource}; module ${f.module} can be loaded` }
        : { present: false, evidence: `${f.config}=m in ${input.configSource}, but module ${f.module} ${file ? 'cannot be loaded (modules disabled)' : 'is not installed'}` };
    } else if (notSet || (input.config && value === undefined)) out[key] = { present: false, evidence: `${f.config} is not set in ${input.configSource}` };
    else out[key] = { present: undefined, evidence: 'no kernel config readable and the module is not loaded' };
  }
  return out;
}

/**
 * What a fact needs of the docker hosts. Traffic between hosts on an encrypted overlay needs
 * ESP: without it the engines program no IPsec state and the packets go nowhere.
 */
export function factNeeds(f: Fact, plan: Pick<Plan, 'networks' | 'containers'>): Capability[] {
  const encrypted = (n: string) => plan.networks.some((x) => x.name === n && x.encrypted);
  const host = (c: string) => plan.containers.find((x) => x.name === c)?.host;
  switch (f.kind) {
    case 'reach':
      return encrypted(f.network) && host(f.from) !== host(f.to) ? ['esp'] : [];
    case 'service-reach':
      return encrypted(f.network) ? ['esp'] : [];
    case 'service-vip-spread':
      return encrypted(f.network) ? ['ip_vs', 'esp'] : ['ip_vs'];
    case 'service-published':
      return f.mode === 'ingress' ? ['ip_vs'] : [];
    case 'overlay-wire':
      return f.encrypted ? ['esp', 'capture'] : ['capture'];
    default:
      return [];
  }
}

/** The reason a capability is missing on some hosts, as a report shows it: "kernel has no IP_VS (CONFIG_IP_VS) on h1, h2". */
export function missingReason(cap: Capability, hosts: string[]): string {
  const on = hosts.length ? ` on ${hosts.join(', ')}` : '';
  if (cap === 'capture') return `no tcpdump to capture the underlay${on} (${setupScript()} installs it)`;
  const f = KERNEL_FEATURES[cap];
  return `kernel has no ${f.name} (${f.config})${on}: ${f.why}`;
}

/**
 * Why a fact cannot run on these hosts, or undefined when it can. Only a capability known to be
 * missing makes a fact not applicable; one nothing could tell about runs (and fails for real if absent).
 */
export function notApplicable(f: Fact, plan: Pick<Plan, 'networks' | 'containers'>, caps: HostCapabilities[]): string | undefined {
  const reasons: string[] = [];
  for (const cap of factNeeds(f, plan)) {
    const lacking = caps.filter((c) => (cap === 'capture' ? !c.capture : c.kernel[cap].present === false)).map((c) => c.host);
    if (lacking.length) reasons.push(missingReason(cap, lacking));
  }
  return reasons.length ? reasons.join('; ') : undefined;
}

/** What a lab needs of its hosts' kernels for every spec to run, with what asks for it. */
export function labNeeds(plan: Plan): { capability: KernelFeature; why: string }[] {
  const out: { capability: KernelFeature; why: string }[] = [];
  const vip = plan.services.filter((v) => v.endpointMode === 'vip' || v.publish.some((p) => p.mode === 'ingress'));
  if (vip.length) out.push({ capability: 'ip_vs', why: `service ${vip.map((v) => v.name).join(', ')} (VIP or routing mesh)` });
  const encrypted = plan.networks.filter((n) => n.encrypted);
  if (encrypted.length) out.push({ capability: 'esp', why: `encrypted network ${encrypted.map((n) => n.name).join(', ')}` });
  return out;
}
