// The KV store on the kv host, bound to its private address: Consul from the hashicorp/consul
// image (or HashiCorp's apt repository), etcd from the distribution's etcd-server with its v2
// API, ZooKeeper from the distribution's package; each a systemd unit (Consul's image: a
// container with a restart policy). The lab's candidates are tried in order, so a declared
// kv.fallback is set up when the preferred store cannot be. Readiness is probed by kv/run.ts.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { kvArgv } from '../kv/run.ts';
import { DATA_DIR } from '../kv/stores.ts';
import { ZOOKEEPER_CONF_DIR, ZOOKEEPER_JAR } from '../kv/zookeeper.ts';
import type { KvCandidate, KvType, Plan } from '../lab/types.ts';
import { shJoin, shq, systemdExec } from './shell.ts';

export const KV_DATA_ROOT = '/var/lib/overlab';
export const CONSUL_IMAGE = 'hashicorp/consul';
export const CONSUL_CONTAINER = 'overlab-consul';
export const ZOOKEEPER_CFG = '/etc/overlab/zookeeper/zoo.cfg';

export interface KvProvisionOptions {
  /** Where Consul comes from: the hashicorp/consul image (default) or HashiCorp's apt repository. */
  consul?: 'image' | 'apt';
  /** The Consul image, default hashicorp/consul. */
  consulImage?: string;
  /** false: install the store but start nothing, for a service manager to run it. Default true. */
  startKv?: boolean;
}

export const kvDataDir = (type: KvType) => `${KV_DATA_ROOT}/${type}`;
export const kvUnitName = (type: KvType) => `overlab-${type}`;

/** The store's server argv for a systemd unit: the plan's command line, absolute binary, data folder filled in. */
export function kvServerArgv(c: KvCandidate): string[] {
  if (c.type === 'zookeeper') {
    return ['/usr/bin/java', '-Dzookeeper.admin.enableServer=false', '-cp', `${ZOOKEEPER_JAR}:${ZOOKEEPER_CONF_DIR}`, 'org.apache.zookeeper.server.ZooKeeperServerMain', ZOOKEEPER_CFG];
  }
  const [bin, ...args] = kvArgv(c, kvDataDir(c.type));
  return [`/usr/bin/${bin}`, ...args];
}

/** zoo.cfg from the plan's `key=value` settings (as kv/zookeeper.ts writes it for netns hosts). */
export function zookeeperConfig(c: KvCandidate): string {
  return ['tickTime=2000', ...c.command.slice(1).map((a) => a.replaceAll(DATA_DIR, kvDataDir('zookeeper')))].join('\n');
}

/**
 * Arguments to the hashicorp/consul image: the plan's `consul agent ...` without `consul` and
 * without -data-dir, which the image's entrypoint sets to /consul/data (a volume here).
 */
export function consulContainerArgs(c: KvCandidate): string[] {
  return c.command.slice(1).filter((a) => !a.startsWith('-data-dir='));
}

