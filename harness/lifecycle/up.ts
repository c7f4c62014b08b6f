// `up` as steps over the provider's hosts: hosts, KV store, engines, test image, swarm,
// networks, containers. Shared by every provider; each step records what it made.
import type Docker from 'dockerode';
import { dirname, join } from 'node:path';
import { engineServiceSpec } from '../engine/daemon.ts';
import { checkedHosts, dataplaneHosts, ensureOverlaysProgrammed } from '../engine/dataplane.ts';
import { containerAddresses, createNetwork, createService, SERVICE_DEPLOY_CAP_MS, SERVICE_STALL_MS, waitForServiceTasks, initSwarm, joinSwarm, runContainer, waitForNetwork, waitForSwarmReady } from '../engine/contents.ts';
import { engineClient, guardEngine, releaseAll, waitForEngine } from '../engine/client.ts';
import { buildTestImageTar, loadTestImage } from '../engine/image.ts';
import { chooseKvStore, startKvStore } from '../kv/run.ts';
import type { KvCandidate, Plan } from '../lab/types.ts';
import type { Provider } from '../providers/provider.ts';
import type { HostAccess, PackedFolder } from '../host.ts';
import type { LabContext } from '../state/lab-context.ts';
import { stateRoot } from '../state/paths.ts';
import { PrerequisiteError } from '../errors.ts';
import { engineVersionString } from '../system/engines.ts';
import { UNSENT_PATHS } from '../system/deb-engine.ts';
import { packFolder } from '../system/pack-folder.ts';
import { describeOrigin, resolveEngine, sourceOptionsFromEnv, type ResolvedEngine, type TreeSource } from '../system/engine-sources.ts';
import { runningVersions, sameRelease, programVersion, type RunningVersions } from '../engine/versions.ts';
import { execa } from 'execa';
import type { Step } from '../steps.ts';

export interface UpContext extends LabContext {
  provider: Provider;
}

/** What `up` learns as it goes; later steps read what earlier ones found. */
interface Live {
  hosts: Map<string, HostAccess>;
  engines: Map<string, Docker>;
  kv: KvCandidate | undefined;
  imageTar: string | undefined;
  swarmToken: string | undefined;
  /** The slowest engine's start, test image included (ms): how slow these hosts are. */
  slowestEngineMs: number;
}

