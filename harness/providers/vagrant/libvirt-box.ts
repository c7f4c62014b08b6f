// The local box (scripts/build-box.sh) and its volumes in libvirt's default pool.
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
