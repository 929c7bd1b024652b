// The engine's own training step and evaluation, timed: the experiment is parsed by the config
// loader, its tasks loaded by the runner's loader (resolution chain, real MNIST), and the model,
// optimizer, strategy environment and loop are the ones runner.ts builds (models/build.ts,
// train/loop.ts createOptimizer/createStrategyEnv/runPhases -> trainStep). Nothing here is a copy
// of the model or of the step: a bench step IS a run's step (test/unit/bench.test.ts checks it bitwise).
import type * as tfjs from '@tensorflow/tfjs';
import type { NormalisedExperiment } from '../../protocol/experiment';
import { formatDiagnostic, parseExperiment } from '../config/load';
import { buildModel } from '../models/build';
import type { ClassifierModel, TF } from '../models/types';
import { dataParallelFor, evaluationLanes, kernelHelperFor, loadExperimentTasks, scoreTasks, taskTestData, taskTrainSet, type TaskLoadOptions } from '../runner';
import type { EvalLanes } from '../train/evalLanes';
import type { HostEvalSet } from '../train/evalUnits';
import { strategyDefinition, strategyParams } from '../strategies/registry';
import type { Strategy, StrategyEnv, TrainSet } from '../strategies/types';
import type { EvalOutcome } from '../train/evaluate';
import type { HeadLayout } from '../train/head';
import { createOptimizer, createStrategyEnv, planPhases, runPhases, type LoopObserver, type StepInfo } from '../train/loop';
import type { KernelHelper } from '../backend/kernelHelper';
import type { DataParallelTrainer } from '../train/parallel/dataParallel';
import { median } from './system';

/** Parses an experiment text (the example file's) with overrides applied, as `run` would parse the edited file. */
export function benchExperiment(text: string, file: string, overrides: { model?: unknown; batchSize?: number; landscape?: unknown } = {}): NormalisedExperiment {
  const spec = JSON.parse(text) as Record<string, unknown> & { training?: Record<string, unknown> };
  if (overrides.model !== undefined) spec.model = overrides.model;
  if (overrides.batchSize !== undefined) spec.training = { ...(spec.training ?? {}), batchSize: overrides.batchSize };
  if (overrides.landscape !== undefined) spec.landscape = overrides.landscape;
  const parsed = parseExperiment(JSON.stringify(spec, null, 1), file);
  const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
  if (!parsed.experiment || errors.length) throw new Error(`bench experiment is invalid:\n${errors.map(formatDiagnostic).join('\n')}`);
  return parsed.experiment;
}

/** A model, optimizer and strategy over an experiment's real data, built exactly as runner.ts builds them. */
export interface EngineSession {
  tf: TF;
  experiment: NormalisedExperiment;
  head: HeadLayout;
  model: ClassifierModel;
  optimizer: tfjs.Optimizer;
  env: StrategyEnv;
  strategy: Strategy;
  /** Training sets per task (what the loop sees). */
  train: TrainSet[];
  /** Rows of R: every task's whole test set (as bytes, normalised per batch, as a run keeps them). */
  test: HostEvalSet[];
  /** The run's evaluation lanes over `test` (this thread plus a worker on 2 cores, as runner.ts scores). */
  lanes: EvalLanes;
  /** The run's phases (rows of R). */
  phases: number[][];
  /** Data-parallel lanes the run's training uses (null: one lane on this thread). */
  parallel: DataParallelTrainer | null;
  /** The kernel helper the run's steps on this thread use (null: none). */
  kernelHelper: KernelHelper | null;
  dispose(): Promise<void>;
}

