// Timing of the loss-landscape grid on a given model: G x G points of computeLandscape with a
// real evaluator (weight write + one evaluation per task), split into write and evaluation time.

import type { LandscapeSpec, ResolvedModelSpec } from '../../protocol/experiment';
import type { ClassifierModel, EvalSet, TF } from '../models/types';
import { computeLandscape, modelEvaluator, type TaskOutcome } from '../landscape/compute';
import { createEvaluatorPool, poolSetsFromTensors } from '../landscape/pool';
import { buildPlane } from '../landscape/directions';
import { evaluateModel } from '../train/evaluate';
import { createRng, deriveSeed, gaussian } from '../random';
import { layoutOf, readParameters, writeParameters } from '../landscape/vector';

export interface LandscapeBenchOptions {
  /** Points per axis (default 5: 25 points). */
  grid?: number;
  /** Evaluation batch size (default 1000). */
  batchSize?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  /**
   * Also run the same grid on a worker-thread pool (landscape/pool.ts) and compare: `spec` must be
   * the model's. `local`: the main thread evaluates too (one worker fewer by default).
   */
  pool?: { spec: ResolvedModelSpec; workers?: number; local?: boolean; workerScript?: string };
}

export interface LandscapePoolBenchResult {
  /** Worker threads, and evaluations in flight (workers, + 1 with the main thread). */
  workers: number;
  size: number;
  /** Starting the workers (tfjs + model + sets each), not included in totalMs. */
  startMs: number;
  totalMs: number;
  msPerPoint: number;
  /** In-process totalMs / pool totalMs. */
  speedup: number;
  /** Every grid value bitwise equal to the in-process run's. */
  identical: boolean;
}

export interface LandscapeBenchResult {
  grid: number;
  points: number;
  tasks: number;
  samplesPerTask: number[];
  parameterCount: number;
  batchSize: number;
  totalMs: number;
  msPerPoint: number;
  /** Building the plane (directions), once. */
  planeMs: number;
  /** Overhead per point: forming the point, writing it into the variables, yielding. */
  overheadMsPerPoint: number;
  /** evaluateModel over every task's set. */
  evalMsPerPoint: number;
  /** Evaluated images per second over the whole run (plane included). */
  imagesPerSecond: number;
  /** The 21 x 21 grid at this speed: plane + 441 points (line points excluded). */
  projected21x21Ms: number;
  /** With opts.pool: the same grid on the worker pool. */
  pool?: LandscapePoolBenchResult;
}

/**
 * Runs a G x G landscape around the model's current weights (theta_B = theta_A plus a small seeded
 * perturbation, random second axis) and times it. The model's weights are restored afterwards.
 */
export async function benchLandscape(tf: TF, model: ClassifierModel, sets: EvalSet[], opts: LandscapeBenchOptions = {}): Promise<LandscapeBenchResult> {
  const grid = opts.grid ?? 5;
  const batchSize = opts.batchSize ?? 1000;
  const seed = opts.seed ?? 0;
  if (!sets.length) throw new Error('benchLandscape needs at least one evaluation set');
  const thetaA = readParameters(tf, model);
  const rng = createRng(deriveSeed(seed, 'bench-landscape'));
  const thetaB = Float32Array.from(thetaA, (w) => w + 0.01 * gaussian(rng));
  const layout = layoutOf(model);
  // The plane alone (computeLandscape builds the same one again below).
  const tPlane = performance.now();
  buildPlane({ thetaA, thetaB, checkpoints: [], layout, secondAxis: 'random', seed });
  const planeMs = performance.now() - tPlane;
  let evalMs = 0;
  const evaluateAt = (theta: Float32Array): TaskOutcome[] => {
    writeParameters(tf, model, theta);
    const t1 = performance.now();
    const outs = sets.map((s) => evaluateModel(tf, model, s, batchSize));
    evalMs += performance.now() - t1;
    return outs;
  };
  const spec: LandscapeSpec = {
    grid,
    samples: sets[0].labels.shape[0],
    alphaRange: [-0.5, 1.5],
    betaRange: [-1, 1],
    secondAxis: 'random',
    checkpointEvery: 1,
    linePoints: 2, // the two ends lie on the grid: no extra evaluations
    optima: [0, 1],
  };
  const run = (evaluate: typeof evaluateAt | ((theta: Float32Array) => Promise<TaskOutcome[]>), concurrency = 1) =>
    computeLandscape({
      thetaA,
      thetaB,
      checkpoints: [],
      layout,
      spec,
      optima: [0, 1],
      seed,
      taskCount: sets.length,
      evaluateAt: evaluate,
      concurrency,
      signal: opts.signal,
      onProgress: (done, total) => opts.onProgress?.(done, total),
    });
  const t0 = performance.now();
  let inProcess: Awaited<ReturnType<typeof run>>;
  try {
    inProcess = await run(evaluateAt);
  } finally {
    writeParameters(tf, model, thetaA);
  }
  const totalMs = performance.now() - t0;

  let pool: LandscapePoolBenchResult | undefined;
  if (opts.pool) {
    const tStart = performance.now();
    const p = await createEvaluatorPool({
      spec: opts.pool.spec,
      inputShape: model.inputShape,
      outputs: model.outputs,
      sets: poolSetsFromTensors(sets),
      batchSize,
      workers: opts.pool.workers,
      workerScript: opts.pool.workerScript,
      local: opts.pool.local ? modelEvaluator(tf, model, sets, batchSize) : undefined,
    });
    const startMs = performance.now() - tStart;
    try {
      const t1 = performance.now();
      const r = await run(p.evaluateAt, p.size);
      const poolMs = performance.now() - t1;
      const identical = r.grids.every((g, t) =>
        g.loss.every((row, i) => row.every((v, j) => Object.is(v, inProcess.grids[t].loss[i][j]) && Object.is(g.accuracy[i][j], inProcess.grids[t].accuracy[i][j]))),
      );
      pool = { workers: p.size - (opts.pool.local ? 1 : 0), size: p.size, startMs, totalMs: poolMs, msPerPoint: poolMs / (grid * grid), speedup: totalMs / poolMs, identical };
    } finally {
      await p.dispose();
      writeParameters(tf, model, thetaA);
    }
  }
  const points = grid * grid;
  const samplesPerTask = sets.map((s) => s.labels.shape[0]);
  const images = points * samplesPerTask.reduce((a, b) => a + b, 0);
  // Everything but the plane and the evaluations (point formation, write, yields) is per-point overhead.
  const overheadMs = totalMs - planeMs - evalMs;
  return {
    grid,
    points,
    tasks: sets.length,
    samplesPerTask,
    parameterCount: thetaA.length,
    batchSize,
    totalMs,
    msPerPoint: totalMs / points,
    planeMs,
    overheadMsPerPoint: overheadMs / points,
    evalMsPerPoint: evalMs / points,
    imagesPerSecond: images / (totalMs / 1000),
    projected21x21Ms: planeMs + ((totalMs - planeMs) / points) * 441,
    ...(pool ? { pool } : {}),
  };
}
