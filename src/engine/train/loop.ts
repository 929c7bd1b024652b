// The training loop shared by every strategy: phases of tasks (one task per phase unless the
// strategy trains jointly or cumulatively), seeded batches, one step = gradients of the
// cross-entropy plus the strategy's penalty, the strategy's gradient surgery, the optimizer.
// Everything else (curves, progress, landscape checkpoints, rows of R) observes the loop.
import { throwIfAborted, yieldToLoop } from '../cancel';
import type * as tfjs from '@tensorflow/tfjs';
import type { NormalisedExperiment, TrainingSpec } from '../../protocol/experiment';
import type { ClassifierModel, TF } from '../models/types';
import { buildModel } from '../models/build';
import { createRng, deriveSeed, shuffleInPlace } from '../random';
import { disposeAll, type Gradients, type PhaseContext, type PhasePlan, type StepContext, type Strategy, type StrategyEnv, type TrainBatch, type TrainSet } from '../strategies/types';
import { maskRows, type HeadLayout } from './head';
import { concatImages, copyImage } from '../data/pixels';
import { engageKernelHelper, type KernelHelper } from '../backend/kernelHelper';
import { canTrainDataParallel, dataParallelStep, type DataParallelTrainer } from './parallel/dataParallel';
import { createAdam } from './adam';

export type { TrainSet, TrainBatch } from '../strategies/types';

export function createOptimizer(tf: TF, spec: TrainingSpec): tfjs.Optimizer {
  // epsilon 1e-8 as in PyTorch's Adam (tfjs defaults to 1e-7). createAdam is tf.train.adam with its
  // per-variable update fused into one wasm SIMD kernel (bitwise the same weights).
  return spec.optimizer === 'adam' ? createAdam(tf, spec.learningRate, 0.9, 0.999, 1e-8) : tf.train.sgd(spec.learningRate);
}

/** Number of optimizer steps one epoch takes (the last partial batch is kept, as PyTorch's DataLoader does). */
export function stepsPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** The tasks each phase trains on (rows of R): [[0],[1],...], [[0..T-1]] or [[0],[0,1],...]. */
export function planPhases(plan: PhasePlan, taskCount: number): number[][] {
  const all = Array.from({ length: taskCount }, (_, i) => i);
  if (plan === 'joint') return [all];
  if (plan === 'cumulative') return all.map((i) => all.slice(0, i + 1));
  return all.map((i) => [i]);
}

/**
 * Optimizer steps of a phase: `iterations` per task trained for the first time in it (so joint
 * training gets the budget of the whole sequence), or `epochs` passes over the phase's data.
 */
export function phaseSteps(training: TrainingSpec, examples: number, newTasks: number): number {
  if (training.iterations !== undefined) return training.iterations * Math.max(1, newTasks);
  return stepsPerEpoch(examples, training.batchSize) * training.epochs;
}

/** The seeded order in which one epoch of a phase visits its training examples. */
export function epochOrder(n: number, seed: number, phase: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, createRng(deriveSeed(seed, `shuffle/${phase}/${epoch}`)));
}

/** The union of several tasks' training sets (a single task's set is returned as it is; bytes stay bytes). */
export function concatTrainSets(sets: TrainSet[]): TrainSet {
  if (sets.length === 1) return sets[0];
  const n = sets.reduce((s, t) => s + t.n, 0);
  const [h, w, c] = sets[0].shape;
  const labels = new Int32Array(n);
  const tasks = new Int32Array(n);
  let at = 0;
  for (const s of sets) {
    labels.set(s.labels, at);
    tasks.set(s.tasks, at);
    at += s.n;
  }
  return { images: concatImages(sets, h * w * c), labels, tasks, n, shape: sets[0].shape };
}

/** Copies examples into fresh batch tensors, with their masks. */
export function batchFromArrays(tf: TF, head: HeadLayout, seenTasks: readonly number[], shape: [number, number, number], images: Float32Array, labels: Int32Array, tasks: Int32Array, indices: Int32Array): TrainBatch {
  const mask = maskRows(head, tasks, seenTasks);
  return {
    x: tf.tensor4d(images, [labels.length, ...shape]),
    y: tf.tensor1d(labels, 'int32'),
    tasks,
    mask: mask ? tf.tensor2d(mask, [labels.length, head.outputs]) : null,
    indices,
  };
}

/** The examples at order[start..start+size) as a batch. */
export function makeBatch(tf: TF, head: HeadLayout, seenTasks: readonly number[], set: TrainSet, order: Int32Array, start: number, size: number): TrainBatch {
  const pixels = set.shape[0] * set.shape[1] * set.shape[2];
  // A fresh buffer per batch: the cpu backend keeps a reference to the array it is given.
  const xb = new Float32Array(size * pixels);
  const yb = new Int32Array(size);
  const tb = new Int32Array(size);
  const ib = new Int32Array(size);
  for (let k = 0; k < size; k++) {
    const idx = order[start + k];
    copyImage(set.images, pixels, idx, xb, k * pixels);
    yb[k] = set.labels[idx];
    tb[k] = set.tasks[idx];
    ib[k] = idx;
  }
  return batchFromArrays(tf, head, seenTasks, set.shape, xb, yb, tb, ib);
}

