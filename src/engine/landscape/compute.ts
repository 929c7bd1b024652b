// Loss landscape: every task's loss and accuracy on a G x G grid of the plane
// theta(a, b) = theta_A + a d1 + b d2   (d1 = theta_B - theta_A, d2 orthogonal to d1, |d2| = |d1|),
// on the straight line theta_A -> theta_B (b = 0), and the training trajectory projected onto it.
//
// Precision: d1 and d2 are float64 (d1 = theta_B - theta_A is exact there), each point is formed
// in float64 and rounded once to float32 (<= 0.5 ulp per coordinate). So the point at (0, 0) is
// bitwise theta_A and the point at (1, 0) is bitwise theta_B: the grid/line values there equal a
// direct evaluation at the snapshots exactly (same weights, same deterministic evaluation).
//
// The evaluation itself is abstracted as `evaluateAt(theta)` (modelEvaluator adapts a tfjs
// ClassifierModel), so closed-form models test the geometry exactly.

import { abortError as cancelled, yieldToLoop } from '../cancel';
import type { LandscapeSpec } from '../../protocol/experiment';
import type { LandscapeGrid, LandscapeResult } from '../../protocol/result';
import type { ClassifierModel, EvalSet, TF } from '../models/types';
import { evaluateModel } from '../train/evaluate';
import { buildPlane, explainedVariance } from './directions';
import { dot, writeParameters, type ParameterLayout } from './vector';

export interface LandscapeCheckpoint {
  step: number;
  /** Task being trained (-1 = before training). */
  task: number;
  theta: Float32Array;
}

export interface TaskOutcome {
  loss: number;
  accuracy: number;
}

/** Sets the weights to theta and evaluates every task: one entry per task, in task order. */
export type PointEvaluator = (theta: Float32Array) => TaskOutcome[] | Promise<TaskOutcome[]>;

export type LandscapePhase = 'plane' | 'grid' | 'line';

export interface ComputeLandscapeOptions {
  thetaA: Float32Array;
  thetaB: Float32Array;
  checkpoints: LandscapeCheckpoint[];
  layout: ParameterLayout[];
  spec: LandscapeSpec;
  optima: [number, number];
  seed: number;
  taskCount: number;
  evaluateAt: PointEvaluator;
  /** Evaluation examples per task, reported in the result; defaults to spec.samples. */
  samples?: number;
  signal?: AbortSignal;
  /**
   * Evaluations in flight at once (default 1). Above 1, evaluateAt must be async (e.g. a pool of
   * worker processes) and must not keep the theta buffer after its promise settles.
   */
  concurrency?: number;
  /**
   * A plane built by the caller (e.g. through a third model's weights) instead of buildPlane from
   * `spec.secondAxis`; d1 must be theta_B - theta_A (float64) for the anchors to be exact.
   */
  plane?: { d1: Float64Array; d2: Float64Array; distance: number; secondAxis: LandscapeResult['secondAxis']; fallbackReason?: string };
  /** Notes worth a log line (e.g. why trajectory-pca fell back to a random direction). */
  onNote?(message: string): void;
  /** done/total count evaluated points over the whole computation (grid, then line). */
  onProgress?(done: number, total: number, phase: LandscapePhase): void;
}

/** count evenly spaced values from range[0] to range[1] inclusive (endpoints exact). */
export function linspace(range: readonly [number, number], count: number): number[] {
  const [lo, hi] = range;
  if (!Number.isInteger(count) || count < 1) throw new Error(`linspace: count must be a positive integer, got ${count}`);
  if (count === 1) return [lo];
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(i === count - 1 ? hi : lo + ((hi - lo) * i) / (count - 1));
  return out;
}

/** out = thetaA + a d1 + b d2, formed in float64 and rounded once to float32. */
export function formPoint(out: Float32Array, thetaA: Float32Array, d1: Float64Array, d2: Float64Array, a: number, b: number): Float32Array {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = thetaA[i] + a * d1[i] + b * d2[i];
  return out;
}

const abortError = (): Error => cancelled('landscape');

