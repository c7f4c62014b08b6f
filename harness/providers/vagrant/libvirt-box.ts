// The local box (scripts/build-box.sh) and its volumes in libvirt's default pool.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
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

/** The box name scripts/build-box.sh builds: `overlab/debian12-` and the first 12 hex digits of the script's SHA-256 (as its `--name` prints). */
export function localBoxName(script = packagePath('scripts', 'build-box.sh')): string {
  return `overlab/debian12-${createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12)}`;
}

/**
 * The local box's name, once Vagrant has it. `forServer`: the VMs go to a server's libvirt, and
 * this machine (a laptop) may not be able to build the box, but the server can.
 */
export async function localBox(options: { forServer?: boolean } = {}): Promise<string> {
  const name = localBoxName();
  const list = await execa('vagrant', ['box', 'list', '--machine-readable'], { reject: false, env: { VAGRANT_CHECKPOINT_DISABLE: '1' } });
  if (!String(list.stdout).split('\n').some((l) => l.endsWith(`,box-name,${name}`))) {
    throw new PrerequisiteError(`the local box ${name} is not added to Vagrant`, {
      hint: options.forServer
        ? `Build it on the server (\`sudo npm run box:build\` there, 2-4 min; its log names the box file), copy that overlab-debian12.box here and add it: \`vagrant box add --name ${name} overlab-debian12.box\`.`
        : 'Build it: `sudo npm run box:build` (2-4 min).',
    });
  }
  return name;
}
