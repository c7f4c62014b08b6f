// The command line's subcommands: `matrix merge` takes the options given after it, even those its
// parent `matrix` also has (--json, --out, --compare), and `matrix` alone still runs a matrix.
import { expect } from 'chai';
import { buildProgram, type CommandName } from '../../harness/cli/main.ts';

async function parse(argv: string[]): Promise<{ command: CommandName; args: unknown[] }> {
  let ran: { command: CommandName; args: unknown[] } | undefined;
  const program = buildProgram(async (command, args) => {
    ran = { command, args };
  }, '0.0.0');
  await program.parseAsync(['node', 'overlab', ...argv]);
  return ran!;
}

describe('subcommands', () => {
  it('matrix merge gets its folders and its own options, --json and --out included', async () => {
    const r = await parse(['matrix', 'merge', 'p1', 'p2', '--out', 'merged', '--json', '--compare', 'old.json']);
    expect(r.command).to.equal('matrix merge');
    expect(r.args[0]).to.deep.equal(['p1', 'p2']);
    expect(r.args[1]).to.deep.include({ out: 'merged', json: true, compare: 'old.json' });
  });

  it('matrix with a lab runs the matrix, with --list and --cell', async () => {
    const r = await parse(['matrix', 'labs/swarm.yaml', '--cell', '2852-sw', '--cell', '2615-sw', '--list', '--json']);
    expect(r.command).to.equal('matrix');
    expect(r.args[0]).to.equal('labs/swarm.yaml');
    expect(r.args[1]).to.deep.include({ cell: ['2852-sw', '2615-sw'], list: true, json: true });
  });

  it('engines takes a verb and versions', async () => {
    const r = await parse(['engines', 'fetch', '28.5.2', '26.1.5', '--source', 'debian']);
    expect(r.command).to.equal('engines');
    expect(r.args.slice(0, 2)).to.deep.equal(['fetch', ['28.5.2', '26.1.5']]);
    expect(r.args[2]).to.deep.include({ source: 'debian' });
  });
});