export function disposeBatch(batch: TrainBatch): void {
  disposeAll([batch.x, batch.y, batch.mask]);
}

/** Mean softmax cross-entropy of logits against integer targets. */
export function crossEntropy(tf: TF, logits: tfjs.Tensor2D, labels: tfjs.Tensor1D, classes: number): tfjs.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, classes)), 1))) as tfjs.Scalar;
}

/** Logits of a model on a batch with the batch's mask added. */
export function maskedLogits(tf: TF, model: ClassifierModel, batch: TrainBatch): tfjs.Tensor2D {
  const logits = model.forward(batch.x);
  return batch.mask ? (tf.add(logits, batch.mask) as tfjs.Tensor2D) : logits;
}

/** Gradients of `loss` w.r.t. the model's parameters, in model.params order, and the loss value. */
export function parameterGradients(tf: TF, model: ClassifierModel, loss: () => tfjs.Scalar): { value: tfjs.Scalar; grads: Gradients } {
  const vars = model.params.map((p) => p.variable);
  const { value, grads } = tf.variableGrads(loss, vars);
  return { value, grads: model.params.map((p) => grads[p.variable.name]) };
}

/**
 * One optimizer step: gradients of the cross-entropy (or the strategy's classification loss) plus the strategy's penalty, the strategy's
 * gradient surgery, then the optimizer. Returns the batch's total loss.
 */
export function trainStep(tf: TF, env: StrategyEnv, optimizer: tfjs.Optimizer, strategy: Strategy, batch: TrainBatch, ctx: StepContext): number {
  const { model } = env;
  const { value, grads: raw } = parameterGradients(tf, model, () =>
    tf.tidy(() => {
      const logits = maskedLogits(tf, model, batch);
      const ce = strategy.classificationLoss?.(logits, batch, ctx) ?? crossEntropy(tf, logits, batch.y, model.outputs);
      const extra = strategy.penalty?.(logits, batch, ctx) ?? null;
      return extra ? (tf.add(ce, extra) as tfjs.Scalar) : ce;
    }),
  );
  const grads = strategy.adjustGradients ? strategy.adjustGradients(raw, batch, ctx) : raw;
  const named: tfjs.NamedTensorMap = {};
  model.params.forEach((p, k) => (named[p.variable.name] = grads[k]));
  optimizer.applyGradients(named);
  strategy.afterStep?.(grads, batch, ctx);
  const loss = value.dataSync()[0];
  disposeAll([value, ...grads]);
  if (grads !== raw) disposeAll(raw);
  return loss;
}

export interface StepInfo {
  phase: number;
  /** Global step, 1-based. */
  step: number;
  /** 1-based epoch within the phase (passes over the phase's data). */
  epoch: number;
  loss: number;
  /** Examples in the batch the optimizer saw (replay included). */
  batchSize: number;
  stepMs: number;
  lastOfPhase: boolean;
}

/** Watches the loop: curves, progress, checkpoints and the rows of R are observers. */
export interface LoopObserver {
  phaseStarted?(phase: number, step: number): void | Promise<void>;
  stepDone?(info: StepInfo): void | Promise<void>;
  /** After the strategy's afterPhase (iCaRL's class means exist by then). */
  phaseEnded?(phase: number, step: number): void | Promise<void>;
}

export interface LoopOptions {
  tf: TF;
  env: StrategyEnv;
  strategy: Strategy;
  optimizer: tfjs.Optimizer;
  phases: number[][];
  training: TrainingSpec;
  seed: number;
  observers: LoopObserver[];
  signal?: AbortSignal;
  /**
   * Data-parallel lanes (parallel/dataParallel.ts) for the steps of strategies whose loss is the plain
   * masked cross-entropy; absent: every step is trainStep on this thread.
   */
  parallel?: DataParallelTrainer | null;
  /**
   * A second thread for the engine's kernels (backend/kernelHelper.ts), engaged for the steps that
   * run on this thread (not the data-parallel lanes'): the same bits, sooner.
   */
  kernelHelper?: KernelHelper | null;
}

export { abortError, throwIfAborted } from '../cancel';
const tick = yieldToLoop;

/** Total optimizer steps of a plan (for progress and ETA). */
export function totalSteps(phases: number[][], sets: TrainSet[], training: TrainingSpec): number {
  const seen = new Set<number>();
  return phases.reduce((sum, tasks) => {
    const fresh = tasks.filter((t) => !seen.has(t)).length;
    tasks.forEach((t) => seen.add(t));
    return sum + phaseSteps(training, tasks.reduce((n, t) => n + sets[t].n, 0), fresh);
  }, 0);
}

