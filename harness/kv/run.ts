// Running the KV store on the kv host: pick the first store the host can run (preferred, then
// busybox wget's -T (timeout) segfaults in Debian's busybox 1.35: bound probes with the runner's timeout instead.
// the lab's fallback), start it as a service, and probe it until it answers.
import { CommandFailedError, PrerequisiteError } from '../errors.ts';
import type { KvCandidate, KvPlan } from '../lab/types.ts';
import type { HostAccess } from '../host.ts';
import { FatalProbeError, waitFor } from '../wait.ts';
import { DATA_DIR } from '../lab/kv-stores.ts';
import { zookeeperLaunch, zookeeperListArgv, zookeeperProbeScript, ZOOKEEPER_PRESENT_TEST } from './zookeeper.ts';

export const KV_SERVICE = 'kv';

/** A shell test that succeeds when the host can run the store. */
function presentTest(c: KvCandidate): string {
  return c.type === 'zookeeper' ? ZOOKEEPER_PRESENT_TEST : `command -v ${c.command[0]} >/dev/null`;
}

export async function chooseKvStore(kv: KvPlan, host: HostAccess): Promise<{ chosen: KvCandidate; skipped: KvCandidate[] }> {
  const skipped: KvCandidate[] = [];
  for (const c of kv.candidates) {
    const r = await host.runner.exec(['sh', '-c', presentTest(c)]);
    if (r.exitCode === 0) return { chosen: c, skipped };
    skipped.push(c);
  }
  const names = kv.candidates.map((c) => c.type).join(' or ');
  throw new PrerequisiteError(`no KV store can run on ${host.name}: ${names} is not installed`, {
    hint: 'Install one (scripts/setup-host.sh installs etcd), or declare a kv.fallback the host has.',
  });
}

/** The store's argument vector with its data folder filled in. */
export function kvArgv(c: KvCandidate, dataDir: string): string[] {
  const argv = c.command.map((a) => a.replaceAll(DATA_DIR, dataDir));
  return c.type === 'zookeeper' ? zookeeperLaunch(argv.slice(1), dataDir) : argv;
}

export async function startKvStore(c: KvCandidate, host: HostAccess, signal: AbortSignal, timeoutMs = 30_000): Promise<void> {
  await host.services.start({ name: KV_SERVICE, argv: kvArgv(c, host.services.dataDir(KV_SERVICE)) });
  const url = `http://${host.address}:${c.port}${c.healthPath ?? ''}`;
  const probe = c.healthPath
    ? ['busybox', 'wget', '-q', '-O', '-', url]
    : ['sh', '-c', zookeeperProbeScript(host.address, c.port)];
  await waitFor(
    async () => {
      if (!(await host.services.isRunning(KV_SERVICE))) {
        const log = await host.services.readLog(KV_SERVICE);
        throw new FatalProbeError(
          new PrerequisiteError(`the ${c.type} KV store on ${host.name} exited:\n${log.trimEnd().split('\n').slice(-10).join('\n')}\nlog: ${host.services.logFile(KV_SERVICE)}`),
        );
      }
      const r = await host.runner.exec(probe, { timeoutMs: 3000 });
      return r.exitCode === 0 && isHealthy(c, r.stdout) ? true : undefined;
    },
    { what: `${c.type} on ${host.name} (${url}) to answer`, timeoutMs, intervalMs: 50, signal, detail: () => `log: ${host.services.logFile(KV_SERVICE)}` },
  );
}

function isHealthy(c: KvCandidate, body: string): boolean {
  switch (c.type) {
    case 'etcd':
      return /"health"\s*:\s*"?true/.test(body);
    case 'consul':
      return /"[^"]+"/.test(body); // a leader address, not ""
    case 'zookeeper':
      return body.length > 0;
  }
}

/**
 * The entries under the engines' discovery path (`docker/nodes`), as the store holds them:
 * proof that the engines registered. An empty list means the store answered and holds none;
 * a store that cannot be asked is an error naming the command and its output.
 */
export async function registeredNodes(c: KvCandidate, host: HostAccess): Promise<string[]> {
  const base = `http://${host.address}:${c.port}`;
  const get = async (url: string): Promise<string | undefined> => {
    const argv = ['busybox', 'wget', '-S', '-q', '-O', '-', url];
    const r = await host.runner.exec(argv, { timeoutMs: 10_000 });
    if (r.exitCode === 0) return r.stdout;
    if (/HTTP\/1\.[01] 404/.test(r.stderr)) return undefined; // the path does not exist: nobody registered
    throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: host.name });
  };
  switch (c.type) {
    case 'etcd': {
      const body = await get(`${base}/v2/keys/docker/nodes?recursive=true`);
      const parsed = body === undefined ? {} : (JSON.parse(body) as { node?: { nodes?: { key: string }[] } });
      return (parsed.node?.nodes ?? []).map((n) => n.key.replace(/^\/docker\/nodes\//, ''));
    }
    case 'consul': {
      const body = await get(`${base}/v1/kv/docker/nodes/?keys`);
      return body === undefined ? [] : (JSON.parse(body) as string[]).map((k) => k.replace(/^docker\/nodes\//, ''));
    }
    case 'zookeeper': {
      const argv = zookeeperListArgv(host.address, c.port, '/docker/nodes');
      const r = await host.runner.exec(argv, { timeoutMs: 30_000 });
      if (/NoNode/.test(r.stdout + r.stderr)) return [];
      const list = /^\[(.*)\]\s*$/m.exec(r.stdout);
      if (r.exitCode !== 0 || !list) throw new CommandFailedError({ command: argv.join(' '), exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, host: host.name });
      return list[1]!.split(',').map((x) => x.trim()).filter(Boolean);
    }
  }
}
