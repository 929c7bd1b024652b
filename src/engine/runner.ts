// Runs one experiment: data (scenario tasks, head) -> model + strategy -> the training loop
// (engine/train/loop.ts) with curves, progress, landscape checkpoints and the rows of R as its
// observers -> landscape -> result. Emits typed events; the result file is the fold of
// those events (protocol/runState) and is rewritten atomically after every phase.
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { LandscapeSpec, NormalisedExperiment } from '../protocol/experiment';
import type { RunEvent } from '../protocol/events';
import type { CurvePoint, EnvironmentInfo, LandscapeResult, RunError, RunResult, TaskInfo, WeightsInfo } from '../protocol/result';
import { applyRunEvent, type RunState } from '../protocol/runState';
import { landscapePlan } from '../protocol/format';
import { writeFileAtomic } from './atomicWrite';
import { runCores } from './cores';
import { memoryTracer } from './memoryTrace';
import { clampNotes } from './config/clamps';
import { fieldName } from './config/source';
import type { ResolveOptions } from './data/resolve';
import { loadTaskData, normalisedImages, type TaskData } from './data/scenarios/taskData';
import { pixelBytes, pixelLevels } from './data/pixels';
import { stratifiedSubset } from './data/subset';
import { buildModel } from './models/build';
import type { ClassifierModel, EvalSet, TF } from './models/types';
import { computeMetrics } from './metrics/metrics';
import { deriveSeed } from './random';
import { strategyDefinition, strategyParams } from './strategies/registry';
import type { Strategy, TrainSet } from './strategies/types';
import { evaluateModel, type EvalOutcome } from './train/evaluate';
import { createEvalLanes, type EvalLanes } from './train/evalLanes';
import type { EvalRequest, HostEvalSet } from './train/evalUnits';
import { alternateScenario, buildHead, maskVector, scoringUnits, type HeadLayout } from './train/head';
import { startKernelHelper, type KernelHelper } from './backend/kernelHelper';
import { canTrainDataParallel, createDataParallel, type DataParallelTrainer } from './train/parallel/dataParallel';
import { createOptimizer, createStrategyEnv, planPhases, runPhases, throwIfAborted, totalSteps, type LoopObserver } from './train/loop';
import { computeLandscape, modelEvaluator, type LandscapeCheckpoint, type PointEvaluator } from './landscape/compute';
import { createEvaluatorPool, poolSetsFromTensors, type EvaluatorPool, type PoolEvalSet } from './landscape/pool';
import { roundTo, writeWeightStore, type WeightDtype, type WeightStore } from './landscape/store';
import { readParameters, layoutOf, writeParameters, type ParameterLayout } from './landscape/vector';

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
  /** Replaces parts of the dataset resolution chain (mirrors, system folders, packages, environment): for tests. */
  resolve?: Pick<ResolveOptions, 'mirrors' | 'allowedOrigins' | 'systemDirs' | 'resolvePackage' | 'env' | 'downloadTimeoutMs' | 'download'>;
  /** Called at points inside a phase that no event marks, so tests can cancel exactly there. */
  onCheckpoint?: (at: RunCheckpoint) => void;
  /** Encoding of the stored trajectory checkpoints between phase ends (default CHECKPOINT_DTYPE). */
  weightsDtype?: WeightDtype;
  /** Worker entry of the evaluation lanes (default: the evaluation pool's): for tests. */
  evaluationWorkerScript?: string;
}

/**
 * Trajectory checkpoints are kept as float16 (phase ends and the initial weights as float32): on
 * the default run this halves the stored weights (see landscape/store.ts), and the run's own
 * landscape is computed from the same rounded checkpoints, so recomputing it from the store gives
 * the same grid bitwise.
 */
export const CHECKPOINT_DTYPE: WeightDtype = 'float16';

/** Points inside a phase that no event marks: a task's data about to load, a task of a row of R about to be scored. */
export type RunCheckpoint = { phase: 'data'; task: number } | { phase: 'evaluate'; row: number; task: number };

