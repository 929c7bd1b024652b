// A landscape-only job: the plane through any two phases' optima of a finished run (and a second
// axis: trajectory PCA, a filter-normalised random direction, or a third model's weights),
// recomputed from the weights the run kept (store.ts) on the evaluation pool, without retraining.
// The evaluation sets are rebuilt from the recorded experiment by the runner's own code (the same
// seeded subsets and masks), so recomputing the run's own pair gives the run's own grid.
// Saved beside result.json as landscape-<i>-<j>-<axis>.json (atomically) and reopened when it exists.

import { abortError as cancelled } from '../cancel';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { LandscapeAxisChoice } from '../../protocol/events';
import type { LandscapeSpec } from '../../protocol/experiment';
import { upgradeResult, type BackendName, type LandscapeResult, type RunResult } from '../../protocol/result';
import { writeFileAtomic } from '../atomicWrite';
import { loadBackend } from '../backend';
import { buildModel } from '../models/build';
import type { EvalSet, TF } from '../models/types';
import { landscapeAnchors, landscapeEvaluator, landscapeSubset, loadExperimentTasks, taskTestData, type TaskLoadOptions } from '../runner';
import { throwIfAborted } from '../train/loop';
import { computeLandscape, type LandscapePhase } from './compute';
import { orthogonalizeAndRescale } from './directions';
import type { PoolEvalSet } from './pool';
import { readWeightStore, type WeightStore } from './store';
import { dot, layoutOf, sub } from './vector';

export interface LandscapeJobOptions {
  /** The two phases whose end weights are theta_A (at (0,0)) and theta_B (at (1,0)). */
  optima: [number, number];
  secondAxis: LandscapeAxisChoice;
  /** Points per axis (default: the run's landscape.grid). */
  grid?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number, phase: LandscapePhase): void;
  onLog?(level: 'info' | 'warn', message: string): void;
  /** Recompute even when the file exists. */
  force?: boolean;
  /** Where the landscape is (absolute path), and whether it was reopened rather than computed. */
  onSaved?(file: string, reopened: boolean): void;
  /** tfjs to use (tests); otherwise `backend` is loaded. */
  tf?: TF;
  /** Default: the run's backend (the same floats as the run's own landscape). */
  backend?: BackendName | 'auto';
  dataDir?: string;
  cacheDir?: string;
  allowDownload?: boolean;
  resolve?: TaskLoadOptions['resolve'];
}

const axisPart = (runDir: string, axis: LandscapeAxisChoice): string => {
  if (axis === 'trajectory-pca') return 'pca';
  if (axis === 'random') return 'random';
  const other = resolve(axis.run);
  const phase = axis.phase === undefined ? 'last' : String(axis.phase);
  if (other === resolve(runDir)) return `self-${phase}`;
  const name = basename(other).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
  const hash = createHash('sha1').update(other).digest('hex').slice(0, 8);
  return `run-${name}-${phase}-${hash}`;
};

/** The file a job's landscape is saved to, in the run folder. */
export function landscapeJobFile(runDir: string, opts: Pick<LandscapeJobOptions, 'optima' | 'secondAxis' | 'grid'>, runGrid?: number): string {
  const [i, j] = opts.optima;
  const g = opts.grid !== undefined && opts.grid !== runGrid ? `-g${opts.grid}` : '';
  return join(runDir, `landscape-${i}-${j}-${axisPart(runDir, opts.secondAxis)}${g}.json`);
}

function readResult(runDir: string): RunResult {
  const file = join(runDir, 'result.json');
  if (!existsSync(file)) throw new Error(`${runDir} is not a run folder (no result.json)`);
  return upgradeResult(JSON.parse(readFileSync(file, 'utf8')) as RunResult);
}

const abortError = (): Error => cancelled('landscape');

/**
 * Recomputes (or reopens) the plane of `opts.optima` for the run in runDir; returns the landscape,
 * saved as landscapeJobFile(runDir, opts). A cancel (signal) throws an AbortError and writes nothing.
 */
