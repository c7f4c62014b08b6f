// engine.flags go last on the command line of an engine root runs: only the allowlisted dockerd
// flags of networking, DNS and logging pass, each with a value grammar. A flag overlab sets
// itself, one that points the engine outside the lab, one not on the list, a value given as a
// second item, or a value that does not fit is refused at the item's file:line:column.
import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { LabFileError, PROBLEM_MESSAGE_MAX, UsageError } from '../../harness/errors.ts';
import { ENGINE_FLAG_NAMES, ENGINE_FLAGS, POINTS_OUTSIDE, SET_BY_OVERLAB, engineFlagProblem } from '../../harness/lab/engine-flags.ts';
import { loadLab, parseLab } from '../../harness/lab/load.ts';
import { quote } from '../../harness/lab/text.ts';
import { planMatrix } from '../../harness/lab/matrix.ts';
import type { Lab } from '../../harness/lab/types.ts';
import { expectOnlyProblem, problemsOf } from './lab-text.ts';

/** A valid swarm lab with these engine.flags items, each written as a JSON string: item i is at line 5 + i, column 7. */
function labWithFlags(...flags: string[]): string {
  return ['name: t', 'engine:', '  mode: swarm', '  flags:', ...flags.map((f) => `    - ${JSON.stringify(f)}`), 'hosts:', '  - name: h1', ''].join('\n');
}

const FLAG_LINE = 5;
const FLAG_COLUMN = 7;
const HINT = 'a lab file may set networking, DNS and logging flags';

/** At least one value each allowlisted flag takes (the lab file reference's examples and the project's own uses among them). */
const VALID: readonly string[] = [
  '--mtu=1400', '--mtu=68', '--network-control-plane-mtu=1500',
  '--iptables', '--iptables=false', '--ip6tables=true', '--ip-forward=false', '--ip-forward-no-drop', '--ip-masq=false', '--ipv6', '--icc=false',
  '--userland-proxy=false', '--userland-proxy', '--allow-direct-routing', '--firewall-backend=nftables',
  '--bip=10.99.0.1/24', '--bip6=fd00:99::1/64', '--fixed-cidr=10.99.0.0/25', '--fixed-cidr-v6=fd00:99::/80',
  '--default-gateway=10.99.0.254', '--default-gateway-v6=fd00:99::fe', '--ip=127.0.0.1', '--host-gateway-ip=10.99.0.1',
  '--default-address-pool=base=10.10.0.0/16,size=24', '--default-address-pool=base=fd00:10::/48,size=64',
  '--default-network-opt=overlay=com.docker.network.driver.mtu=1400', '--default-network-opt=bridge=com.docker.network.bridge.enable_icc=false',
  // The matrix integration spec breaks a cell's overlay this way (docs/release-matrix.md).
  '--cluster-advertise=172.28.153.99:2376',
  '--swarm-default-advertise-addr=eth1', '--swarm-default-advertise-addr=172.28.128.5',
  '--dns=10.0.0.2', '--dns=fd00::53', '--dns-opt=ndots:2', '--dns-opt=edns0', '--dns-search=lab.example',
  '--log-level=debug', '--debug', '--debug=false', '--experimental', '--feature=containerd-snapshotter=false', '--live-restore',
  '--max-concurrent-downloads=6', '--max-concurrent-uploads=2', '--max-download-attempts=1',
  '--default-ulimit=nofile=1024:2048', '--storage-driver=vfs',
];

