// Graphviz's `dot`, to turn a DOT picture into SVG (Debian's graphviz package).
import { execa } from 'execa';
import { PrerequisiteError } from '../errors.ts';
import { findProgram } from './programs.ts';
import { setupScript } from './package-root.ts';

export async function dotToSvg(dot: string, signal?: AbortSignal): Promise<string> {
  const bin = findProgram('dot');
  if (!bin) throw new PrerequisiteError('Graphviz is not installed (no `dot` on PATH)', { hint: `Run ${setupScript()} (installs graphviz), or use --format dot or mermaid.` });
  const r = await execa(bin, ['-Tsvg'], { input: dot, timeout: 30_000, ...(signal ? { cancelSignal: signal } : {}) });
  return String(r.stdout);
}