export async function createEngineSession(tf: TF, experiment: NormalisedExperiment, load: TaskLoadOptions = {}): Promise<EngineSession> {
  const { raw, head } = await loadExperimentTasks(experiment, load);
  const train = raw.map((data, i) => taskTrainSet(data, i, taskTestData(experiment, data, i, head).units(data.train.labels)));
  const test = raw.map((data, i) => taskTestData(experiment, data, i, head).hostSubset(data.test.n, 'test'));
  const definition = strategyDefinition(experiment.strategy.name);
  if (!definition) throw new Error(`unknown strategy '${experiment.strategy.name}'`);
  const model = buildModel(tf, experiment.model, train[0].shape, head.outputs, experiment.seed);
  const optimizer = createOptimizer(tf, experiment.training);
  const env = createStrategyEnv({ tf, model, head, experiment, tasks: train, strategyName: experiment.strategy.name, log: () => undefined });
  const strategy = await definition.create(env, strategyParams(experiment.strategy));
  // The run's training lanes (data-parallel on 2 cores for a wasm CNN), as runner.ts trains.
  const parallel = await dataParallelFor(tf, model, experiment, strategy, () => undefined);
  const kernelHelper = await kernelHelperFor(tf, parallel, () => undefined);
  const lanes = await evaluationLanes(tf, model, experiment.model, test, () => undefined);
  return {
    tf,
    experiment,
    head,
    model,
    optimizer,
    env,
    strategy,
    train,
    test,
    lanes,
    phases: planPhases(definition.phases ?? 'sequential', train.length),
    parallel,
    kernelHelper,
    async dispose() {
      await parallel?.dispose();
      await kernelHelper?.dispose();
      await lanes.dispose();
      strategy.dispose?.();
      optimizer.dispose();
      model.dispose();
    },
  };
}

/**
 * `steps` optimizer steps of the run's first phase through the engine's loop (runPhases: seeded
 * batches, makeBatch, trainStep, the optimizer), i.e. what a run with `training.iterations = steps`
 * does before its first row of R. Observers see every step.
 */
export async function trainFirstPhase(session: EngineSession, steps: number, observers: LoopObserver[] = []): Promise<void> {
  const { tf, env, strategy, optimizer, experiment: ex, parallel, kernelHelper } = session;
  await runPhases({ tf, env, strategy, optimizer, phases: session.phases.slice(0, 1), training: { ...ex.training, iterations: steps }, seed: ex.seed, observers, parallel, kernelHelper });
}

/** A row of R: every task's test set scored as runner.ts scores it after `seenTasks` were trained (its lanes, masks, classifier). */
export function scoreRow(session: EngineSession, seenTasks: number[]): Promise<EvalOutcome[]> {
  return scoreTasks(session.lanes, session.head, session.strategy, session.test.map((_, j) => j), seenTasks);
}

export interface TrainingTiming {
  batchSize: number;
  warmupSteps: number;
  windows: number;
  stepsPerWindow: number;
  /** Images per second of each timed window (wall time between the window's first and last step, the loop's yields included). */
  windowImagesPerSecond: number[];
  /** Median over the windows. */
  imagesPerSecond: number;
  /** Median of the loop's own per-step time (StepInfo.stepMs: batch, step, optimizer). */
  medianStepMs: number;
  /** tf.memory().numTensors after the warm-up and after the last step: equal when no step leaks a tensor. */
  tensorsAfterWarmup: number;
  tensorsAtEnd: number;
  firstLoss: number;
  lastLoss: number;
}

/** Warm-up steps, then `windows` x `stepsPerWindow` timed steps, all in one pass of the engine's loop. */
export async function timeTraining(session: EngineSession, opts: { warmupSteps: number; windows: number; stepsPerWindow: number }): Promise<TrainingTiming> {
  const { warmupSteps, windows, stepsPerWindow } = opts;
  const total = warmupSteps + windows * stepsPerWindow;
  const marks: number[] = []; // time after step k (k = warmupSteps, warmupSteps + K, ...)
  const images: number[] = [];
  const stepMs: number[] = [];
  const losses: number[] = [];
  let tensorsAfterWarmup = -1;
  const observer: LoopObserver = {
    stepDone(info: StepInfo) {
      losses.push(info.loss);
      if (info.step > warmupSteps) {
        stepMs.push(info.stepMs);
        images[Math.floor((info.step - warmupSteps - 1) / stepsPerWindow)] = (images[Math.floor((info.step - warmupSteps - 1) / stepsPerWindow)] ?? 0) + info.batchSize;
      }
      if (info.step === warmupSteps) tensorsAfterWarmup = session.tf.memory().numTensors;
      if (info.step >= warmupSteps && (info.step - warmupSteps) % stepsPerWindow === 0) marks.push(performance.now());
    },
  };
  if (warmupSteps === 0) {
    tensorsAfterWarmup = session.tf.memory().numTensors;
    marks.push(performance.now());
  }
  await trainFirstPhase(session, total, [observer]);
  const windowImagesPerSecond = images.map((n, w) => (n * 1000) / (marks[w + 1] - marks[w]));
  return {
    batchSize: session.experiment.training.batchSize,
    warmupSteps,
    windows,
    stepsPerWindow,
    windowImagesPerSecond,
    imagesPerSecond: median(windowImagesPerSecond),
    medianStepMs: median(stepMs),
    tensorsAfterWarmup,
    tensorsAtEnd: session.tf.memory().numTensors,
    firstLoss: losses[0],
    lastLoss: losses[losses.length - 1],
  };
}

