// overlab report: the room page, one self-contained HTML file with every lab's drawing and spec
// results, failing labs first; with --watch it is written again whenever a lab changes.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../errors.ts';
import { labNameOf } from '../lifecycle/lab.ts';
import { roomEntries, roomSignature } from '../lifecycle/room.ts';
import { renderRoomPage } from '../render/room.ts';
import { stateRoot } from '../state/paths.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say } from './output.ts';
import { count } from '../plural.ts';

/** How often --watch looks for changes, and how often the page reloads itself in a browser. */
const WATCH_INTERVAL_MS = 2_000;
const PAGE_REFRESH_SECONDS = 10;
/** Live facts (hosts up, memory) change without a state change: --watch rewrites at least this often. */
const WATCH_REWRITE_MS = 30_000;

export async function reportCommand(ref: string | undefined, opts: GlobalOptions & { all?: boolean; out?: string; watch?: boolean }, signal: AbortSignal): Promise<number> {
  if (opts.all && (ref ?? opts.lab)) throw new UsageError('--all shows every lab: leave out the lab');
  if (!opts.all && !(ref ?? opts.lab)) throw new UsageError('name a lab, or pass --all for the room');
  const only = opts.all ? undefined : await labNameOf(ref ?? opts.lab);
  const out = opts.out ?? join(stateRoot(), only ? `${only}.html` : 'room.html');
  const write = async () => {
    const entries = await roomEntries(signal, only);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    writeFileSync(tmp, renderRoomPage(entries, { title: only ? `overlab: ${only}` : 'overlab room', ...(opts.watch ? { refreshSeconds: PAGE_REFRESH_SECONDS } : {}) }));
    renameSync(tmp, out);
    return entries.length;
  };
  const labs = await write();
  if (opts.json && !opts.watch) printJson({ ok: true, file: out, labs });
  else if (!opts.quiet) say(`${relative(process.cwd(), out)}: ${count(labs, 'lab')}${opts.watch ? ' (rewritten as labs change; Ctrl-C stops)' : ''}`);
  if (!opts.watch) return 0;
  let seen = roomSignature();
  let written = Date.now();
  while (!signal.aborted) {
    await sleep(WATCH_INTERVAL_MS, undefined, { signal }).catch(() => {});
    if (signal.aborted) break;
    const now = roomSignature();
    if (now !== seen || Date.now() - written >= WATCH_REWRITE_MS) {
      seen = now;
      written = Date.now();
      await write();
    }
  }
  return 130;
}
