// The test image: a busybox rootfs with every applet (sh, ping, nslookup, nc, ip, wget ...),
// built locally from the machine's static busybox and imported into each engine. No registry.
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, copyFileSync, rmSync, mkdtempSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { PrerequisiteError } from '../errors.ts';
import { DEFAULT_IMAGE } from '../lab/types.ts';
import { setupScript } from '../system/package-root.ts';

export const BUSYBOX_PATHS = ['/bin/busybox', '/usr/bin/busybox'];

/** Builds (or reuses) the rootfs tarball in the cache folder; returns its path. */
export async function buildTestImageTar(cacheDir: string): Promise<string> {
  const busybox = BUSYBOX_PATHS.find((p) => existsSync(p));
  if (!busybox) throw new PrerequisiteError('busybox is not installed', { hint: `Run \`sudo ${setupScript()}\` (installs busybox-static).` });
  const digest = createHash('sha256').update(readFileSync(busybox)).digest('hex').slice(0, 16);
  const tar = join(cacheDir, `busybox-rootfs-${digest}.tar`);
  if (existsSync(tar)) return tar;
  const { stdout: file } = await execa('file', ['-b', busybox], { reject: false });
  if (file && /dynamically linked/.test(String(file))) {
    throw new PrerequisiteError(`${busybox} is dynamically linked; the test image needs a static busybox`, { hint: 'Install busybox-static.' });
  }
  mkdirSync(cacheDir, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), 'overlab-rootfs-'));
  try {
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root']) mkdirSync(join(root, d));
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    const { stdout } = await execa(busybox, ['--list']);
    for (const applet of String(stdout).split('\n').filter((a) => a && a !== 'busybox')) symlinkSync('busybox', join(root, 'bin', applet));
    // Unique per build (copies of a lab brought up at once build it side by side), beside the
    // cache so the rename stays on one file system.
    const tmpTar = `${tar}.${randomUUID()}.tmp`;
    await execa('tar', ['-C', root, '--owner=0', '--group=0', '-cf', tmpTar, '.']);
    renameSync(tmpTar, tar);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return tar;
}

/** Imports the rootfs as DEFAULT_IMAGE, unless the engine has it already. */
export async function loadTestImage(docker: Docker, tar: string): Promise<string> {
  try {
    const info = (await docker.getImage(DEFAULT_IMAGE).inspect()) as { Id: string };
    return info.Id.slice(7, 19);
  } catch {
    // Not there yet.
  }
  const [repo, tag] = DEFAULT_IMAGE.split(':') as [string, string];
  const stream = await docker.importImage(createReadStream(tar) as unknown as string, { repo, tag, changes: ['CMD ["sh"]'] } as object);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
  const info = (await docker.getImage(DEFAULT_IMAGE).inspect()) as { Id: string };
  return info.Id.slice(7, 19);
}
