// overlab ls: every host of every lab in the state root, with docker-machine's columns.
import { listMachines } from '../lifecycle/machine.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say, warn } from './output.ts';
import { table } from './status.ts';

export async function lsCommand(opts: GlobalOptions, signal: AbortSignal): Promise<number> {
  const rows = await listMachines({ signal, dockerHost: process.env['DOCKER_HOST'] });
  if (opts.json) {
    printJson(rows.map((r) => ({ ...r, url: r.url ?? null, docker: r.docker ?? null })));
    return 0;
  }
  say(
    table([
      ['NAME', 'ACTIVE', 'DRIVER', 'STATE', 'URL', 'DOCKER', 'LAB'],
      ...rows.map((r) => [r.name, r.active ? '*' : '-', r.driver, r.state, r.url ?? '-', r.docker ?? (r.url ? 'Unknown' : '-'), r.lab]),
    ]),
  );
  for (const r of rows) if (r.error) warn(`${r.lab}/${r.name}: ${r.error}`);
  return 0;
}
