// Timing of the loss-landscape grid: G x G points of computeLandscape evaluated the way a run
// evaluates them (runner.ts landscapeEvaluator: worker threads on wasm/cpu with >= 2 cores, else
// in-process), on the run's own landscape sets (runner.ts landscapeSubset). The grid only (line
// points all fall on it), so that it compares with `torch_reference.py grid --res G`.

import type { LandscapeSpec } from '../../protocol/experiment';
import type { ClassifierModel, EvalSet, TF } from '../models/types';
import { computeLandscape, modelEvaluator, type PointEvaluator, type TaskOutcome } from '../landscape/compute';
import { buildPlane } from '../landscape/directions';
import { createRng, deriveSeed, gaussian } from '../random';
import { layoutOf, readParameters, writeParameters } from '../landscape/vector';

export interface LandscapeBenchOptions {
  /** Points per axis (default 5: 25 points). */
  grid?: number;
  /** Evaluation batch size of the in-process evaluator (default 1000, as the runner's). */
  batchSize?: number;
  seed?: number;
  /** theta_B (default theta_A plus a small seeded perturbation: evaluation cost does not depend on the weights). */
  thetaB?: Float32Array;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  /**
   * The evaluator a run uses (runner.ts landscapeEvaluator). Absent: in-process only. `startMs`: how
   * long it took to start (workers loading tfjs, the model and the sets), reported beside the grid.
   */
  evaluator?: { evaluateAt: PointEvaluator; concurrency: number; startMs?: number; label?: string };
  /** Also run the grid in-process (one thread) with an eval/overhead split, and check the evaluator gives the same values (default: only without `evaluator`). */
  inProcess?: boolean;
}

export interface InProcessLandscapeTiming {
  totalMs: number;
  msPerPoint: number;
  /** Overhead per point: forming the point, writing it into the variables, yielding. */
  overheadMsPerPoint: number;
  /** evaluateModel over every task's set. */
  evalMsPerPoint: number;
  imagesPerSecond: number;
}

export interface LandscapeBenchResult {
  grid: number;
  points: number;
  tasks: number;
  samplesPerTask: number[];
  parameterCount: number;
  /** Evaluations in flight (worker threads of the evaluator, or 1 in-process). */
  concurrency: number;
  evaluator: string;
  /** Starting the evaluator (not in totalMs). */
  startMs: number;
  /** The grid, plane included (computeLandscape from call to result). */
  totalMs: number;
  msPerPoint: number;
  /** Building the plane (directions), once. */
  planeMs: number;
  /** Evaluated images per second over the whole grid. */
  imagesPerSecond: number;
  /** The 21 x 21 grid at this speed: plane + 441 points. */
  projected21x21Ms: number;
  inProcess?: InProcessLandscapeTiming;
  /** With both: every grid value of the evaluator bitwise equal to the in-process run's. */
  identical?: boolean;
}

/** The landscape spec of the timed grid: the run's ranges, a random second axis, no line points off the grid. */
export function gridSpec(grid: number, samples: number): LandscapeSpec {
  return {
    grid,
    samples,
    alphaRange: [-0.5, 1.5],
    betaRange: [-1, 1],
    secondAxis: 'random',
    checkpointEvery: 1,
    linePoints: 2, // the two ends lie on the grid: no extra evaluations
    optima: [0, 1],
  };
}