/** The steps of `up`, and `release`, which lets go of the connections they opened (call it once they ran). */
export function upSteps(plan: Plan, ctx: UpContext): { steps: Step[]; release: () => void } {
  const live: Live = { hosts: new Map(), engines: new Map(), kv: undefined, imageTar: undefined, swarmToken: undefined, slowestEngineMs: 0 };
  const host = (name: string) => live.hosts.get(name)!;
  const engine = (name: string) => live.engines.get(name)!;
  const dockerAccess = () => plan.dockerHosts.map(host);
  const steps: Step[] = [];

  // An engine tree (engine.source static, debian, ubuntu, auto): one fetch (or cache hit) shared
  // by every host's engine, started with the hosts so the download overlaps their creation.
  // Hosts that do not see this machine's files (VMs, ssh machines) get it packed, over SSH.
  const fromTree = (plan.engine.source ?? 'system') !== 'system';
  let packing: Promise<PackedFolder> | undefined;
  let fetching: Promise<ResolvedEngine> | undefined;
  // The tree's containerd and runc versions, read once for every host's check.
  let treeVersions: Promise<Record<'containerd' | 'runc', string | undefined>> | undefined;
  const engineTree = async (): Promise<ResolvedEngine> => {
    const source = plan.engine.source as TreeSource;
    fetching ??= resolveEngine(plan.engine.version, source, {
      ...sourceOptionsFromEnv(),
      ...(plan.engine.suite ? { suite: plan.engine.suite } : {}),
      ...(plan.engine.sha256 ? { sha256: plan.engine.sha256 } : {}),
      signal: ctx.signal,
      onNote: (message) => ctx.events.emit({ type: 'info', message }),
    }).then(async (t) => {
      const version = await engineVersionString(join(t.bin, 'dockerd'));
      ctx.store.update((s) => {
        s.resources['engineTree'] = { bin: t.bin, url: t.origin.url, sha256: t.origin.sha256, version, origin: t.origin };
      });
      ctx.events.emit({ type: 'info', message: `engine ${plan.engine.version}: ${t.fetched ? 'fetched' : 'cached'} ${describeOrigin(t.origin)}, ${version}` });
      if (t.origin.unverified) {
        ctx.events.emit({ type: 'warn', message: `engine ${plan.engine.version}: ${t.origin.url} was not checked against any SHA-256 (OVERLAB_ALLOW_UNVERIFIED_ENGINE=1)` });
      }
      if (t.origin.expiredAccepted) {
        ctx.events.emit({ type: 'warn', message: `engine ${plan.engine.version}: the ${t.origin.suite} index expired on ${t.origin.expiredAccepted} and was accepted (OVERLAB_ARCHIVE_ALLOW_EXPIRED=1)` });
      }
      return t;
    });
    return fetching;
  };

  steps.push({
    title: `Create hosts (${ctx.provider.id})`,
    tasks: () => [
      {
        title: plan.hosts.map((h) => `${h.name} ${h.address}`).join(', '),
        run: async () => {
          if (fromTree) void engineTree().catch(() => undefined); // errors surface in the engines' step
          const [hosts] = await Promise.all([
            ctx.provider.createHosts(plan, ctx),
            buildTestImageTar(join(stateRoot(), 'cache')).then((t) => (live.imageTar = t)),
          ]);
          for (const h of hosts) live.hosts.set(h.name, h);
        },
      },
    ],
  });

  const provision = ctx.provider.provision?.bind(ctx.provider);
  if (provision) {
    steps.push({
      title: 'Provision hosts',
      tasks: () => plan.hosts.map((h) => ({ title: h.name, host: h.name, run: () => provision(plan, host(h.name), ctx) })),
    });
  }

  if (plan.kv) {
    const kv = plan.kv;
    steps.push({
      title: 'Start the KV store',
      tasks: () => [
        {
          title: kv.host,
          host: kv.host,
          run: async (signal) => {
            const { chosen, skipped } = await chooseKvStore(kv, host(kv.host));
            if (skipped.length) {
              ctx.events.emit({
                type: 'warn',
                host: kv.host,
                message: `${skipped.map((s) => s.type).join(', ')} is not installed on ${kv.host}; using the lab's fallback ${chosen.type} (${chosen.clusterStore})`,
              });
            }
            live.kv = chosen;
            ctx.store.update((s) => {
              s.kv = { type: chosen.type, clusterStore: chosen.clusterStore, ...(skipped.length ? { announced: `fallback from ${skipped[0]!.type}` } : {}) };
            });
            await startKvStore(chosen, host(kv.host), signal);
            return `${chosen.type} at ${chosen.clusterStore}`;
          },
        },
      ],
    });
  }

  steps.push({
    title: 'Start the engines',
    tasks: () =>
      plan.hosts
        .filter((h) => h.daemon)
        .map((h) => ({
          title: h.name,
          host: h.name,
          run: async (signal: AbortSignal) => {
            const access = host(h.name);
            const tree = fromTree ? await engineTree() : undefined;
            if (tree && access.receiveFolder) await access.receiveFolder(await (packing ??= packFolder(dirname(tree.bin), UNSENT_PATHS, ctx.signal)));
            const startedAt = Date.now();
            await access.services.start(
              engineServiceSpec({ providerFlags: access.engineFlags, daemon: h.daemon!, kv: live.kv, extraFlags: plan.engine.flags, treeBin: tree?.bin }),
            );
            const docker = engineClient(access.engine!);
            await waitForEngine(access, docker, signal);
            const ran = await runningVersions(docker);
            if (tree) checkRanFromTree(h.name, ran, tree.bin, await (treeVersions ??= treeProgramVersions(tree.bin)));
            ctx.store.update((s) => {
              const all = (s.resources['engineVersions'] ?? {}) as Record<string, RunningVersions>;
              s.resources['engineVersions'] = { ...all, [h.name]: ran };
            });
            await guardEngine([access], 'while importing the test image', () => loadTestImage(docker, live.imageTar!));
            live.slowestEngineMs = Math.max(live.slowestEngineMs, Date.now() - startedAt);
            live.engines.set(h.name, docker);
            return `Docker ${ran.engine} (API ${ran.api}), containerd ${ran.containerd ?? '?'}, runc ${ran.runc ?? '?'}`;
          },
        })),
  });

  if (plan.mode === 'swarm') {
    const [manager, ...workers] = plan.dockerHosts as [string, ...string[]];
    steps.push({
      title: 'Form the swarm',
      tasks: () => [
        {
          title: `${manager} (manager)`,
          host: manager,
          run: async () => {
            live.swarmToken = (await initSwarm(engine(manager), host(manager).address)).worker;
          },
        },
      ],
    });
    if (workers.length) {
      steps.push({
        title: 'Join the swarm',
        tasks: () =>
          workers.map((w) => ({
            title: w,
            host: w,
            run: async (signal: AbortSignal) => {
              await joinSwarm(engine(w), host(w).address, host(manager).address, live.swarmToken!);
              await waitForSwarmReady(engine(manager), [w], signal);
            },
          })),
      });
    }
  }

  if (plan.networks.length) {
    steps.push({
      title: 'Create overlay networks',
      tasks: () => {
        // One at a time: concurrent creates race in libnetwork's KV-backed IPAM and one fails
        // with "Pool overlaps with other one on this address space" (seen with dockerd 20.10).
        let previous: Promise<unknown> = Promise.resolve();
        return plan.networks.map((n) => ({
          title: `${n.name} ${n.subnet}`,
          host: n.createOn,
          run: (signal: AbortSignal) => {
            const create = previous.then(() =>
              guardEngine(dockerAccess(), `while creating network ${n.name}`, async () => {
                const id = await createNetwork(engine(n.createOn), n);
                // In kv mode the network is global at once: every engine must list it.
                if (plan.mode === 'kv') await Promise.all(plan.dockerHosts.map((d) => waitForNetwork(engine(d), n.name, d, signal)));
                return id.slice(0, 12);
              }),
            );
            previous = create.catch(() => undefined);
            return create;
          },
        }));
      },
    });
  }

  if (plan.services.length) {
    const manager = plan.dockerHosts[0]!;
    steps.push({
      title: 'Deploy services',
      tasks: () =>
        plan.services.map((v) => ({
          title: `${v.name} (${v.replicas} ${v.endpointMode})`,
          host: manager,
          run: (signal: AbortSignal) =>
            guardEngine(dockerAccess(), `while deploying service ${v.name}`, async () => {
              await createService(engine(manager), v);
              // The containers start only once the tasks run: started while the swarm was still
              // attaching tasks to the same attachable overlay, a container on the manager of
              // three VMs failed with "network ... not found" (dockerd 20.10).
              // Bounded: a task that cannot start (image, placement) fails up here, not in the specs.
              const stallMs = serviceStallMs(live.slowestEngineMs);
              const tasks = await waitForServiceTasks(engine(manager), v, signal, { stallMs, capMs: Math.max(SERVICE_DEPLOY_CAP_MS, 3 * stallMs) });
              return tasks.map((t) => `${v.name}-${t.slot} on ${t.node}`).join(', ');
            }),
        })),
    });
  }

  if (plan.containers.length) {
    steps.push({
      title: 'Run containers',
      tasks: () =>
        plan.containers.map((c) => ({
          title: `${c.name} on ${c.host}`,
          host: c.host,
          run: (signal: AbortSignal) =>
            guardEngine(dockerAccess(), `while starting container ${c.name}`, async () => {
              const addrs = await runContainer(engine(c.host), plan, c, {
                // As long as a service task may take: the same slow hosts, the same manager.
                budgetMs: serviceStallMs(live.slowestEngineMs),
                signal,
                onRetry: (attempt, message) =>
                  ctx.events.emit({ type: 'warn', host: c.host, message: `${c.name}: the swarm manager did not attach it in time (start ${attempt}: ${message}); trying again` }),
              });
              return Object.entries(addrs).map(([n, a]) => `${n} ${a}`).join(', ');
            }),
        })),
    });
    // Before any packet: every engine holds its overlays' entries for the containers on other
    // hosts (engine/dataplane.ts: dockerd 20.10 now and then misses one, for good).
    if (checkedHosts(plan).length) {
      steps.push({
        title: 'Check the overlay forwarding',
        tasks: () => [
          {
            title: checkedHosts(plan).join(', '),
            run: (signal: AbortSignal) =>
              guardEngine(dockerAccess(), 'while checking the overlay forwarding', async () => {
                const report = await ensureOverlaysProgrammed(dataplaneHosts(plan, live.hosts, live.engines), plan.networks.map((n) => n.name), signal);
                for (const w of report.warnings) ctx.events.emit({ type: 'warn', host: w.host, message: w.message });
                return report.programmedMs === undefined
                  ? `${report.peers} peers, not all programmed`
                  : `${report.peers} peers programmed in ${(report.programmedMs / 1000).toFixed(1)} s`;
              }),
          },
        ],
      });
    }
    // An engine may die a moment after a container joined (e.g. libnetwork's KV watch): check all are alive.
    steps.push({
      title: 'Check the engines',
      tasks: () =>
        plan.dockerHosts.map((d) => ({
          title: d,
          host: d,
          run: () =>
            guardEngine([host(d)], 'after the containers started', async () => {
              await engine(d).ping();
              const names = plan.containers.filter((c) => c.host === d).map((c) => c.name);
              await Promise.all(names.map((n) => containerAddresses(engine(d), n)));
            }),
        })),
    });
  }
  return { steps, release: () => releaseAll(live.hosts.values(), live.engines.values()) };
}

