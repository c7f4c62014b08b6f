// The faults a lab has on purpose (`overlab fault ...`), as its state records them: `status`
// shows them, `heal` and `down` undo exactly these. Recorded before they are applied, so an
// interrupted fault verb still leaves a record that `heal` can clear.

/** A fault in place on a lab; `since` is when it was applied (ISO time). */
export type FaultRecord =
  | {
      kind: 'partition';
      host: string;
      /** Cut off from this host only; absent: from every other host. */
      from?: { host: string; address: string };
      /** Only this TCP port is cut (the swarm control port, when a spec makes a manager unreachable). */
      tcpPort?: number;
      since: string;
    }
  | { kind: 'kv-down'; host: string; since: string }
  | { kind: 'engine-killed'; host: string; since: string }
  /** Stopped cleanly and not started again (a restart spec whose second half is left out on purpose). */
  | { kind: 'engine-stopped'; host: string; since: string }
  | { kind: 'latency'; host: string; ms: number; loss?: number; since: string }
  | { kind: 'rate'; host: string; mbit: number; since: string };

export type FaultKind = FaultRecord['kind'];

/** One line for `status` and the CLI: "partition of d1 (from d0)". */
export function describeFault(f: FaultRecord): string {
  switch (f.kind) {
    case 'partition':
      return `partition of ${f.host}${f.from ? ` from ${f.from.host}` : ' from every host'}${f.tcpPort ? ` (tcp port ${f.tcpPort} only)` : ''}`;
    case 'kv-down':
      return `KV store on ${f.host} stopped`;
    case 'engine-killed':
      return `engine on ${f.host} killed (SIGKILL)`;
    case 'engine-stopped':
      return `engine on ${f.host} stopped`;
    case 'latency':
      return `${f.ms} ms of delay${f.loss ? ` and ${f.loss}% loss` : ''} on ${f.host}'s underlay`;
    case 'rate':
      return `${f.host}'s underlay limited to ${f.mbit} Mbit/s`;
  }
}