/** Runs a G x G landscape around the model's current weights (theta_A) and times it. The model's weights are restored afterwards. */
export async function benchLandscape(tf: TF, model: ClassifierModel, sets: EvalSet[], opts: LandscapeBenchOptions = {}): Promise<LandscapeBenchResult> {
  const grid = opts.grid ?? 5;
  const batchSize = opts.batchSize ?? 1000;
  const seed = opts.seed ?? 0;
  if (!sets.length) throw new Error('benchLandscape needs at least one evaluation set');
  const thetaA = readParameters(tf, model);
  const rng = createRng(deriveSeed(seed, 'bench-landscape'));
  const thetaB = opts.thetaB ?? Float32Array.from(thetaA, (w) => w + 0.01 * gaussian(rng));
  const layout = layoutOf(model);
  const tPlane = performance.now();
  buildPlane({ thetaA, thetaB, checkpoints: [], layout, secondAxis: 'random', seed });
  const planeMs = performance.now() - tPlane;
  const spec = gridSpec(grid, sets[0].labels.shape[0]);
  const run = (evaluateAt: PointEvaluator, concurrency: number) =>
    computeLandscape({
      thetaA,
      thetaB,
      checkpoints: [],
      layout,
      spec,
      optima: [0, 1],
      seed,
      taskCount: sets.length,
      evaluateAt,
      concurrency,
      signal: opts.signal,
      onProgress: (done, total) => opts.onProgress?.(done, total),
    });
  const points = grid * grid;
  const samplesPerTask = sets.map((s) => s.labels.shape[0]);
  const images = points * samplesPerTask.reduce((a, b) => a + b, 0);

  let inProcess: InProcessLandscapeTiming | undefined;
  let inProcessGrids: Awaited<ReturnType<typeof run>>['grids'] | undefined;
  if (opts.inProcess ?? !opts.evaluator) {
    let evalMs = 0;
    const evaluate = modelEvaluator(tf, model, sets, batchSize);
    const timed = (theta: Float32Array): TaskOutcome[] => {
      const t1 = performance.now();
      const outs = evaluate(theta) as TaskOutcome[];
      evalMs += performance.now() - t1;
      return outs;
    };
    const t0 = performance.now();
    try {
      inProcessGrids = (await run(timed, 1)).grids;
    } finally {
      writeParameters(tf, model, thetaA);
    }
    const totalMs = performance.now() - t0;
    // modelEvaluator writes the point into the variables inside evaluate: that write is in evalMs.
    inProcess = { totalMs, msPerPoint: totalMs / points, overheadMsPerPoint: (totalMs - planeMs - evalMs) / points, evalMsPerPoint: evalMs / points, imagesPerSecond: images / (totalMs / 1000) };
  }

  let main: { totalMs: number; concurrency: number; label: string; startMs: number } = {
    totalMs: inProcess?.totalMs ?? NaN,
    concurrency: 1,
    label: 'in-process',
    startMs: 0,
  };
  let identical: boolean | undefined;
  if (opts.evaluator) {
    const t0 = performance.now();
    let grids: Awaited<ReturnType<typeof run>>['grids'];
    try {
      grids = (await run(opts.evaluator.evaluateAt, opts.evaluator.concurrency)).grids;
    } finally {
      writeParameters(tf, model, thetaA);
    }
    main = { totalMs: performance.now() - t0, concurrency: opts.evaluator.concurrency, label: opts.evaluator.label ?? `${opts.evaluator.concurrency} evaluator(s)`, startMs: opts.evaluator.startMs ?? 0 };
    if (inProcessGrids) {
      const ref = inProcessGrids;
      identical = grids.every((g, t) => g.loss.every((row, i) => row.every((v, j) => Object.is(v, ref[t].loss[i][j]) && Object.is(g.accuracy[i][j], ref[t].accuracy[i][j]))));
    }
  }
  return {
    grid,
    points,
    tasks: sets.length,
    samplesPerTask,
    parameterCount: thetaA.length,
    concurrency: main.concurrency,
    evaluator: main.label,
    startMs: main.startMs,
    totalMs: main.totalMs,
    msPerPoint: main.totalMs / points,
    planeMs,
    imagesPerSecond: images / (main.totalMs / 1000),
    projected21x21Ms: planeMs + ((main.totalMs - planeMs) / points) * 441,
    ...(inProcess ? { inProcess } : {}),
    ...(identical !== undefined ? { identical } : {}),
  };
}
