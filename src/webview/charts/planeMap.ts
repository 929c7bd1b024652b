// The maths of the compare view's landscape cards, without a DOM: which compared run each projected
// run is, its colour, its polyline and endpoint in pixels (clamped to the map's edge with the
// direction it lies in when outside), the plane's marked points, the table of coordinates and
// off-plane distances (a projection hides how far off the plane a point is: the table says it),
// and the paths' loss series and barrier table.
import { maxInnerMeanLoss, type MultiRunPlaneResult, type PathEvaluation, type PathsResult, type ProjectedRun } from '../../protocol/landscape';

/** What the cards need of a compared run. */
export interface PlaneRunInfo {
  id: string;
  label: string;
  resultFile: string;
  group: number;
}

/** A path as the host and the job write it: separators unified, no trailing separator. */
export function normalisedFolder(path: string): string {
  return path.replace(/\\/g, '/').replace(/\/+$/, '');
}

/** Folder of a result file. */
export function folderOfResult(resultFile: string): string {
  const n = normalisedFolder(resultFile);
  const cut = n.lastIndexOf('/');
  return cut > 0 ? n.slice(0, cut) : n;
}

/** The compared run a job's run folder (`run` of a ProjectedRun or SolutionRef) is, or -1. */
export function compareIndexOf(runFolder: string, runs: readonly PlaneRunInfo[]): number {
  const f = normalisedFolder(runFolder);
  return runs.findIndex((r) => folderOfResult(r.resultFile) === f);
}

/**
 * Colour index of each plotted run: its group's (the compare view's colours) when every plotted run
 * is in a different group, otherwise its position (seeds of one group must not share a colour here).
 */
export function runColorIndices(groups: readonly number[]): number[] {
  return new Set(groups).size === groups.length ? [...groups] : groups.map((_, k) => k);
}

export interface PixelPoint {
  x: number;
  y: number;
}

export interface MapBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The projected points as pixels (non-finite coordinates dropped). */
export function projectedPolyline(points: readonly { alpha: number; beta: number }[], x: (alpha: number) => number, y: (beta: number) => number): PixelPoint[] {
  const out: PixelPoint[] = [];
  for (const p of points) {
    const px = x(p.alpha);
    const py = y(p.beta);
    if (Number.isFinite(px) && Number.isFinite(py)) out.push({ x: px, y: py });
  }
  return out;
}

/** A point drawn on the map: inside, or clamped onto the box edge towards it (angle from the centre, radians, y down). */
export interface PlacedPoint extends PixelPoint {
  inside: boolean;
  angle: number;
}

export function placeOnMap(p: PixelPoint, box: MapBox): PlacedPoint {
  const x0 = box.left;
  const x1 = box.left + box.width;
  const y0 = box.top;
  const y1 = box.top + box.height;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const angle = Math.atan2(p.y - cy, p.x - cx);
  if (p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1) return { ...p, inside: true, angle };
  // Along the ray from the centre: the first edge it crosses.
  const dx = p.x - cx;
  const dy = p.y - cy;
  const s = Math.min(dx ? (dx > 0 ? x1 - cx : x0 - cx) / dx : Infinity, dy ? (dy > 0 ? y1 - cy : y0 - cy) / dy : Infinity);
  return { x: cx + s * dx, y: cy + s * dy, inside: false, angle };
}

/** The plane's marked points in plane coordinates: θ_A (0,0), θ_B (1,0) and the third point. */
export function planeMarkers(plane: Pick<MultiRunPlaneResult, 'points' | 'third'>): { which: 'A' | 'B' | 'C'; alpha: number; beta: number; label: string }[] {
  return [
    { which: 'A', alpha: 0, beta: 0, label: 'θ_A' },
    { which: 'B', alpha: 1, beta: 0, label: 'θ_B' },
    { which: 'C', alpha: plane.third.alpha, beta: plane.third.beta, label: plane.points[2].label },
  ];
}

/** What a run shares with the reference, in words. */
export function sharesText(shares: ProjectedRun['shares']): string {
  return shares === 'theta-A' ? 'θ_A (same init and first task)' : 'initialisation only';
}

export interface ProjectionRow {
  /** Index into plane.runs, and into the compared runs (-1: not compared here). */
  run: number;
  compare: number;
  label: string;
  phase: number;
  /** The run's last phase (its endpoint) rather than an earlier task's end. */
  last: boolean;
  alpha: number;
  beta: number;
  offPlane: number;
  offPlaneRelative: number;
  shares: ProjectedRun['shares'];
  /**
   * The tasks' loss at the weights themselves and at their projection (what the map shows there),
   * per task; null when the job evaluated no anchor for this end.
   */
  loss: { direct: number[]; inPlane: number[] } | null;
}

