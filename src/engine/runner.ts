// Runs one experiment: data -> model -> for each task: train (curves, checkpoints) -> evaluate
// every task (row of R) -> landscape -> result. Emits typed events; the result file is the fold of
// those events (protocol/runState) and is rewritten atomically after every phase.
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { NormalisedExperiment } from '../protocol/experiment';
import type { RunEvent } from '../protocol/events';
import type { CurvePoint, EnvironmentInfo, LandscapeResult, RunError, RunResult, TaskInfo } from '../protocol/result';
import { applyRunEvent, type RunState } from '../protocol/runState';
import { writeFileAtomic } from './atomicWrite';
import { resolveDataset } from './data/resolve';
import { loadDataset } from './data/load';
import { stratifiedSubset } from './data/subset';
import { buildModel } from './models/build';
import type { ClassifierModel, EvalSet, TF } from './models/types';
import { computeMetrics } from './metrics/metrics';
import { deriveSeed } from './random';
import { evaluateModel } from './train/evaluate';
import { createOptimizer, epochOrder, makeBatch, stepsPerEpoch, trainStep, type TrainSet } from './train/trainer';
import { computeLandscape, modelEvaluator, type PointEvaluator } from './landscape/compute';
import { createEvaluatorPool, poolSetsFromTensors, type EvaluatorPool } from './landscape/pool';
import { readParameters, layoutOf, writeParameters } from './landscape/vector';

export interface RunOptions {
  tf: TF;
  environment: EnvironmentInfo;
  experiment: NormalisedExperiment;
  experimentFile?: string;
  /** Folder for result.json (and report.html). */
  outDir: string;
  dataDir?: string;
  cacheDir?: string;
  allowDownload?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: RunEvent) => void;
  /** Called after result.json is written, e.g. to write report.html beside it. */
  onResultWritten?: (result: RunResult, outDir: string) => void;
  runId?: string;
}

class PhaseError extends Error {
  constructor(readonly phase: RunError['phase'], cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    if (cause instanceof Error && cause.stack) this.stack = cause.stack;
  }
}

const isAbort = (e: unknown) => e instanceof Error && e.name === 'AbortError';
const tick = () => new Promise<void>((r) => setImmediate(r));
const now = () => performance.now();

function throwIfAborted(signal?: AbortSignal) {
  if (signal?.aborted) {
    const e = new Error('run cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

async function phase<T>(name: RunError['phase'], fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isAbort(e) || e instanceof PhaseError) throw e;
    throw new PhaseError(name, e);
  }
}

interface PreparedTask {
  info: TaskInfo;
  train: TrainSet;
  /** Whole test set: rows of R. */
  test: EvalSet;
  /** Seeded stratified subset of the test set: curves. */
  curve: EvalSet;
  /** Seeded stratified subset of the test set: landscape. */
  landscape: EvalSet | null;
}

function normalised(images: Uint8Array, indices: Int32Array | null, pixels: number, mean: number, std: number): Float32Array {
  const n = indices ? indices.length : images.length / pixels;
  const out = new Float32Array(n * pixels);
  const scale = 1 / (255 * std);
  const shift = mean / std;
  for (let k = 0; k < n; k++) {
    const src = (indices ? indices[k] : k) * pixels;
    const dst = k * pixels;
    for (let p = 0; p < pixels; p++) out[dst + p] = images[src + p] * scale - shift;
  }
  return out;
}

function evalSet(tf: TF, images: Float32Array, labels: Int32Array, shape: [number, number, number]): EvalSet {
  return { images: tf.tensor4d(images, [labels.length, ...shape]), labels: tf.tensor1d(labels, 'int32') };
}

function pick(labels: Uint8Array, indices: Int32Array | null): Int32Array {
  if (!indices) return Int32Array.from(labels);
  const out = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) out[k] = labels[indices[k]];
  return out;
}

