// Reading a host's capabilities through its runner (namespaces on this machine, or SSH): the
// kernel's config and modules, whether tcpdump is there, and the engine's version and swarm
// state. harness/lab/capabilities.ts judges what was read.
import type Docker from 'dockerode';
import type { HostRunner } from '../host.ts';
import { judgeKernel, KERNEL_FEATURES, type HostCapabilities } from '../lab/capabilities.ts';

const MODULES = Object.values(KERNEL_FEATURES).map((f) => f.module);

/**
 * One shell round trip: sections separated by marker lines. Only the config lines of the
 * features asked about are printed (a config is ~10k lines; over SSH each byte counts).
 */
export const CAPABILITY_SCRIPT = [
  'r=$(uname -r)',
  `pat='${Object.values(KERNEL_FEATURES).map((f) => `${f.config}[= ]`).join('|')}'`,
  'echo "@@source"',
  'if [ -r /proc/config.gz ]; then echo /proc/config.gz; (zcat /proc/config.gz 2>/dev/null || gzip -dc /proc/config.gz) | grep -E "$pat";',
  'elif [ -r "/boot/config-$r" ]; then echo "/boot/config-$r"; grep -E "$pat" "/boot/config-$r"; fi',
  'echo "@@loaded"',
  `for m in ${MODULES.join(' ')}; do [ -d "/sys/module/$m" ] && echo "$m"; grep -q "^$m " /proc/modules 2>/dev/null && echo "$m"; done`,
  'echo "@@files"',
  `[ -d "/lib/modules/$r" ] && find "/lib/modules/$r" \\( ${MODULES.map((m) => `-name '${m}.ko*'`).join(' -o ')} \\) 2>/dev/null | sed 's|.*/||; s|\\.ko.*||'`,
  'echo "@@disabled"',
  'cat /proc/sys/kernel/modules_disabled 2>/dev/null',
  'echo "@@capture"',
  'command -v tcpdump || ls /usr/sbin/tcpdump /usr/bin/tcpdump 2>/dev/null',
  'echo "@@end"',
].join('\n');

/** Parses the script's output into a host's capabilities (the engine part is added by the caller). */
export function parseCapabilities(host: string, stdout: string): HostCapabilities {
  const sections = new Map<string, string[]>();
  let current = '';
  for (const line of stdout.split('\n')) {
    const m = /^@@(\w+)$/.exec(line.trim());
    if (m) sections.set((current = m[1]!), []);
    else if (current && line.trim()) sections.get(current)!.push(line.trim());
  }
  const [configSource = '', ...config] = sections.get('source') ?? [];
  return {
    host,
    kernel: judgeKernel({
      config: config.join('\n'),
      configSource,
      loaded: sections.get('loaded') ?? [],
      moduleFiles: sections.get('files') ?? [],
      modulesDisabled: (sections.get('disabled') ?? [])[0] === '1',
    }),
    capture: (sections.get('capture') ?? []).length > 0,
  };
}

/** Reads one host's kernel and tools, and its engine when one is given. */
export async function probeCapabilities(host: string, runner: HostRunner, engine?: Docker): Promise<HostCapabilities> {
  const r = await runner.exec(['sh', '-c', CAPABILITY_SCRIPT], { timeoutMs: 30_000 });
  const caps = parseCapabilities(host, r.stdout);
  if (engine) {
    try {
      const info = (await engine.info()) as { ServerVersion?: string; Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } };
      caps.engine = { version: info.ServerVersion ?? 'unknown', swarm: `${info.Swarm?.LocalNodeState ?? 'unknown'}${info.Swarm?.ControlAvailable ? ' (manager)' : ''}` };
    } catch (e) {
      caps.engine = { version: `unreachable (${(e as Error).message})`, swarm: 'unknown' };
    }
  }
  return caps;
}

/** One line per host for the report's properties: "IP_VS no (CONFIG_IP_VS is not set ...), ...". */
export function describeCapabilities(c: HostCapabilities): string {
  const kernel = (Object.keys(KERNEL_FEATURES) as (keyof typeof KERNEL_FEATURES)[]).map((k) => {
    const f = c.kernel[k];
    return `${KERNEL_FEATURES[k].name} ${f.present === undefined ? 'unknown' : f.present ? 'yes' : 'no'}`;
  });
  const engine = c.engine ? `; engine ${c.engine.version}, swarm ${c.engine.swarm}` : '';
  return `${kernel.join(', ')}, tcpdump ${c.capture ? 'yes' : 'no'}${engine}`;
}
