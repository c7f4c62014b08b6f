// The overlab command line: parses flags, calls the library, prints. Thin on purpose.
// Each command's module is imported only when that command runs, so `--version`, `--help` and
// the light commands never load the engine, SSH or listr2 code the heavy ones need.
// Over 300 lines on purpose: it is the one table of every command and option (docs/cli.md is
// checked against it by specs/unit/cli-docs.spec.ts); split per command, that table would scatter.
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { FAULT_SPEC_KINDS } from '../lab/fault-spec-kinds.ts';
import { abortStatus, interruptSignal } from './interrupt.ts';
import type { GlobalOptions } from './options.ts';

/** A command's function: its positional arguments, its options, then the interrupt signal. */
type CommandFn = (...args: never[]) => Promise<number | void>;

/** Where each command lives; imported on use. */
export const COMMAND_MODULES = {
  validate: () => import('./validate.ts').then((m) => m.validateCommand),
  plan: () => import('./plan.ts').then((m) => m.planCommand),
  render: () => import('./render.ts').then((m) => m.renderCommand),
  up: () => import('./up.ts').then((m) => m.upCommand),
  down: () => import('./down.ts').then((m) => m.downCommand),
  status: () => import('./status.ts').then((m) => m.statusCommand),
  env: () => import('./env.ts').then((m) => m.envCommand),
  ssh: () => import('./ssh.ts').then((m) => m.sshCommand),
  test: () => import('./test.ts').then((m) => m.testCommand),
  config: () => import('./config.ts').then((m) => m.configCommand),
  ip: () => import('./ip.ts').then((m) => m.ipCommand),
  ls: () => import('./ls.ts').then((m) => m.lsCommand),
  graph: () => import('./graph.ts').then((m) => m.graphCommand),
  handout: () => import('./handout.ts').then((m) => m.handoutCommand),
  report: () => import('./report.ts').then((m) => m.reportCommand),
  matrix: () => import('./matrix.ts').then((m) => m.matrixCommand),
  'matrix merge': () => import('./matrix.ts').then((m) => m.matrixMergeCommand),
  fault: () => import('./fault.ts').then((m) => m.faultCommand),
  engines: () => import('./engines.ts').then((m) => m.enginesCommand),
} satisfies Record<string, () => Promise<CommandFn>>;

export type CommandName = keyof typeof COMMAND_MODULES;

/** What an action does with the parsed command: `main` runs it; tests only record it. */
export type Dispatch = (command: CommandName, args: unknown[], opts: GlobalOptions) => Promise<void>;

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('It must be a number of 0 or more.');
  return n;
}

function percent(value: string): number {
  const n = nonNegativeNumber(value);
  if (n > 100) throw new InvalidArgumentError('It must be a percentage, 0 to 100.');
  return n;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('It must be a whole number of 1 or more.');
  return n;
}