async function prepareTasks(opts: RunOptions, emit: (e: RunEvent) => void): Promise<PreparedTask[]> {
  const { tf, experiment: ex } = opts;
  const prepared: PreparedTask[] = [];
  let shape: [number, number, number] | null = null;
  for (let i = 0; i < ex.tasks.length; i++) {
    throwIfAborted(opts.signal);
    const spec = ex.tasks[i];
    const resolved = await resolveDataset(spec, {
      dataDir: opts.dataDir,
      cacheDir: opts.cacheDir,
      allowDownload: opts.allowDownload,
      signal: opts.signal,
      onProgress: (p) =>
        emit({ type: 'log', level: 'info', message: `downloading ${p.file}: ${(p.receivedBytes / 1e6).toFixed(1)} MB${p.totalBytes ? ` of ${(p.totalBytes / 1e6).toFixed(1)} MB` : ''}` }),
    });
    const data = await loadDataset(resolved, spec.dataset);
    const taskShape: [number, number, number] = [data.train.height, data.train.width, 1];
    if (shape && (shape[0] !== taskShape[0] || shape[1] !== taskShape[1])) {
      throw new Error(`tasks[${i}] (${spec.label ?? spec.dataset}) has ${taskShape[0]}x${taskShape[1]} images, earlier tasks ${shape[0]}x${shape[1]}: one model needs one input shape`);
    }
    shape = taskShape;
    const pixels = taskShape[0] * taskShape[1];
    const trainIdx = spec.train && spec.train < data.train.n ? stratifiedSubset(data.train.labels, spec.train, deriveSeed(ex.seed, `train/${i}`)) : null;
    const testIdx = spec.test && spec.test < data.test.n ? stratifiedSubset(data.test.labels, spec.test, deriveSeed(ex.seed, `test/${i}`)) : null;
    const testImages = normalised(data.test.images, testIdx, pixels, data.mean, data.std);
    const testLabels = pick(data.test.labels, testIdx);
    const testN = testLabels.length;
    const subsetOf = (n: number, stream: string) => {
      if (n >= testN) return { images: testImages, labels: testLabels };
      const idx = stratifiedSubset(Uint8Array.from(testLabels), n, deriveSeed(ex.seed, `${stream}/${i}`));
      const imgs = new Float32Array(idx.length * pixels);
      for (let k = 0; k < idx.length; k++) imgs.set(testImages.subarray(idx[k] * pixels, (idx[k] + 1) * pixels), k * pixels);
      return { images: imgs, labels: Int32Array.from(idx, (j) => testLabels[j]) };
    };
    const curve = subsetOf(ex.training.evalSamples, 'curve');
    const land = ex.landscape ? subsetOf(ex.landscape.samples, 'landscape') : null;
    const trainLabels = pick(data.train.labels, trainIdx);
    prepared.push({
      info: {
        index: i,
        label: spec.label ?? resolved.name,
        dataset: spec.dataset,
        source: resolved.source,
        dir: resolved.dir,
        trainSize: trainLabels.length,
        testSize: testN,
        classes: data.classes,
      },
      train: { images: normalised(data.train.images, trainIdx, pixels, data.mean, data.std), labels: trainLabels, n: trainLabels.length, shape: taskShape },
      test: evalSet(tf, testImages, testLabels, taskShape),
      curve: evalSet(tf, curve.images, curve.labels, taskShape),
      landscape: land ? evalSet(tf, land.images, land.labels, taskShape) : null,
    });
  }
  return prepared;
}

function disposeTasks(tasks: PreparedTask[]) {
  for (const t of tasks) {
    for (const s of [t.test, t.curve, t.landscape]) {
      if (!s) continue;
      s.images.dispose();
      s.labels.dispose();
    }
  }
}

