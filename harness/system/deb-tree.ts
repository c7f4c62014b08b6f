// An engine tree made of Debian packages: each .deb (an ar archive) unpacked into a folder of its
// own without its owners or setuid bits, its links kept inside the tree (absolute links made
// relative, links that leave the tree refused), then joined into one root. The engine's programs
// are then bound to the suite's own C library (patchelf: the tree's loader as interpreter, the
// tree's library folders as search path), so dockerd, containerd and runc run with the userland
// their suite ships, never this machine's; `ld.so --list` proves every library resolves inside.
// Ground floor: files and a few programs (tar, patchelf); no engine code.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { execa } from 'execa';
import { ArchiveTrustError } from './deb-archive.ts';
import { setupScript } from './package-root.ts';

/** One member of an ar archive. */
export interface ArMember {
  name: string;
  data: Buffer;
}

/** The members of an ar archive (the container of a .deb); refuses anything that is not one. */
export function parseAr(buf: Buffer, what = 'archive'): ArMember[] {
  const magic = '!<arch>\n';
  if (buf.length < magic.length || buf.subarray(0, magic.length).toString('latin1') !== magic) throw new ArchiveTrustError(`${what}: not a Debian package (no ar header)`);
  const out: ArMember[] = [];
  let off = magic.length;
  while (off + 60 <= buf.length) {
    const h = buf.subarray(off, off + 60).toString('latin1');
    if (h.slice(58, 60) !== '`\n') throw new ArchiveTrustError(`${what}: damaged ar member header at byte ${off}`);
    const name = h.slice(0, 16).trim().replace(/\/$/, '');
    const size = Number(h.slice(48, 58).trim());
    if (!Number.isInteger(size) || size < 0 || off + 60 + size > buf.length) throw new ArchiveTrustError(`${what}: ar member ${JSON.stringify(name)} runs past the end of the file`);
    out.push({ name, data: buf.subarray(off + 60, off + 60 + size) });
    off += 60 + size + (size % 2);
  }
  return out;
}

/** tar's flag for a data member's compression, from its name. */
export function tarCompressionFlag(member: string): string[] {
  if (member.endsWith('.xz')) return ['-J'];
  if (member.endsWith('.zst')) return ['--zstd'];
  if (member.endsWith('.gz')) return ['-z'];
  if (member.endsWith('.bz2')) return ['-j'];
  if (member === 'data.tar') return [];
  throw new ArchiveTrustError(`unknown package data member ${member}`);
}

/**
 * Where a link inside the tree points, as a path relative to the tree root, or undefined when it
 * would leave the tree. Absolute targets are taken as the tree's own (`/usr/bin/x` is the tree's usr/bin/x).
 */