/** One row per run and phase end, in the plane's run order: coordinates, off-plane distances, and the loss there vs on the plane. */
export function projectionRows(plane: Pick<MultiRunPlaneResult, 'runs'> & Partial<Pick<MultiRunPlaneResult, 'anchors'>>, runs: readonly PlaneRunInfo[]): ProjectionRow[] {
  return plane.runs.flatMap((r, k) => {
    const compare = compareIndexOf(r.run, runs);
    const label = compare >= 0 ? runs[compare].label : r.label;
    return r.ends.map((e, i) => {
      const a = plane.anchors?.find((x) => x.run === r.run && x.phase === e.phase);
      return { run: k, compare, label, phase: e.phase, last: i === r.ends.length - 1, alpha: e.alpha, beta: e.beta, offPlane: e.offPlane, offPlaneRelative: e.offPlaneRelative, shares: r.shares, loss: a ? { direct: a.direct.loss, inPlane: a.inPlane.loss } : null };
    });
  });
}

/** Mean of the finite values (NaN when none). */
export function meanOf(values: readonly number[]): number {
  const xs = values.filter(Number.isFinite);
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

/** A number for a table: 3 significant decimals, "−" for negatives, "—" for non-finite. */
export function tableNumber(v: number, decimals = 3): string {
  if (!Number.isFinite(v)) return '—';
  const s = v.toFixed(decimals);
  return Number(s) === 0 ? (0).toFixed(decimals) : s.replace('-', '−');
}

/** A relative distance as a percentage of |θ_B − θ_A|. */
export function relativeText(v: number): string {
  return Number.isFinite(v) ? `${(100 * v).toFixed(v < 0.1 ? 1 : 0)}%` : '—';
}

export interface BarrierRow {
  path: number;
  label: string;
  kind: PathEvaluation['kind'];
  distance: number;
  /** Per task, and the mean loss's barrier. */
  barrier: number[];
  barrierT: number[];
  meanBarrier: number;
  /** The highest mean loss inside the path (endpoints excluded). */
  innerMeanLoss: number;
}

/** The barrier table: one row per path (A → B, A → other solutions, Bezier A → B). */
export function barrierRows(paths: Pick<PathsResult, 'paths'>): BarrierRow[] {
  return paths.paths.map((p, k) => ({ path: k, label: p.label, kind: p.kind, distance: p.distance, barrier: p.barrier, barrierT: p.barrierT, meanBarrier: p.meanBarrier, innerMeanLoss: maxInnerMeanLoss(p) }));
}

/** The largest per-task barrier of a path (what "a barrier" means when one number is asked for). */
export const maxBarrier = (row: Pick<BarrierRow, 'barrier'>): number => Math.max(...row.barrier.filter(Number.isFinite), 0);

/** Loss of `task` along every path, as line series points (t, loss); non-finite losses are gaps. */
export function pathLossSeries(paths: Pick<PathsResult, 'paths'>, task: number): { label: string; kind: PathEvaluation['kind']; points: { x: number; y: number | null }[] }[] {
  return paths.paths.map((p) => ({ label: p.label, kind: p.kind, points: p.t.map((t, k) => ({ x: t, y: Number.isFinite(p.loss[task]?.[k]) ? p.loss[task][k] : null })) }));
}

/** The y extent of every path's loss on `task` (from 0), padded a little. */
export function pathLossDomain(paths: Pick<PathsResult, 'paths'>, task: number): [number, number] {
  const all = paths.paths.flatMap((p) => p.loss[task] ?? []).filter(Number.isFinite);
  return [0, Math.max(1e-6, ...all) * 1.05];
}

/**
 * Colour index of each run folder drawn (the reference first): runColorIndices over the compared
 * runs' groups; folders not in the comparison take their position.
 */
export function runColorMap(folders: readonly string[], runs: readonly PlaneRunInfo[]): Map<string, number> {
  const unique = [...new Set(folders.map(normalisedFolder))];
  const groups = unique.map((f, k) => {
    const i = compareIndexOf(f, runs);
    return i >= 0 ? runs[i].group : 1000 + k;
  });
  const idx = runColorIndices(groups);
  return new Map(unique.map((f, k) => [f, idx[k] >= 1000 ? k : idx[k]]));
}

/** The folders an outcome draws, the reference first: the plane's runs, else the paths' endpoints. */
export function drawnFolders(outcome: { paths?: Pick<PathsResult, 'reference' | 'paths'>; plane?: Pick<MultiRunPlaneResult, 'runs'> | null }): string[] {
  if (outcome.plane) return outcome.plane.runs.map((r) => r.run);
  if (!outcome.paths) return [];
  return [outcome.paths.reference, ...outcome.paths.paths.map((p) => p.to.run)];
}