/** Runs the experiment to the end, cancellation or failure; always returns the (written) result. */
export async function runExperiment(opts: RunOptions): Promise<RunResult> {
  const { tf, experiment: ex, signal } = opts;
  const t0 = now();
  const resultFile = join(opts.outDir, 'result.json');
  let state: RunState | null = null;
  const emit = (e: RunEvent) => {
    state = applyRunEvent(state, e);
    opts.onEvent?.(e);
  };
  const write = () => {
    const result = state!.result;
    writeFileAtomic(resultFile, JSON.stringify(result));
    opts.onResultWritten?.(result, opts.outDir);
  };

  emit({ type: 'runStarted', runId: opts.runId ?? randomUUID(), experiment: ex, experimentFile: opts.experimentFile, startedAt: new Date().toISOString() });
  emit({ type: 'environment', environment: opts.environment });
  write();

  let tasks: PreparedTask[] = [];
  let model: ClassifierModel | null = null;
  let trainImages = 0;
  let trainMs = 0;
  try {
    const tData = now();
    tasks = await phase('data', () => prepareTasks(opts, emit));
    const classes = Math.max(...tasks.map((t) => t.info.classes));
    const totalSteps = tasks.reduce((s, t) => s + stepsPerEpoch(t.train.n, ex.training.batchSize) * ex.training.epochs, 0);
    emit({ type: 'dataReady', tasks: tasks.map((t) => t.info), totalSteps, dataMs: now() - tData });

    model = await phase('model', () => buildModel(tf, ex.model, tasks[0].train.shape, classes, ex.seed));
    const m = model;
    const optimizer = createOptimizer(tf, ex.training);
    // A cancel can arrive at any await: it is honoured between evaluations as well as between steps.
    const evalAll = (sets: EvalSet[]) =>
      sets.map((s) => {
        throwIfAborted(signal);
        return evaluateModel(tf, m, s);
      });

    // Baseline b: the seeded, untrained model on every task's full test set (FWT needs it).
    const base = await phase('evaluate', () => evalAll(tasks.map((t) => t.test)));
    emit({ type: 'baseline', accuracy: base.map((o) => o.accuracy), loss: base.map((o) => o.loss) });
    const curvePoint = (step: number, trainingTask: number, epoch: number) => {
      const outs = evalAll(tasks.map((t) => t.curve));
      const point: CurvePoint = { step, trainingTask, epoch, accuracy: outs.map((o) => o.accuracy), loss: outs.map((o) => o.loss) };
      emit({ type: 'curvePoint', point });
    };
    curvePoint(0, -1, 0);

    const land = ex.landscape;
    const optima = land ? land.optima : null;
    const wantLandscape = !!land && tasks.length >= 2 && !!optima && optima[0] !== optima[1];
    // The trajectory runs from initialisation to the later of the two optima (either order is valid).
    const lastOptimum = optima ? Math.max(optima[0], optima[1]) : -1;
    const checkpoints: { step: number; task: number; theta: Float32Array }[] = [];
    const snapshots = new Map<number, Float32Array>();
    if (wantLandscape) checkpoints.push({ step: 0, task: -1, theta: readParameters(tf, m) });

    let step = 0;
    let lastProgress = 0;
    const tTrainStart = now();
    for (let ti = 0; ti < tasks.length; ti++) {
      const task = tasks[ti];
      emit({ type: 'taskStarted', task: ti, step });
      const tTask = now();
      let evalMsInTask = 0;
      const spe = stepsPerEpoch(task.train.n, ex.training.batchSize);
      for (let epoch = 0; epoch < ex.training.epochs; epoch++) {
        const order = epochOrder(task.train.n, ex.seed, ti, epoch);
        for (let b = 0; b < spe; b++) {
          throwIfAborted(signal);
          const start = b * ex.training.batchSize;
          const size = Math.min(ex.training.batchSize, task.train.n - start);
          const tStep = now();
          const loss = await phase('train', () => {
            const { x, y } = makeBatch(tf, task.train, order, start, size);
            try {
              return trainStep(tf, m, optimizer, x, y);
            } finally {
              x.dispose();
              y.dispose();
            }
          });
          if (!Number.isFinite(loss)) throw new PhaseError('train', new Error(`the training loss became ${loss} at step ${step + 1} (task ${ti}, epoch ${epoch + 1}): lower training.learningRate`));
          trainMs += now() - tStep;
          trainImages += size;
          step++;
          const lastOfTask = epoch === ex.training.epochs - 1 && b === spe - 1;
          if (step % ex.training.evalEvery === 0 || lastOfTask) {
            const tEval = now();
            await phase('evaluate', () => curvePoint(step, ti, epoch + 1));
            evalMsInTask += now() - tEval;
          }
          if (wantLandscape && ti <= lastOptimum && (step % land.checkpointEvery === 0 || lastOfTask)) {
            checkpoints.push({ step, task: ti, theta: readParameters(tf, m) });
          }
          const t = now();
          if (t - lastProgress > 250 || lastOfTask) {
            lastProgress = t;
            const ips = trainImages / (trainMs / 1000);
            const msPerStep = (t - tTrainStart) / step; // wall time, evaluations included
            emit({
              type: 'progress',
              task: ti,
              epoch: epoch + 1,
              step,
              totalSteps,
              loss,
              imagesPerSecond: ips,
              elapsedMs: t - t0,
              etaMs: (totalSteps - step) * msPerStep,
            });
          }
          await tick(); // lets a cancel message in
        }
      }
      const trainTaskMs = now() - tTask - evalMsInTask;
      throwIfAborted(signal);
      const tEval = now();
      const row = await phase('evaluate', () => evalAll(tasks.map((t) => t.test)));
      const R = [...(state!.result.accuracyMatrix.slice(0, ti)), row.map((o) => o.accuracy)];
      emit({
        type: 'taskFinished',
        task: ti,
        accuracy: row.map((o) => o.accuracy),
        loss: row.map((o) => o.loss),
        metrics: computeMetrics(R, state!.result.randomInitAccuracy),
        trainMs: trainTaskMs,
        evalMs: now() - tEval + evalMsInTask,
      });
      // The task's last step was checkpointed (ti <= lastOptimum): that checkpoint is this optimum.
      if (wantLandscape && (ti === optima![0] || ti === optima![1])) snapshots.set(ti, checkpoints[checkpoints.length - 1].theta);
      write();
    }

    if (wantLandscape) {
      const landSets = tasks.map((t) => t.landscape!);
      const { evaluateAt, concurrency, pool } = await landscapeEvaluator(tf, m, ex.model, landSets, emit);
      let landscape: LandscapeResult;
      try {
        landscape = await phase('landscape', () =>
          computeLandscape({
            thetaA: snapshots.get(optima![0])!,
            thetaB: snapshots.get(optima![1])!,
            checkpoints,
            layout: layoutOf(m),
            spec: land,
            optima: optima!,
            seed: ex.seed,
            taskCount: tasks.length,
            evaluateAt,
            concurrency,
            signal,
            onProgress: (done, total, ph) => emit({ type: 'landscapeProgress', done, total, phase: ph }),
            onNote: (message) => emit({ type: 'log', level: 'warn', message: `landscape: ${message}` }),
          }),
        );
      } finally {
        await pool?.dispose();
      }
      // Evaluated in-process: also cross-checks the workers' (0,0) and (1,0) against this model.
      landscape.anchors = await phase('landscape', () =>
        landscapeAnchors(tf, m, landSets, landscape, snapshots.get(optima![0])!, snapshots.get(optima![1])!),
      );
      throwIfAborted(signal);
      emit({ type: 'landscape', landscape });
    } else if (land && tasks.length < 2) {
      emit({ type: 'log', level: 'info', message: 'single task: no loss landscape (it needs two task optima)' });
    }
    // The last chance for a cancel that arrived after the final evaluation or landscape point.
    await tick();
    throwIfAborted(signal);
    emit(finishedEvent('completed', t0, trainImages, trainMs, resultFile));
  } catch (e) {
    if (isAbort(e)) {
      emit(finishedEvent('cancelled', t0, trainImages, trainMs, resultFile));
    } else {
      const err: RunError = { message: e instanceof Error ? e.message : String(e), phase: e instanceof PhaseError ? e.phase : 'train' };
      emit({ type: 'log', level: 'error', message: `${err.phase}: ${err.message}` });
      emit(finishedEvent('failed', t0, trainImages, trainMs, resultFile, err));
    }
  } finally {
    model?.dispose();
    disposeTasks(tasks);
  }
  write();
  return state!.result;
}

