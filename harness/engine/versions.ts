// What an engine actually runs, read from the running daemon (GET /version: its own version and
// API, and the containerd and runc it uses as the daemon itself asks them), never from the
// request: a dockerd may start another containerd than the one it was given (a 28.5 dockerd with
// a tree's containerd 2.1 started this machine's 1.6 when the tree was not first on its PATH).
import type Docker from 'dockerode';

export interface RunningVersions {
  engine: string;
  api: string;
  containerd: string | undefined;
  runc: string | undefined;
  init: string | undefined;
}

interface VersionAnswer {
  Version: string;
  ApiVersion: string;
  Components?: { Name: string; Version: string }[];
}

export async function runningVersions(docker: Docker): Promise<RunningVersions> {
  const v = (await docker.version()) as unknown as VersionAnswer;
  const component = (name: string) => v.Components?.find((c) => c.Name.toLowerCase() === name)?.Version;
  return { engine: v.Version, api: v.ApiVersion, containerd: component('containerd'), runc: component('runc'), init: component('docker-init') };
}

/** The version a program prints: `containerd github.com/containerd/containerd/v2 2.1.9+unknown` -> 2.1.9+unknown. */
export function programVersion(output: string): string | undefined {
  const first = output.trim().split('\n')[0] ?? '';
  return /\bv?(\d+\.\d+\.\d+[^\s,]*)/.exec(first)?.[1];
}

/** Whether two version strings name the same release (a leading v and build suffixes aside). */
export function sameRelease(a: string, b: string): boolean {
  const core = (x: string) => /(\d+\.\d+\.\d+)/.exec(x)?.[1];
  return core(a) !== undefined && core(a) === core(b);
}
