// Paths between solutions and several runs on one plane, from the weights runs kept (no retraining):
// the straight line theta_A -> theta_B of a reference run, the line from theta_A to other runs' end
// weights, optionally a trained quadratic Bezier curve theta_A -> theta_B (Garipov et al. 2018),
// each with every task's loss along it and its loss barrier per task; and optionally the plane
// through theta_A, theta_B and a third run's end weights with every selected run projected onto it.
//
// Saved beside the reference run's result.json (atomically) under names that say what was asked,
// paths-<i>-<j>-<hash>.json and plane-<i>-<j>-<third>-<hash>.json, and reopened when they exist
// (unless forced): two compare views asking for different runs never overwrite each other.
// A paths.json written by earlier versions is still read (savedPaths).

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PATHS_FORMAT_VERSION, type MultiRunPlaneResult, type PathEvaluation, type PathsResult, type SolutionRef } from '../../protocol/landscape';
import { upgradeResult, type RunResult } from '../../protocol/result';
import type { PathsRequest } from '../../protocol/trainer';
import { writeFileAtomic } from '../atomicWrite';
import { loadBackend } from '../backend';
import { abortError } from '../cancel';
import { normalisedImages } from '../data/scenarios/taskData';
import type { TF } from '../models/types';
import { landscapeEvaluator, landscapeSubset, loadExperimentTasks, taskTestData, type TaskLoadOptions } from '../runner';
import type { TrainSet } from '../strategies/types';
import { concatTrainSets } from '../train/loop';
import { midpoint, modelGradient, trainBezier } from './bezier';
import { evaluationModel } from './job';
import { bezierPath, evaluatePath, linePath } from './paths';
import { comparability, computeMultiRunPlane, type RunWeights } from './plane3';
import { readWeightStore } from './store';
import { norm, sub } from './vector';

/** The name earlier versions wrote (one per run folder, overwritten by every job): read, never written. */
export const LEGACY_PATHS_FILE = 'paths.json';

/** The job's request (protocol/trainer.ts PathsRequest, its fields documented there) and what only the engine passes. */
export interface PathsJobOptions extends Omit<PathsRequest, 'type'> {
  allowDownload?: boolean;
  resolve?: TaskLoadOptions['resolve'];
  tf?: TF;
  signal?: AbortSignal;
  log?(message: string): void;
  onProgress?(stage: string, done: number, total: number): void;
}

export interface PathsJobResult {
  paths: PathsResult;
  plane: MultiRunPlaneResult | null;
  /** The paths file, then the plane file (absolute paths as joined from the reference folder). */
  files: string[];
  /** Which of the two were reopened rather than computed. */
  reopened: { paths: boolean; plane: boolean };
}

interface LoadedRun {
  dir: string;
  result: RunResult;
  weights: RunWeights;
  layout: { name: string; size: number }[];
}

