// Vagrant's `--machine-readable` output: one line per event, `timestamp,target,type,data...`,
// with commas inside data written as %!(VAGRANT_COMMA) and newlines as a literal \n. Pure.

export interface MachineReadableLine {
  timestamp: number;
  /** The machine the line is about ("" for the environment). */
  target: string;
  type: string;
  data: string[];
}

function unescape(field: string): string {
  return field.replace(/%!\(VAGRANT_COMMA\)/g, ',').replace(/\\n/g, '\n').replace(/\\r/g, '\r');
}

/** Every machine-readable line of the text; other lines (warnings, plugin noise) are skipped. */
export function parseMachineReadable(text: string): MachineReadableLine[] {
  const out: MachineReadableLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\d+),([^,]*),([^,]+)(?:,(.*))?$/.exec(line);
    if (!m) continue;
    out.push({ timestamp: Number(m[1]), target: m[2]!, type: m[3]!, data: m[4] === undefined ? [] : m[4].split(',').map(unescape) });
  }
  return out;
}

export interface MachineState {
  /** Vagrant's state id: running, poweroff, not_created, shutoff, saved, ... */
  state: string;
  provider: string | undefined;
}

/** Per machine, its state and provider, from `vagrant status --machine-readable`. */
export function machineStates(text: string): Map<string, MachineState> {
  const out = new Map<string, MachineState>();
  for (const l of parseMachineReadable(text)) {
    if (!l.target) continue;
    const m = out.get(l.target) ?? { state: 'unknown', provider: undefined };
    if (l.type === 'state') m.state = l.data[0] ?? 'unknown';
    else if (l.type === 'provider-name' || (l.type === 'metadata' && l.data[0] === 'provider')) m.provider = l.type === 'metadata' ? l.data[1] : l.data[0];
    else continue;
    out.set(l.target, m);
  }
  return out;
}