export function kvUnit(plan: Pick<Plan, 'lab'>, c: KvCandidate): string {
  const what = c.type === 'etcd' ? 'etcd with its v2 API' : c.type;
  return [
    `# Written by overlab for lab ${plan.lab}: the KV store the engines use as cluster store.`,
    '[Unit]',
    `Description=overlab KV store (${what}) for lab ${plan.lab}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    `ExecStart=${systemdExec(kvServerArgv(c))}`,
    // The private address may come up after boot (Vagrant configures it late): retry.
    'Restart=on-failure',
    'RestartSec=2',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n');
}

// The generated lines reach these paths through the variables of sh/common.sh ($kv_data,
// $overlab_etc, $usr_bin, $java_share), which the unit tests point at a fake root.

/** The bash function kv_TYPE that installs (and, by default, starts) one candidate. */
function kvFunction(plan: Pick<Plan, 'lab'>, address: string, c: KvCandidate, options: KvProvisionOptions): string {
  const start = options.startKv ?? true;
  const unit = kvUnitName(c.type);
  const body: string[] = [`require_address ${shq(address)}`, 'ensure_busybox'];
  switch (c.type) {
    case 'consul':
      if ((options.consul ?? 'image') === 'image') {
        const image = options.consulImage ?? CONSUL_IMAGE;
        const args = consulContainerArgs(c);
        const label = createHash('sha256').update([image, ...args].join('\0')).digest('hex').slice(0, 12);
        body.push('ensure_docker');
        if (start) body.push(`kv_consul_container ${shq(image)} ${label} "$kv_data/consul" ${shJoin(args)}`);
        else body.push(`docker image inspect ${shq(image)} >/dev/null 2>&1 || docker pull ${shq(image)} >&2`);
      } else {
        body.push('if [ ! -x "$usr_bin/consul" ]; then', '  consul_apt_repo', '  apt_install consul', 'fi');
        if (start) body.push('install -d -m 0700 "$kv_data/consul"', `kv_unit ${unit} "$usr_bin/consul" ${shq(kvUnit(plan, c))}`);
      }
      break;
    case 'etcd':
      body.push('ensure_package etcd-server "$usr_bin/etcd"');
      if (start) body.push('install -d -m 0700 "$kv_data/etcd"', `kv_unit ${unit} "$usr_bin/etcd" ${shq(kvUnit(plan, c))}`);
      break;
    case 'zookeeper':
      body.push(`ensure_package zookeeper "$java_share/${basename(ZOOKEEPER_JAR)}"`, 'command -v java >/dev/null || apt_install default-jre-headless');
      if (start) {
        body.push(
          'install -d -m 0700 "$kv_data/zookeeper"',
          `write_file "$overlab_etc/zookeeper/zoo.cfg" ${shq(zookeeperConfig(c))}`,
          `kv_unit ${unit} "$usr_bin/java" ${shq(kvUnit(plan, c))} "$changed"`,
        );
      }
      break;
  }
  return [`kv_${c.type}() {`, ...body.map((l) => `  ${l}`), '}'].join('\n');
}

/**
 * The bash lines (over sh/kv.sh) for the kv host: one function per candidate, tried in order,
 * each in a subshell with errexit so a failure moves on to the lab's fallback instead of
 * ending the script (a lone candidate is called plainly); prints `overlab: kv=TYPE`.
 */
export function kvSection(plan: Pick<Plan, 'lab' | 'kv'>, options: KvProvisionOptions = {}): string {
  const kv = plan.kv;
  if (!kv) return '';
  const types = kv.candidates.map((c) => c.type);
  const functions = [`# KV store: ${types.join(', then the fallback ')}, bound to ${kv.address}`, ...kv.candidates.map((c) => kvFunction(plan, kv.address, c, options))];
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
    `[ -n "$kv_store" ] || die ${shq(`no KV store could be set up on this host: tried ${types.join(', ')}`)}`,
    'outcome kv "$kv_store"',
  ].join('\n');
}

/** What kvSection does, as commands, for `up --dry-run`. */
export function describeKv(plan: Pick<Plan, 'lab' | 'kv'>, options: KvProvisionOptions = {}): string[] {
  const kv = plan.kv;
  if (!kv) return [];
  const start = options.startKv ?? true;
  return kv.candidates.flatMap((c, i) => {
    const lines: string[] = [i === 0 ? `# KV store: ${c.type} on ${kv.address}` : `# if ${kv.candidates[0]!.type} cannot be set up: ${c.type}`];
    const unit = (install: string[]) => [
      ...install,
      ...(start ? [`# /etc/systemd/system/${kvUnitName(c.type)}.service: ExecStart=${systemdExec(kvServerArgv(c))}`, `systemctl enable --now ${kvUnitName(c.type)}`] : []),
    ];
    switch (c.type) {
      case 'consul':
        if ((options.consul ?? 'image') === 'image') {
          const image = options.consulImage ?? CONSUL_IMAGE;
          lines.push(
            ...(start
              ? [shJoin(['docker', 'run', '-d', '--name', CONSUL_CONTAINER, '--restart', 'unless-stopped', '--net', 'host', '-v', `${kvDataDir('consul')}:/consul/data`, image, ...consulContainerArgs(c)])]
              : [`docker pull ${image}`]),
          );
        } else {
          lines.push(...unit(['# HashiCorp apt repository: https://apt.releases.hashicorp.com $CODENAME main', 'apt-get install -y consul']));
        }
        break;
      case 'etcd':
        lines.push(...unit(['apt-get install -y etcd-server']));
        break;
      case 'zookeeper':
        lines.push(...unit(['apt-get install -y zookeeper default-jre-headless', `# ${ZOOKEEPER_CFG}: ${zookeeperConfig(c).split('\n').join(' ')}`]));
        break;
    }
    return lines;
  });
}