function loadRun(dir: string): LoadedRun {
  const file = join(dir, 'result.json');
  if (!existsSync(file)) throw new Error(`${dir} is not a run folder (no result.json)`);
  const result = upgradeResult(JSON.parse(readFileSync(file, 'utf8')) as RunResult);
  const store = readWeightStore(dir);
  return {
    dir,
    result,
    layout: store.layout,
    weights: { name: dir, label: basename(resolve(dir)), phases: result.phases, init: store.init, taskEnd: store.taskEnd, trajectory: store.trajectory },
  };
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
const hashOf = (value: unknown) => createHash('sha1').update(JSON.stringify(value)).digest('hex').slice(0, 10);
const runKey = (dir: string) => resolve(dir);

/** What a paths file holds, given the request: the lines' targets, the curve's training, the sampling. */
export function pathsFileName(opts: Pick<PathsJobOptions, 'to' | 'bezier' | 'steps' | 'learningRate' | 'batchSize' | 'points'>, optima: [number, number]): string {
  const key = {
    to: [...new Set((opts.to ?? []).map(runKey))].sort(),
    bezier: opts.bezier ? { steps: opts.steps ?? 300, lr: opts.learningRate ?? 0.01, batch: opts.batchSize ?? 64 } : null,
    points: opts.points ?? 25,
  };
  return `paths-${optima[0]}-${optima[1]}-${hashOf(key)}.json`;
}

/** What a plane file holds, given the request: the third point, the projected runs, the grid. */
export function planeFileName(opts: Pick<PathsJobOptions, 'planeWith' | 'to' | 'runs' | 'grid' | 'allowInitOnly'>, optima: [number, number], runGrid?: number): string {
  if (!opts.planeWith) throw new Error('planeFileName: no third point (planeWith)');
  const key = {
    third: runKey(opts.planeWith),
    runs: [...new Set([...(opts.to ?? []), ...(opts.runs ?? [])].map(runKey))].sort(),
    grid: opts.grid ?? runGrid ?? null,
    allowInitOnly: !!opts.allowInitOnly,
  };
  return `plane-${optima[0]}-${optima[1]}-${safeName(basename(resolve(opts.planeWith)))}-${hashOf(key)}.json`;
}

function readJson<T>(file: string, log: (m: string) => void): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    log(`${file} cannot be read (${(e as Error).message}): recomputing it`);
    return null;
  }
}

/** Every paths result saved in a run folder (the current names and a legacy paths.json), newest first. */
export function savedPaths(runDir: string): { file: string; paths: PathsResult }[] {
  if (!existsSync(runDir)) return [];
  const names = readdirSync(runDir).filter((n) => n === LEGACY_PATHS_FILE || /^paths-\d+-\d+-[0-9a-f]+\.json$/.test(n));
  const out: { file: string; paths: PathsResult }[] = [];
  for (const n of names) {
    const file = join(runDir, n);
    const paths = readJson<PathsResult>(file, () => {});
    if (paths && Array.isArray(paths.paths)) out.push({ file, paths });
  }
  return out.sort((a, b) => String(b.paths.createdAt).localeCompare(String(a.paths.createdAt)));
}

