// Step "Start the engines": each docker host's engine (from the lab's engine tree when it runs
// one, sent first to hosts that receive folders), waited for, its versions read from the
// running daemon and recorded, and the test image imported.
import { engineServiceSpec } from '../../engine/daemon.ts';
import { engineClient, guardEngine, waitForEngine } from '../../engine/client.ts';
import { loadTestImage } from '../../engine/image.ts';
import { runningVersions, type RunningVersions } from '../../engine/versions.ts';
import type { StepDefinition } from './run.ts';

export const startEngines: StepDefinition = ({ plan, ctx, live, tree, host }) => ({
  title: 'Start the engines',
  tasks: () =>
    plan.hosts
      .filter((h) => h.daemon)
      .map((h) => ({
        title: h.name,
        host: h.name,
        run: async (signal: AbortSignal) => {
          const access = host(h.name);
          const resolved = tree ? await tree.resolve() : undefined;
          if (tree && access.receiveFolder) await access.receiveFolder(await tree.packed());
          const startedAt = Date.now();
          await access.services.start(engineServiceSpec({ providerFlags: access.engineFlags, daemon: h.daemon!, kv: live.kv, extraFlags: plan.engine.flags, treeBin: resolved?.bin }));
          const docker = engineClient(access.engine!);
          await waitForEngine(access, docker, signal);
          const ran = await runningVersions(docker);
          if (tree) await tree.checkRan(h.name, ran);
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