describe('engine.flags: the dockerd flags a lab file may add', () => {
  describe('refuses what overlab sets itself, at the item, naming the flag and why', () => {
    const cases: [string, string][] = [
      ['--data-root=/etc', '--data-root'],
      ['--pidfile=/etc/shadow', '--pidfile'],
      ['--exec-root=/run/x', '--exec-root'],
      ['--config-file=/tmp/daemon.json', '--config-file'],
      ['--host=tcp://0.0.0.0:2375', '--host'],
      ['--containerd=/run/containerd/containerd.sock', '--containerd'],
      ['--cluster-store=consul://203.0.113.9:8500', '--cluster-store'],
      ['--label=overlab.lab=other', '--label'],
      ['--cgroup-parent=/', '--cgroup-parent'],
      ['--default-runtime=evil', '--default-runtime'],
      ['--tlsverify', '--tlsverify'],
    ];
    for (const [flag, name] of cases) {
      it(flag, () => {
        expectOnlyProblem(labWithFlags(flag), FLAG_LINE, FLAG_COLUMN, `engine.flags[0] ${quote(flag)} is refused: overlab sets ${name} itself`, 'may not override it', HINT);
      });
    }

    it('-H tcp://0.0.0.0:2375 (dockerd\'s short form, refused by the schema\'s shape) names --host and why', () => {
      expectOnlyProblem(labWithFlags('-H tcp://0.0.0.0:2375'), FLAG_LINE, FLAG_COLUMN, 'engine.flags[0] "-H tcp://0.0.0.0:2375" is refused: -H is dockerd\'s --host', 'overlab sets --host itself');
      expectOnlyProblem(labWithFlags('-p/etc/shadow'), FLAG_LINE, FLAG_COLUMN, 'is refused: -p is dockerd\'s --pidfile', 'overlab sets --pidfile itself');
    });

    it('the LabFileError reads file:line:column: engine.flags[N] ...', () => {
      const error = (() => {
        try {
          parseLab(labWithFlags('--mtu=1400', '--data-root=/etc'), 'lab.yaml');
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).to.be.instanceOf(LabFileError);
      expect((error as LabFileError).exitCode).to.equal(65);
      expect((error as LabFileError).message).to.include(`lab.yaml:${FLAG_LINE + 1}:${FLAG_COLUMN}: engine.flags[1] "--data-root=/etc" is refused: overlab sets --data-root itself`);
    });
  });

  describe('refuses what points the root-run engine outside the lab', () => {
    const cases = [
      '--userland-proxy-path=/tmp/x',
      '--add-runtime=evil=/tmp/x',
      '--init-path=/tmp/init',
      '--seccomp-profile=unconfined',
      '--apparmor-profile=/tmp/p',
      '--authorization-plugin=evil',
      '--tlscert=/root/.ssh/id_rsa',
      '--exec-opt=native.cgroupdriver=cgroupfs',
      '--storage-opt=dm.directlvm_device=/dev/sda',
      '--log-driver=syslog',
      '--log-opt=syslog-address=tcp://203.0.113.9:514',
      '--registry-mirror=http://203.0.113.9',
      '--bridge=eth0',
      '--group=users',
    ];
    for (const flag of cases) {
      const name = flag.replace(/=.*$/, '');
      it(flag, () => {
        expectOnlyProblem(labWithFlags(flag), FLAG_LINE, FLAG_COLUMN, `engine.flags[0] ${quote(flag)} is refused: ${name} would point the root-run engine outside the lab (at `, HINT);
      });
    }
  });

  describe('refuses a flag not on the allowlist', () => {
    it('names it and what is allowed', () => {
      expectOnlyProblem(labWithFlags('--frobnicate=1'), FLAG_LINE, FLAG_COLUMN, 'engine.flags[0] "--frobnicate=1" is refused: --frobnicate is not on overlab\'s list of dockerd flags a lab file may set', HINT, 'docs/lab-file.md, engine.flags');
    });

    it('suggests the nearest allowed flag for a typo', () => {
      expectOnlyProblem(labWithFlags('--iptable=false'), FLAG_LINE, FLAG_COLUMN, '--iptable is not on overlab\'s list', '(did you mean --iptables?)');
    });

    it('takes no name of Object.prototype for a flag (--constructor)', () => {
      expectOnlyProblem(labWithFlags('--constructor'), FLAG_LINE, FLAG_COLUMN, '--constructor is not on overlab\'s list');
    });

    it('reports every refused item, each at its own line', () => {
      const problems = problemsOf(labWithFlags('--data-root=/etc', '--debug', '--userland-proxy-path=/tmp/x', '--frobnicate'));
      expect(problems.map((p) => `${p.line}:${p.column} ${p.message.slice(0, 15)}`)).to.deep.equal(['5:7 engine.flags[0]', '7:7 engine.flags[2]', '8:7 engine.flags[3]']);
    });
  });

  describe('the two-item form --name VALUE', () => {
    it('a bare value after --data-root is read as --data-root=VALUE and refused as that, at the value', () => {
      expectOnlyProblem(
        labWithFlags('--data-root', '/etc'),
        FLAG_LINE + 1,
        FLAG_COLUMN,
        'engine.flags[1] "/etc" is the value of --data-root, not a flag: write "--data-root=/etc" in one item, which is refused too: overlab sets --data-root itself',
      );
    });

    it('a bare value after an allowed flag says how to write it', () => {
      const p = expectOnlyProblem(labWithFlags('--mtu', '1400'), FLAG_LINE + 1, FLAG_COLUMN, 'engine.flags[1] "1400" is the value of --mtu, not a flag: write "--mtu=1400" in one item');
      expect(p.message).to.not.include('refused');
    });

    it('a value flag without =VALUE is refused: dockerd would take the next item (another flag) as its value', () => {
      expectOnlyProblem(labWithFlags('--dns', '--iptables=false'), FLAG_LINE, FLAG_COLUMN, 'engine.flags[0] "--dns" is refused: --dns needs its value in the same item, --dns=VALUE (an IP address)');
    });

    it('-D is dockerd\'s --debug: says to write --debug', () => {
      expectOnlyProblem(labWithFlags('-D'), FLAG_LINE, FLAG_COLUMN, 'engine.flags[0] "-D" is dockerd\'s short form of --debug: write "--debug"');
    });
  });

  describe('values: each allowed flag has a grammar that names no path', () => {
    const cases: [string, string][] = [
      ['--mtu=abc', '--mtu takes a whole number from 68 to 65535'],
      ['--mtu=70000', '--mtu takes a whole number from 68 to 65535'],
      ['--iptables=yes', '--iptables is true or false'],
      ['--userland-proxy=/tmp/x', '--userland-proxy is true or false'],
      ['--dns=/etc/resolv.conf', '--dns takes an IP address'],
      ['--dns=fe80::1%eth0', '--dns takes an IP address'],
      ['--bip=10.0.0.1', '--bip takes an IPv4 address with a prefix'],
      ['--default-network-opt=macvlan=parent=eth0', '--default-network-opt takes DRIVER=OPTION=VALUE, DRIVER bridge or overlay'],
      ['--cluster-advertise=eth0:2376', '--cluster-advertise takes ADDRESS:PORT'],
      ['--log-level=verbose', '--log-level takes one of debug, info, warn, error, fatal'],
      ['--storage-driver=/tmp/driver', '--storage-driver takes one of'],
      ['--default-ulimit=nofile', '--default-ulimit takes NAME=SOFT[:HARD]'],
    ];
    for (const [flag, message] of cases) {
      it(flag, () => {
        expectOnlyProblem(labWithFlags(flag), FLAG_LINE, FLAG_COLUMN, `engine.flags[0] ${quote(flag)} is refused: ${message}`);
      });
    }
  });

  describe('allowed flags pass', () => {
    it('every example, in one lab, reaches the lab (and so the plan) in order', () => {
      expect(parseLab(labWithFlags(...VALID), 'lab.yaml').engine.flags).to.deep.equal(VALID);
    });

    it('the examples cover every allowlisted flag', () => {
      const named = new Set(VALID.map((f) => f.replace(/^--([a-z0-9-]+).*$/, '$1')));
      expect(ENGINE_FLAG_NAMES.filter((n) => !named.has(n))).to.deep.equal([]);
    });

    it('no flag is both allowed and refused with a reason', () => {
      for (const n of ENGINE_FLAG_NAMES) {
        expect(Object.hasOwn(SET_BY_OVERLAB, n) || Object.hasOwn(POINTS_OUTSIDE, n), n).to.equal(false);
      }
    });
  });

  describe('messages', () => {
    it('stay within a lab problem\'s length (never cut), the longest quoted items included', () => {
      const long = 'x'.repeat(60);
      const items = [
        `--data-root=/${long}`,
        `--userland-proxy-path=/${long}`,
        `--${long}=${long}`,
        `--${'y'.repeat(500)}`,
        `-H ${long}`,
        `--mtu=${long}`,
      ];
      for (const n of ENGINE_FLAG_NAMES) items.push(`--${n}`, `--${n}=/${long}`);
      for (const item of items) {
        const problem = engineFlagProblem(item)!;
        const message = `engine.flags[99] "${'z'.repeat(40)}…" ${problem}`;
        expect(message.length, message).to.be.at.most(PROBLEM_MESSAGE_MAX);
      }
      const twoItems = `engine.flags[99] "${'z'.repeat(40)}…" ${engineFlagProblem(long, '--allow-nondistributable-artifacts')!}`;
      expect(twoItems.length, twoItems).to.be.at.most(PROBLEM_MESSAGE_MAX);
    });
  });

  describe('properties', function () {
    // Each run validates a whole lab file: 100 runs take 1-2 s alone, and 2-4 s on a loaded machine.
    this.timeout(20_000);
    const allowed = new Set(ENGINE_FLAG_NAMES);

    it('a flag name not on the allowlist is always refused, at its item, with a message naming it and what is allowed', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/).filter((n) => !allowed.has(n)),
          fc.option(fc.stringMatching(/^[ -~]{0,30}$/), { nil: undefined }),
          fc.nat({ max: 3 }),
          (name, value, before) => {
            const item = value === undefined ? `--${name}` : `--${name}=${value}`;
            const problems = problemsOf(labWithFlags(...Array<string>(before).fill('--debug'), item));
            expect(problems).to.have.lengthOf(1);
            const [p] = problems;
            expect({ line: p!.line, column: p!.column }).to.deep.equal({ line: FLAG_LINE + before, column: FLAG_COLUMN });
            expect(p!.message).to.include(`engine.flags[${before}] `).and.include(`is refused: --${name.slice(0, 38)}`).and.include(HINT);
            expect(p!.message.length).to.be.at.most(PROBLEM_MESSAGE_MAX);
            expect(p!.message.endsWith('…')).to.equal(false);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('a path given to any allowed flag is refused', () => {
      fc.assert(
        fc.property(fc.constantFrom(...ENGINE_FLAG_NAMES), fc.stringMatching(/^\/[A-Za-z0-9._/-]{0,40}$/), (name, path) => {
          expect(engineFlagProblem(`--${name}=${path}`), `--${name}=${path}`).to.be.a('string');
          expect(engineFlagProblem(`--${name}=${path}`)).to.match(/is refused: --/);
        }),
        { numRuns: 300 },
      );
    });

    it('any selection of allowed flags, in any order, passes and reaches the lab as written', () => {
      fc.assert(
        fc.property(fc.shuffledSubarray([...VALID], { minLength: 1 }), (flags) => {
          expect(parseLab(labWithFlags(...flags), 'lab.yaml').engine.flags).to.deep.equal(flags);
        }),
        { numRuns: 100 },
      );
    });

    it('every allowed boolean flag passes bare, =true and =false, and nothing else', () => {
      const bools = ENGINE_FLAG_NAMES.filter((n) => ENGINE_FLAGS[n]!.kind === 'bool');
      fc.assert(
        fc.property(fc.constantFrom(...bools), fc.stringMatching(/^[ -~]{0,8}$/), (name, value) => {
          expect(engineFlagProblem(`--${name}`)).to.equal(undefined);
          const problem = engineFlagProblem(`--${name}=${value}`);
          if (value === 'true' || value === 'false') expect(problem).to.equal(undefined);
          else expect(problem).to.include(`--${name} is true or false`);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('the lab file reference (docs/lab-file.md) and schema', () => {
    const readme = readFileSync(new URL('../../docs/lab-file.md', import.meta.url), 'utf8');

    it('the reference\'s engine.flags row lists exactly the allowlist', () => {
      const row = readme.split('\n').find((l) => l.startsWith('| `flags` |'))!;
      const list = row.slice(row.indexOf('allowlist'), row.indexOf('Anything else'));
      expect([...list.matchAll(/`(--[a-z0-9-]+)`/g)].map((m) => m[1]!.slice(2)).sort()).to.deep.equal([...ENGINE_FLAG_NAMES].sort());
    });

    it('the reference says a lab file is as trusted as a Vagrantfile', () => {
      expect(readme).to.match(/Trust a lab file as you would a Vagrantfile: it makes root run engines with its settings\./);
    });
  });

  describe('overlab matrix --cell-flag', () => {
    let tutorial: Lab;
    before(async () => {
      tutorial = await loadLab('labs/tutorial.yaml');
    });

    it('refuses a refused flag before any cell runs, naming the cell, the flag and why', () => {
      expect(() => planMatrix(tutorial, { engines: ['system'], kv: ['etcd'], modes: ['kv'], cellFlags: { 'sys-et': ['--data-root=/etc'] } })).to.throw(
        UsageError,
        '--cell-flag "sys-et=--data-root=/etc" is refused: overlab sets --data-root itself',
      );
      expect(() => planMatrix(tutorial, { engines: ['system'], kv: ['etcd'], modes: ['kv'], cellFlags: { 'sys-et': ['--userland-proxy-path=/tmp/x'] } })).to.throw(
        UsageError,
        /outside the lab/,
      );
    });

    it('keeps the flags the project uses: --debug, and --cluster-advertise to break a cell on purpose', () => {
      const cells = planMatrix(tutorial, { engines: ['system'], kv: ['etcd'], modes: ['kv'], cellFlags: { 'sys-et': ['--debug', '--cluster-advertise=172.28.153.99:2376'] } });
      expect(cells[0]!.flags).to.deep.equal(['--debug', '--cluster-advertise=172.28.153.99:2376']);
    });
  });
});
