// overlab engines: the engine trees in the cache (list), what the package archives offer
// (--available), fetching releases ahead of a lab or a matrix (fetch), and removing trees (prune).
import { availableEngines, describeOrigin, listCachedEngines, pruneEngines, resolveEngine, sourceOptionsFromEnv, type TreeSource } from '../system/engine-sources.ts';
import { engineCacheRoot } from '../system/engines.ts';
import { UsageError } from '../errors.ts';
import type { GlobalOptions } from './options.ts';
import { printJson, say, warn } from './output.ts';
import { table } from './status.ts';

export interface EnginesOptions extends GlobalOptions {
  available?: boolean;
  source?: TreeSource;
  suite?: string;
  distribution?: 'debian' | 'ubuntu';
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}

export async function enginesCommand(verb: string | undefined, versions: string[], opts: EnginesOptions, signal: AbortSignal): Promise<number> {
  const env = sourceOptionsFromEnv();
  if (!verb || verb === 'list') {
    if (versions.length) throw new UsageError('overlab engines list takes no version (fetch and prune do)');
    if (opts.available) {
      const offers = await availableEngines(opts.distribution ?? 'debian', { ...env, ...(opts.suite ? { suite: opts.suite } : {}), signal });
      if (opts.json) {
        printJson(offers);
        return 0;
      }
      say(table([['SUITE', 'DOCKER.IO', 'CONTAINERD', 'RUNC', 'LIBC6', 'ARCHIVE'], ...offers.map((o) => [o.suite, o.engine ?? '-', o.containerd ?? '-', o.runc ?? '-', o.libc ?? '-', o.url])]));
      for (const o of offers) {
        if (o.error) warn(`${o.suite}: ${o.error}`);
        if (o.expiredAccepted) warn(`${o.suite}: the signed index expired on ${o.expiredAccepted.slice(0, 10)} (accepted: OVERLAB_ARCHIVE_ALLOW_EXPIRED=1)`);
      }
      return offers.every((o) => o.error) ? 1 : 0;
    }
    const cached = listCachedEngines();
    if (opts.json) {
      printJson({ cache: engineCacheRoot(), engines: cached });
      return 0;
    }
    if (!cached.length) say(`no engine trees in ${engineCacheRoot()}`);
    else say(table([['VERSION', 'ORIGIN', 'WHAT', 'SIZE', 'FOLDER'], ...cached.map((c) => [c.version, c.origin, c.detail, mib(c.bytes), c.dir])]));
    return 0;
  }
  if (verb === 'fetch') {
    if (!versions.length) throw new UsageError('overlab engines fetch needs at least one release, e.g. 28.5.2');
    const results = [];
    for (const v of versions) {
      const started = Date.now();
      const t = await resolveEngine(v, opts.source ?? 'auto', { ...env, ...(opts.suite ? { suite: opts.suite } : {}), signal, onNote: (m) => opts.quiet || warn(m) });
      const ms = Date.now() - started;
      results.push({ version: t.version, bin: t.bin, fetched: t.fetched, ms, origin: t.origin });
      if (!opts.json && !opts.quiet) say(`${t.version}: ${t.fetched ? `fetched in ${(ms / 1000).toFixed(1)} s` : 'cached'}: ${describeOrigin(t.origin)} -> ${t.bin}`);
    }
    if (opts.json) printJson(results);
    return 0;
  }
  if (verb === 'prune') {
    const gone = pruneEngines(versions.length ? versions : undefined);
    if (opts.json) printJson(gone);
    else if (!opts.quiet) say(gone.length ? `removed ${gone.map((g) => `${g.dir} (${mib(g.bytes)})`).join(', ')}` : 'nothing to remove');
    return 0;
  }
  throw new UsageError(`overlab engines: unknown verb ${verb} (list, fetch, prune)`);
}
