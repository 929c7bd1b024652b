// Results of landscape jobs computed after a run from its stored weights: paths between solutions
// (straight lines, a trained quadratic Bezier curve) with their loss barriers, and a plane through
// three models with several runs projected onto it. Written beside the reference run's result.json.
import type { LandscapeGrid } from './result';

export const PATHS_FORMAT_VERSION = 1;
export const PLANE3_FORMAT_VERSION = 1;

/** A weight vector a path or plane is built from: a run's end-of-phase weights. */
export interface SolutionRef {
  /** Run folder name (or path) as given. */
  run: string;
  /** Index into the run's end-of-phase weights (taskEnd). */
  phase: number;
  /** Short name shown in tables and legends: "A", "B", "joint", "ewc:1". */
  label: string;
}

/** Training of a Bezier control point (Garipov et al. 2018). */
export interface BezierTraining {
  steps: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Tasks whose training data (union) the curve was trained on. */
  tasks: number[];
  /** Mean training loss of each block of `lossEvery` steps, in order. */
  trainLoss: number[];
  lossEvery: number;
  /** |theta - (theta_0 + theta_1)/2|: how far training moved the control point from the line's midpoint. */
  controlShift: number;
  timeMs: number;
}

export interface PathEvaluation {
  kind: 'line' | 'bezier';
  /** "A → B", "A → joint", "Bezier A → B". */
  label: string;
  from: SolutionRef;
  to: SolutionRef;
  /** |theta_1 - theta_0| (L2). */
  distance: number;
  /** Path parameter of each evaluated point, 0 .. 1 (endpoints included). */
  t: number[];
  /** loss[task][k], accuracy[task][k] at t[k] on each task's evaluation subset. */
  loss: number[][];
  accuracy: number[][];
  /**
   * Loss barrier per task: max_t loss(t) - [(1-t) loss(0) + t loss(1)] (Frankle et al. 2020,
   * Mirzadeh et al. 2021), over the evaluated points (>= 0: the endpoints contribute 0).
   */
  barrier: number[];
  /** t at which each task's barrier is attained. */
  barrierT: number[];
  /** The tasks' mean loss at each t (the union's objective a Bezier curve is trained on) and its barrier. */
  meanLoss: number[];
  meanBarrier: number;
  /** Present for a trained curve. */
  bezier?: BezierTraining;
}

/**
 * The highest mean loss strictly inside a path (endpoints excluded): what a trained curve lowers even
 * where the straight line has no barrier (its loss rises monotonically from one end to the other).
 */
export function maxInnerMeanLoss(p: Pick<PathEvaluation, 'meanLoss'>): number {
  const inner = p.meanLoss.slice(1, -1);
  return inner.length ? Math.max(...inner) : NaN;
}

export interface PathsResult {
  formatVersion: number;
  reference: string;
  /** Phases of the reference run whose end weights are theta_A and theta_B. */
  optima: [number, number];
  /** Evaluation examples per task. */
  samples: number;
  parameterCount: number;
  /** Task labels in task order (the columns of loss/barrier). */
  tasks: string[];
  paths: PathEvaluation[];
  createdAt: string;
  timeMs: number;
}

/** One weight vector projected onto the plane. */
export interface PlaneProjection {
  /** Least-squares plane coordinates, in units of |theta_B - theta_A| (theta_A = (0,0), theta_B = (1,0)). */
  alpha: number;
  beta: number;
  /** |theta - its projection| (L2): how far off the plane the point is. */
  offPlane: number;
  /** offPlane / |theta_B - theta_A|. */
  offPlaneRelative: number;
}

export interface ProjectedRun {
  run: string;
  label: string;
  /** What the run shares with the reference: theta_A itself (init and first phase), or only the initialisation. */
  shares: 'theta-A' | 'init';
  trajectory: (PlaneProjection & { step: number; phase: number })[];
  /** End-of-phase weights, one per phase. */
  ends: (PlaneProjection & { phase: number })[];
}

/** A point evaluated directly next to the in-plane point at its projected coordinates (and the grid's value when that is a node). */
export interface PlaneAnchor {
  run: string;
  phase: number;
  alpha: number;
  beta: number;
  offPlane: number;
  direct: { loss: number[]; accuracy: number[] };
  /** At theta_A + alpha u + beta v (equals `direct` for a point in the plane, to float tolerance). */
  inPlane: { loss: number[]; accuracy: number[] };
  grid: { loss: number[]; accuracy: number[] } | null;
}

/** The plane through three models (as `planar_interpolation` in the loss-landscapes package), several runs on it. */
export interface MultiRunPlaneResult {
  formatVersion: number;
  reference: string;
  /** theta_A, theta_B (reference run) and the third point. */
  points: [SolutionRef, SolutionRef, SolutionRef];
  /** Coordinates of the third point (beta > 0 by construction). */
  third: { alpha: number; beta: number };
  /** |theta_B - theta_A|, the coordinates' unit. */
  distance: number;
  alphas: number[];
  betas: number[];
  grids: LandscapeGrid[];
  runs: ProjectedRun[];
  anchors: PlaneAnchor[];
  samples: number;
  parameterCount: number;
  tasks: string[];
  createdAt: string;
  timeMs: number;
}

/** Where the paths job is: 'line A → B', 'line A → <run>', 'Bezier training', 'Bezier A → B', 'plane'. */
export interface PathsJobProgress {
  type: 'progress';
  stage: string;
  done: number;
  total: number;
}

/** What a paths job (engine/landscape/pathsJob.ts, trainer request 'paths') reports, in order; it ends with 'finished'. */
export type PathsJobEvent =
  | PathsJobProgress
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  | {
      type: 'finished';
      status: 'completed' | 'cancelled' | 'failed';
      paths?: PathsResult;
      /** Null when no third point was asked for. */
      plane?: MultiRunPlaneResult | null;
      /** The files written or reopened (absolute): the paths file, then the plane file. */
      files?: string[];
      reopened?: { paths: boolean; plane: boolean };
      error?: string;
      totalMs: number;
    };
