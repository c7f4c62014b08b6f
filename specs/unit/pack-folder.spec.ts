// An engine tree for hosts that do not see this machine's files: packed once on this machine
// (real tar and gzip), received on a host through a runner (the commands recorded, and the
// unpacking shell run for real here on the tarball as its stdin, into another folder of the same name).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import { PrerequisiteError } from '../../harness/errors.ts';
import type { ExecResult, PackedFolder } from '../../harness/host.ts';
import { RECEIVED_STAMP, receiveFolder, UNPACK_SCRIPT, type FolderRunner } from '../../harness/remote/folders.ts';
import { PACKED_NAME, packFolder } from '../../harness/system/pack-folder.ts';

describe('engine trees for VMs and ssh hosts', () => {
  let scratch = '';
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'overlab-pack-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  /** A small tree like an engine's: a program, a library and an absolute link into the tree. */
  function tree(parent: string): string {
    const dir = join(parent, 'debian-28.5.2');
    mkdirSync(join(dir, 'root', 'usr', 'bin'), { recursive: true });
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'root', 'usr', 'bin', 'containerd'), '#!/bin/sh\necho containerd\n', { mode: 0o755 });
    writeFileSync(join(dir, 'overlab-engine.json'), '{"version":"28.5.2"}\n');
    mkdirSync(join(dir, 'root', 'usr', 'lib', 'containerd'), { recursive: true });
    writeFileSync(join(dir, 'root', 'usr', 'lib', 'containerd', 'runc-fp'), 'a failpoint test program');
    symlinkSync(join(dir, 'root', 'usr', 'bin', 'containerd'), join(dir, 'bin', 'containerd'));
    return dir;
  }

  describe('packFolder', () => {
    it('packs the folder once into its tarball inside it, under its own name, without the tarball itself or the paths left out', async () => {
      const dir = tree(join(scratch, 'cache'));
      writeFileSync(join(dir, '.packed.tgz'), 'the tarball of an earlier overlab');
      const packed = await packFolder(dir, ['root/usr/lib/containerd']);
      expect(packed.tarball).to.equal(join(dir, PACKED_NAME));
      expect(packed.sha256).to.equal(createHash('sha256').update(readFileSync(packed.tarball)).digest('hex'));
      const listed = (await execa('tar', ['-tzf', packed.tarball])).stdout.split('\n').sort();
      expect(listed).to.include.members(['debian-28.5.2/bin/containerd', 'debian-28.5.2/root/usr/bin/containerd', 'debian-28.5.2/overlab-engine.json']);
      expect(listed.filter((l) => l.includes('.packed'))).to.deep.equal([]);
      expect(listed.filter((l) => l.includes('usr/lib/containerd'))).to.deep.equal([]);
      const made = statSync(packed.tarball).mtimeMs;
      const again = await packFolder(dir, ['root/usr/lib/containerd']);
      expect(again).to.deep.equal(packed);
      expect(statSync(again.tarball).mtimeMs).to.equal(made);
    });

    it('leaves no part file when tar fails, and says which command failed', async () => {
      const error = await packFolder(join(scratch, 'missing'), []).catch((e: unknown) => e as Error);
      expect(String(error)).to.include('tar -C');
      expect(existsSync(join(scratch, 'missing'))).to.equal(false);
    });
  });

  describe('receiveFolder', () => {
    const folder: PackedFolder = { dir: '/root/.cache/overlab/engines/debian-28.5.2', tarball: '/local/.packed.tgz', sha256: 'a'.repeat(64) };

    /** A runner that records, answers the stamp read and the probe for missing folders as told. */
    function runner(stamp: string | undefined, topMissing: string): FolderRunner & { calls: string[] } {
      const calls: string[] = [];
      const answer = (argv: readonly string[]): ExecResult => {
        calls.push(argv.join(' '));
        if (argv[0] === 'cat') return stamp === undefined ? { exitCode: 1, stdout: '', stderr: 'No such file' } : { exitCode: 0, stdout: `${stamp}\n`, stderr: '' };
        if (argv[1] === '-c' && argv[3] === 'top') return { exitCode: 0, stdout: topMissing ? `${topMissing}\n` : '', stderr: '' };
        return { exitCode: 0, stdout: '', stderr: '' };
      };
      return {
        calls,
        exec: async (argv) => answer(argv),
        run: async (argv, options) => answer(options?.inputFile === undefined ? argv : [...argv, '<', options.inputFile]),
      };
    }

    it('sends nothing when the host has the same tree (its stamp is the tarball SHA-256)', async () => {
      const r = runner('a'.repeat(64), '');
      const created: string[] = [];
      await receiveFolder('h1', r, folder, (p) => created.push(p));
      expect(r.calls).to.deep.equal([`cat ${folder.dir}/${RECEIVED_STAMP}`]);
      expect(created).to.deep.equal([]);
    });

    const unpack = ['sh', '-c', UNPACK_SCRIPT, 'unpack', folder.dir, folder.sha256, '<', folder.tarball].join(' ');

    it('records the highest folder it makes before sending, then streams the tarball into the unpacking shell', async () => {
      const r = runner(undefined, '/root/.cache/overlab');
      const created: string[] = [];
      await receiveFolder('h1', r, folder, (p) => {
        created.push(p);
        expect(r.calls).to.not.include(unpack);
      });
      expect(created).to.deep.equal(['/root/.cache/overlab']);
      expect(r.calls.at(-1)).to.equal(unpack);
    });

    it("replaces a tree overlab sent earlier with another stamp, and records it for down", async () => {
      const r = runner('b'.repeat(64), '');
      const created: string[] = [];
      await receiveFolder('h1', r, folder, (p) => created.push(p));
      expect(created).to.deep.equal([folder.dir]);
      expect(r.calls).to.include(unpack);
    });

    it('refuses a folder at that path that overlab did not put there (no stamp), sending nothing', async () => {
      const r = runner(undefined, '');
      const error = await receiveFolder('h1', r, folder, () => {}).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(PrerequisiteError);
      expect(String((error as Error).message)).to.equal(`${folder.dir} exists on h1 without overlab's stamp (${RECEIVED_STAMP}): overlab replaces only folders it put there`);
      expect(r.calls).to.not.include(unpack);
    });

    it('unpacks for real from stdin: the tree under its name, links intact, the stamp written, an older copy replaced', async () => {
      const source = tree(join(scratch, 'here'));
      const packed = await packFolder(source, []);
      const target = join(scratch, 'there', 'debian-28.5.2');
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'stale'), 'from an older tree');
      await execa('sh', ['-c', UNPACK_SCRIPT, 'unpack', target, packed.sha256], { inputFile: packed.tarball });
      expect(readFileSync(join(target, RECEIVED_STAMP), 'utf8')).to.equal(`${packed.sha256}\n`);
      expect(readFileSync(join(target, 'root', 'usr', 'bin', 'containerd'), 'utf8')).to.include('echo containerd');
      expect(statSync(join(target, 'root', 'usr', 'bin', 'containerd')).mode & 0o777).to.equal(0o755);
      // The link names the path on the machine that packed it: the same path on the host.
      expect(readlinkSync(join(target, 'bin', 'containerd'))).to.equal(join(source, 'root', 'usr', 'bin', 'containerd'));
      expect(existsSync(join(target, 'stale'))).to.equal(false);
    });

    it('writes no stamp for a stream cut short: the shell fails, so the next up sends the tree again', async () => {
      const packed = await packFolder(tree(join(scratch, 'here')), []);
      const cut = join(scratch, 'cut.tgz');
      const whole = readFileSync(packed.tarball);
      writeFileSync(cut, whole.subarray(0, whole.length - 16));
      const target = join(scratch, 'there', 'debian-28.5.2');
      const r = await execa('sh', ['-c', UNPACK_SCRIPT, 'unpack', target, packed.sha256], { inputFile: cut, reject: false });
      expect(r.exitCode).to.not.equal(0);
      expect(existsSync(join(target, RECEIVED_STAMP))).to.equal(false);
    });
  });
});
