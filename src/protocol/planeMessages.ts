// Messages of the compare view's landscape cards ("several runs on one plane", "paths between
// solutions") with the compare panel's host. The webview names runs by their id in the Comparison
// (never by path: it is untrusted input, the host maps ids to the folders it compared), the host
// starts a paths job (trainer request 'paths') and forwards its progress and results.
import type { MultiRunPlaneResult, PathsResult } from './landscape';

/** Id of the <script type="application/json"> block a static compare.html may embed a PlaneJobOutcome in. */
export const PLANE_ELEMENT_ID = 'clw-plane';

/** Limits of a request (a webview message is untrusted: shapes, types and sizes are checked). */
export const PLANE_LIMITS = {
  /** Runs in one request (references, lines, projected runs). */
  runs: 64,
  /** Characters of a run id. */
  id: 1000,
  steps: [1, 5000] as const,
  grid: [3, 101] as const,
};

/** Webview -> host: compute (or reopen) the plane and paths. */
export interface PlaneComputeMessage {
  type: 'planeCompute';
  /** The reference run (CompareRun.id): theta_A, theta_B are its first and last optima. */
  reference: string;
  /** The plane's third point: this run's last end weights; null for paths only. */
  third: string | null;
  /** Runs projected onto the plane (their trajectories and end weights). */
  runs: string[];
  /** Runs whose last end weights get a straight line from theta_A. */
  to: string[];
  /** Train the quadratic Bezier curve theta_A -> theta_B. */
  bezier: boolean;
  /** Bezier training steps (default: the job's, 300). */
  steps?: number;
  /** Admit runs that share only the initialisation with the reference. */
  allowInitOnly: boolean;
  /** Plane grid points per axis (default: the reference's). */
  grid?: number;
  /** Recompute even when saved. */
  force?: boolean;
}

export type FromPlaneWebviewMessage = PlaneComputeMessage | { type: 'planeCancel' };

/** The end of a job as the cards show it (also what a static page may embed). */
export interface PlaneJobOutcome {
  status: 'completed' | 'cancelled' | 'failed' | 'refused';
  /** The request it answers (run ids), so the cards can tell which runs it is about. */
  request?: PlaneComputeMessage;
  paths?: PathsResult;
  plane?: MultiRunPlaneResult | null;
  files?: string[];
  reopened?: { paths: boolean; plane: boolean };
  error?: string;
  totalMs?: number;
}

/** Host -> webview. */
export type ToPlaneWebviewMessage =
  | { type: 'planeProgress'; stage: string; done: number; total: number }
  | { type: 'planeLog'; message: string }
  | ({ type: 'planeFinished' } & PlaneJobOutcome);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= PLANE_LIMITS.id;
const intIn = (v: unknown, [lo, hi]: readonly [number, number]) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const ids = (v: unknown): string[] | null => (Array.isArray(v) && v.length <= PLANE_LIMITS.runs && v.every(isId) ? [...new Set(v)] : null);

/**
 * A webview message of the plane cards, validated (unknown keys dropped, ids deduplicated), or null
 * when it is not one or is malformed.
 */
export function readPlaneRequest(raw: unknown): FromPlaneWebviewMessage | null {
  if (!isObject(raw)) return null;
  if (raw.type === 'planeCancel') return { type: 'planeCancel' };
  if (raw.type !== 'planeCompute') return null;
  if (!isId(raw.reference)) return null;
  if (raw.third !== null && !isId(raw.third)) return null;
  const runs = ids(raw.runs);
  const to = ids(raw.to);
  if (!runs || !to) return null;
  if (typeof raw.bezier !== 'boolean' || typeof raw.allowInitOnly !== 'boolean') return null;
  if (raw.steps !== undefined && !intIn(raw.steps, PLANE_LIMITS.steps)) return null;
  if (raw.grid !== undefined && !intIn(raw.grid, PLANE_LIMITS.grid)) return null;
  if (raw.force !== undefined && typeof raw.force !== 'boolean') return null;
  return {
    type: 'planeCompute',
    reference: raw.reference,
    third: raw.third,
    runs,
    to,
    bezier: raw.bezier,
    allowInitOnly: raw.allowInitOnly,
    ...(raw.steps !== undefined ? { steps: raw.steps as number } : {}),
    ...(raw.grid !== undefined ? { grid: raw.grid as number } : {}),
    ...(raw.force ? { force: true } : {}),
  };
}

/** A host message of the plane cards (shape only: the host is trusted), or null. */
export function readPlaneHostMessage(raw: unknown): ToPlaneWebviewMessage | null {
  if (!isObject(raw)) return null;
  if (raw.type === 'planeProgress') {
    return typeof raw.stage === 'string' && typeof raw.done === 'number' && typeof raw.total === 'number' ? { type: 'planeProgress', stage: raw.stage, done: raw.done, total: raw.total } : null;
  }
  if (raw.type === 'planeLog') return typeof raw.message === 'string' ? { type: 'planeLog', message: raw.message } : null;
  if (raw.type === 'planeFinished') {
    if (!['completed', 'cancelled', 'failed', 'refused'].includes(raw.status as string)) return null;
    if (raw.paths !== undefined && !(isObject(raw.paths) && Array.isArray(raw.paths.paths))) return null;
    if (raw.plane !== undefined && raw.plane !== null && !(isObject(raw.plane) && Array.isArray(raw.plane.grids) && Array.isArray(raw.plane.runs))) return null;
    return raw as ToPlaneWebviewMessage;
  }
  return null;
}

/** Folder of a result file (the run folder), on either separator. */
export function runFolderOf(resultFile: string): string {
  const cut = Math.max(resultFile.lastIndexOf('/'), resultFile.lastIndexOf('\\'));
  return cut > 0 ? resultFile.slice(0, cut) : resultFile;
}

/** The paths job's fields of a request, its run ids mapped to folders; throws naming an id the comparison does not hold. */
export function pathsJobFields(m: PlaneComputeMessage, folderOf: (id: string) => string | undefined): { reference: string; planeWith?: string; runs: string[]; to: string[]; bezier: boolean; steps?: number; allowInitOnly: boolean; grid?: number; force?: boolean } {
  const folder = (id: string) => {
    const f = folderOf(id);
    if (!f) throw new Error(`run ${JSON.stringify(id)} is not in this comparison`);
    return f;
  };
  const reference = folder(m.reference);
  if (m.third === m.reference) throw new Error('the third point must be another run than the reference (its last end weights are θ_B, on the line through θ_A and θ_B)');
  const others = (list: string[]) => list.filter((id) => id !== m.reference).map(folder);
  return {
    reference,
    ...(m.third !== null ? { planeWith: folder(m.third) } : {}),
    runs: others(m.runs),
    to: others(m.to),
    bezier: m.bezier,
    ...(m.steps !== undefined ? { steps: m.steps } : {}),
    allowInitOnly: m.allowInitOnly,
    ...(m.grid !== undefined ? { grid: m.grid } : {}),
    ...(m.force ? { force: true } : {}),
  };
}