/** The versions the tree's containerd and runc print. */
async function treeProgramVersions(bin: string): Promise<Record<'containerd' | 'runc', string | undefined>> {
  const version = async (name: string) => programVersion(String((await execa(join(bin, name), ['--version'], { reject: false })).stdout));
  return { containerd: await version('containerd'), runc: await version('runc') };
}

/**
 * The engine on `host` runs the tree's containerd and runc, as the daemon reports them: a
 * daemon that started another containerd (one on the machine's PATH) is an error that says so.
 */
function checkRanFromTree(host: string, ran: RunningVersions, bin: string, tree: Record<'containerd' | 'runc', string | undefined>): void {
  for (const name of ['containerd', 'runc'] as const) {
    const reported = ran[name];
    if (reported && tree[name] && !sameRelease(reported, tree[name])) {
      throw new PrerequisiteError(`the engine on ${host} runs ${name} ${reported}, not the tree's ${tree[name]} (${join(bin, name)})`, {
        hint: 'The daemon found another copy first: look at its PATH and at the engine log.',
      });
    }
  }
}

/**
 * How long a service's tasks may sit in one state: SERVICE_STALL_MS, or four times the slowest
 * engine's start where hosts are that slow. Under QEMU emulation on a busy 2-core machine an
 * engine took 55 s to start and a container a minute to run, and three tasks sat in "preparing"
 * past 90 s while they were being made (the services VM spec failed on it twice). The whole
 * wait is capped at three times that (at least SERVICE_DEPLOY_CAP_MS): such hosts took over 10
 * minutes to run three tasks while the machine was busy.
 */
export function serviceStallMs(slowestEngineMs: number): number {
  return Math.max(SERVICE_STALL_MS, 4 * slowestEngineMs);
}
