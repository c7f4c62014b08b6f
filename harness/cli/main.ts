// The overlab command line: parses flags, calls the library, prints. Thin on purpose.
import { Command, InvalidArgumentError, Option } from 'commander';
import { reportError } from './output.ts';
import { validateCommand } from './validate.ts';
import { renderCommand } from './render.ts';
import { upCommand } from './up.ts';
import { graphCommand } from './graph.ts';
import { handoutCommand } from './handout.ts';
import { reportCommand } from './report.ts';
import { DEFAULT_COPY_JOBS } from './up-copies.ts';
import { downCommand } from './down.ts';
import { statusCommand } from './status.ts';
import { envCommand } from './env.ts';
import { sshCommand } from './ssh.ts';
import { configCommand } from './config.ts';
import { ipCommand } from './ip.ts';
import { lsCommand } from './ls.ts';
import { planCommand } from './plan.ts';
import { testCommand } from './test.ts';

export interface GlobalOptions {
  lab?: string;
  json?: boolean;
  quiet?: boolean;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('It must be a whole number of 1 or more.');
  return n;
}

/** Cancels long operations on the first Ctrl-C; a second one exits at once. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  let count = 0;
  const onSignal = () => {
    count++;
    if (count === 1) {
      process.stderr.write('\noverlab: stopping (Ctrl-C again to quit at once)\n');
      controller.abort(Object.assign(new Error('interrupted'), { name: 'AbortError' }));
    } else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

export async function main(argv: string[]): Promise<void> {
  const signal = interruptSignal();
  const program = new Command('overlab')
    .description('Turns a YAML lab file into a running multi-host Docker lab and proves overlay networking works.')
    .showHelpAfterError()
    .exitOverride();
  const labOption = () => new Option('-l, --lab <lab>', 'lab file, or the name of a lab in labs/ (default: tutorial)');
  const json = () => new Option('--json', 'machine-readable output');
  const libvirtOption = () =>
    new Option('--libvirt <mode>', 'vagrant provider: "local" runs a libvirtd of the lab\'s own in a namespace, with QEMU under emulation and the box of scripts/build-box.sh (env OVERLAB_LIBVIRT)').choices(['local']);
  const wrap =
    (fn: (...a: never[]) => Promise<number | void>) =>
    async (...args: unknown[]) => {
      const opts = args.find((a): a is GlobalOptions => typeof a === 'object' && a !== null && !(a instanceof Command)) ?? {};
      try {
        const code = await (fn as (...a: unknown[]) => Promise<number | void>)(...args.slice(0, -1), signal);
        process.exitCode = code ?? 0;
      } catch (e) {
        process.exitCode = reportError(e, !!opts.json);
      }
    };

  program.command('validate').description('check a lab file and print every problem as file:line:column').argument('[lab]').addOption(labOption()).addOption(json()).action(wrap(validateCommand));
  program.command('plan').description('print the plan computed from a lab file (JSON)').argument('[lab]').addOption(labOption()).action(wrap(planCommand));
  program
    .command('render')
    .description("write the lab's Vagrantfile into its state folder (.overlab/<lab>/Vagrantfile)")
    .argument('[lab]')
    .addOption(labOption())
    .addOption(json())
    .option('--vbox-networks-conf <file>', 'VirtualBox networks.conf to check host-only addresses against', '/etc/vbox/networks.conf')
    .action(wrap(renderCommand));
  program
    .command('up')
    .description('bring a lab up: hosts, KV store, engines, overlay networks, containers')
    .argument('[lab]')
    .addOption(labOption())
    .option('-p, --provider <provider>', 'override the lab file: auto, netns, vagrant, ssh')
    .option('-n, --dry-run', 'print, per host, every command that would run, and run none')
    .addOption(libvirtOption())
    .addOption(new Option('--copies <n>', 'bring up N copies of the lab side by side, named <lab>-01 ... <lab>-NN (a room of students)').argParser(positiveInteger))
    .option('--as <name>', 'bring the lab up as one copy of this name')
    .addOption(new Option('--jobs <n>', `copies brought up at once (default ${DEFAULT_COPY_JOBS})`).argParser(positiveInteger))
    .option('--force', 'with --copies: go on even when the memory estimate says the machine cannot hold them')
    .option('--accept-new-host-keys', "ssh provider: trust a machine's host key at first contact (when no known_hosts lists it, and the lab file pins none) and record it in .overlab/<lab>/known_hosts")
    .option('-q, --quiet', 'no progress output')
    .addOption(json())
    .action(wrap(upCommand));
  program
    .command('down')
    .description('remove everything the lab created; idempotent')
    .argument('[lab]')
    .addOption(labOption())
    .option('-f, --force', 'also find leftovers by the lab name prefix (after a crash or a lost state file)')
    .option('-a, --all', 'take every lab under the state root down')
    .addOption(libvirtOption())
    .option('-q, --quiet', 'no output')
    .addOption(json())
    .action(wrap(downCommand));
  program
    .command('status')
    .description('hosts, engines, KV store, networks and containers of a lab; with --all, every lab on this machine')
    .argument('[lab]')
    .addOption(labOption())
    .option('-a, --all', 'every lab under the state root: provider, hosts up, containers, last spec result, age, memory')
    .addOption(json())
    .action(wrap(statusCommand));
  program
    .command('env')
    .description('print the exports that point the docker CLI at a host\'s engine: eval "$(overlab env HOST)"')
    .argument('[host]')
    .addOption(labOption())
    .option('-u, --unset', 'print the commands that undo it')
    .addOption(json())
    .action(wrap(envCommand));
  program
    .command('config')
    .description('print the flags that point the docker CLI at a host\'s engine: docker $(overlab config HOST) ps')
    .argument('<host>')
    .addOption(labOption())
    .addOption(json())
    .action(wrap(configCommand));
  program.command('ip').description("print a host's address").argument('<host>').addOption(labOption()).addOption(json()).action(wrap(ipCommand));
  program.command('ls').description('list every host of every lab in the state root, as docker-machine ls did').addOption(json()).action(wrap(lsCommand));
  program
    .command('test')
    .description('run the acceptance specs against a lab, bringing it up first if it is not; JUnit and JSON reports go to .overlab/<lab>/reports/')
    .argument('[lab]')
    .addOption(labOption())
    .addOption(
      new Option('--destroy <when>', 'take the lab down afterwards: never, passing (all specs passed) or always (default: never for a lab that was up, passing otherwise)').choices([
        'never',
        'passing',
        'always',
      ]),
    )
    .option('-p, --provider <provider>', 'when the lab must be brought up, override the lab file: auto, netns, vagrant, ssh')
    .addOption(libvirtOption())
    .addOption(new Option('--concurrency <n>', 'probes in flight at once (default: 8, fewer when the engines are slow)').argParser(positiveInteger))
    .option('-a, --all', 'run the specs of every lab that is up, then print the room summary')
    .addOption(json())
    .action(wrap(testCommand));
  program
    .command('graph')
    .description("draw the lab's topology (hosts and addresses, KV store, overlays, containers); live addresses and states once it is up")
    .argument('[lab]')
    .addOption(labOption())
    .addOption(new Option('-f, --format <format>', 'svg (Graphviz), dot, or mermaid (for Markdown)').choices(['svg', 'dot', 'mermaid']).default('svg'))
    .option('-o, --out <file>', 'write it to a file instead of stdout')
    .option('--no-live', 'draw from the plan only, even when the lab is up')
    .action(wrap(graphCommand));
  program
    .command('handout')
    .description('write what a student types for a lab (or every lab that is up): Markdown, and one printable HTML page')
    .argument('[lab]')
    .addOption(labOption())
    .option('-a, --all', 'a handout for every lab that is up (the copies of a room)')
    .option('-o, --out <dir>', 'folder to write them to (default .overlab/handouts)')
    .addOption(json())
    .action(wrap(handoutCommand));
  program
    .command('report')
    .description("write an HTML page of a lab, or with --all of every lab (the room): drawings and spec results, failing labs first")
    .argument('[lab]')
    .addOption(labOption())
    .option('-a, --all', 'every lab under the state root')
    .option('-o, --out <file>', 'the page to write (default .overlab/room.html, or .overlab/<lab>.html)')
    .option('-w, --watch', 'write the page again whenever a lab changes, until Ctrl-C; the page reloads itself')
    .addOption(json())
    .action(wrap(reportCommand));
  program
    .command('ssh')
    .description('open a shell on a lab host, or run a command there')
    .argument('<host>')
    .argument('[command...]')
    .addOption(labOption())
    .option('-n, --dry-run', 'print the ssh command line, shell-quoted, and run nothing')
    .action(wrap(sshCommand));

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    process.exitCode = typeof code === 'number' ? (code === 0 ? 0 : 64) : reportError(e, false);
  }
}