/**
 * Grid points are independent: on wasm/cpu, worker threads (each its own tfjs and model copy)
 * evaluate them on every core; falls back to this thread when workers cannot start. Not for
 * tfjs-node, which is multi-threaded already.
 */
async function landscapeEvaluator(tf: TF, model: ClassifierModel, spec: NormalisedExperiment['model'], sets: EvalSet[], emit: (e: RunEvent) => void) {
  const local = { evaluateAt: modelEvaluator(tf, model, sets, 1000) as PointEvaluator, concurrency: 1, pool: null as EvaluatorPool | null };
  const backend = tf.getBackend();
  if ((backend !== 'wasm' && backend !== 'cpu') || availableParallelism() < 2) return local;
  try {
    const pool = await createEvaluatorPool({ spec, inputShape: model.inputShape, outputs: model.outputs, sets: poolSetsFromTensors(sets), batchSize: 1000, backend });
    emit({ type: 'log', level: 'info', message: `landscape: ${pool.size} worker threads` });
    return { evaluateAt: pool.evaluateAt, concurrency: pool.size, pool };
  } catch (e) {
    emit({ type: 'log', level: 'warn', message: `landscape: evaluating in-process (${e instanceof Error ? e.message : String(e)})` });
    return local;
  }
}

/** Direct evaluations of theta_A and theta_B beside the grid's values at (0,0) and (1,0). */
function landscapeAnchors(tf: TF, model: ClassifierModel, sets: EvalSet[], land: LandscapeResult, thetaA: Float32Array, thetaB: Float32Array) {
  const b0 = land.betas.findIndex((b) => Math.abs(b) < 1e-9);
  return ([['A', 0, thetaA], ['B', 1, thetaB]] as const).map(([which, alpha, theta]) => {
    writeParameters(tf, model, theta);
    const outs = sets.map((s) => evaluateModel(tf, model, s, 1000));
    const a = land.alphas.findIndex((x) => Math.abs(x - alpha) < 1e-9);
    const grid = a >= 0 && b0 >= 0 ? { loss: land.grids.map((g) => g.loss[b0][a]), accuracy: land.grids.map((g) => g.accuracy[b0][a]) } : null;
    return { which, alpha, direct: { loss: outs.map((o) => o.loss), accuracy: outs.map((o) => o.accuracy) }, grid };
  });
}

function finishedEvent(status: 'completed' | 'cancelled' | 'failed', t0: number, images: number, trainMs: number, resultFile: string, error?: RunError): RunEvent {
  return {
    type: 'finished',
    status,
    finishedAt: new Date().toISOString(),
    totalMs: now() - t0,
    trainImagesPerSecond: trainMs > 0 ? images / (trainMs / 1000) : 0,
    error,
    resultFile,
  };
}