export async function computeLandscape(opts: ComputeLandscapeOptions): Promise<LandscapeResult> {
  const t0 = performance.now();
  const { thetaA, thetaB, spec, taskCount, signal } = opts;
  const checkAbort = () => {
    if (signal?.aborted) throw abortError();
  };
  checkAbort();
  if (!(taskCount >= 1)) throw new Error(`taskCount must be >= 1, got ${taskCount}`);
  const alphas = linspace(spec.alphaRange, spec.grid);
  const betas = linspace(spec.betaRange, spec.grid);
  const lineT = linspace(spec.alphaRange, spec.linePoints);
  const n = thetaA.length;

  const grids: LandscapeGrid[] = Array.from({ length: taskCount }, (_, task) => ({
    task,
    loss: betas.map(() => new Array<number>(alphas.length).fill(NaN)),
    accuracy: betas.map(() => new Array<number>(alphas.length).fill(NaN)),
  }));
  const line = {
    t: lineT,
    loss: Array.from({ length: taskCount }, () => new Array<number>(lineT.length).fill(NaN)),
    accuracy: Array.from({ length: taskCount }, () => new Array<number>(lineT.length).fill(NaN)),
  };

  // The evaluations: the grid row by row (beta outer, alpha inner), then the line points that are
  // not already on the grid's beta = 0 row (those reuse the grid's values).
  interface Job { a: number; b: number; phase: 'grid' | 'line'; store(outs: TaskOutcome[]): void }
  const jobs: Job[] = [];
  for (let bi = 0; bi < betas.length; bi++) {
    for (let ai = 0; ai < alphas.length; ai++) {
      jobs.push({
        a: alphas[ai],
        b: betas[bi],
        phase: 'grid',
        store: (outs) => {
          for (let t = 0; t < taskCount; t++) {
            grids[t].loss[bi][ai] = outs[t].loss;
            grids[t].accuracy[bi][ai] = outs[t].accuracy;
          }
        },
      });
    }
  }
  const zeroRow = betas.indexOf(0);
  const copies: [k: number, ai: number][] = [];
  lineT.forEach((a, k) => {
    const ai = zeroRow >= 0 ? alphas.indexOf(a) : -1;
    if (ai >= 0) {
      copies.push([k, ai]);
      return;
    }
    jobs.push({
      a,
      b: 0,
      phase: 'line',
      store: (outs) => {
        for (let t = 0; t < taskCount; t++) {
          line.loss[t][k] = outs[t].loss;
          line.accuracy[t][k] = outs[t].accuracy;
        }
      },
    });
  });

  const total = jobs.length;
  let done = 0;
  opts.onProgress?.(done, total, 'plane');
  await yieldToLoop();
  checkAbort();
  const plane = opts.plane ?? buildPlane({
    thetaA,
    thetaB,
    checkpoints: opts.checkpoints,
    layout: opts.layout,
    secondAxis: spec.secondAxis,
    seed: opts.seed,
  });
  const { d1, d2, distance } = plane;
  if (plane.fallbackReason) opts.onNote?.(`landscape: trajectory-pca fell back to a filter-normalised random direction: ${plane.fallbackReason}`);

  // `concurrency` evaluations in flight, each with its own point buffer (reused across its points).
  const lanes = Math.max(1, Math.min(Math.floor(opts.concurrency ?? 1), total));
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    const point = new Float32Array(n);
    while (next < total && !failure) {
      const job = jobs[next++];
      try {
        await yieldToLoop(); // lets cancel messages through
        checkAbort();
        const { a, b } = job;
        formPoint(point, thetaA, d1, d2, a, b);
        const outs = await opts.evaluateAt(point);
        if (!Array.isArray(outs) || outs.length !== taskCount) {
          throw new Error(`evaluateAt returned ${Array.isArray(outs) ? outs.length : typeof outs} outcomes, expected one per task (${taskCount})`);
        }
        job.store(outs);
        opts.onProgress?.(++done, total, job.phase);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane)); // lanes never reject; in-flight work ends first
  if (failure) throw (failure as { error: unknown }).error;
  checkAbort();
  for (const [k, ai] of copies) {
    for (let t = 0; t < taskCount; t++) {
      line.loss[t][k] = grids[t].loss[zeroRow][ai];
      line.accuracy[t][k] = grids[t].accuracy[zeroRow][ai];
    }
  }

  // Trajectory: plane coordinates of each checkpoint (d1 and d2 are orthogonal).
  const n11 = dot(d1, d1);
  const n22 = dot(d2, d2);
  const trajectory = opts.checkpoints.map((c) => {
    if (c.theta.length !== n) throw new Error(`checkpoint at step ${c.step} has ${c.theta.length} values, expected ${n}`);
    let p1 = 0;
    let p2 = 0;
    for (let i = 0; i < n; i++) {
      const y = c.theta[i] - thetaA[i];
      p1 += y * d1[i];
      p2 += y * d2[i];
    }
    return { step: c.step, task: c.task, alpha: p1 / n11, beta: p2 / n22 };
  });

  return {
    optima: [opts.optima[0], opts.optima[1]],
    alphas,
    betas,
    distance,
    secondAxis: plane.secondAxis,
    explainedVariance: explainedVariance(opts.checkpoints, d1, d2),
    grids,
    line,
    trajectory,
    samples: opts.samples ?? spec.samples,
    parameterCount: n,
    timeMs: performance.now() - t0,
  };
}

/**
 * evaluateAt for a tfjs model: writes theta into the model's variables in place, then one
 * evaluateModel per task (one host read each). Large batches (default 1000: a 1000-sample subset
 * in one batch). The model is left holding the last evaluated point's weights.
 */
export function modelEvaluator(tf: TF, model: ClassifierModel, sets: EvalSet[], batchSize = 1000): PointEvaluator {
  return (theta: Float32Array) => {
    writeParameters(tf, model, theta);
    return sets.map((s) => evaluateModel(tf, model, s, batchSize));
  };
}
