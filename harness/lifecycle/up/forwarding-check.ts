// Step "Check the overlay forwarding", before any packet: every engine holds its overlays'
// entries for the containers on other hosts (engine/dataplane.ts: dockerd 20.10 now and then
// misses one, for good), repaired where one is missing.
import { guardEngine } from '../../engine/client.ts';
import { checkedHosts, dataplaneHosts, ensureOverlaysProgrammed } from '../../engine/dataplane.ts';
import type { StepDefinition } from './run.ts';

export const checkForwarding: StepDefinition = ({ plan, ctx, live, dockerAccess }) => {
  if (!plan.containers.length || !checkedHosts(plan).length) return undefined;
  return {
    title: 'Check the overlay forwarding',
    tasks: () => [
      {
        title: checkedHosts(plan).join(', '),
        run: (signal: AbortSignal) =>
          guardEngine(dockerAccess(), 'while checking the overlay forwarding', async () => {
            const report = await ensureOverlaysProgrammed(dataplaneHosts(plan, live.hosts, live.engines), plan.networks.map((n) => n.name), signal);
            for (const w of report.warnings) ctx.events.emit({ type: 'warn', host: w.host, message: w.message });
            return report.programmedMs === undefined ? `${report.peers} peers, not all programmed` : `${report.peers} peers programmed in ${(report.programmedMs / 1000).toFixed(1)} s`;
          }),
      },
    ],
  };
};
