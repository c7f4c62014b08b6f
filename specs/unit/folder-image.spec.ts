// An engine tree as a read-only disk for the lab's own libvirt VMs: the image made for real by
// mkfs.ext4 from the packed tarball and read back with debugfs (no mount), the virsh arguments
// and block-list parsing, and receiveFolder handing the cleared place to another delivery.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { execa } from 'execa';
import type { ExecResult, PackedFolder } from '../../harness/host.ts';
import { receiveFolder, RECEIVED_STAMP, type FolderRunner } from '../../harness/remote/folders.ts';
import { folderImage, folderImageName, folderImageSerial, folderImageSizeMiB, mkfsArgv } from '../../harness/system/folder-image.ts';
import { packFolder } from '../../harness/system/pack-folder.ts';
import { attachDiskArgs, freeVirtioTarget, parseBlockList } from '../../harness/providers/vagrant/libvirt-folders.ts';

/** A file of an ext4 image, read with debugfs. */
async function readInImage(image: string, path: string): Promise<string> {
  return (await execa('debugfs', ['-R', `cat ${path}`, image], { stderr: 'ignore' })).stdout;
}

/** A file's inode line in an ext4 image (`debugfs stat`): type, mode, size. */
async function statInImage(image: string, path: string): Promise<string> {
  return (await execa('debugfs', ['-R', `stat ${path}`, image], { stderr: 'ignore' })).stdout;
}

