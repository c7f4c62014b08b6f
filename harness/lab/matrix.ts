// The release matrix, planned: which cells (engine x mode x KV store) a lab gives, their short
// ids and lab names, which cannot exist and why, and each cell's lab file, written from the base
// lab's own text with the cell's settings put in. Pure: data in, data out; nothing runs here.
import { createHash } from 'node:crypto';
import { parseDocument, isMap, isSeq } from 'yaml';
import { UsageError } from '../errors.ts';
import type { EngineMode, EngineSource, KvType, Lab } from './types.ts';
import { KV_TYPES } from './types.ts';
import { engineFlagProblem } from './engine-flags.ts';
import { quote } from './text.ts';

/** A lab name is at most this long (namespaces, veths and cgroups are named after it). */
export const MATRIX_MAX_LAB_NAME = 24;

export interface MatrixAxes {
  /**
   * `system` (this machine's engine), exact releases X.Y.Z (found in the cache, Debian's archive
   * or Docker's static downloads), or SOURCE:X.Y.Z to say where from (static, debian, ubuntu).
   */
  engines: string[];
  kv: KvType[];
  modes: EngineMode[];
  /** sha256 per static version, when given. */
  sha256?: Record<string, string>;
  /** Extra dockerd flags per cell id (a setting tried in one cell). */
  cellFlags?: Record<string, string[]>;
}

export interface MatrixCellPlan {
  /** Short and stable across runs: `sys-et`, `201024-zk`, `sys-sw` (what --compare matches on). */
  id: string;
  /** The cell's own lab: `<lab>-<id>`, the base name cut so the whole fits 24 characters. */
  lab: string;
  engine: { requested: string; source: EngineSource; version: string };
  mode: EngineMode;
  kv: KvType | 'none';
  /** Absent when the cell runs; else why it cannot exist. */
  notApplicable?: string;
  flags: string[];
}

const KV_ID: Record<KvType, string> = { etcd: 'et', zookeeper: 'zk', consul: 'cs' };

export function parseEngineList(text: string): string[] {
  const list = splitList(text, '--engines');
  for (const e of list) {
    if (e !== 'system' && !/^(?:(?:static|debian|ubuntu|auto):)?\d+\.\d+\.\d+$/.test(e)) {
      throw new UsageError(`--engines: "${e}" is neither system nor an exact release X.Y.Z (or static:X.Y.Z, debian:X.Y.Z, ubuntu:X.Y.Z to say where from)`);
    }
  }
  return list;
}

/** `debian:28.5.2` -> debian, 28.5.2; `28.5.2` -> auto; `system` -> system. */
export function engineEntry(e: string, systemVersion: string): { source: EngineSource; version: string } {
  if (e === 'system') return { source: 'system', version: systemVersion };
  const m = /^(static|debian|ubuntu|auto):(.*)$/.exec(e);
  return m ? { source: m[1] as EngineSource, version: m[2]! } : { source: 'auto', version: e };
}

export function parseKvList(text: string): KvType[] {
  const list = splitList(text, '--kv');
  for (const k of list) if (!(KV_TYPES as readonly string[]).includes(k)) throw new UsageError(`--kv: "${k}" is not a KV store (${KV_TYPES.join(', ')})`);
  return list as KvType[];
}

export function parseModeList(text: string): EngineMode[] {
  const list = splitList(text, '--modes');
  for (const m of list) if (m !== 'kv' && m !== 'swarm') throw new UsageError(`--modes: "${m}" is not a mode (kv, swarm)`);
  return list as EngineMode[];
}

function splitList(text: string, flag: string): string[] {
  const list = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (!list.length) throw new UsageError(`${flag} needs at least one value`);
  return list;
}

/** A cell's engine part: `sys`, or the release's digits (`2852`); where it came from is in the report, not the id. */
function engineId(e: string): string {
  return e === 'system' ? 'sys' : e.replace(/^[a-z]+:/, '').replaceAll('.', '');
}

function versionParts(v: string): number[] {
  return v.split('.').map(Number);
}

function atLeast(v: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = versionParts(v);
  return a > major || (a === major && b >= minor);
}

/**
 * The cell's lab name: `<base>-<id>`. A base too long to fit is cut (never the id) and keeps four
 * hex digits of its whole name's hash, so that two labs whose names start alike never share
 * cell names (one matrix would take down the other's cells).
 */
export function cellLabName(base: string, id: string): string {
  const room = MATRIX_MAX_LAB_NAME - id.length - 1;
  if (room < 5) throw new UsageError(`matrix cell id ${id} leaves no room for the lab name in ${MATRIX_MAX_LAB_NAME} characters`);
  if (base.length <= room) return `${base}-${id}`;
  const tag = createHash('sha256').update(base).digest('hex').slice(0, 4);
  const cut = base.slice(0, room - 5).replace(/-+$/, '');
  return `${cut ? `${cut}-` : ''}${tag}-${id}`;
}