/** Computes the paths (and the plane) for the reference run and writes them beside its result.json; reopens them when saved. */
export async function runPathsJob(opts: PathsJobOptions): Promise<PathsJobResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const ref = loadRun(opts.reference);
  const ex = ref.result.experiment;
  if (!ex.landscape) throw new Error(`${ref.dir}: the experiment has no landscape ("landscape": false), so the run kept no weights`);
  const phases = ref.weights.taskEnd.length;
  const optima = opts.optima ?? [0, phases - 1];
  for (const p of optima) if (!Number.isInteger(p) || p < 0 || p >= phases) throw new Error(`phase ${p} is not a phase of ${ref.dir} (it kept the end weights of phases 0 to ${phases - 1})`);
  if (optima[0] === optima[1]) throw new Error(`theta_A and theta_B must be two different phases (got ${optima[0]} twice)`);
  if (opts.grid !== undefined && !(Number.isInteger(opts.grid) && opts.grid >= 2 && opts.grid <= 201)) throw new Error(`grid must be an integer from 2 to 201, got ${opts.grid}`);

  // Every other run: same model (layout), and comparable with the reference (throws the reason).
  const others = new Map<string, LoadedRun>();
  const other = (dir: string): LoadedRun => {
    const key = resolve(dir);
    if (key === resolve(ref.dir)) return ref;
    let r = others.get(key);
    if (!r) {
      r = loadRun(dir);
      if (r.layout.length !== ref.layout.length || r.layout.some((p, k) => p.name !== ref.layout[k].name || p.size !== ref.layout[k].size)) {
        throw new Error(`${dir} has a different model than ${ref.dir}: one plane needs one parameter space`);
      }
      const shares = comparability(ref.weights, r.weights, opts.allowInitOnly);
      const sameFirst = (r.result.phases[0] ?? []).join() === (ref.result.phases[0] ?? []).join();
      log(`${dir}: shares ${shares === 'theta-A' ? 'theta_A (same initialisation and first task)' : sameFirst ? `the initialisation only (its first task ended ${norm(sub(r.weights.taskEnd[0], ref.weights.taskEnd[0])).toFixed(3)} away from theta_A)` : 'the initialisation only (its first phase differs)'}`);
      others.set(key, r);
    }
    return r;
  };
  const toRuns = (opts.to ?? []).map(other);
  const third = opts.planeWith ? other(opts.planeWith) : null;
  const extra = (opts.runs ?? []).map(other);

  const pathsFile = join(ref.dir, pathsFileName(opts, optima));
  const planeFile = third ? join(ref.dir, planeFileName(opts, optima, ex.landscape.grid)) : null;
  let paths: PathsResult | null = !opts.force && existsSync(pathsFile) ? readJson<PathsResult>(pathsFile, log) : null;
  let plane: MultiRunPlaneResult | null = planeFile && !opts.force && existsSync(planeFile) ? readJson<MultiRunPlaneResult>(planeFile, log) : null;
  const reopened = { paths: !!paths, plane: !!plane };
  if (paths) log(`reopened ${pathsFile}`);
  if (plane) log(`reopened ${planeFile}`);
  const files = () => [pathsFile, ...(planeFile ? [planeFile] : [])];
  if (paths && (!planeFile || plane)) return { paths, plane, files: files(), reopened };

  const tf = opts.tf ?? (await loadBackend(opts.backend ?? ref.result.environment?.backend ?? 'auto')).tf;
  const { raw, head } = await loadExperimentTasks(ex, { dataDir: opts.dataDir, cacheDir: opts.cacheDir, allowDownload: opts.allowDownload, resolve: opts.resolve, signal: opts.signal, log });
  const shape = raw[0].shape;
  const land = { ...ex, landscape: ex.landscape };
  const tests = raw.map((data, k) => taskTestData(ex, data, k, head));
  const poolSets = tests.map((test, k) => landscapeSubset(land, test, k, head, raw.length));
  const taskLabels = raw.map((d) => d.label);
  // The Bezier curve trains on the union of the tasks of theta_A's and theta_B's phases.
  const curveTasks = [...new Set([...ref.result.phases[optima[0]], ...ref.result.phases[optima[1]]])].sort((a, b) => a - b);
  const seenTasks = [...new Set(ref.result.phases.slice(0, Math.max(...optima) + 1).flat())].sort((a, b) => a - b);
  const train: TrainSet | null =
    opts.bezier && !paths
      ? concatTrainSets(
          curveTasks.map((k): TrainSet => {
            const d = raw[k];
            const labels = tests[k].units(d.train.labels);
            return { images: normalisedImages(d.train.images, null, tests[k].pixels, d.mean, d.std), labels, tasks: new Int32Array(labels.length).fill(k), n: labels.length, shape };
          }),
        )
      : null;
  raw.length = 0;

  const { model, sets, dispose } = evaluationModel(tf, ex, shape, head.outputs, poolSets, ref.layout, `the stored weights of ${ref.dir}`);
  try {
    const { evaluateAt, concurrency, pool } = await landscapeEvaluator(tf, model, ex.model, sets, (_level, m) => log(m));
    try {
      const thetaA = ref.weights.taskEnd[optima[0]];
      const thetaB = ref.weights.taskEnd[optima[1]];
      const progress = (stage: string) => (done: number, total: number) => opts.onProgress?.(stage, done, total);
      if (!paths) {
        const A: SolutionRef = { run: ref.dir, phase: optima[0], label: 'A' };
        const B: SolutionRef = { run: ref.dir, phase: optima[1], label: 'B' };
        const common = { taskCount: sets.length, evaluateAt, concurrency, signal: opts.signal, points: opts.points ?? 25 };
        const evaluated: PathEvaluation[] = [];
        evaluated.push(await evaluatePath({ ...common, path: linePath(thetaA, thetaB), label: 'A → B', from: A, to: B, onProgress: progress('line A → B') }));
        for (const r of toRuns) {
          const phase = r.weights.taskEnd.length - 1;
          const label = r.weights.label ?? basename(r.dir);
          evaluated.push(await evaluatePath({ ...common, path: linePath(thetaA, r.weights.taskEnd[phase]), label: `A → ${label}`, from: A, to: { run: r.dir, phase, label }, onProgress: progress(`line A → ${label}`) }));
        }
        if (opts.bezier && train) {
          const steps = opts.steps ?? 300;
          const learningRate = opts.learningRate ?? 0.01;
          const batchSize = opts.batchSize ?? 64;
          const tb = performance.now();
          const gradientAt = modelGradient({ tf, model, head, train, seenTasks, batchSize, seed: ex.seed });
          const lossEvery = Math.max(1, Math.round(steps / 30));
          const trained = await trainBezier({ theta0: thetaA, theta1: thetaB, steps, learningRate, seed: ex.seed, gradientAt, lossEvery, signal: opts.signal, onProgress: (s, n) => opts.onProgress?.('Bezier training', s, n) });
          const bezier = {
            steps,
            batchSize,
            learningRate,
            seed: ex.seed,
            tasks: curveTasks,
            trainLoss: trained.trainLoss,
            lossEvery,
            controlShift: norm(sub(trained.control, midpoint(thetaA, thetaB))),
            timeMs: performance.now() - tb,
          };
          evaluated.push(await evaluatePath({ ...common, path: bezierPath(thetaA, trained.control, thetaB), label: 'Bezier A → B', from: A, to: B, bezier, onProgress: progress('Bezier A → B') }));
        }
        if (opts.signal?.aborted) throw abortError('paths');
        paths = {
          formatVersion: PATHS_FORMAT_VERSION,
          reference: ref.dir,
          optima: [optima[0], optima[1]],
          samples: ex.landscape.samples,
          parameterCount: thetaA.length,
          tasks: taskLabels,
          paths: evaluated,
          createdAt: new Date().toISOString(),
          timeMs: performance.now() - t0,
        };
        writeFileAtomic(pathsFile, JSON.stringify(paths));
        log(`wrote ${pathsFile}`);
      }

      if (third && planeFile && !plane) {
        const tp = performance.now();
        const projected = [...toRuns, ...extra].map((r) => r.weights);
        plane = await computeMultiRunPlane({
          reference: ref.weights,
          optima: [optima[0], optima[1]],
          third: { run: third.weights },
          runs: projected,
          allowInitOnly: opts.allowInitOnly,
          grid: opts.grid ?? ex.landscape.grid,
          alphaRange: ex.landscape.alphaRange,
          taskCount: sets.length,
          evaluateAt,
          concurrency,
          signal: opts.signal,
          onProgress: progress('plane'),
          samples: ex.landscape.samples,
          tasks: taskLabels,
        });
        plane.timeMs = performance.now() - tp;
        if (opts.signal?.aborted) throw abortError('paths');
        writeFileAtomic(planeFile, JSON.stringify(plane));
        log(`wrote ${planeFile}`);
      }
      return { paths, plane, files: files(), reopened };
    } finally {
      await pool?.dispose();
    }
  } finally {
    dispose();
  }
}

/** The plane's projections as a table: each run's end weights, coordinates and off-plane distance. */
export function projectionTable(plane: MultiRunPlaneResult): string {
  const rows = [['run', 'phase', 'alpha', 'beta', 'off-plane', 'off/|u|', 'shares']];
  for (const r of plane.runs) for (const e of r.ends) rows.push([r.label, String(e.phase), e.alpha.toFixed(3), e.beta.toFixed(3), e.offPlane.toFixed(3), e.offPlaneRelative.toFixed(3), r.shares]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ')).join('\n');
}