class PhaseError extends Error {
  constructor(readonly phase: RunError['phase'], cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    if (cause instanceof Error && cause.stack) this.stack = cause.stack;
  }
}

const isAbort = (e: unknown) => e instanceof Error && e.name === 'AbortError';
const tick = () => new Promise<void>((r) => setImmediate(r));
const now = () => performance.now();

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
  /** Whole test set, as bytes: rows of R. */
  test: HostEvalSet;
  /** Seeded stratified subset of the test set, as bytes: curves. */
  curve: HostEvalSet;
  /** Seeded stratified subset of the test set, with the task's final scoring mask: landscape. */
  landscape: EvalSet | null;
}

function evalSet(tf: TF, images: Float32Array, labels: Int32Array, shape: [number, number, number], mask?: Float32Array | null): EvalSet {
  const set: EvalSet = { images: tf.tensor4d(images, [labels.length, ...shape]), labels: tf.tensor1d(labels, 'int32') };
  if (mask) set.mask = tf.tensor1d(mask, 'float32');
  return set;
}

/** Where task data comes from: the runner's options, and the landscape job's (engine/landscape/job.ts). */
export interface TaskLoadOptions {
  dataDir?: string;
  cacheDir?: string;
  allowDownload?: boolean;
  signal?: AbortSignal;
  resolve?: RunOptions['resolve'];
  onCheckpoint?: RunOptions['onCheckpoint'];
  log?: (message: string) => void;
}

/** Loads every task of the experiment (one input shape for all) and builds the head over them. */
export async function loadExperimentTasks(ex: NormalisedExperiment, opts: TaskLoadOptions): Promise<{ raw: TaskData[]; head: HeadLayout }> {
  const raw: TaskData[] = [];
  for (let i = 0; i < ex.tasks.length; i++) {
    opts.onCheckpoint?.({ phase: 'data', task: i });
    throwIfAborted(opts.signal);
    const data = await loadTaskData(ex.tasks[i], i, ex.seed, {
      ...opts.resolve,
      dataDir: opts.dataDir,
      cacheDir: opts.cacheDir,
      allowDownload: opts.allowDownload,
      signal: opts.signal,
      onProgress: (p) => opts.log?.(`downloading ${p.file}: ${(p.receivedBytes / 1e6).toFixed(1)} MB${p.totalBytes ? ` of ${(p.totalBytes / 1e6).toFixed(1)} MB` : ''}`),
    });
    const first = raw[0];
    if (first && (first.shape[0] !== data.shape[0] || first.shape[1] !== data.shape[1])) {
      throw new Error(`tasks[${i}] (${data.label}) has ${data.shape[0]}x${data.shape[1]} images, earlier tasks ${first.shape[0]}x${first.shape[1]}: one model needs one input shape`);
    }
    raw.push(data);
  }
  // Loading itself cannot be interrupted: a cancel that came in during the last load stops here.
  throwIfAborted(opts.signal);
  return { raw, head: buildHead(ex.scenario, raw) };
}

/**
 * Task i's test set with its targets (output units), and seeded stratified subsets of it:
 * normalised float32 images (`images` is normalised when first read) or the bytes (`hostSubset`).
 */
