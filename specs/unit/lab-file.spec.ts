// Reading a lab file: what is not a regular file, is too big or is not text is refused in one
// line, without reading it whole; a file that is not a lab never has its text echoed back.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabFileError, LabNotFoundError, oneLine } from '../../harness/errors.ts';
import { loadLab, MAX_LAB_BYTES, readLabText } from '../../harness/lab/load.ts';
import { escapeText, quote } from '../../harness/lab/text.ts';
import { problemsOf } from './lab-text.ts';

const BIN = new URL('../../bin/overlab.js', import.meta.url).pathname;

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  return expect.fail('expected an error');
}

/** Runs `overlab validate --lab FILE`; returns its exit status and output. */
function validateCli(file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'validate', '--lab', file], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lab files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'overlab-labfile-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a directory, a FIFO and a device as not found (66), before opening them', async () => {
    mkdirSync(join(dir, 'lab.yaml'));
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
    for (const [file, what] of [
      [join(dir, 'lab.yaml'), 'a directory'],
      [join(dir, 'fifo.yaml'), 'a FIFO'],
      ['/dev/zero', 'a character device'],
    ] as const) {
      const e = await errorOf(loadLab(file));
      expect(e).to.be.instanceOf(LabNotFoundError);
      expect(e.message).to.equal(`${file} is ${what}, not a lab file`);
      expect((e as LabNotFoundError).exitCode).to.equal(66);
    }
  });

  it('refuses a file that does not exist (66)', async () => {
    const e = await errorOf(readLabText(join(dir, 'nowhere.yaml')));
    expect(e).to.be.instanceOf(LabNotFoundError);
    expect(e.message).to.equal(`cannot read lab file ${join(dir, 'nowhere.yaml')}: no such file`);
  });

  it('refuses a file over 1 MiB as invalid (65), at line 1', async () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, `name: t\n#${'x'.repeat(MAX_LAB_BYTES)}\n`);
    const e = await errorOf(loadLab(file));
    expect(e).to.be.instanceOf(LabFileError);
    expect((e as LabFileError).exitCode).to.equal(65);
    expect((e as LabFileError).problems).to.deep.equal([
      { file, line: 1, column: 1, message: `the file is ${MAX_LAB_BYTES + 10} bytes; a lab file is at most 1 MiB (1048576 bytes)` },
    ]);
  });

  it('accepts a file of exactly 1 MiB', async () => {
    const file = join(dir, 'edge.yaml');
    const head = 'name: t\nhosts: [{name: h1}]\nengine: {mode: swarm}\n#';
    writeFileSync(file, head + 'x'.repeat(MAX_LAB_BYTES - head.length - 1) + '\n');
    expect((await loadLab(file)).name).to.equal('t');
  });

  it('refuses binary and non-UTF-8 files (65)', async () => {
    writeFileSync(join(dir, 'nul.yaml'), Buffer.from([0x6e, 0x00, 0x61]));
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from('name: caf\xe9\n', 'latin1'));
    const nul = (await errorOf(loadLab(join(dir, 'nul.yaml')))) as LabFileError;
    expect(nul.problems.map((p) => p.message)).to.deep.equal(['not a lab file: it holds binary data (a NUL byte); a lab file is YAML text']);
    const latin1 = (await errorOf(loadLab(join(dir, 'latin1.yaml')))) as LabFileError;
    expect(latin1.problems.map((p) => p.message)).to.deep.equal(['not a lab file: it is not UTF-8 text; a lab file is YAML text']);
  });

  describe('overlab validate on files that are not labs (CLI)', () => {
    it('exits 66 in one line with no stack trace for a directory, a FIFO and /dev/zero', function () {
      this.timeout(60_000);
      mkdirSync(join(dir, 'd'), { recursive: true });
      execFileSync('mkfifo', [join(dir, 'cli-fifo.yaml')]);
      for (const file of [`${join(dir, 'd')}/`, join(dir, 'cli-fifo.yaml'), '/dev/zero']) {
        const r = validateCli(file);
        expect(r.status, r.stderr).to.equal(66);
        expect(r.stderr).to.match(/^overlab: .* is a (directory|FIFO|character device), not a lab file\n/);
        expect(r.stderr).not.to.include('    at ');
      }
    });

    it('never echoes the lines of a secrets file or a password file', function () {
      this.timeout(60_000);
      const secrets = join(dir, 'secrets.env');
      writeFileSync(secrets, 'password=hunter2\nAPI_TOKEN=abc123\n');
      const passwd = join(dir, 'passwd');
      writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
      for (const file of [secrets, passwd]) {
        const r = validateCli(file);
        expect(r.status).to.equal(65);
        expect(r.stderr).to.equal(`${file}:1:1: the lab file must be a mapping, not a string (a lab file is a mapping that starts with name: and hosts:)\n1 problem\n`);
      }
      // A shadow file parses as a YAML mapping whose keys hold the password hashes.
      const shadow = join(dir, 'shadow');
      writeFileSync(shadow, 'root:$y$j9T$hash:20228:0:99999:7::\ndaemon:*:20228:0:99999:7::\n');
      const r = validateCli(shadow);
      expect(r.status).to.equal(65);
      expect(r.stderr).to.equal(`${shadow}:1:1: not a lab file: none of its 2 top-level keys is a lab key (a lab file has at least name and hosts)\n1 problem\n`);
    });
  });

  describe('what messages quote', () => {
    it('a mapping with no lab key: one line, quoting nothing of it', () => {
      const problems = problemsOf(`password: hunter2\n${'k'.repeat(60)}: secret-value\n`);
      expect(problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).to.deep.equal(['1:1: not a lab file: none of its 2 top-level keys is a lab key (a lab file has at least name and hosts)']);
    });

    it('a lab file with secrets beside it: only the keys, cut short', () => {
      const problems = problemsOf(`name: x\npassword: hunter2\n${'k'.repeat(60)}: secret-value\n`);
      const text = problems.map((p) => p.message).join('\n');
      expect(text).not.to.include('hunter2');
      expect(text).not.to.include('secret-value');
      expect(problems.map((p) => p.message)).to.include(`unknown key "${'k'.repeat(40)}…" (known: name, description, provider, box, network, hosts, kv, engine, networks, containers, matrix, services, specs, expect)`);
    });

    it('a YAML syntax error: the token cut short, never the line', () => {
      const problems = problemsOf('{ "password": "hunter2", }}\n');
      expect(problems.map((p) => `${p.line}:${p.column}: ${p.message}`)).to.deep.equal(['1:27: YAML: Unexpected flow-map-end token in YAML stream: "}"']);
    });

    it('a top-level scalar: its type only', () => {
      expect(problemsOf('just some text: with: colons\n').map((p) => p.message).join()).not.to.include('colons');
      expect(problemsOf('"password=hunter2"\n').map((p) => p.message)).to.deep.equal([
        'the lab file must be a mapping, not a string (a lab file is a mapping that starts with name: and hosts:)',
      ]);
    });

    it('an alias to no anchor: its name cut short', () => {
      expect(problemsOf(`name: *${'a'.repeat(100)}\n`).map((p) => p.message)).to.deep.equal([
        `YAML: alias *${'a'.repeat(40)}… refers to no anchor &${'a'.repeat(40)}… defined before it`,
      ]);
    });

    it('tags that build other values than JSON are refused', () => {
      expect(problemsOf('!!binary aGVsbG8=\n').map((p) => p.message)).to.deep.equal(['YAML: the tag "!!binary" is not allowed in a lab file; write plain values']);
      expect(problemsOf('name: t\nhosts: !!set {a, b}\n').map((p) => p.message)).to.deep.equal(['YAML: the tag "!!set" is not allowed in a lab file; write plain values']);
    });

    it('escapes control characters and cuts long values at 40 characters', () => {
      expect(escapeText('a\nb\r\t\x1b[31m"\\')).to.equal('a\\nb\\r\\t\\x1b[31m\\"\\\\');
      expect(escapeText('x\u202ey')).to.equal('x\\u{202e}y');
      expect(quote('y'.repeat(41))).to.equal(`"${'y'.repeat(40)}…"`);
      expect(quote('y'.repeat(40))).to.equal(`"${'y'.repeat(40)}"`);
      expect(oneLine('one\ntwo\x07')).to.equal('one\\ntwo\\x07');
    });

    it('shows numbers YAML reads as infinite or not a number as written', () => {
      const problems = problemsOf('name: t\nhosts:\n  - name: h1\n    memory: .inf\n    cpus: .nan\n');
      expect(problems.map((p) => p.message)).to.include('hosts[0].memory must be at most 262144, not the number .inf');
      expect(problems.map((p) => p.message)).to.include('hosts[0].cpus must be a whole number, not the number .nan');
    });
  });
});
