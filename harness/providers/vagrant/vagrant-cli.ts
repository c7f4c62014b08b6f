// `vagrant` itself: run in the lab's state folder (in the lab's libvirt namespace when it has
// one), its output streamed to logs/vagrant.log, a failure raised with that output.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { CommandFailedError, PrerequisiteError } from '../../errors.ts';
import { inNamespace } from '../../system/namespaces.ts';
import { shellJoin } from '../../quote.ts';
import type { LabContext } from '../../state/lab-context.ts';
import { LibvirtDaemons } from './libvirt-daemons.ts';
import { setupScript } from '../../system/package-root.ts';

/** Runs `vagrant ARGS` in the lab's state folder; its output is streamed to logs/vagrant.log. */
export async function runVagrant(args: readonly string[], ctx: LabContext, options: { onLine?: (line: string) => void } = {}): Promise<string> {
const cwd = ctx.store.dir;
// A lab with its own libvirt runs vagrant in that libvirt's namespace, where the guests are.
const local = LibvirtDaemons.recorded(ctx);
const argv = local ? inNamespace(local.namespace, ['vagrant', ...args]) : ['vagrant', ...args];
const command = shellJoin(argv);
const log = join(cwd, 'logs', 'vagrant.log');
mkdirSync(join(cwd, 'logs'), { recursive: true });
appendFileSync(log, `[${new Date().toISOString()}] $ ${command}\n`);
ctx.events.emit({ type: 'command', host: '(vagrant)', command });
const child = execa(argv[0]!, argv.slice(1), {
  cwd,
  env: { VAGRANT_CHECKPOINT_DISABLE: '1', ...(local ? { LIBVIRT_DEFAULT_URI: 'qemu:///system' } : {}) },
  stdin: 'ignore',
  all: true,
  reject: false,
  cancelSignal: ctx.signal,
});
let partial = '';
child.all?.on('data', (d: Buffer) => {
  appendFileSync(log, d);
  if (!options.onLine) return;
  const lines = (partial + d.toString()).split('\n');
  partial = lines.pop() ?? '';
  for (const l of lines) options.onLine(l);
});
const r = await child;
appendFileSync(log, `[${new Date().toISOString()}] exit ${r.exitCode ?? 'none'}\n`);
if (r.isCanceled) throw ctx.signal.reason ?? new Error('interrupted');
if ((r.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
  throw new PrerequisiteError('vagrant is not installed (not found on PATH)', { hint: `Run \`sudo ${setupScript()}\`, or use --provider netns.` });
}
if (r.exitCode !== 0) {
  throw new CommandFailedError({ command: `${command} (in ${cwd})`, exitCode: r.exitCode ?? null, output: String(r.all ?? '') }, { hint: `Full output: ${log}` });
}
return String(r.stdout);
}