/** The command line's grammar, with no side effect until an action runs `dispatch`. */
export function buildProgram(dispatch: Dispatch, version: string): Command {
  const program = new Command('overlab')
    .description('Turns a YAML lab file into a running multi-host Docker lab and proves overlay networking works.')
    .version(version, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  const labOption = () => new Option('-l, --lab <lab>', 'lab file, or the name of a lab in labs/ (default: tutorial)');
  const json = () => new Option('--json', 'machine-readable output');
  const quiet = (what = 'nothing on success; notes go to the lab\'s log and to `overlab status`') => new Option('-q, --quiet', what);
  const providerCheck = () =>
    new Option('-p, --provider <provider>', 'the provider the lab is expected on; refused when the lab is up on another one').choices(['auto', 'netns', 'vagrant', 'ssh']);
  const libvirtOption = () =>
    new Option(
      '--libvirt <mode>',
      'vagrant provider: "local" runs a libvirtd of the lab\'s own in a namespace, with QEMU under emulation and the box of scripts/build-box.sh; qemu+ssh://USER@SERVER/system puts the VMs on that server\'s libvirt, reached over SSH (env OVERLAB_LIBVIRT)',
    );
  const action =
    (name: CommandName) =>
    async (...args: unknown[]) => {
      // commander passes the positional arguments, the options, then the Command itself. A
      // subcommand's options (`matrix merge ... --json`) may be taken by its parent's option of
      // the same name: a subcommand reads both, its own first.
      const cmd = args[args.length - 1] as Command;
      const opts = (cmd.parent?.parent ? cmd.optsWithGlobals() : (args[args.length - 2] ?? {})) as GlobalOptions;
      await dispatch(name, [...args.slice(0, -2), opts], opts);
    };

  program.command('validate').description('check a lab file and print every problem as file:line:column').argument('[lab]').addOption(labOption()).addOption(json()).action(action('validate'));
  program.command('plan').description('print the plan computed from a lab file (JSON)').argument('[lab]').addOption(labOption()).action(action('plan'));
  program
    .command('render')
    .description("write the lab's Vagrantfile into its state folder (.overlab/<lab>/Vagrantfile)")
    .argument('[lab]')
    .addOption(labOption())
    .addOption(json())
    .option('--vbox-networks-conf <file>', 'VirtualBox networks.conf to check host-only addresses against', '/etc/vbox/networks.conf')
    .action(action('render'));
  program
    .command('up')
    .description('bring a lab up: hosts, KV store, engines, overlay networks, containers')
    .argument('[lab]')
    .addOption(labOption())
    .addOption(new Option('-p, --provider <provider>', 'override the lab file: auto, netns, vagrant, ssh').choices(['auto', 'netns', 'vagrant', 'ssh']))
    .option('-n, --dry-run', 'print, per host, every command that would run, and run none')
    .addOption(libvirtOption())
    .option('--accept-new-host-keys', "ssh provider: trust a machine's host key at first contact (when no known_hosts lists it, and the lab file pins none) and record it in .overlab/<lab>/known_hosts")
    .addOption(new Option('--copies <n>', 'bring up N copies of the lab side by side, named <lab>-01 ... <lab>-NN (a room of students)').argParser(positiveInteger))
    .option('--as <name>', 'bring the lab up as one copy of this name')
    .option('--owner <list>', 'netns: hand the lab to a Unix user (NAME or UID) or group (:NAME or :GID), who may then use its engines (overlab env), status, test, ssh and graph without sudo, and nobody else but root; with --copies, one owner for all or one per copy, comma-separated (a room of students)')
    .addOption(new Option('--jobs <n>', 'copies brought up at once (default 4)').argParser(positiveInteger))
    .option('--force', 'with --copies: go on even when the memory estimate says the machine cannot hold them')
    .option('--allow-missing', "bring the lab up even when the hosts' kernel lacks a feature it needs (IP_VS, INET_ESP); the specs that need it report n/a")
    .addOption(quiet())
    .addOption(json())
    .action(action('up'));
  program
    .command('down')
    .description('remove everything the lab created; idempotent')
    .argument('[lab]')
    .addOption(labOption())
    .addOption(providerCheck())
    .option('-f, --force', 'also find leftovers by the lab name prefix (after a crash or a lost state file)')
    .option('-a, --all', 'take every lab under the state root down')
    .addOption(libvirtOption())
    .addOption(quiet('nothing on success'))
    .addOption(json())
    .action(action('down'));
  program
    .command('status')
    .description('hosts, engines, KV store, networks and containers of a lab, and the notes of its last up; with --all, every lab on this machine')
    .argument('[lab]')
    .addOption(labOption())
    .addOption(providerCheck())
    .option('-a, --all', 'every lab under the state root: provider, hosts up, containers, last spec result, age, memory')
    .addOption(json())
    .action(action('status'));
  program
    .command('env')
    .description('print the exports that point the docker CLI at a host\'s engine: eval "$(overlab env HOST)"')
    .argument('[host]')
    .addOption(labOption())
    .addOption(providerCheck())
    .option('-u, --unset', 'print the commands that undo it')
    .addOption(json())
    .action(action('env'));
  program
    .command('config')
    .description('print the flags that point the docker CLI at a host\'s engine: docker $(overlab config HOST) ps')
    .argument('<host>')
    .addOption(labOption())
    .addOption(providerCheck())
    .addOption(json())
    .action(action('config'));
  program.command('ip').description("print a host's address").argument('<host>').addOption(labOption()).addOption(json()).action(action('ip'));
  program.command('ls').description('list every host of every lab in the state root, as docker-machine ls did').addOption(json()).action(action('ls'));
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
    .addOption(
      new Option('-p, --provider <provider>', 'when the lab must be brought up, override the lab file; when it is up, the provider it is expected on').choices(['auto', 'netns', 'vagrant', 'ssh']),
    )
    .addOption(libvirtOption())
    .addOption(new Option('--concurrency <n>', 'probes in flight at once (default: 8, fewer when the engines are slow)').argParser(positiveInteger))
    .option('-a, --all', 'run the specs of every lab that is up, then print the room summary')
    .option('--faults [kinds]', `run the fault specs instead: partition, KV outage or unreachable manager, engine restart and kill, slow link; recovery times measured (reports in .overlab/<lab>/reports/faults/); only the kinds listed, comma-separated, when given (${FAULT_SPEC_KINDS.join(', ')})`)
    .option('--recovery-bound <seconds>', 'with --faults: how long what a fault broke may take to come back once it is undone (whole seconds 1-600, times the lab\'s pace; default 20)')
    .option('--allow-missing', "when the lab must be brought up: even when the hosts' kernel lacks a feature it needs (those specs report n/a)")
    .option('--spec <path>', "a spec file of your own (or a glob), run after the built-in specs and those the lab file's specs.files names (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
    .addOption(quiet('nothing on success: no progress, no spec lines, no summary'))
    .addOption(json())
    .action(action('test'));
  program
    .command('ssh')
    .description('open a shell on a lab host, or run a command there')
    .argument('<host>')
    .argument('[command...]')
    .addOption(labOption())
    .addOption(providerCheck())
    .option('-n, --dry-run', 'print the ssh command line, shell-quoted, and run nothing')
    .action(action('ssh'));
  program
    .command('graph')
    .description("draw the lab's topology (hosts and addresses, KV store, overlays, containers); live addresses and states once it is up")
    .argument('[lab]')
    .addOption(labOption())
    .addOption(new Option('-f, --format <format>', 'svg (Graphviz), dot, or mermaid (for Markdown)').choices(['svg', 'dot', 'mermaid']).default('svg'))
    .option('-o, --out <file>', 'write it to a file instead of stdout')
    .option('--no-live', 'draw from the plan only, even when the lab is up')
    .addOption(quiet('print nothing but the picture'))
    .action(action('graph'));
  program
    .command('handout')
    .description('write what a student types for a lab (or every lab that is up): Markdown, and one printable HTML page')
    .argument('[lab]')
    .addOption(labOption())
    .option('-a, --all', 'a handout for every lab that is up (the copies of a room)')
    .option('-o, --out <dir>', 'folder to write them to (default .overlab/handouts)')
    .addOption(quiet('nothing on success'))
    .addOption(json())
    .action(action('handout'));
  program
    .command('report')
    .description('write an HTML page of a lab, or with --all of every lab (the room): drawings and spec results, failing labs first')
    .argument('[lab]')
    .addOption(labOption())
    .option('-a, --all', 'every lab under the state root')
    .option('-o, --out <file>', 'the page to write (default .overlab/room.html, or .overlab/<lab>.html)')
    .option('-w, --watch', 'write the page again whenever a lab changes, until Ctrl-C; the page reloads itself')
    .addOption(quiet('nothing on success'))
    .addOption(json())
    .action(action('report'));
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const matrix = program
    .command('matrix')
    .description('run the specs across engines, modes and KV stores, each cell a lab of its own (up, specs, down); one report (JSON, JUnit, HTML) and what changed')
    .argument('[lab]')
    .addOption(labOption())
    .option('--engines <list>', 'engines: system (this machine\'s) and/or exact releases X.Y.Z (found in the cache, then Debian\'s package archive, then Docker\'s static downloads; static:X.Y.Z, debian:X.Y.Z or ubuntu:X.Y.Z to say where from), comma-separated (default: the lab file\'s matrix.engines, else system)')
    .option('--kv <list>', 'KV stores for kv mode: etcd, zookeeper, consul (default: matrix.kv, else etcd)')
    .option('--modes <list>', 'kv, swarm (default: matrix.modes, else kv,swarm)')
    .addOption(new Option('-p, --provider <provider>', 'override the lab file: auto, netns, vagrant, ssh').choices(['auto', 'netns', 'vagrant', 'ssh']))
    .addOption(new Option('--jobs <n>', 'cells at once (default: from free memory and cores, stated at start)').argParser(positiveInteger))
    .option('--fail-fast', 'start no further cell once one fails')
    .option('-o, --out <dir>', 'folder for matrix.json, junit.xml, matrix.html and the cells\' lab files (default .overlab/matrix)')
    .option('--compare <previous>', 'a previous matrix.json: mark what changed; exit 1 only when something newly fails')
    .option('--engine-mirror <url>', 'folder URL (http, https, file) holding docker-VERSION.tgz, instead of Docker\'s static download location')
    .option('--engine-sha256 <version=hex>', 'the SHA-256 a static archive must have (repeatable)', collect)
    .option('--cell-flag <cell=flag>', 'an extra dockerd flag for one cell, e.g. sys-et=--debug (repeatable)', collect)
    .option('--list', 'print the cells (id, engine, mode, KV store, runnable or why not) and run nothing; with --json, as a CI job matrix takes them')
    .option('--cell <ids>', 'run only these cells (comma-separated or repeated), e.g. one per CI job; n/a cells are listed all the same; join the parts with `overlab matrix merge`', collect)
    .addOption(quiet('nothing on success'))
    .addOption(json())
    .action(action('matrix'));
  matrix
    .command('merge')
    .description('join the reports of matrix parts run apart (--cell, one CI job each) into one matrix.json, junit.xml and matrix.html, as one run would have written them')
    .argument('<dirs...>', 'the parts\' --out folders (or their matrix.json files)')
    .option('-o, --out <dir>', 'folder for the merged reports (default .overlab/matrix)')
    .option('--compare <previous>', 'a previous matrix.json: mark what changed; exit 1 only when something newly fails')
    .addOption(quiet('nothing on success'))
    .addOption(json())
    .action(action('matrix merge'));
  program
    .command('engines')
    .description('engine trees: list what the cache holds (--available: what the package archives offer), fetch releases ahead of a lab or matrix, prune the cache')
    .addArgument(new Argument('[verb]').choices(['list', 'fetch', 'prune']))
    .argument('[versions...]', 'releases X.Y.Z (fetch: also package versions such as 28.5.2+dfsg4-5; prune: versions or cache folders)')
    .option('--available', 'list: what each suite of the archive offers (docker.io, containerd, runc, libc6), read on its chain of trust')
    .addOption(new Option('--distribution <name>', 'list --available: whose archive').choices(['debian', 'ubuntu']))
    .addOption(new Option('--source <source>', 'fetch: where from (default auto: the cache, Debian\'s archive, Docker\'s static downloads)').choices(['auto', 'debian', 'ubuntu', 'static']))
    .option('--suite <suite>', 'fetch, list --available: one suite only (sid, trixie, noble-updates)')
    .addOption(quiet('nothing on success'))
    .addOption(json())
    .action(action('engines'));
  program
    .command('fault')
    .description(
      "put a fault in place on a live lab, recorded in its state (status shows it; heal and down undo it): partition HOST [--from HOST], heal [HOST], kv-down, kv-up, restart-engine HOST, kill-engine HOST, latency HOST --ms N [--loss P], rate HOST --mbit N",
    )
    // Kept in step with FAULT_VERBS in ./fault.ts (not imported: the table loads command modules on use).
    .addArgument(new Argument('<verb>').choices(['partition', 'heal', 'kv-down', 'kv-up', 'restart-engine', 'kill-engine', 'latency', 'rate']))
    .argument('[host]')
    .addOption(labOption())
    .option('--from <host>', 'partition: cut the host off from this host only (default: from every host)')
    .addOption(new Option('--ms <n>', 'latency: delay added on the host\'s underlay, in ms').argParser(nonNegativeNumber))
    .addOption(new Option('--loss <percent>', 'latency: packets lost, in percent').argParser(percent))
    .addOption(new Option('--mbit <n>', 'rate: the underlay\'s rate limit, in Mbit/s').argParser(positiveInteger))
    .addOption(quiet('nothing on success'))
    .addOption(json())
    .action(action('fault'));
  return program;
}

export async function main(argv: string[], options: { version: string }): Promise<void> {
  const signal = interruptSignal();
  // A reader that stops early (`overlab status | head -3`) is not an error of overlab's.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const dispatch: Dispatch = async (name, args, opts) => {
    const { reportError } = await import('./output.ts');
    try {
      signal.throwIfAborted();
      const fn = (await COMMAND_MODULES[name]()) as (...a: unknown[]) => Promise<number | void>;
      const code = await fn(...args, signal);
      process.exitCode = signal.aborted ? abortStatus(signal) : (code ?? 0);
    } catch (e) {
      const { elevate } = await import('./root.ts');
      const elevated = await elevate(e, argv, signal);
      if (elevated !== undefined) process.exitCode = elevated;
      else if (signal.aborted) {
        // An interrupted command ends with its signal's status, whatever error the abort surfaced as.
        reportError(Object.assign(new Error('interrupted'), { name: 'AbortError' }), !!opts.json);
        process.exitCode = abortStatus(signal);
      } else process.exitCode = reportError(e, !!opts.json);
    }
  };
  const program = buildProgram(dispatch, options.version);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    if (typeof code === 'number') process.exitCode = code === 0 ? 0 : 64;
    else process.exitCode = (await import('./output.ts')).reportError(e, false);
  }
}
