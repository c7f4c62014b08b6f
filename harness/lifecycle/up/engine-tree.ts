// The engine tree of a lab whose engine.source is not `system` (static, debian, ubuntu, auto):
// one fetch (or cache hit) shared by every host's engine, started with the hosts so the
// download overlaps their creation; packed once for hosts that do not see this machine's files
// (VMs, ssh machines), which get it over SSH, or as a read-only disk made of the packed tree on
// the lab's own libvirt (see providers/vagrant/libvirt-folders.ts); its containerd and runc versions read once for
// every host's check that the daemon ran them.
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { PrerequisiteError } from '../../errors.ts';
import type { PackedFolder } from '../../host.ts';
import type { Plan } from '../../lab/types.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { UNSENT_PATHS } from '../../system/deb-engine.ts';
import { describeOrigin, resolveEngine, sourceOptionsFromEnv, type ResolvedEngine, type TreeSource } from '../../system/engine-sources.ts';
import { engineVersionString } from '../../system/engines.ts';
import { packFolder } from '../../system/pack-folder.ts';
import { programVersion, sameRelease, type RunningVersions } from '../../engine/versions.ts';

export interface EngineTree {
  /** The tree, fetched or found in the cache (once; later calls share the first). */
  resolve(): Promise<ResolvedEngine>;
  /** The tree packed for a host that receives folders over SSH (once). */
  packed(): Promise<PackedFolder>;
  /** Throws when the daemon on `host` reports a containerd or runc other than the tree's. */
  checkRan(host: string, ran: RunningVersions): Promise<void>;
}

/** The lab's engine tree, or undefined when its engines are the hosts' own (engine.source system). */
export function engineTreeOf(plan: Plan, ctx: LabContext): EngineTree | undefined {
  if ((plan.engine.source ?? 'system') === 'system') return undefined;
  let fetching: Promise<ResolvedEngine> | undefined;
  let packing: Promise<PackedFolder> | undefined;
  let versions: Promise<Record<'containerd' | 'runc', string | undefined>> | undefined;
  const resolve = (): Promise<ResolvedEngine> =>
    (fetching ??= resolveEngine(plan.engine.version, plan.engine.source as TreeSource, {
      ...sourceOptionsFromEnv(),
      ...(plan.engine.suite ? { suite: plan.engine.suite } : {}),
      ...(plan.engine.sha256 ? { sha256: plan.engine.sha256 } : {}),
      signal: ctx.signal,
      onNote: (message) => ctx.events.emit({ type: 'info', message }),
    }).then(async (t) => {
      await recordTree(plan, ctx, t);
      return t;
    }));
  return {
    resolve,
    packed: async () => (packing ??= resolve().then((t) => packFolder(dirname(t.bin), UNSENT_PATHS, ctx.signal))),
    async checkRan(host, ran) {
      const t = await resolve();
      checkRanFromTree(host, ran, t.bin, await (versions ??= treeProgramVersions(t.bin)));
    },
  };
}

/** Records the tree in the state and says where it came from (and what was waived to get it). */
async function recordTree(plan: Plan, ctx: LabContext, t: ResolvedEngine): Promise<void> {
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
