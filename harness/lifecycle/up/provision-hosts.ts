// Step "Provision hosts", for providers that provision (install packages on a VM or machine).
import type { StepDefinition } from './run.ts';

export const provisionHosts: StepDefinition = ({ plan, ctx, host }) => {
  const provision = ctx.provider.provision?.bind(ctx.provider);
  if (!provision) return undefined;
  return {
    title: 'Provision hosts',
    tasks: () => plan.hosts.map((h) => ({ title: h.name, host: h.name, run: () => provision(plan, host(h.name), ctx) })),
  };
};
