// Where `vagrant up` spends its time, per machine: its `==> NAME: ...` lines (and the indented
// `    NAME: ...` ones) mark the start of each phase; a phase lasts until the machine's next
// mark, the last one until vagrant exits. Pure: the lines come with the times they arrived.

/** The phases of a machine's `vagrant up`, in the order Vagrant goes through them. */
export const VAGRANT_PHASES = [
  { phase: 'box import', pattern: /^(Uploading base box image as volume|Box '.*' could not be found|Adding box|Importing base box)/ },
  { phase: 'disk', pattern: /^Creating image \(snapshot of base box volume\)/ },
  { phase: 'define', pattern: /^(Creating domain with the following settings|Creating shared folders metadata)/ },
  { phase: 'boot until the DHCP lease', pattern: /^(Starting domain\.|Booting VM\.\.\.|Waiting for domain to get an IP address)/ },
  { phase: 'boot until SSH answers', pattern: /^Waiting for machine to boot/ },
  { phase: 'SSH key', pattern: /^(Vagrant insecure key detected|Inserting generated public key)/ },
  { phase: 'ready', pattern: /^Machine booted and ready!/ },
  { phase: 'hostname', pattern: /^Setting hostname/ },
  { phase: 'network', pattern: /^Configuring and enabling network interfaces/ },
  { phase: 'folders', pattern: /^(Rsyncing folder|Installing rsync|Mounting shared folders|Installing NFS client)/ },
] as const;

export type VagrantPhase = (typeof VAGRANT_PHASES)[number]['phase'];

/** A line of vagrant's output and when it arrived (ms). */
export interface TimedLine {
  at: number;
  line: string;
}

/** The phase a line of a machine starts, with the machine's name, or undefined. */
export function phaseMark(line: string, machines: ReadonlySet<string>): { machine: string; phase: VagrantPhase } | undefined {
  const m = /^(?:==>)?\s*([^:\s]+): (.*)$/.exec(line.trim());
  if (!m || !machines.has(m[1]!)) return undefined;
  const found = VAGRANT_PHASES.find((p) => p.pattern.test(m[2]!.trim()));
  return found && { machine: m[1]!, phase: found.phase };
}

/**
 * Each machine's phases with their durations, in order: a phase from its first mark to the
 * machine's next different phase (or `endAt`). A phase marked twice in a row is one phase.
 */
export function vagrantPhases(lines: readonly TimedLine[], machines: readonly string[], endAt: number): Record<string, { phase: VagrantPhase; ms: number }[]> {
  const names = new Set(machines);
  const marks = new Map<string, { phase: VagrantPhase; at: number }[]>(machines.map((m) => [m, []]));
  for (const { at, line } of lines) {
    const mark = phaseMark(line, names);
    if (!mark) continue;
    const list = marks.get(mark.machine)!;
    if (list.at(-1)?.phase !== mark.phase) list.push({ phase: mark.phase, at });
  }
  const out: Record<string, { phase: VagrantPhase; ms: number }[]> = {};
  for (const [machine, list] of marks) {
    out[machine] = list.map((m, i) => ({ phase: m.phase, ms: Math.max(0, (list[i + 1]?.at ?? endAt) - m.at) }));
  }
  return out;
}
