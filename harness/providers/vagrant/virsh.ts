// virsh against a libvirt (the lab's local one, or a server's over SSH), and what the lab's
// modules need of a libvirt connection.
import { execa } from 'execa';
import { CommandFailedError } from '../../errors.ts';

export interface VirshResult {
  exitCode: number;
  stdout: string;
  all: string;
}

/** `virsh -c URI ARGS`; a failure throws unless `reject: false`. */
export async function virsh(uri: string, args: readonly string[], options: { reject?: boolean; signal?: AbortSignal } = {}): Promise<VirshResult> {
  const r = await execa('virsh', ['-c', uri, ...args], { reject: false, all: true, stdin: 'ignore', ...(options.signal ? { cancelSignal: options.signal } : {}) });
  const out = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), all: String(r.all ?? '') };
  if (options.reject !== false && out.exitCode !== 0) {
    throw new CommandFailedError({ command: `virsh -c ${uri} ${args.join(' ')}`, exitCode: out.exitCode, output: out.all });
  }
  return out;
}

/** A libvirt holding a lab's machines: its objects carry the lab's prefix. */
export interface LibvirtConnection {
  readonly prefix: string;
  virsh(args: readonly string[], options?: { reject?: boolean }): Promise<VirshResult>;
  /** The box the lab uses and its volumes in the pool before the lab: any other volume of the box is the lab's upload. */
  boxRecord(): { box: string; boxVolumesBefore?: string[] } | undefined;
}