/**
 * Every cell of engines x modes x KV stores that means something. Swarm mode keeps its state in
 * the managers' raft store, so a swarm cell runs once per engine with no KV store (swarm with a
 * KV store is no cell at all); kv mode runs once per KV store and engine, and is listed as not
 * applicable, with the reason, on 23.0+ (the flags it needs are gone) or on a lab with no kv host.
 */
export function planMatrix(lab: Lab, axes: MatrixAxes): MatrixCellPlan[] {
  const cells: MatrixCellPlan[] = [];
  const hasKvHost = lab.hosts.some((h) => h.role === 'kv');
  for (const requested of axes.engines) {
    const { source, version } = engineEntry(requested, lab.engine.version);
    const engine = { requested, source, version };
    const add = (mode: EngineMode, kv: KvType | 'none', notApplicable?: string) => {
      const id = `${engineId(requested)}-${mode === 'swarm' ? 'sw' : KV_ID[kv as KvType]}`;
      cells.push({ id, lab: cellLabName(lab.name, id), engine, mode, kv, ...(notApplicable ? { notApplicable } : {}), flags: axes.cellFlags?.[id] ?? [] });
    };
    for (const mode of axes.modes) {
      if (mode === 'kv') {
        for (const kv of axes.kv) {
          if (source !== 'system' && atLeast(version, 23, 0)) {
            add(mode, kv, `kv mode needs --cluster-store and --cluster-advertise, removed in Docker 23.0 (engine ${version})`);
          } else if (!hasKvHost) add(mode, kv, `lab ${lab.name} has no host with role kv to run ${kv}`);
          else add(mode, kv);
        }
      } else {
        if (source !== 'system' && !atLeast(version, 1, 13)) add(mode, 'none', `swarm mode needs attachable overlays, which came in Docker 1.13 (engine ${version})`);
        else add(mode, 'none');
      }
    }
  }
  const ids = cells.map((c) => c.id);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (twice.length) throw new UsageError(`--engines names one release twice (cells ${[...new Set(twice)].join(', ')}): a matrix runs each release once`);
  const unknown = Object.keys(axes.cellFlags ?? {}).filter((id) => !cells.some((c) => c.id === id));
  if (unknown.length) throw new UsageError(`--cell-flag names no cell of this matrix: ${unknown.join(', ')} (cells: ${cells.map((c) => c.id).join(', ')})`);
  // Refused here, before any cell runs, as each cell's lab file would refuse it (engine.flags).
  for (const [id, flags] of Object.entries(axes.cellFlags ?? {})) {
    for (const flag of flags) {
      const problem = engineFlagProblem(flag);
      if (problem) throw new UsageError(`--cell-flag ${quote(`${id}=${flag}`, 80)} ${problem}`);
    }
  }
  const names = new Set(cells.map((c) => c.lab));
  if (names.size !== cells.length) throw new UsageError(`matrix cells of lab ${lab.name} would share lab names: shorten the lab name`);
  return cells;
}

/**
 * The cell's lab file: the base lab's text with name, engine, kv store and mode set. A swarm
 * cell drops the kv hosts and the kv block and makes every overlay attachable (standalone
 * containers join only attachable overlays in swarm mode). Comments and order are kept.
 */
export function cellLabText(baseText: string, cell: MatrixCellPlan, options: { provider?: string; sha256?: string; specFiles?: string[] } = {}): string {
  const doc = parseDocument(baseText);
  doc.set('name', cell.lab);
  // The cell's file lives elsewhere: the lab's own spec files go by the absolute names (glob-escaped) the base lab's resolved to.
  if (doc.hasIn(['specs', 'files'])) doc.setIn(['specs', 'files'], options.specFiles ?? []);
  if (options.provider) doc.set('provider', options.provider);
  doc.setIn(['engine', 'mode'], cell.mode);
  doc.setIn(['engine', 'version'], cell.engine.version);
  doc.setIn(['engine', 'source'], cell.engine.source);
  if (options.sha256) doc.setIn(['engine', 'sha256'], options.sha256);
  if (cell.flags.length) doc.setIn(['engine', 'flags'], cell.flags);
  if (cell.mode === 'kv') {
    doc.setIn(['kv', 'type'], cell.kv);
    // The store asked for, or the cell fails: a fallback would test another store under its name.
    if (doc.hasIn(['kv', 'fallback'])) doc.deleteIn(['kv', 'fallback']);
  } else {
    doc.delete('kv');
    const hosts = doc.get('hosts');
    if (isSeq(hosts)) hosts.items = hosts.items.filter((h) => !(isMap(h) && h.get('role') === 'kv'));
    const networks = doc.get('networks');
    if (isSeq(networks)) for (const n of networks.items) if (isMap(n)) n.set('attachable', true);
  }
  return doc.toString();
}
