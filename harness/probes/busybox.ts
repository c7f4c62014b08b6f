// Reading what busybox prints in the test image (nslookup, ping, /proc/net/snmp): pure parsers.

/** The addresses in a busybox nslookup answer (the server's own "Address:" line excluded). */
export function nslookupAnswers(stdout: string): string[] {
  const at = stdout.search(/^Name:/m);
  if (at < 0) return [];
  return [...stdout.slice(at).matchAll(/^Address(?:\s+\d+)?:\s*([0-9a-fA-F.:]+)\s*$/gm)].map((m) => m[1]!);
}

/** The address that answered a busybox ping ("64 bytes from 10.0.4.3: seq=0 ..."), if any. */
export function pingReplyFrom(stdout: string): string | undefined {
  return /bytes from ([0-9a-fA-F.:]+?):? /.exec(stdout)?.[1];
}

/** The `Ip:` counters of /proc/net/snmp (per network namespace). */
export function ipCounters(snmp: string): Record<string, number> {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Ip:'));
  const [names, values] = [lines[0]?.split(/\s+/).slice(1) ?? [], lines[1]?.split(/\s+/).slice(1) ?? []];
  return Object.fromEntries(names.map((n, i) => [n, Number(values[i])]));
}
