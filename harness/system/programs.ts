// Finding a program on this machine. What a spawn by name runs is what PATH finds; a program
// overlab runs by its full path (sshd, libvirtd) may also be in the system folders, which a
// user's PATH often lacks (the sbin folders outside root's PATH).
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const SYSTEM_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The path of an executable file called `name` on PATH (and, with `systemDirs`, in the system folders), or undefined. */
export function findProgram(name: string, options: { env?: NodeJS.ProcessEnv; systemDirs?: boolean } = {}): string | undefined {
  const path = (options.env ?? process.env)['PATH'] ?? '';
  for (const dir of [...path.split(delimiter), ...(options.systemDirs ? SYSTEM_BIN_DIRS : [])]) {
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
