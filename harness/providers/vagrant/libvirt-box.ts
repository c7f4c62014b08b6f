// The local box (scripts/build-box.sh) and its volumes in libvirt's default pool.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { PrerequisiteError } from '../../errors.ts';
import { packagePath } from '../../system/package-root.ts';

/**
 * How the names of the box's volumes in the pool start: vagrant-libvirt names the upload
 * `<box, / as -VAGRANTSLASH->_vagrant_box_image_<version>[_<timestamp>]_box.img` (a box with
 * no version gets a timestamp).
 */
export function boxVolumePrefix(box: string): string {
  return `${box.replaceAll('/', '-VAGRANTSLASH-')}_vagrant_box_image_`;
}

/** A file of the added local box (version 0, libvirt), in Vagrant's home (VAGRANT_HOME or ~/.vagrant.d). */
export function boxFile(box: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(env['VAGRANT_HOME'] || join(homedir(), '.vagrant.d'), 'boxes', box.replaceAll('/', '-VAGRANTSLASH-'), '0', 'libvirt', name);
}

/** The box's volumes in a folder listing. */
export function boxVolumes(box: string, names: readonly string[]): string[] {
  const prefix = boxVolumePrefix(box);
  return names.filter((n) => n.startsWith(prefix) && n.endsWith('.img'));
}

/** The box name scripts/build-box.sh builds (it hashes itself), and whether Vagrant has it. */
export async function localBox(): Promise<string> {
  const script = packagePath('scripts', 'build-box.sh');
  const name = (await execa('bash', [script, '--name'])).stdout.trim();
  const list = await execa('vagrant', ['box', 'list', '--machine-readable'], { reject: false, env: { VAGRANT_CHECKPOINT_DISABLE: '1' } });
  if (!String(list.stdout).split('\n').some((l) => l.endsWith(`,box-name,${name}`))) {
    throw new PrerequisiteError(`the local box ${name} is not added to Vagrant`, { hint: 'Build it: `sudo npm run box:build` (about 2 min).' });
  }
  return name;
}
