// Finding a program on this machine: the caller's PATH first, then the usual system folders
// (root's PATH under sudo or in CI may lack the sbin folders where ip, sshd and libvirtd live).
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const SYSTEM_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The path of an executable file called `name`, or undefined. */
export function findProgram(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of [...(env['PATH'] ?? '').split(delimiter), ...SYSTEM_BIN_DIRS]) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) return p;
    } catch {
      // Not there.
    }
  }
  return undefined;
}
