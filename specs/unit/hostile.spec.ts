// Hostile lab files stopped at `validate`: every free string has a grammar, every port and
// range a limit, and the message says what is wrong at file:line:column (exit 65).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabFileError } from '../../harness/errors.ts';
import { parseLab } from '../../harness/lab/load.ts';
import { expectOnlyProblem, labText, problemsOf } from './lab-text.ts';

/** A valid swarm lab with one docker host whose `ssh:` block is the given flow mapping. */
function sshLab(ssh: string): string {
  return `name: t\nprovider: ssh\nengine: {mode: swarm}\nhosts:\n  - name: h1\n    address: 172.28.128.5\n    ssh: ${ssh}\n`;
}

/** Problems as "line:column: message". */
function located(text: string): string[] {
  return problemsOf(text).map((p) => `${p.line}:${p.column}: ${p.message}`);
}

const USER_RULE = 'is not a user name: use lower-case letters, digits, "_" and "-", starting with a letter or "_" (and optionally ending with "$")';
const ADDRESS_RULE =
  'is neither an IPv4 address nor a DNS name (labels of letters, digits and dashes, not starting or ending with a dash, joined by dots)';

describe('hostile lab files', () => {
  describe('hosts[].ssh.user', () => {
    const cases: [string, string, string][] = [
      ["'-oProxyCommand=touch x;#'", '"-oProxyCommand=touch x;#"', USER_RULE],
      ["'$(touch x)'", '"$(touch x)"', USER_RULE],
      ["'`id`'", '"`id`"', USER_RULE],
      [`"a'b"`, `"a'b"`, USER_RULE],
      [`'a"b'`, '"a\\"b"', USER_RULE],
      ['"root\\nx"', '"root\\nx"', USER_RULE],
      ['Root', '"Root"', USER_RULE],
      [`'${'u'.repeat(33)}'`, `"${'u'.repeat(33)}"`, 'is longer than 32 characters'],
    ];
    for (const [yaml, shown, rule] of cases) {
      it(`refuses ${yaml}`, () => {
        expect(located(sshLab(`{user: ${yaml}}`))).to.deep.equal([`7:17: hosts[0].ssh.user ${shown} ${rule}`]);
      });
    }

    it('accepts POSIX portable names', () => {
      for (const user of ['root', 'vagrant', '_svc', 'ci-runner_2', 'machine$', 'u'.repeat(32)]) {
        expect(parseLab(sshLab(`{user: '${user}'}`), 'lab.yaml').hosts[0]!.ssh.user).to.equal(user);
      }
    });
  });

  describe('hosts[].ssh.address', () => {
    const cases: [string, string][] = [
      ["'-oProxyCommand=touch x'", `"-oProxyCommand=touch x" ${ADDRESS_RULE}`],
      ["'$(touch x)'", `"$(touch x)" ${ADDRESS_RULE}`],
      ["'h`id`'", `"h\`id\`" ${ADDRESS_RULE}`],
      [`"a'b"`, `"a'b" ${ADDRESS_RULE}`],
      ["'-h1.lab'", `"-h1.lab" ${ADDRESS_RULE}`],
      ["'user@h1'", `"user@h1" ${ADDRESS_RULE}`],
      ["'10.0.0.01'", '"10.0.0.01" is not an IPv4 address (four numbers 0-255, no leading zeros)'],
      ["'256.1.1.1'", '"256.1.1.1" is not an IPv4 address (four numbers 0-255, no leading zeros)'],
    ];
    for (const [yaml, message] of cases) {
      it(`refuses ${yaml}`, () => {
        expect(located(sshLab(`{address: ${yaml}}`))).to.deep.equal([`7:20: hosts[0].ssh.address ${message}`]);
      });
    }

    it('accepts dotted quads and DNS names', () => {
      for (const a of ['10.1.2.3', 'h1', 'build-01.lab.example.org', 'x'.repeat(63) + '.example']) {
        expect(parseLab(sshLab(`{address: '${a}'}`), 'lab.yaml').hosts[0]!.ssh.address).to.equal(a);
      }
    });
  });

  describe('the CLI', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'overlab-hostile-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 65 with the exact messages for an injected ssh.user and ssh.address, and runs nothing', function () {
      this.timeout(60_000);
      writeFileSync(join(dir, 'lab.yaml'), sshLab("{user: '-oProxyCommand=touch M;#', address: '$(touch M)'}"));
      const bin = new URL('../../bin/overlab.js', import.meta.url).pathname;
      const r = spawnSync(process.execPath, [bin, 'validate', '--lab', 'lab.yaml'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      expect(r.status).to.equal(65);
      expect(r.stderr.split('\n')).to.deep.equal([
        `${join(dir, 'lab.yaml')}:7:17: hosts[0].ssh.user "-oProxyCommand=touch M;#" ${USER_RULE}`,
        `${join(dir, 'lab.yaml')}:7:54: hosts[0].ssh.address "$(touch M)" ${ADDRESS_RULE}`,
        '2 problems',
        '',
      ]);
      expect(existsSync(join(dir, 'M'))).to.equal(false);
    });
  });

  describe('exit code', () => {
    it('is the lab-invalid one, 65', () => {
      try {
        parseLab(sshLab("{user: '$(touch x)'}"), 'lab.yaml');
        expect.fail('expected a LabFileError');
      } catch (e) {
        expect(e).to.be.instanceOf(LabFileError);
        expect((e as LabFileError).exitCode).to.equal(65);
      }
    });
  });
});
