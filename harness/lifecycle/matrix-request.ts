// What a caller asks of `matrix`, and what the matrix tells it as it goes: the request, the
// events, a cell's phases.
import type { OverlabCli } from './child-test.ts';
import type { MatrixAxes, MatrixCellPlan } from '../lab/matrix.ts';
import type { CellStatus } from '../report/matrix.ts';

export type CellPhase = 'waiting' | 'running' | 'down' | CellStatus;

/** What the matrix tells its caller as it goes (the library never prints). */
export type MatrixEvent =
  | { type: 'start'; cells: MatrixCellPlan[]; jobs: number; jobsWhy: string; out: string }
  | { type: 'cell'; id: string; phase: CellPhase; ms?: number; detail?: string };

export interface MatrixRequest extends Partial<Pick<MatrixAxes, 'engines' | 'kv' | 'modes'>>, Omit<MatrixAxes, 'engines' | 'kv' | 'modes'> {
  ref: string | undefined;
  provider?: string;
  jobs?: number;
  failFast?: boolean;
  out: string;
  compare?: string;
  /** Folder URL holding docker-VERSION.tgz (http, https, file). */
  mirror?: string;
  /** --cell: only these cells run (ids of the matrix); n/a cells are listed all the same. */
  cells?: string[];
  /** The CLI that runs each cell: node, its flags and the entry script (`overlab test CELL --json`). */
  cli: OverlabCli;
  signal: AbortSignal;
  onEvent?: (e: MatrixEvent) => void;
}