export function linkTargetInTree(linkPath: string, target: string): string | undefined {
  const resolved = target.startsWith('/') ? posix.normalize(target.slice(1) || '.') : posix.normalize(posix.join(posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../') || posix.isAbsolute(resolved)) return undefined;
  return resolved;
}

/** Unpacks one package into `dir` (which must be empty), owners and setuid bits dropped, links made safe. */
export async function unpackDeb(name: string, deb: Buffer, dir: string, signal?: AbortSignal): Promise<void> {
  const data = parseAr(deb, name).find((m) => m.name.startsWith('data.tar'));
  if (!data) throw new ArchiveTrustError(`${name}: no data.tar member`);
  mkdirSync(dir, { recursive: true });
  const r = await execa('tar', ['-x', ...tarCompressionFlag(data.name), '--no-same-owner', '--no-same-permissions', '--no-overwrite-dir', '-C', dir], {
    input: data.data,
    reject: false,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  signal?.throwIfAborted();
  if (r.exitCode !== 0) throw new ArchiveTrustError(`${name}: cannot unpack ${data.name}: ${String(r.stderr).trim() || `tar exit ${r.exitCode}`}`);
  sanitizeTree(name, dir);
}

/** A whole unpacked tree made safe for root to run: setuid and setgid bits dropped, devices and fifos removed, links checked to stay inside. */
export function sanitizeTree(what: string, root: string): void {
  sanitize(what, root, '');
  try {
    checkLinksInside(root);
  } catch (e) {
    throw new ArchiveTrustError(`${what}: ${(e as Error).message}`);
  }
}

function sanitize(pkg: string, root: string, rel: string): void {
  for (const entry of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${entry}` : entry;
    const p = join(root, r);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(p);
      const inside = linkTargetInTree(r, target);
      if (inside === undefined) throw new ArchiveTrustError(`${pkg}: link /${r} -> ${target} leaves the ${pkg.endsWith('.deb') ? "package's" : "archive's"} tree: refused`);
      if (target.startsWith('/')) {
        unlinkSync(p);
        symlinkSync(posix.relative(posix.dirname(r), inside) || '.', p);
      }
    } else if (st.isDirectory()) {
      sanitize(pkg, root, r);
    } else if (st.isFile()) {
      if (st.mode & 0o6000) chmodSync(p, st.mode & 0o1777);
    } else {
      rmSync(p); // devices, fifos: nothing an engine tree needs
    }
  }
}

/** Moves everything of `from` into `into`, folder by folder; a later package's file replaces an earlier one's. */
export function mergeInto(from: string, into: string): void {
  mkdirSync(into, { recursive: true });
  for (const entry of readdirSync(from)) {
    const src = join(from, entry);
    const dst = join(into, entry);
    const st = lstatSync(src);
    const dstSt = existsOrLink(dst);
    if (st.isDirectory() && dstSt?.isDirectory()) {
      mergeInto(src, dst);
      continue;
    }
    if (dstSt) rmSync(dst, { recursive: true, force: true });
    renameSync(src, dst);
  }
}

function existsOrLink(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Every link of a joined tree, followed to where it really leads, stays inside it: links that are
 * each fine on their own may still climb out together (`q -> .` and `e -> q/..`), also across
 * packages, so this runs on the whole tree after joining. A link whose target does not exist is
 * judged by where it would lead from its real folder.
 */
export function checkLinksInside(root: string): void {
  // realpath(3), not Node's own realpathSync, which joins a link's target to its folder as text first (q/.. becomes the folder itself).
  const realRoot = realpathSync.native(root);
  const inside = (p: string) => p === realRoot || p.startsWith(`${realRoot}/`);
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(root, rel))) {
      const r = rel ? `${rel}/${entry}` : entry;
      const p = join(root, r);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync.native(p);
        } catch {
          real = posix.resolve(realpathSync.native(join(root, rel)), readlinkSync(p));
        }
        if (!inside(real)) throw new ArchiveTrustError(`link /${r} -> ${readlinkSync(p)} leads out of the engine tree (to ${real}): refused`);
      } else if (st.isDirectory()) walk(r);
    }
  };
  walk('');
}

/** Where each program of an engine tree may sit in Debian's and Ubuntu's packages, in order. */
export const DEB_PROGRAM_PATHS: Record<string, string[]> = {
  dockerd: ['usr/sbin/dockerd', 'usr/bin/dockerd'],
  docker: ['usr/bin/docker'],
  containerd: ['usr/bin/containerd'],
  'containerd-shim-runc-v2': ['usr/bin/containerd-shim-runc-v2'],
  runc: ['usr/sbin/runc', 'usr/bin/runc'],
  'docker-init': ['usr/sbin/docker-init', 'usr/bin/docker-init', 'usr/libexec/docker/docker-init', 'usr/bin/tini-static'],
  'docker-proxy': ['usr/sbin/docker-proxy', 'usr/bin/docker-proxy', 'usr/libexec/docker/docker-proxy'],
};

/** The real file of each program in the tree (links followed, never out of it); missing ones named. */
export function findPrograms(root: string): { found: Record<string, string>; missing: string[] } {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  const realRoot = realpathSync.native(root);
  for (const [name, candidates] of Object.entries(DEB_PROGRAM_PATHS)) {
    const hit = candidates.map((c) => join(root, c)).find((p) => existsSync(p));
    if (!hit) {
      missing.push(name);
      continue;
    }
    const real = realpathSync.native(hit);
    if (!real.startsWith(`${realRoot}/`)) throw new ArchiveTrustError(`${name} resolves to ${real}, outside the engine tree`);
    found[name] = real;
  }
  return { found, missing };
}

/**
 * Folders of the packages that no engine runs: containerd 2's failpoint test programs (a shim,
 * a runc and CNI plugins that inject faults, 29 MB). Pruned from new trees, and left out of the
 * tarball sent to hosts for trees cached before.
 */
export const UNUSED_FOLDERS = ['usr/lib/containerd', 'usr/lib/cni'];

/**
 * Leaves in the tree only what an engine runs: its programs and the libraries. Gone: the
 * packages' other programs (ctr, runc's test helpers), documentation, locale data and
 * UNUSED_FOLDERS; about a third of the tree.
 */
export function pruneTree(root: string, programs: Record<string, string>): void {
  const keep = new Set(Object.values(programs));
  rmSync(join(root, 'usr', 'share'), { recursive: true, force: true });
  rmSync(join(root, 'etc'), { recursive: true, force: true });
  for (const dir of UNUSED_FOLDERS) rmSync(join(root, dir), { recursive: true, force: true });
  for (const dir of ['usr/bin', 'usr/sbin', 'bin', 'sbin', 'usr/libexec']) {
    const d = join(root, dir);
    if (!existsSync(d) || lstatSync(d).isSymbolicLink()) continue;
    for (const entry of readdirSync(d)) {
      const p = join(d, entry);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        if (![...keep].some((k) => k.startsWith(`${realpathSync.native(p)}/`))) rmSync(p, { recursive: true, force: true });
      } else if (!keep.has(st.isSymbolicLink() ? '' : realpathSync.native(p))) rmSync(p, { force: true });
    }
  }
}

/** The folders of the tree that hold shared libraries, as the suite's loader would search them. */
export function libraryDirs(root: string, arch: string): string[] {
  const triplet = `${arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  return [`usr/lib/${triplet}`, `lib/${triplet}`, 'usr/lib64', 'lib64', 'usr/lib', 'lib']
    .map((d) => join(root, d))
    .filter((d) => {
      try {
        return lstatSync(d).isDirectory();
      } catch {
        return false;
      }
    });
}

/** The loader a dynamic program names (`/lib64/ld-linux-x86-64.so.2`), or undefined for a static one. */
async function interpreterOf(file: string): Promise<string | undefined> {
  const r = await execa('patchelf', ['--print-interpreter', file], { reject: false });
  if ((r as { code?: string }).code === 'ENOENT') throw new ArchiveTrustError('patchelf is not installed: an engine from a package archive runs with its own suite\'s C library, which needs it', { hint: `Install patchelf (${setupScript()} does).` });
  return r.exitCode === 0 ? String(r.stdout).trim() || undefined : undefined;
}

/**
 * Binds each dynamic program to the tree's own loader and libraries (DT_RPATH, searched for
 * every library the program loads, also indirectly), then asks that loader where each library
 * resolves: one outside the tree, or none, is an error naming the program and the library.
 * `finalRoot` is where the tree will live (paths are written into the programs).
 */
export async function bindToSuiteLibc(programs: Record<string, string>, root: string, finalRoot: string, arch: string): Promise<{ loader: string | undefined }> {
  const dirs = libraryDirs(root, arch).map((d) => join(finalRoot, relative(root, d)));
  const done = new Set<string>();
  let loader: string | undefined;
  for (const [name, file] of Object.entries(programs)) {
    if (done.has(file)) continue;
    done.add(file);
    const interp = await interpreterOf(file);
    if (!interp) continue; // static (tini-static)
    // A merged-/usr suite ships /lib64/... as usr/lib64/... (the /lib64 link is base-files').
    const inTree = [join(root, interp), join(root, 'usr', interp)].find((p) => existsSync(p)) ?? join(root, interp);
    if (!existsSync(inTree)) throw new ArchiveTrustError(`${name} needs the loader ${interp}, which the suite's libc6 in the tree does not have`);
    const real = realpathSync.native(inTree);
    if (!real.startsWith(`${realpathSync.native(root)}/`)) throw new ArchiveTrustError(`${name}'s loader ${interp} resolves outside the tree (${real})`);
    loader = join(finalRoot, relative(realpathSync.native(root), real));
    const r = await execa('patchelf', ['--set-interpreter', loader, '--force-rpath', '--set-rpath', dirs.join(':'), file], { reject: false });
    if (r.exitCode !== 0) throw new ArchiveTrustError(`patchelf ${name}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
  }
  return { loader };
}

/** Every library `program` loads, as its own loader resolves it; throws when one is missing or outside `root`. */
export async function checkLibrariesInTree(name: string, program: string, root: string): Promise<string[]> {
  const interp = await interpreterOf(program);
  if (!interp) return [];
  const r = await execa(interp, ['--list', program], { reject: false });
  const out = String(r.stdout);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(.*?)\s+\(0x/.exec(line) ?? /^\s*(\S+)\s+=>\s+(not found)/.exec(line);
    if (!m) continue;
    if (m[2] === 'not found') throw new ArchiveTrustError(`${name}: library ${m[1]} not found in the engine tree`);
    const real = realpathSync.native(m[2]!);
    if (!m[2]!.startsWith(`${root}/`) || !real.startsWith(`${realpathSync.native(root)}/`)) throw new ArchiveTrustError(`${name}: library ${m[1]} resolves to ${real}, outside the engine tree`);
    libs.push(m[2]!);
  }
  if (r.exitCode !== 0) throw new ArchiveTrustError(`${name}: its loader cannot list its libraries: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
  return libs;
}

/** The tree's bin folder: one link per program to its real file, the first folder on the engine's PATH. */
export function linkBin(bin: string, programs: Record<string, string>, finalRoot: string, root: string): void {
  mkdirSync(bin, { recursive: true });
  for (const [name, file] of Object.entries(programs)) symlinkSync(join(finalRoot, relative(root, file)), join(bin, name));
}
