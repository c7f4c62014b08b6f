// Step "Create hosts": the provider makes the lab's hosts; meanwhile the test image is built
// and an engine tree starts downloading (its errors surface in the engines' step).
import { join } from 'node:path';
import { buildTestImageTar } from '../../engine/image.ts';
import { stateRoot } from '../../state/paths.ts';
import type { StepDefinition } from './run.ts';

export const createHosts: StepDefinition = ({ plan, ctx, live, tree }) => ({
  title: `Create hosts (${ctx.provider.id})`,
  tasks: () => [
    {
      title: plan.hosts.map((h) => `${h.name} ${h.address}`).join(', '),
      run: async () => {
        if (tree) void tree.resolve().catch(() => undefined);
        const [hosts] = await Promise.all([ctx.provider.createHosts(plan, ctx), buildTestImageTar(join(stateRoot(), 'cache')).then((t) => (live.imageTar = t))]);
        for (const h of hosts) live.hosts.set(h.name, h);
      },
    },
  ],
});