export async function computeLandscapeForRun(runDir: string, opts: LandscapeJobOptions): Promise<LandscapeResult> {
  const log = (level: 'info' | 'warn', message: string) => opts.onLog?.(level, message);
  const result = readResult(runDir);
  const ex = result.experiment;
  if (!ex.landscape) throw new Error(`${runDir}: the experiment has no landscape ("landscape": false), so the run kept no weights`);
  const land: LandscapeSpec = ex.landscape;
  const file = landscapeJobFile(runDir, opts, land.grid);
  if (!opts.force && existsSync(file)) {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as LandscapeResult;
      log('info', `reopened ${file}`);
      opts.onSaved?.(file, true);
      return saved;
    } catch (e) {
      log('warn', `${file} cannot be read (${(e as Error).message}): recomputing it`);
    }
  }
  const [i, j] = opts.optima;
  const store = readWeightStore(runDir);
  const phases = store.taskEnd.length;
  for (const p of [i, j]) if (!Number.isInteger(p) || p < 0 || p >= phases) throw new Error(`optimum ${p} is not a phase of this run (it kept the end weights of phases 0 to ${phases - 1})`);
  if (i === j) throw new Error(`the plane needs two different optima, got phase ${i} twice`);
  if (opts.grid !== undefined && !(Number.isInteger(opts.grid) && opts.grid >= 2 && opts.grid <= 201)) throw new Error(`grid must be an integer from 2 to 201, got ${opts.grid}`);
  const thetaA = store.taskEnd[i];
  const thetaB = store.taskEnd[j];
  const lastOptimum = Math.max(i, j);
  // The trajectory up to the later optimum, as the run's own landscape uses it.
  const checkpoints = store.trajectory.filter((c) => c.phase <= lastOptimum).map((c) => ({ step: c.step, task: c.phase, theta: c.theta }));

  let spec: LandscapeSpec = { ...land, optima: [i, j], grid: opts.grid ?? land.grid, secondAxis: typeof opts.secondAxis === 'string' ? opts.secondAxis : land.secondAxis };
  let plane: Parameters<typeof computeLandscape>[0]['plane'];
  let thirdPoint: LandscapeResult['thirdPoint'];
  if (typeof opts.secondAxis === 'object') {
    const other = resolve(opts.secondAxis.run);
    const otherStore: WeightStore = other === resolve(runDir) ? store : readWeightStore(other);
    const phase = opts.secondAxis.phase ?? otherStore.taskEnd.length - 1;
    const thetaC = otherStore.taskEnd[phase];
    if (!thetaC) throw new Error(`${other} kept no end weights for phase ${phase} (it has ${otherStore.taskEnd.length})`);
    if (thetaC.length !== thetaA.length || otherStore.layout.some((p, k) => p.name !== store.layout[k]?.name || p.size !== store.layout[k]?.size)) {
      throw new Error(`${other} has a different model (${thetaC.length} parameters, this run ${thetaA.length}): one plane needs one parameter space`);
    }
    const d1 = sub(thetaB, thetaA);
    const c = sub(thetaC, thetaA);
    let d2: Float64Array;
    try {
      d2 = orthogonalizeAndRescale(c, d1);
    } catch (e) {
      throw new Error(`the third point (${other}, phase ${phase}) lies on the line through the two optima: ${(e as Error).message}`);
    }
    const n11 = dot(d1, d1);
    const alpha = dot(c, d1) / n11;
    const beta = dot(c, d2) / n11; // |d2| = |d1|
    thirdPoint = { run: other, phase, alpha, beta };
    plane = { d1, d2, distance: Math.sqrt(n11), secondAxis: 'point' };
    // Symmetric beta ranges keep beta = 0 (the optima's row) on an odd grid: widen to show the third point.
    const reach = Math.max(Math.abs(spec.betaRange[0]), Math.abs(spec.betaRange[1]));
    if (Math.abs(beta) > reach - 0.1) {
      const b = Math.ceil((Math.abs(beta) * 1.25) * 2) / 2;
      spec = { ...spec, betaRange: [-b, b] };
      log('info', `beta range widened to [-${b}, ${b}] to hold the third point (beta ${beta.toFixed(3)})`);
    }
    if (alpha < spec.alphaRange[0] || alpha > spec.alphaRange[1]) log('warn', `the third point's alpha ${alpha.toFixed(3)} is outside the grid's range [${spec.alphaRange.join(', ')}]`);
  }

  const tf = opts.tf ?? (await loadBackend(opts.backend ?? result.environment?.backend ?? 'auto')).tf;
  throwIfAborted(opts.signal);
  // The run's evaluation sets, rebuilt by the runner's code from the recorded experiment.
  const { raw, head } = await loadExperimentTasks(ex, { dataDir: opts.dataDir, cacheDir: opts.cacheDir, allowDownload: opts.allowDownload, resolve: opts.resolve, signal: opts.signal, log: (m) => log('info', m) });
  const shape = raw[0].shape;
  const poolSets: PoolEvalSet[] = raw.map((data, k) => landscapeSubset({ ...ex, landscape: land }, taskTestData(ex, data, k, head), k, head, raw.length));
  raw.length = 0; // the training images are not needed: let them go before the pool copies the sets
  const { model, sets, layout, dispose } = evaluationModel(tf, ex, shape, head.outputs, poolSets, store.layout, 'the stored weights');
  try {
    const { evaluateAt, concurrency, pool } = await landscapeEvaluator(tf, model, ex.model, sets, log);
    let landscape: LandscapeResult;
    try {
      landscape = await computeLandscape({
        thetaA,
        thetaB,
        checkpoints,
        layout,
        spec,
        optima: [i, j],
        seed: ex.seed,
        taskCount: poolSets.length,
        evaluateAt,
        concurrency,
        plane,
        signal: opts.signal,
        onProgress: opts.onProgress,
        onNote: (message) => log('warn', message),
      });
    } finally {
      await pool?.dispose();
    }
    // Evaluated in-process, as the run does: the grid's (0,0) and (1,0) against direct evaluations.
    landscape.anchors = landscapeAnchors(tf, model, sets, landscape, thetaA, thetaB);
    if (thirdPoint) landscape.thirdPoint = thirdPoint;
    if (opts.signal?.aborted) throw abortError();
    writeFileAtomic(file, JSON.stringify(landscape));
    log('info', `wrote ${file}`);
    opts.onSaved?.(file, false);
    return landscape;
  } finally {
    dispose();
  }
}