export interface EvaluationTiming {
  /** Images per window: one row of R (every task's whole test set), batch 1000. */
  images: number;
  windows: number;
  windowImagesPerSecond: number[];
  imagesPerSecond: number;
  /** Task 0's accuracy in the last window. */
  accuracy: number;
  /** Threads the row is scored on (this one plus the evaluation workers). */
  threads: number;
}

/** One untimed row of R after phase 0, then `windows` timed ones (runner.ts scoreTasks on the run's lanes). */
export async function timeEvaluation(session: EngineSession, windows: number): Promise<EvaluationTiming> {
  const seen = session.phases[0];
  let out = await scoreRow(session, seen);
  const rates: number[] = [];
  const n = session.test.reduce((sum, t) => sum + t.labels.length, 0);
  for (let w = 0; w < windows; w++) {
    const t0 = performance.now();
    out = await scoreRow(session, seen);
    rates.push((n * 1000) / (performance.now() - t0));
  }
  return { images: n, windows, windowImagesPerSecond: rates, imagesPerSecond: median(rates), accuracy: out[0].accuracy, threads: 1 + session.lanes.workers };
}

/** Floating-point operations of one training image (forward + both gradients), for an effective GFLOP/s figure; null for models it does not know. */
export function trainFlopsPerImage(model: ClassifierModel): number | null {
  // conv kernels [kh, kw, in, out]; dense [in, out]. Output sizes from the input shape (valid conv, pool 2 as built).
  let [h, w] = model.inputShape;
  let flops = 0;
  let first = true;
  for (const p of model.params) {
    if (p.kind === 'conv-kernel') {
      const [kh, kw, cin, cout] = p.shape;
      h = h - kh + 1;
      w = w - kw + 1;
      const fwd = h * w * cout * kh * kw * cin * 2;
      flops += fwd * (first ? 2 : 3); // forward, filter gradient, input gradient (none for the first layer's input)
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
      first = false;
    } else if (p.kind === 'dense-kernel') {
      const [cin, cout] = p.shape;
      flops += cin * cout * 2 * (first ? 2 : 3);
      first = false;
    }
  }
  return flops || null;
}

export interface KernelRate {
  /** What was timed, e.g. 'conv2d [64,13,13,32] * [3,3,32,64] valid'. */
  what: string;
  gflops: number;
}

/**
 * The best arithmetic rate of one thread of this backend: the small CNN's heaviest forward
 * convolution and the MLP's first layer, each alone in a tight loop (median of timed windows).
 * Every op of a training step is at most this fast, so (cores x the faster rate) / FLOPs per image
 * bounds what any scheduling of the step on this backend can reach.
 */
export function measureKernelCeiling(tf: TF, windows = 5, callsPerWindow = 10): KernelRate[] {
  const time = (what: string, flops: number, make: () => tfjs.Tensor[], op: (t: tfjs.Tensor[]) => tfjs.Tensor): KernelRate => {
    const inputs = make();
    try {
      for (let i = 0; i < 3; i++) op(inputs).dispose();
      const rates: number[] = [];
      for (let w = 0; w < windows; w++) {
        const t0 = performance.now();
        for (let i = 0; i < callsPerWindow; i++) op(inputs).dispose();
        rates.push((flops * callsPerWindow) / ((performance.now() - t0) / 1000) / 1e9);
      }
      return { what, gflops: median(rates) };
    } finally {
      tf.dispose(inputs);
    }
  };
  return [
    time(
      'conv2d [64,13,13,32] * [3,3,32,64] valid',
      2 * 64 * 11 * 11 * 64 * 3 * 3 * 32,
      () => [tf.randomUniform([64, 13, 13, 32]), tf.randomUniform([3, 3, 32, 64])],
      ([x, k]) => tf.conv2d(x as tfjs.Tensor4D, k as tfjs.Tensor4D, 1, 'valid'),
    ),
    time(
      'matmul [64,784] * [784,400]',
      2 * 64 * 784 * 400,
      () => [tf.randomUniform([64, 784]), tf.randomUniform([784, 400])],
      ([a, b]) => tf.matMul(a as tfjs.Tensor2D, b as tfjs.Tensor2D),
    ),
  ];
}
