// A lab's specs in a process of its own: `overlab test LAB --json --destroy never`, as `test
// --all` runs each copy of a room and the matrix each cell. One mocha run per process (the spec
// files register their tests as they load), and a child's crash is its own.
import { execa } from 'execa';

/** How this overlab is started again: node, its flags (tsx's loader when running the sources), and the script. */
export interface OverlabCli {
  node: string;
  execArgv: string[];
  script: string;
}

/** The overlab this process runs, for a child of its own. */
export function thisOverlab(): OverlabCli {
  return { node: process.execPath, execArgv: process.execArgv, script: process.argv[1]! };
}

export interface ChildTestRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `overlab test REF --json --destroy never ARGS...` and waits for it; the signal ends it.
 * Never throws for the child's exit status: the caller reads the report (stdout, or the lab's
 * reports folder) and decides.
 */
export async function testInChild(ref: string, options: { cli?: OverlabCli; args?: readonly string[]; env?: Record<string, string>; signal: AbortSignal }): Promise<ChildTestRun> {
  const cli = options.cli ?? thisOverlab();
  const child = await execa(cli.node, [...cli.execArgv, cli.script, 'test', ref, '--json', '--destroy', 'never', ...(options.args ?? [])], {
    reject: false,
    cancelSignal: options.signal,
    stdin: 'ignore',
    ...(options.env ? { env: options.env } : {}),
  });
  return { exitCode: child.exitCode ?? -1, stdout: String(child.stdout ?? ''), stderr: String(child.stderr ?? '') };
}