/**
 * The recorded model and the evaluation sets as tensors, for a job on stored weights: throws when the
 * stored layout (`whose` weights) does not fit the model the experiment records. Call dispose when done.
 */
export function evaluationModel(tf: TF, ex: RunResult['experiment'], shape: readonly number[], outputs: number, poolSets: readonly PoolEvalSet[], storedLayout: readonly { name: string; size: number }[], whose: string) {
  const model = buildModel(tf, ex.model, shape as [number, number, number], outputs, ex.seed);
  const sets: EvalSet[] = poolSets.map((s) => ({
    images: tf.tensor4d(s.images, [s.labels.length, ...shape] as [number, number, number, number]),
    labels: tf.tensor1d(s.labels, 'int32'),
    ...(s.mask ? { mask: tf.tensor1d(s.mask, 'float32') } : {}),
  }));
  const dispose = () => {
    model.dispose();
    for (const s of sets) tf.dispose([s.images, s.labels, ...(s.mask ? [s.mask] : [])]);
  };
  const layout = layoutOf(model);
  if (layout.length !== storedLayout.length || layout.some((p, k) => p.name !== storedLayout[k].name || p.size !== storedLayout[k].size)) {
    dispose();
    throw new Error(`${whose} do not fit the recorded model (${storedLayout.length} parameter tensors stored, the model has ${layout.length})`);
  }
  return { model, sets, layout, dispose };
}
