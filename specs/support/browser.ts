// Looking at a page as a person would: Debian's chromium, headless, on a local file. It dumps
// the DOM after the page's own script ran, and writes a screenshot. No network is touched: the
// flags turn off chromium's background connections, and the pages fetch nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { findProgram } from '../../harness/system/programs.ts';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars'];

export function chromiumPath(): string {
  const p = findProgram('chromium') ?? findProgram('chromium-browser');
  if (!p) throw new Error('chromium is not installed: scripts/setup-host.sh installs it');
  return p;
}

async function run(args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'overlab-chromium-'));
  try {
    const r = await execa(chromiumPath(), [...FLAGS, `--user-data-dir=${profile}`, ...args], { timeout: 60_000, stdin: 'ignore' });
    return String(r.stdout);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM as chromium has it once loaded and its scripts ran. */
export function renderedDom(file: string): Promise<string> {
  return run(['--virtual-time-budget=2000', '--dump-dom', pathToFileURL(file).href]);
}

export async function screenshot(file: string, png: string, size = '1400,1000'): Promise<void> {
  await run([`--window-size=${size}`, `--screenshot=${png}`, pathToFileURL(file).href]);
}
