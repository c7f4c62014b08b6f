// Reading a URL whole: file:// from disk, http(s):// with fetch. One place for what a failed
// read says ("cannot fetch URL: CAUSE"); the caller names the error class it throws, so an engine
// archive and a package archive each fail as their own kind.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Makes the caller's error from a message ("cannot fetch URL: ENOENT") and what failed: the address, a file, the network, or the server's answer. */
export type FetchFailure = (message: string, what: 'address' | 'file' | 'network' | 'answer') => Error;

export async function fetchBytes(url: string, fail: FetchFailure, signal?: AbortSignal): Promise<Buffer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail(`${url}: not a URL (http://, https:// or file://)`, 'address');
  }
  if (parsed.protocol === 'file:') {
    try {
      return readFileSync(fileURLToPath(parsed));
    } catch (e) {
      throw fail(`cannot fetch ${url}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'file');
    }
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw fail(`cannot fetch ${url}: ${parsed.protocol} is not http, https or file`, 'address');
  let res: Response;
  try {
    res = await fetch(url, signal ? { signal } : {});
  } catch (e) {
    signal?.throwIfAborted();
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw fail(`cannot fetch ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`, 'network');
  }
  if (!res.ok) throw fail(`cannot fetch ${url}: HTTP ${res.status} ${res.statusText}`, 'answer');
  return Buffer.from(await res.arrayBuffer());
}