/** Trains every phase; throws AbortError when the signal fires (checked before each step and after each phase). */
export async function runPhases(opts: LoopOptions): Promise<void> {
  const { tf, env, strategy, optimizer, training, signal } = opts;
  const parallel = opts.parallel && canTrainDataParallel(strategy) ? opts.parallel : null;
  const helper = opts.kernelHelper ?? null;
  const stepHere = (batch: TrainBatch, ctx: StepContext): number => {
    const previous = engageKernelHelper(helper);
    try {
      return trainStep(tf, env, optimizer, strategy, batch, ctx);
    } finally {
      engageKernelHelper(previous);
    }
  };
  const seen = new Set<number>();
  let step = 0;
  for (let phase = 0; phase < opts.phases.length; phase++) {
    const tasks = opts.phases[phase];
    const fresh = tasks.filter((t) => !seen.has(t)).length;
    tasks.forEach((t) => seen.add(t));
    const seenTasks = [...seen].sort((a, b) => a - b);
    const train = concatTrainSets(tasks.map((t) => env.tasks[t]));
    const ctx: PhaseContext = { phase, tasks, train, seenTasks };
    for (const o of opts.observers) await o.phaseStarted?.(phase, step);
    await strategy.beforePhase?.(ctx);
    const steps = phaseSteps(training, train.n, fresh);
    const perEpoch = stepsPerEpoch(train.n, training.batchSize);
    let order = epochOrder(train.n, opts.seed, phase, 0);
    for (let s = 0; s < steps; s++) {
      throwIfAborted(signal);
      const epoch = Math.floor(s / perEpoch);
      const b = s % perEpoch;
      if (b === 0 && s > 0) order = epochOrder(train.n, opts.seed, phase, epoch);
      const start = b * training.batchSize;
      const size = Math.min(training.batchSize, train.n - start);
      const t0 = performance.now();
      step++;
      const stepCtx: StepContext = { ...ctx, step };
      const batch = makeBatch(tf, env.head, seenTasks, train, order, start, size);
      let used = batch;
      let loss: number;
      try {
        used = strategy.augmentBatch ? strategy.augmentBatch(batch, stepCtx) : batch;
        loss = parallel ? await dataParallelStep(parallel, env, optimizer, strategy, used, stepCtx) : stepHere(used, stepCtx);
      } finally {
        disposeBatch(batch);
        if (used !== batch) disposeBatch(used);
      }
      if (!Number.isFinite(loss)) {
        throw new Error(`the training loss became ${loss} at step ${step} (phase ${phase}, epoch ${epoch + 1}): lower training.learningRate`);
      }
      const info: StepInfo = { phase, step, epoch: epoch + 1, loss, batchSize: used.indices.length, stepMs: performance.now() - t0, lastOfPhase: s === steps - 1 };
      for (const o of opts.observers) await o.stepDone?.(info);
      await tick(); // lets a cancel message in
    }
    throwIfAborted(signal);
    await strategy.afterPhase?.(ctx);
    for (const o of opts.observers) await o.phaseEnded?.(phase, step);
  }
}

/** The environment hooks receive (see StrategyEnv). */
export function createStrategyEnv(opts: {
  tf: TF;
  model: ClassifierModel;
  head: HeadLayout;
  experiment: NormalisedExperiment;
  tasks: TrainSet[];
  strategyName: string;
  log: (message: string) => void;
}): StrategyEnv {
  const { tf, model, head, experiment } = opts;
  const shape = model.inputShape;
  return {
    tf,
    model,
    head,
    experiment,
    tasks: opts.tasks,
    rng: createRng(deriveSeed(experiment.seed, `strategy/${opts.strategyName}`)),
    logits: (batch, m = model) => maskedLogits(tf, m, batch),
    crossEntropy: (logits, batch) => crossEntropy(tf, logits, batch.y, model.outputs),
    gradients(batch, loss) {
      const { value, grads } = parameterGradients(tf, model, () =>
        tf.tidy(() => {
          const logits = maskedLogits(tf, model, batch);
          return loss ? loss(logits) : crossEntropy(tf, logits, batch.y, model.outputs);
        }),
      );
      value.dispose();
      return grads;
    },
    makeBatch: (images, labels, tasks, seenTasks) => batchFromArrays(tf, head, seenTasks, shape, images, labels, tasks, new Int32Array(labels.length).fill(-1)),
    disposeBatch,
    snapshotModel() {
      const copy = buildModel(tf, experiment.model, shape, model.outputs, experiment.seed);
      copy.params.forEach((p, k) => p.variable.assign(model.params[k].variable));
      for (const p of copy.params) (p.variable as unknown as { trainable: boolean }).trainable = false;
      return copy;
    },
    readWeights: () => model.params.map((p) => p.variable.dataSync().slice() as Float32Array),
    log: opts.log,
  };
}