describe('engine trees as read-only disks of the lab own libvirt VMs', () => {
  let scratch = '';
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'overlab-image-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  function tree(): string {
    const dir = join(scratch, 'cache', 'debian-28.5.2');
    mkdirSync(join(dir, 'root', 'usr', 'bin'), { recursive: true });
    mkdirSync(join(dir, 'root', 'usr', 'share', 'doc'), { recursive: true });
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'root', 'usr', 'bin', 'dockerd'), '#!/bin/sh\necho dockerd\n', { mode: 0o755 });
    writeFileSync(join(dir, 'root', 'usr', 'share', 'doc', 'left-out'), 'not sent');
    symlinkSync(join(dir, 'root', 'usr', 'bin', 'dockerd'), join(dir, 'bin', 'dockerd'));
    return dir;
  }

  it('makes the image from the tarball: its files, modes and links, the receiving stamp, not what the tar leaves out; once', async function () {
    this.timeout(30_000);
    const dir = tree();
    const packed = await packFolder(dir, ['root/usr/share/doc']);
    const image = await folderImage(packed);
    expect(image.path).to.equal(join(dir, folderImageName(packed.sha256)));
    expect(image.serial).to.equal(folderImageSerial(packed.sha256)).and.to.have.length(20);
    expect(await readInImage(image.path, `/${RECEIVED_STAMP}`)).to.equal(packed.sha256);
    expect(await readInImage(image.path, '/root/usr/bin/dockerd')).to.include('echo dockerd');
    expect(await statInImage(image.path, '/root/usr/bin/dockerd')).to.match(/Mode:\s+0755/).and.match(/User:\s+0\s+Group:\s+0/);
    // The link names the path on this machine: the guest mounts the image at that same path.
    expect(await statInImage(image.path, '/bin/dockerd')).to.include('Type: symlink');
    expect(await readInImage(image.path, '/bin/dockerd')).to.equal(join(dir, 'root', 'usr', 'bin', 'dockerd'));
    expect(await statInImage(image.path, '/root/usr/share/doc')).to.not.include('Mode:');
    // No scratch folder or part file left beside the tree; the same image the next time.
    expect(readdirSync(join(scratch, 'cache'))).to.deep.equal(['debian-28.5.2']);
    expect(readdirSync(dir).filter((n) => n.includes('.part'))).to.deep.equal([]);
    const made = statSync(image.path).mtimeMs;
    expect(await folderImage(packed)).to.deep.equal(image);
    expect(statSync(image.path).mtimeMs).to.equal(made);
  });

  it('two makers at once (two processes of one cache) each get the whole image, and leave no scratch', async function () {
    this.timeout(30_000);
    const dir = tree();
    const packed = await packFolder(dir, []);
    const [a, b] = await Promise.all([folderImage(packed), folderImage(packed)]);
    expect(a).to.deep.equal(b);
    expect(await readInImage(a.path, `/${RECEIVED_STAMP}`)).to.equal(packed.sha256);
    expect(readdirSync(join(scratch, 'cache'))).to.deep.equal(['debian-28.5.2']);
  });

  it('leaves nothing behind when the tarball cannot be read, and names the command', async () => {
    const dir = tree();
    const error = await folderImage({ dir, tarball: join(scratch, 'missing.tgz'), sha256: 'c'.repeat(64) }).catch((e: unknown) => e as Error);
    expect(String(error)).to.include('tar -xzf');
    expect(readdirSync(join(scratch, 'cache'))).to.deep.equal(['debian-28.5.2']);
    expect(existsSync(join(dir, folderImageName('c'.repeat(64))))).to.equal(false);
  });

  it('sizes the image above its content (sparse, in whole MiB) and asks mkfs for no journal and an inode per entry', () => {
    expect(folderImageSizeMiB(0, 1)).to.equal(17);
    expect(folderImageSizeMiB(200 * 2 ** 20, 320)).to.be.within(266, 268);
    expect(mkfsArgv('/c/img', '/s/tree', 267, 320)).to.deep.equal(['mkfs.ext4', '-q', '-F', '-d', '/s/tree', '-O', '^has_journal', '-m', '0', '-N', '576', '-L', 'overlab', '-E', 'root_owner=0:0', '/c/img', '267M']);
  });

  it('reads virsh domblklist --details, and picks the first free virtio target', () => {
    const listed = [
      ' Type   Device   Target   Source',
      '------------------------------------------------------------------------',
      ' file   disk     vda      /var/lib/libvirt/images/ovl.t.node1.img',
      ' file   disk     vdb      /var/cache/overlab/engines/debian-28.5.2/.packed-image.0123.ext4',
      ' file   cdrom    hdc      -',
      '',
    ].join('\n');
    const disks = parseBlockList(listed);
    expect(disks).to.deep.equal([
      { device: 'disk', target: 'vda', source: '/var/lib/libvirt/images/ovl.t.node1.img' },
      { device: 'disk', target: 'vdb', source: '/var/cache/overlab/engines/debian-28.5.2/.packed-image.0123.ext4' },
      { device: 'cdrom', target: 'hdc', source: '-' },
    ]);
    expect(freeVirtioTarget(disks)).to.equal('vdc');
    expect(freeVirtioTarget([])).to.equal('vdb');
    const all = Array.from({ length: 26 }, (_, i) => ({ device: 'disk', target: `vd${String.fromCharCode(97 + i)}`, source: '-' }));
    expect(freeVirtioTarget(all)).to.equal(undefined);
    expect(attachDiskArgs('uuid-1', { path: '/c/img', serial: 'ovl0123' }, 'vdc')).to.deep.equal([
      'attach-disk', 'uuid-1', '/c/img', 'vdc', '--mode', 'readonly', '--targetbus', 'virtio', '--serial', 'ovl0123', '--driver', 'qemu', '--subdriver', 'raw', '--live',
    ]);
  });

  describe('receiveFolder with a delivery of the provider', () => {
    const folder: PackedFolder = { dir: '/var/cache/overlab/engines/debian-28.5.2', tarball: '/local/.packed-2.tgz', sha256: 'a'.repeat(64) };
    function runner(stamp: string | undefined): FolderRunner & { calls: string[] } {
      const calls: string[] = [];
      const answer = (argv: readonly string[]): ExecResult => {
        calls.push(argv.join(' '));
        if (argv[0] === 'cat') return stamp === undefined ? { exitCode: 1, stdout: '', stderr: 'No such file' } : { exitCode: 0, stdout: `${stamp}\n`, stderr: '' };
        return { exitCode: 0, stdout: argv[3] === 'top' ? '/var/cache/overlab\n' : '', stderr: '' };
      };
      return { calls, exec: async (argv) => answer(argv), run: async (argv) => answer(argv) };
    }

    it('records the folder it makes, then delivers; sends no tarball', async () => {
      const r = runner(undefined);
      const events: string[] = [];
      await receiveFolder('h1', r, folder, (p) => events.push(`created ${p}`), async (got, f) => {
        expect(got).to.equal(r);
        events.push(`delivered ${f.dir}`);
      });
      expect(events).to.deep.equal(['created /var/cache/overlab', `delivered ${folder.dir}`]);
      expect(r.calls.some((c) => c.includes('tar -xzf'))).to.equal(false);
    });

    it('does not deliver when the stamp (inside the image) says the folder is there', async () => {
      const r = runner('a'.repeat(64));
      let delivered = false;
      await receiveFolder('h1', r, folder, () => {}, async () => void (delivered = true));
      expect(delivered).to.equal(false);
    });
  });
});