export function taskTestData(ex: NormalisedExperiment, data: TaskData, i: number, head: HeadLayout) {
  const pixels = data.shape[0] * data.shape[1];
  const unitOf = new Map(data.classIds.map((c, k) => [c, head.units[i][k]]));
  const units = (labels: Uint8Array) => Int32Array.from(labels, (l) => unitOf.get(l)!);
  let images: Float32Array | null = null;
  const allImages = () => (images ??= normalisedImages(data.test.images, null, pixels, data.mean, data.std));
  const labels = units(data.test.labels);
  /** The indices of `n` examples drawn with the seed stream `${stream}/${i}` ('curve', 'landscape'); null = the whole set (n covers it). */
  const indices = (n: number, stream: string) => (n >= data.test.n ? null : stratifiedSubset(data.test.labels, n, deriveSeed(ex.seed, `${stream}/${i}`)));
  const subset = (n: number, stream: string) => {
    const idx = indices(n, stream);
    if (!idx) return { images: allImages(), labels };
    return { images: normalisedImages(data.test.images, idx, pixels, data.mean, data.std), labels: Int32Array.from(idx, (j) => labels[j]) };
  };
  /** The same subset as bytes with their normalisation (normalised per batch: the same values). */
  const hostSubset = (n: number, stream: string): HostEvalSet => {
    const idx = indices(n, stream);
    const levels = pixelLevels(data.mean, data.std);
    if (!idx) return { bytes: data.test.images.subarray(0, data.test.n * pixels), levels, labels };
    const bytes = new Uint8Array(idx.length * pixels);
    for (let k = 0; k < idx.length; k++) bytes.set(data.test.images.subarray(idx[k] * pixels, (idx[k] + 1) * pixels), k * pixels);
    return { bytes, levels, labels: Int32Array.from(idx, (j) => labels[j]) };
  };
  return {
    get images() {
      return allImages();
    },
    labels,
    units,
    pixels,
    subset,
    hostSubset,
  };
}

/** The landscape's evaluation set of task i: its seeded subset, scored with the task's final mask (every task seen). */
export function landscapeSubset(ex: NormalisedExperiment & { landscape: LandscapeSpec }, test: ReturnType<typeof taskTestData>, i: number, head: HeadLayout, taskCount: number): PoolEvalSet {
  const { images, labels } = test.subset(ex.landscape.samples, 'landscape');
  const mask = maskVector(head.outputs, scoringUnits(head, i, Array.from({ length: taskCount }, (_, k) => k)));
  return { images, labels, ...(mask ? { mask } : {}) };
}

/** Loads every task, builds the head over them, and turns the data into training and evaluation sets. */
async function prepareTasks(opts: RunOptions, emit: (e: RunEvent) => void): Promise<{ tasks: PreparedTask[]; head: HeadLayout }> {
  const { tf, experiment: ex } = opts;
  const { raw, head } = await loadExperimentTasks(ex, { ...opts, log: (message) => emit({ type: 'log', level: 'info', message }) });
  const prepared = raw.map((data, i): PreparedTask => {
    const test = taskTestData(ex, data, i, head);
    const land = ex.landscape ? landscapeSubset({ ...ex, landscape: ex.landscape }, test, i, head, raw.length) : null;
    const trainLabels = test.units(data.train.labels);
    const info: TaskInfo = {
      index: i,
      label: data.label,
      dataset: data.spec.dataset,
      source: data.resolved.source,
      dir: data.resolved.dir,
      trainSize: data.train.n,
      testSize: data.test.n,
      classes: data.classIds.length,
      classIds: data.classIds,
      units: head.units[i],
    };
    if (data.spec.permutation !== undefined) info.permutation = data.spec.permutation;
    if (data.spec.rotation !== undefined) info.rotation = data.spec.rotation;
    return {
      info,
      train: taskTrainSet(data, i, trainLabels),
      test: test.hostSubset(data.test.n, 'test'),
      curve: test.hostSubset(ex.training.evalSamples, 'curve'),
      landscape: land ? evalSet(tf, land.images, land.labels, data.shape, land.mask ?? null) : null,
    };
  });
  return { tasks: prepared, head };
}

function disposeTasks(tasks: PreparedTask[]) {
  for (const t of tasks) {
    const s = t.landscape;
    if (!s) continue;
    s.images.dispose();
    s.labels.dispose();
    s.mask?.dispose();
  }
}

/** Rows per evaluation unit: the batch size the run's evaluations have always used. */
export const EVAL_BATCH = 1000;

/**
 * Scores task j's set `sets[j]` (an index into the lanes' sets) for every j after `seenTasks` were
 * trained: the head's masks, the strategy's classifier, the alternate scenario.
 */
