// One bench case, run in a process of its own (so that its peak RSS is its own): the engine's
// training step + evaluation for one model and batch size, or the landscape grid. The experiment is
// the default one (examples/mnist-then-fashion.cl.json) with the case's model and batch size.
import type { TF } from '../models/types';
import type { EnvironmentInfo } from '../../protocol/result';
import { MODEL_PRESETS } from '../config/load';
import { landscapeEvaluator, landscapeSubset, taskTestData, loadExperimentTasks, type TaskLoadOptions } from '../runner';
import { buildModel } from '../models/build';
import { benchLandscape, gridSpec, type LandscapeBenchResult } from './landscape';
import { machineNote, peakRss, resetPeakRss, type PeakRss } from './system';
import { benchExperiment, createEngineSession, measureKernelCeiling, timeEvaluation, timeTraining, trainFlopsPerImage, type EvaluationTiming, type KernelRate, type TrainingTiming } from './training';
import { runCores } from '../cores';

export type ModelPreset = keyof typeof MODEL_PRESETS;

export type BenchCase =
  | { kind: 'train'; id: string; model: ModelPreset; batchSize: number; warmupSteps: number; windows: number; stepsPerWindow: number; evalWindows: number }
  | { kind: 'landscape'; id: string; grid: number; samples: number; inProcess: boolean };

export interface TrainCaseResult {
  kind: 'train';
  id: string;
  model: ModelPreset;
  parameterCount: number;
  training: TrainingTiming;
  /** Effective GFLOP/s of the training step (forward + gradients per image x img/s); null when not counted for this model. */
  trainGflops: number | null;
  evaluation: EvaluationTiming;
  /** One thread's best kernel rates on this backend (measured in this case's process). */
  ceiling: KernelRate[];
  /** FLOPs of one training image (forward + gradients); null when not counted for this model. */
  flopsPerImage: number | null;
  /** Cores the run may use (runCores()). */
  cores: number;
  /** How the run's training used them: its data-parallel lanes, its kernel helper, or one thread. */
  trainingThreads: string;
  /**
   * Training img/s if every FLOP of a step ran at the faster ceiling rate on every core with no
   * other cost: an upper bound for this backend, whatever the scheduling.
   */
  boundImagesPerSecond: number | null;
  /** Data loading, normalisation, model and strategy, ms. */
  setupMs: number;
  peakRss: PeakRss;
  /** 1-minute load average when the case started and ended (above the core count: other work competed). */
  loadavg1: [number, number];
}

export interface LandscapeCaseResult {
  kind: 'landscape';
  id: string;
  landscape: LandscapeBenchResult;
  peakRss: PeakRss;
  loadavg1: [number, number];
}

export type BenchCaseResult = TrainCaseResult | LandscapeCaseResult;

export interface CaseContext {
  tf: TF;
  environment: EnvironmentInfo;
  /** The default experiment's text and path (examples/mnist-then-fashion.cl.json). */
  experimentText: string;
  experimentFile: string;
  load?: TaskLoadOptions;
  log?(message: string): void;
}

export async function runBenchCase(c: BenchCase, ctx: CaseContext): Promise<BenchCaseResult> {
  const reset = resetPeakRss();
  const load = machineNote().loadavg1;
  return c.kind === 'train' ? trainCase(c, ctx, reset, load) : landscapeCase(c, ctx, reset, load);
}

async function trainCase(c: Extract<BenchCase, { kind: 'train' }>, ctx: CaseContext, reset: boolean, load: number): Promise<TrainCaseResult> {
  const t0 = performance.now();
  const experiment = benchExperiment(ctx.experimentText, ctx.experimentFile, { model: { preset: c.model }, batchSize: c.batchSize });
  const session = await createEngineSession(ctx.tf, experiment, ctx.load);
  const setupMs = performance.now() - t0;
  try {
    const training = await timeTraining(session, c);
    const evaluation = await timeEvaluation(session, c.evalWindows);
    const flops = trainFlopsPerImage(session.model);
    const ceiling = measureKernelCeiling(ctx.tf);
    const cores = runCores();
    const best = Math.max(...ceiling.map((k) => k.gflops));
    return {
      kind: 'train',
      id: c.id,
      model: c.model,
      parameterCount: session.model.parameterCount,
      training,
      trainGflops: flops === null ? null : (flops * training.imagesPerSecond) / 1e9,
      evaluation,
      ceiling,
      flopsPerImage: flops,
      cores,
      trainingThreads: session.parallel
        ? `${session.parallel.lanes} data-parallel lanes, ${session.parallel.workers} on worker threads`
        : session.kernelHelper
          ? 'this thread + a kernel helper (shared wasm memory)'
          : 'one thread',
      boundImagesPerSecond: flops === null ? null : (cores * best * 1e9) / flops,
      setupMs,
      peakRss: peakRss(reset),
      loadavg1: [load, machineNote().loadavg1],
    };
  } finally {
    await session.dispose();
  }
}

async function landscapeCase(c: Extract<BenchCase, { kind: 'landscape' }>, ctx: CaseContext, reset: boolean, load: number): Promise<LandscapeCaseResult> {
  const { tf } = ctx;
  // The default experiment's model and landscape sets, with the timed grid's spec.
  const ex = benchExperiment(ctx.experimentText, ctx.experimentFile, { landscape: { ...gridSpec(c.grid, c.samples), optima: undefined } });
  if (!ex.landscape) throw new Error('bench: the default experiment has no landscape');
  const land = { ...ex, landscape: ex.landscape };
  const { raw, head } = await loadExperimentTasks(ex, ctx.load ?? {});
  const sets = raw.map((data, i) => {
    const s = landscapeSubset(land, taskTestData(ex, data, i, head), i, head, raw.length);
    return {
      images: tf.tensor4d(s.images, [s.labels.length, ...data.shape]),
      labels: tf.tensor1d(s.labels, 'int32'),
      ...(s.mask ? { mask: tf.tensor1d(s.mask, 'float32') } : {}),
    };
  });
  const model = buildModel(tf, ex.model, raw[0].shape, head.outputs, ex.seed);
  const tStart = performance.now();
  const ev = await landscapeEvaluator(tf, model, ex.model, sets, (_level, message) => ctx.log?.(message));
  const startMs = performance.now() - tStart;
  try {
    const landscape = await benchLandscape(tf, model, sets, {
      grid: c.grid,
      seed: ex.seed,
      evaluator: { evaluateAt: ev.evaluateAt, concurrency: ev.concurrency, startMs, label: ev.pool ? `${ev.pool.size} worker thread(s)` : 'in-process' },
      inProcess: c.inProcess,
    });
    return { kind: 'landscape', id: c.id, landscape, peakRss: peakRss(reset), loadavg1: [load, machineNote().loadavg1] };
  } finally {
    await ev.pool?.dispose();
    model.dispose();
    for (const s of sets) tf.dispose([s.images, s.labels, ...(s.mask ? [s.mask] : [])]);
  }
}
