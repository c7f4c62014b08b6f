// Step "Start the KV store" (kv mode): the first store of the lab's candidates installed on the
// KV host (a fallback is announced), recorded, then started.
import { chooseKvStore, startKvStore } from '../../kv/run.ts';
import type { StepDefinition } from './run.ts';

export const startKv: StepDefinition = ({ plan, ctx, live, host }) => {
  const kv = plan.kv;
  if (!kv) return undefined;
  return {
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
  };
};