export function scoreTasks(lanes: EvalLanes, head: HeadLayout, strategy: Strategy, sets: number[], seenTasks: number[], signal?: AbortSignal, before?: (task: number) => void): Promise<EvalOutcome[]> {
  const alt = seenTasks.length ? alternateScenario(head) : null;
  const requests = sets.map((set, j): EvalRequest => {
    const mask = maskVector(head.outputs, scoringUnits(head, j, seenTasks));
    return alt ? { set, mask, alternateMask: maskVector(head.outputs, scoringUnits(head, j, seenTasks, alt)) } : { set, mask };
  });
  return lanes.evaluate(requests, { signal, scores: strategy.scores?.bind(strategy), before });
}

/**
 * The run's evaluation lanes, started once: on wasm/cpu with 2 cores for this run (CLW_THREADS), a
 * worker thread scores units beside this one (same bits as this thread alone); this thread alone
 * otherwise, or when the worker cannot start.
 */
export async function evaluationLanes(tf: TF, model: ClassifierModel, spec: NormalisedExperiment['model'], sets: HostEvalSet[], log: (level: 'info' | 'warn', message: string) => void, workerScript?: string): Promise<EvalLanes> {
  const backend = tf.getBackend();
  const local = () => createEvalLanes({ tf, model, spec, sets, batchSize: EVAL_BATCH, workers: 0 });
  if ((backend !== 'wasm' && backend !== 'cpu') || runCores() < 2) return local();
  try {
    const lanes = await createEvalLanes({ tf, model, spec, sets, batchSize: EVAL_BATCH, workers: 1, workerScript });
    log('info', `evaluation: 1 worker thread beside this one`);
    return lanes;
  } catch (e) {
    log('warn', `evaluation's worker thread did not start (${e instanceof Error ? e.message : String(e)}): evaluating on this thread`);
    return local();
  }
}

