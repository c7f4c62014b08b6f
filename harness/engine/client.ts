// Access to one host's engine through dockerode: connecting by the provider's endpoint,
// waiting for /_ping, and running commands in containers with their exit codes.
import { PassThrough, type Duplex } from 'node:stream';
import Docker from 'dockerode';
import { EngineApiError, EngineDiedError, OverlabError } from '../errors.ts';
import { ENGINE_SERVICE, type EngineEndpoint, type HostAccess } from '../host.ts';
import { closeSshEngine, sshEngineClient } from '../remote/ssh-engine.ts';
import { FatalProbeError, waitFor, watchPause, withDeadline } from '../wait.ts';
import { panicLine } from './daemon.ts';

export function engineClient(endpoint: EngineEndpoint): Docker {
  switch (endpoint.kind) {
    case 'socket':
      return new Docker({ socketPath: endpoint.socketPath });
    case 'ssh':
      return sshEngineClient(endpoint);
  }
}

/** Releases an engine client's connection (the SSH session of a forwarded socket); no-op for local sockets. */
export function releaseEngine(docker: Docker): void {
  closeSshEngine(docker);
}

/** Releases every host's and engine's connections, so a command can end. */
export function releaseAll(hosts: Iterable<HostAccess>, engines: Iterable<Docker>): void {
  for (const d of engines) releaseEngine(d);
  for (const h of hosts) h.close?.();
}

/** The engine's death as an error naming the host, quoting its panic and pointing at its log. */
export async function engineDeath(host: HostAccess, during: string): Promise<EngineDiedError | undefined> {
  if (await host.services.isRunning(ENGINE_SERVICE)) return undefined;
  const log = await host.services.readLog(ENGINE_SERVICE);
  return new EngineDiedError({ host: host.name, logFile: host.services.logFile(ENGINE_SERVICE), panicLine: panicLine(log) ?? lastLine(log), during });
}

function lastLine(log: string): string | undefined {
  return log.trimEnd().split('\n').at(-1)?.trim() || undefined;
}

export async function waitForEngine(host: HostAccess, docker: Docker, signal: AbortSignal, timeoutMs = 30_000): Promise<string> {
  return waitFor(
    async () => {
      const died = await engineDeath(host, 'while starting');
      if (died) throw new FatalProbeError(died);
      await docker.ping();
      return ((await docker.version()) as { Version: string }).Version;
    },
    {
      what: `the engine on ${host.name} to answer /_ping`,
      timeoutMs,
      intervalMs: 25,
      signal,
      detail: () => `engine log: ${host.services.logFile(ENGINE_SERVICE)}`,
    },
  );
}

/** Every host's engine checked at once (one round trip each over SSH); the first death in the hosts' order. */
async function firstDeath(hosts: readonly HostAccess[], during: string): Promise<EngineDiedError | undefined> {
  return (await Promise.all(hosts.map((h) => engineDeath(h, during)))).find((d) => d !== undefined);
}

/** The shortest pause between two checks of the watched engines (where a check is quick: netns). */
const WATCH_MIN_MS = 100;

/**
 * Runs `fn` while watching the host's engine: if the engine dies first, fails at once with
 * EngineDiedError instead of waiting for an API call that will never answer. The checks take at
 * most a fifth of the time (watchPause): on emulated VMs a death is seen within seconds, not
 * a tenth of one, and the guests' CPU goes to what `fn` waits for.
 */
export async function guardEngine<T>(hosts: HostAccess[], during: string, fn: () => Promise<T>): Promise<T> {
  let stop = false;
  const watch = (async (): Promise<never> => {
    let pause = WATCH_MIN_MS;
    for (;;) {
      await new Promise((r) => setTimeout(r, pause));
      if (stop) return new Promise<never>(() => {});
      const started = Date.now();
      const died = await firstDeath(hosts, during);
      if (died) throw died;
      pause = watchPause(Date.now() - started, WATCH_MIN_MS);
    }
  })();
  try {
    return await Promise.race([fn(), watch]);
  } catch (e) {
    // An API error caused by the engine dying is reported as the death. A dropped connection
    // may come a moment before the process is gone: give it a few seconds to show.
    const dropped = /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE/.test(String((e as Error).message ?? e));
    const deadline = Date.now() + (dropped ? 5000 : 0);
    do {
      const died = await firstDeath(hosts, during);
      if (died) throw died;
      if (Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    if (e instanceof OverlabError || (e instanceof Error && e.name === 'AbortError')) throw e;
    throw new EngineApiError(`the engine refused ${during.replace(/^while /, '')}: ${(e as Error).message.trim()}`, { cause: e });
  } finally {
    stop = true;
  }
}

export interface ContainerExec {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * docker exec with the exit code, read only after the output stream has ended. `timeoutMs`
 * bounds the whole exec: creating it, starting it (a slow engine takes seconds for that) and
 * its output.
 */
export async function execInContainer(docker: Docker, container: string, cmd: string[], timeoutMs = 15_000): Promise<ContainerExec> {
  let stream: Duplex | undefined;
  let expired = false;
  const run = async (): Promise<ContainerExec> => {
    const exec = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const started = await exec.start({ hijack: true, stdin: false });
    stream = started;
    if (expired) started.destroy();
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d: Buffer) => (stdout += d.toString()));
    err.on('data', (d: Buffer) => (stderr += d.toString()));
    docker.modem.demuxStream(started, out, err);
    await new Promise<void>((resolve, reject) => {
      started.on('end', resolve);
      started.on('close', resolve);
      started.on('error', reject);
    });
    let info = (await exec.inspect()) as { ExitCode: number | null; Running: boolean };
    for (let i = 0; info.Running && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      info = (await exec.inspect()) as { ExitCode: number | null; Running: boolean };
    }
    return { exitCode: info.ExitCode ?? -1, stdout, stderr };
  };
  return withDeadline(run(), timeoutMs, () => {
    expired = true;
    stream?.destroy();
    return new Error(`exec in ${container} did not finish within ${timeoutMs} ms: ${cmd.join(' ')}`);
  });
}
