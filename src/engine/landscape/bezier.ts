// A trained quadratic Bezier curve between two solutions (Garipov et al. 2018, "Loss Surfaces,
// Mode Connectivity, and Fast Ensembling of DNNs", NeurIPS):
//   phi(t) = (1-t)^2 theta_0 + 2t(1-t) theta + t^2 theta_1,
// the control point theta trained to minimise E_{t~U(0,1)} L(phi(t)) on the union of both tasks'
// training data: one t per batch, the model's weights set to phi(t), the gradient w.r.t. the
// weights chained to theta by d phi / d theta = 2t(1-t), Adam on theta (float64, in JS).

import { abortError as cancelled, yieldToLoop } from '../cancel';
import type * as tfjs from '@tensorflow/tfjs';
import type { ClassifierModel, TF } from '../models/types';
import { createRng, deriveSeed, shuffleInPlace } from '../random';
import type { TrainSet } from '../strategies/types';
import type { HeadLayout } from '../train/head';
import { crossEntropy, disposeBatch, makeBatch, maskedLogits, parameterGradients } from '../train/loop';
import { writeParameters } from './vector';

/** out = phi(t), formed in float64 and rounded once: bitwise theta_0 at t = 0 and theta_1 at t = 1. */
export function bezierPoint(out: Float32Array, theta0: ArrayLike<number>, control: ArrayLike<number>, theta1: ArrayLike<number>, t: number): Float32Array {
  const a = (1 - t) * (1 - t);
  const b = 2 * t * (1 - t);
  const c = t * t;
  for (let i = 0; i < out.length; i++) out[i] = a * theta0[i] + b * control[i] + c * theta1[i];
  return out;
}

/** d phi(t) / d theta: the factor that chains the weights' gradient to the control point's. */
export function controlFactor(t: number): number {
  return 2 * t * (1 - t);
}

/** The line's midpoint (theta_0 + theta_1) / 2, in float64: the curve starts as the straight line. */
export function midpoint(theta0: ArrayLike<number>, theta1: ArrayLike<number>): Float64Array {
  const m = new Float64Array(theta0.length);
  for (let i = 0; i < m.length; i++) m[i] = 0.5 * (theta0[i] + theta1[i]);
  return m;
}

/** Loss and gradient w.r.t. the weights at `theta` on the next batch (step is 0-based). */
export type WeightGradient = (theta: Float32Array, step: number) => { loss: number; gradient: ArrayLike<number> } | Promise<{ loss: number; gradient: ArrayLike<number> }>;

export interface TrainBezierOptions {
  theta0: Float32Array;
  theta1: Float32Array;
  /** Initial control point (default: the midpoint, i.e. the straight line). */
  init?: ArrayLike<number>;
  steps: number;
  learningRate: number;
  seed: number;
  gradientAt: WeightGradient;
  /** Training loss is reported as block means over this many steps (default 10). */
  lossEvery?: number;
  signal?: AbortSignal;
  onProgress?(step: number, steps: number, loss: number): void;
}

export interface TrainedBezier {
  control: Float64Array;
  /** Mean loss of each block of lossEvery steps. */
  trainLoss: number[];
  /** The t drawn at each step (seeded). */
  ts: number[];
}

const abortError = (): Error => cancelled('Bezier training');

/** Adam (Kingma & Ba 2015; epsilon 1e-8 as PyTorch's) on the control point, t ~ U(0,1) per step, seeded. */
export async function trainBezier(opts: TrainBezierOptions): Promise<TrainedBezier> {
  const { theta0, theta1, steps, learningRate: lr, signal } = opts;
  const n = theta0.length;
  if (theta1.length !== n) throw new Error(`trainBezier: the endpoints have ${n} and ${theta1.length} values`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`trainBezier: steps must be a positive integer, got ${steps}`);
  const control = opts.init ? Float64Array.from(opts.init) : midpoint(theta0, theta1);
  if (control.length !== n) throw new Error(`trainBezier: the initial control point has ${control.length} values, expected ${n}`);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const rng = createRng(deriveSeed(opts.seed, 'bezier/t'));
  const point = new Float32Array(n);
  const lossEvery = Math.max(1, Math.floor(opts.lossEvery ?? 10));
  const trainLoss: number[] = [];
  const ts: number[] = [];
  let block = 0;
  let blockCount = 0;
  for (let step = 0; step < steps; step++) {
    if (signal?.aborted) throw abortError();
    const t = rng();
    ts.push(t);
    bezierPoint(point, theta0, control, theta1, t);
    const { loss, gradient } = await opts.gradientAt(point, step);
    if (!Number.isFinite(loss)) throw new Error(`the Bezier curve's training loss became ${loss} at step ${step + 1}: lower the learning rate`);
    if (gradient.length !== n) throw new Error(`gradientAt returned ${gradient.length} values, expected ${n}`);
    const f = controlFactor(t);
    const c1 = 1 - beta1 ** (step + 1);
    const c2 = 1 - beta2 ** (step + 1);
    for (let i = 0; i < n; i++) {
      const g = f * gradient[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      control[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
    }
    block += loss;
    blockCount++;
    if (blockCount === lossEvery || step === steps - 1) {
      trainLoss.push(block / blockCount);
      block = 0;
      blockCount = 0;
    }
    opts.onProgress?.(step + 1, steps, loss);
    await yieldToLoop(); // lets a cancel in
  }
  return { control, trainLoss, ts };
}

/**
 * WeightGradient for a tfjs model on a training set: writes theta into the model, takes the next
 * batch of a seeded shuffle (a new order each epoch), and returns the masked cross-entropy and its
 * gradient flattened in `model.params` order. One host read per parameter.
 */
export function modelGradient(opts: { tf: TF; model: ClassifierModel; head: HeadLayout; train: TrainSet; seenTasks: readonly number[]; batchSize: number; seed: number }): WeightGradient {
  const { tf, model, head, train, seenTasks, batchSize } = opts;
  if (!(train.n > 0)) throw new Error('the Bezier curve needs training data');
  const perEpoch = Math.ceil(train.n / batchSize);
  let order = new Int32Array(0);
  let orderEpoch = -1;
  const total = model.params.reduce((s, p) => s + p.variable.size, 0);
  return (theta, step) => {
    const epoch = Math.floor(step / perEpoch);
    if (epoch !== orderEpoch) {
      order = Int32Array.from({ length: train.n }, (_, i) => i);
      shuffleInPlace(order, createRng(deriveSeed(opts.seed, `bezier/shuffle/${epoch}`)));
      orderEpoch = epoch;
    }
    const start = (step % perEpoch) * batchSize;
    const size = Math.min(batchSize, train.n - start);
    writeParameters(tf, model, theta);
    const batch = makeBatch(tf, head, seenTasks, train, order, start, size);
    try {
      const { value, grads } = parameterGradients(tf, model, () => tf.tidy(() => crossEntropy(tf, maskedLogits(tf, model, batch), batch.y, model.outputs)));
      const gradient = new Float32Array(total);
      let offset = 0;
      for (const g of grads) {
        gradient.set(g.dataSync() as Float32Array, offset);
        offset += g.size;
      }
      const loss = value.dataSync()[0];
      tf.dispose([value, ...grads] as tfjs.Tensor[]);
      return { loss, gradient };
    } finally {
      disposeBatch(batch);
    }
  };
}