/** Runs the experiment to the end, cancellation or failure; always returns the (written) result. */
export async function runExperiment(opts: RunOptions): Promise<RunResult> {
  const { tf, experiment: ex, signal } = opts;
  const t0 = now();
  const traceMemory = memoryTracer(tf);
  traceMemory('start');
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
  let lanesReady: Promise<EvalLanes> | null = null;
  let model: ClassifierModel | null = null;
  let strategy: Strategy | null = null;
  let trainImages = 0;
  let trainMs = 0;
  try {
    const tData = now();
    const definition = strategyDefinition(ex.strategy.name);
    if (!definition) throw new PhaseError('validate', new Error(`unknown strategy '${ex.strategy.name}'`));
    const prepared = await phase('data', () => prepareTasks(opts, emit));
    tasks = prepared.tasks;
    const head = prepared.head;
    traceMemory('data ready');
    const phases = planPhases(definition.phases ?? 'sequential', tasks.length);
    const steps = totalSteps(phases, tasks.map((t) => t.train), ex.training);
    emit({ type: 'dataReady', tasks: tasks.map((t) => t.info), phases, head: { scenario: head.scenario, outputs: head.outputs }, totalSteps: steps, dataMs: now() - tData });
    // What the data could not give as asked (a subset larger than the data, ...), in the result's notes.
    for (const n of clampNotes(ex, tasks.map((t) => ({ train: t.info.trainSize, test: t.info.testSize })), phases)) emit({ type: 'note', message: n.message, field: fieldName(n.pointer) });

    model = await phase('model', () => buildModel(tf, ex.model, tasks[0].train.shape, head.outputs, ex.seed));
    throwIfAborted(signal);
    const m = model;
    // Test sets, then curve sets: task j's test set is lanes set j, its curve set tasks.length + j.
    const testSets = tasks.map((_, j) => j);
    const curveSets = tasks.map((_, j) => tasks.length + j);
    // Started now, ready by the baseline (the worker loads tfjs while the strategy is built).
    lanesReady = evaluationLanes(tf, m, ex.model, [...tasks.map((t) => t.test), ...tasks.map((t) => t.curve)], (level, message) => emit({ type: 'log', level, message }), opts.evaluationWorkerScript);
    const optimizer = createOptimizer(tf, ex.training);
    const env = createStrategyEnv({
      tf,
      model: m,
      head,
      experiment: ex,
      tasks: tasks.map((t) => t.train),
      strategyName: ex.strategy.name,
      log: (message) => emit({ type: 'log', level: 'info', message: `${ex.strategy.name}: ${message}` }),
    });
    strategy = await phase('model', () => definition.create(env, strategyParams(ex.strategy)));
    throwIfAborted(signal);
    const strat = strategy;
    const seenAfter = (p: number) => [...new Set(phases.slice(0, p + 1).flat())].sort((a, b) => a - b);
    const lanes = await phase('evaluate', () => lanesReady!);
    throwIfAborted(signal);
    const score = (sets: number[], seen: number[], before?: (task: number) => void) => scoreTasks(lanes, head, strat, sets, seen, signal, before);

    // Baseline b: the seeded, untrained model on every task's full test set (FWT needs it).
    const base = await phase('evaluate', () => score(testSets, []));
    emit({ type: 'baseline', accuracy: base.map((o) => o.accuracy), loss: base.map((o) => o.loss) });
    traceMemory('baseline evaluated');
    const curvePoint = async (step: number, trainingPhase: number, epoch: number) => {
      const outs = await score(curveSets, trainingPhase < 0 ? [] : seenAfter(trainingPhase));
      const point: CurvePoint = { step, trainingTask: trainingPhase, epoch, accuracy: outs.map((o) => o.accuracy), loss: outs.map((o) => o.loss) };
      emit({ type: 'curvePoint', point });
    };
    await phase('evaluate', () => curvePoint(0, -1, 0));
    traceMemory('first curve point');

    const plan = landscapePlan(ex, phases.length);
    const land = ex.landscape;
    const optima = plan.optima;
    const wantLandscape = !!land && optima !== null;
    if (land && !optima) emit({ type: 'log', level: 'info', message: `no loss landscape: ${plan.reason}` });
    // The weights are kept whenever the experiment has a landscape, even with one optimum (a joint
    // run's end weights are another run's third point).
    const checkpoints = land ? landscapeCheckpoints(tf, m, land, opts.weightsDtype ?? CHECKPOINT_DTYPE) : null;

    let lastProgress = 0;
    let phaseStart = 0;
    let evalMsInPhase = 0;
    const tTrainStart = now();
    const rows: LoopObserver = {
      phaseStarted(p, step) {
        emit({ type: 'taskStarted', task: p, step });
        traceMemory(`phase ${p} started`);
        phaseStart = now();
        evalMsInPhase = 0;
      },
      async stepDone(info) {
        trainMs += info.stepMs;
        trainImages += info.batchSize;
        if (info.step % ex.training.evalEvery === 0 || info.lastOfPhase) {
          const tEval = now();
          await phase('evaluate', () => curvePoint(info.step, info.phase, info.epoch));
          evalMsInPhase += now() - tEval;
        }
        const t = now();
        if (t - lastProgress > 250 || info.lastOfPhase) {
          lastProgress = t;
          emit({
            type: 'progress',
            task: info.phase,
            epoch: info.epoch,
            step: info.step,
            totalSteps: steps,
            loss: info.loss,
            imagesPerSecond: trainImages / (trainMs / 1000),
            elapsedMs: t - t0,
            etaMs: (steps - info.step) * ((t - tTrainStart) / info.step), // wall time, evaluations included
          });
        }
      },
      async phaseEnded(p) {
        const trainPhaseMs = now() - phaseStart - evalMsInPhase;
        const tEval = now();
        const row = await phase('evaluate', () => score(testSets, seenAfter(p), (j) => opts.onCheckpoint?.({ phase: 'evaluate', row: p, task: j })));
        const R = [...state!.result.accuracyMatrix.slice(0, p), row.map((o) => o.accuracy)];
        const alt = alternateScenario(head);
        emit({
          type: 'taskFinished',
          task: p,
          accuracy: row.map((o) => o.accuracy),
          loss: row.map((o) => o.loss),
          ...(alt ? { alternate: { scenario: alt, accuracy: row.map((o) => o.alternateAccuracy!) } } : {}),
          metrics: computeMetrics(R, state!.result.randomInitAccuracy, seenAfter(p).length),
          trainMs: trainPhaseMs,
          evalMs: now() - tEval + evalMsInPhase,
        });
        write();
        traceMemory(`phase ${p} scored`);
      },
    };
    const parallel = await dataParallelFor(tf, m, ex, strat, emit);
    const kernelHelper = await kernelHelperFor(tf, parallel, emit);
    try {
      await phase('train', () =>
        runPhases({ tf, env, strategy: strat, optimizer, phases, training: ex.training, seed: ex.seed, observers: checkpoints ? [checkpoints.observer, rows] : [rows], signal, parallel, kernelHelper }),
      );
    } finally {
      await parallel?.dispose();
      await kernelHelper?.dispose();
      // The landscape starts its own workers: the evaluation's worker ends with the last row of R.
      await lanes.dispose();
    }

    traceMemory('training done');
    if (checkpoints) {
      // Not keeping them costs later landscapes, not this run: a failed write is a warning.
      try {
        const info = writeWeightStore(opts.outDir, checkpoints.store(layoutOf(m)));
        state!.result.weights = info;
        emit({ type: 'log', level: 'info', message: `kept the weights for later landscapes: ${info.checkpoints} checkpoints (${info.dtype}), ${(info.bytes / 1e6).toFixed(1)} MB` });
      } catch (e) {
        emit({ type: 'log', level: 'warn', message: `the weights were not kept (no landscape can be recomputed after this run): ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    if (wantLandscape && checkpoints) {
      const landSets = tasks.map((t) => t.landscape!);
      const thetaA = checkpoints.optimum(optima![0]);
      const thetaB = checkpoints.optimum(optima![1]);
      const lastOptimum = Math.max(optima![0], optima![1]);
      const { evaluateAt, concurrency, pool } = await landscapeEvaluator(tf, m, ex.model, landSets, (level, message) => emit({ type: 'log', level, message }));
      traceMemory('landscape evaluators ready');
      let landscape: LandscapeResult;
      try {
        landscape = await phase('landscape', () =>
          computeLandscape({
            thetaA,
            thetaB,
            // The trajectory up to the later optimum (either order is valid).
            checkpoints: checkpoints.list.filter((c) => c.task <= lastOptimum),
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
        traceMemory('landscape grid done');
        await pool?.dispose();
      }
      // Evaluated in-process: also cross-checks the workers' (0,0) and (1,0) against this model.
      landscape.anchors = await phase('landscape', () => landscapeAnchors(tf, m, landSets, landscape, thetaA, thetaB));
      throwIfAborted(signal);
      emit({ type: 'landscape', landscape });
      traceMemory('landscape done');
    }
    // The last chance for a cancel that arrived after the final evaluation or landscape point.
    await tick();
    throwIfAborted(signal);
    emit(finishedEvent('completed', t0, trainImages, trainMs, resultFile, undefined, state!.result.weights));
  } catch (e) {
    if (isAbort(e)) {
      emit(finishedEvent('cancelled', t0, trainImages, trainMs, resultFile, undefined, state!.result.weights));
    } else {
      const err: RunError = { message: e instanceof Error ? e.message : String(e), phase: e instanceof PhaseError ? e.phase : 'train' };
      emit({ type: 'log', level: 'error', message: `${err.phase}: ${err.message}` });
      emit(finishedEvent('failed', t0, trainImages, trainMs, resultFile, err, state!.result.weights));
    }
  } finally {
    // After a cancel or a failure, the evaluation's worker must not outlive the run.
    await (await lanesReady?.catch(() => null))?.dispose();
    strategy?.dispose?.();
    model?.dispose();
    disposeTasks(tasks);
  }
  write();
  traceMemory('end');
  return state!.result;
}

/**
 * The landscape's observer of the loop: the weights before training, one checkpoint every
 * `checkpointEvery` steps and at each phase's end, over the whole run; a phase's last checkpoint is
 * its end weights (its optimum), kept exact. The others are rounded to the store's dtype as they
 * are taken, so the landscape computed now and one recomputed from the store see the same values.
 */
function landscapeCheckpoints(tf: TF, model: ClassifierModel, land: LandscapeSpec, dtype: WeightDtype) {
  const init = readParameters(tf, model);
  const list: LandscapeCheckpoint[] = [{ step: 0, task: -1, theta: init }];
  const ends: Float32Array[] = [];
  const observer: LoopObserver = {
    stepDone(info) {
      if (info.lastOfPhase) {
        const theta = readParameters(tf, model);
        ends[info.phase] = theta;
        list.push({ step: info.step, task: info.phase, theta });
      } else if (info.step % land.checkpointEvery === 0) {
        list.push({ step: info.step, task: info.phase, theta: roundTo(dtype, readParameters(tf, model)) });
      }
    },
  };
  return {
    list,
    observer,
    optimum(p: number): Float32Array {
      const theta = ends[p];
      if (!theta) throw new Error(`landscape: no weights were kept for the optimum of phase ${p}`);
      return theta;
    },
    store: (layout: ParameterLayout[]): WeightStore => ({ layout, init, taskEnd: ends, trajectory: list.map((c) => ({ step: c.step, phase: c.task, theta: c.theta })), dtype, bytes: 0 }),
  };
}

/**
 * Grid points are independent: on wasm/cpu, worker threads (each its own tfjs and model copy)
 * evaluate them on every core; falls back to this thread when workers cannot start. Not for
 * tfjs-node, which is multi-threaded already.
 */
export async function landscapeEvaluator(tf: TF, model: ClassifierModel, spec: NormalisedExperiment['model'], sets: EvalSet[], log: (level: 'info' | 'warn', message: string) => void) {
  const local = { evaluateAt: modelEvaluator(tf, model, sets, 1000) as PointEvaluator, concurrency: 1, pool: null as EvaluatorPool | null };
  const backend = tf.getBackend();
  if ((backend !== 'wasm' && backend !== 'cpu') || runCores() < 2) return local;
  try {
    const pool = await createEvaluatorPool({ spec, inputShape: model.inputShape, outputs: model.outputs, sets: poolSetsFromTensors(sets), batchSize: 1000, backend });
    log('info', `landscape: ${pool.size} worker threads`);
    return { evaluateAt: pool.evaluateAt, concurrency: pool.size, pool };
  } catch (e) {
    log('warn', `landscape: evaluating in-process (${e instanceof Error ? e.message : String(e)})`);
    return local;
  }
}

/** Direct evaluations of theta_A and theta_B beside the grid's values at (0,0) and (1,0). */
export function landscapeAnchors(tf: TF, model: ClassifierModel, sets: EvalSet[], land: LandscapeResult, thetaA: Float32Array, thetaB: Float32Array) {
  const b0 = land.betas.findIndex((b) => Math.abs(b) < 1e-9);
  return ([['A', 0, thetaA], ['B', 1, thetaB]] as const).map(([which, alpha, theta]) => {
    writeParameters(tf, model, theta);
    const outs = sets.map((s) => evaluateModel(tf, model, s, 1000));
    const a = land.alphas.findIndex((x) => Math.abs(x - alpha) < 1e-9);
    const grid = a >= 0 && b0 >= 0 ? { loss: land.grids.map((g) => g.loss[b0][a]), accuracy: land.grids.map((g) => g.accuracy[b0][a]) } : null;
    return { which, alpha, direct: { loss: outs.map((o) => o.loss), accuracy: outs.map((o) => o.accuracy) }, grid };
  });
}

function finishedEvent(status: 'completed' | 'cancelled' | 'failed', t0: number, images: number, trainMs: number, resultFile: string, error?: RunError, weights?: WeightsInfo): RunEvent {
  return {
    ...(weights ? { weights } : {}),
    type: 'finished',
    status,
    finishedAt: new Date().toISOString(),
    totalMs: now() - t0,
    trainImagesPerSecond: trainMs > 0 ? images / (trainMs / 1000) : 0,
    error,
    resultFile,
  };
}

/** Lanes a wasm CNN step is cut into, whatever the cores: the lanes (not the threads) fix the sums' order, so a seed gives one result on 1 or 2 cores. */
export const CNN_DATA_PARALLEL_LANES = 2;

/**
 * Both cores for one run (docs/performance.md): on wasm, a CNN whose strategy's loss is the plain
 * masked cross-entropy trains in CNN_DATA_PARALLEL_LANES lanes, the second on a worker thread when
 * this run has 2 cores (CLW_THREADS), on this thread otherwise (same bits, ~10% slower than one lane).
 * The MLP's step is too short for the serial part (Adam, the lanes' sum): it keeps one lane, and
 * a kernel helper (kernelHelperFor).
 */
export async function dataParallelFor(tf: TF, model: ClassifierModel, ex: NormalisedExperiment, strategy: Strategy, emit: (e: RunEvent) => void): Promise<DataParallelTrainer | null> {
  if (tf.getBackend() !== 'wasm' || ex.model.type !== 'cnn' || !canTrainDataParallel(strategy)) return null;
  const lanes = CNN_DATA_PARALLEL_LANES;
  const workers = runCores() >= 2 ? lanes - 1 : 0;
  try {
    const parallel = await createDataParallel({ tf, model, spec: ex.model, lanes, workers });
    emit({ type: 'log', level: 'info', message: `training: ${lanes} data-parallel lanes, ${workers} on worker threads` });
    return parallel;
  } catch (e) {
    // Without its worker the same lanes run here: the result does not change, only the speed.
    emit({ type: 'log', level: 'warn', message: `training's worker thread did not start (${e instanceof Error ? e.message : String(e)}): both lanes on this thread` });
    return createDataParallel({ tf, model, spec: ex.model, lanes, workers: 0 });
  }
}

/**
 * The other way to use both cores (docs/performance.md): steps that run on this thread (an MLP)
 * cut the engine's products and Adam updates between this thread and a kernel helper computing in
 * the same wasm memory (the threaded binary's shared memory, which runFile.ts asks for an MLP): the
 * same bits as one thread. Null with data-parallel lanes (they hold both cores), one core, or a
 * memory that is not shared.
 */
export async function kernelHelperFor(tf: TF, parallel: DataParallelTrainer | null, emit: (e: RunEvent) => void): Promise<KernelHelper | null> {
  if (parallel || tf.getBackend() !== 'wasm' || runCores() < 2) return null;
  try {
    const helper = await startKernelHelper(tf.backend());
    if (helper) emit({ type: 'log', level: 'info', message: 'training: the engine\'s kernels on 2 threads (shared wasm memory)' });
    return helper;
  } catch (e) {
    emit({ type: 'log', level: 'warn', message: `training's kernel helper thread did not start (${e instanceof Error ? e.message : String(e)}): one thread` });
    return null;
  }
}

/** Task i's training set: its bytes, normalised per batch (a quarter of the float32 images' memory, the same values); targets = output units. */
export function taskTrainSet(data: TaskData, i: number, labels: Int32Array): TrainSet {
  return { images: pixelBytes(data.train.images, data.mean, data.std), labels, tasks: new Int32Array(labels.length).fill(i), n: labels.length, shape: data.shape };
}
