// The KV store's packages on the kv host, for `up` to run the store as a transient unit (the
// plan's command line, through the host's service manager): Consul from HashiCorp's apt
// repository, etcd from the distribution's etcd-server, ZooKeeper from the distribution's
// zookeeper and a Java runtime; busybox for the harness's probes. The lab's candidates are
// tried in order, so a declared kv.fallback is installed when the preferred store cannot be;
// kv/run.ts then runs the first one the host has.
import { basename } from 'node:path';
import { ZOOKEEPER_JAR } from '../kv/zookeeper.ts';
import type { KvCandidate, Plan } from '../lab/types.ts';
import { shellQuote } from '../quote.ts';

// The generated lines reach these paths through the variables of sh/common.sh ($usr_bin,
// $java_share), which the unit tests point at a fake root.

/** The bash function kv_TYPE that installs one candidate, unless it is installed. */
function kvFunction(address: string, c: KvCandidate): string {
  const body: string[] = [`require_address ${shellQuote(address)}`, 'ensure_busybox'];
  switch (c.type) {
    case 'consul':
      body.push('if [ ! -x "$usr_bin/consul" ]; then', '  consul_apt_repo', '  apt_install consul', 'fi');
      break;
    case 'etcd':
      body.push('ensure_package etcd-server "$usr_bin/etcd"');
      break;
    case 'zookeeper':
      body.push(`ensure_package zookeeper "$java_share/${basename(ZOOKEEPER_JAR)}"`, 'command -v java >/dev/null || apt_install default-jre-headless');
      break;
  }
  return [`kv_${c.type}() {`, ...body.map((l) => `  ${l}`), '}'].join('\n');
}

/**
 * The bash lines (over sh/kv.sh) for the kv host: one function per candidate, tried in order,
 * each in a subshell with errexit so a failure moves on to the lab's fallback instead of
 * ending the script (a lone candidate is called plainly); prints `overlab: kv=TYPE`.
 */
export function kvSection(plan: Pick<Plan, 'kv'>): string {
  const kv = plan.kv;
  if (!kv) return '';
  const types = kv.candidates.map((c) => c.type);
  const functions = [`# KV store packages: ${types.join(', then the fallback ')}, for a store bound to ${kv.address}`, ...kv.candidates.map((c) => kvFunction(kv.address, c))];
  if (types.length === 1) return [...functions, `kv_${types[0]}`, `outcome kv ${types[0]}`].join('\n');
  return [
    ...functions,
    'kv_store=',
    `for kv_try in ${types.join(' ')}; do`,
    '  set +e',
    '  (set -e; "kv_$kv_try")',
    '  kv_rc=$?',
    '  set -e',
    '  if [ "$kv_rc" = 0 ]; then kv_store=$kv_try; break; fi',
    '  log "$kv_try could not be set up on this host (exit $kv_rc, see above)"',
    'done',
    `[ -n "$kv_store" ] || die ${shellQuote(`no KV store could be set up on this host: tried ${types.join(', ')}`)}`,
    'outcome kv "$kv_store"',
  ].join('\n');
}

/** What kvSection does, as commands, for `up --dry-run`. */
export function describeKv(plan: Pick<Plan, 'kv'>): string[] {
  const kv = plan.kv;
  if (!kv) return [];
  return [
    `# KV store: ${kv.candidates[0]!.type} for ${kv.address} (installed here; up starts it)`,
    `# ${kv.address} must be an address of this host`,
    'apt-get install -y busybox-static  # unless installed: the harness probes the store with busybox',
    ...kv.candidates.flatMap((c, i) => {
      const lines = i === 0 ? [] : [`# if ${kv.candidates[0]!.type} cannot be installed: ${c.type}`];
      switch (c.type) {
        case 'consul':
          return [...lines, '# HashiCorp apt repository: https://apt.releases.hashicorp.com $CODENAME main', 'apt-get install -y consul  # unless installed'];
        case 'etcd':
          return [...lines, 'apt-get install -y etcd-server  # unless installed'];
        case 'zookeeper':
          return [...lines, 'apt-get install -y zookeeper default-jre-headless  # each unless installed'];
      }
    }),
  ];
}
