import type { TrainingSpec } from '../../protocol/experiment';
import { createRng, deriveSeed, shuffleInPlace } from '../random';
import type { ClassifierModel, TF } from '../models/types';
import type * as tfjs from '@tensorflow/tfjs';

/** A task's training data on the JS heap: normalised float images and labels. */
export interface TrainSet {
  images: Float32Array; // n * h * w * c, normalised
  labels: Int32Array;
  n: number;
  shape: [number, number, number];
}

export function createOptimizer(tf: TF, spec: TrainingSpec): tfjs.Optimizer {
  // epsilon 1e-8 as in PyTorch's Adam (tfjs defaults to 1e-7).
  return spec.optimizer === 'adam' ? tf.train.adam(spec.learningRate, 0.9, 0.999, 1e-8) : tf.train.sgd(spec.learningRate);
}

/** Number of optimizer steps one epoch takes (the last partial batch is kept, as PyTorch's DataLoader does). */
export function stepsPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** The seeded order in which one epoch visits the training examples. */
export function epochOrder(n: number, seed: number, task: number, epoch: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, createRng(deriveSeed(seed, `shuffle/${task}/${epoch}`)));
}

/** Copies the examples at order[start..start+size) into fresh batch tensors. */
export function makeBatch(tf: TF, set: TrainSet, order: Int32Array, start: number, size: number): { x: tfjs.Tensor4D; y: tfjs.Tensor1D } {
  const pixels = set.shape[0] * set.shape[1] * set.shape[2];
  // A fresh buffer per batch: the cpu backend keeps a reference to the array it is given.
  const xb = new Float32Array(size * pixels);
  const yb = new Int32Array(size);
  for (let k = 0; k < size; k++) {
    const idx = order[start + k];
    xb.set(set.images.subarray(idx * pixels, (idx + 1) * pixels), k * pixels);
    yb[k] = set.labels[idx];
  }
  return { x: tf.tensor4d(xb, [size, ...set.shape]), y: tf.tensor1d(yb, 'int32') };
}

/** Mean softmax cross-entropy of logits against integer labels. */
export function crossEntropy(tf: TF, logits: tfjs.Tensor2D, labels: tfjs.Tensor1D, classes: number): tfjs.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(labels, classes)), 1))) as tfjs.Scalar;
}

/** One optimizer step on a batch; returns the batch loss. */
export function trainStep(tf: TF, model: ClassifierModel, optimizer: tfjs.Optimizer, x: tfjs.Tensor4D, y: tfjs.Tensor1D): number {
  const varList = model.params.map((p) => p.variable);
  const cost = optimizer.minimize(() => crossEntropy(tf, model.forward(x), y, model.outputs), true, varList);
  const loss = cost ? cost.dataSync()[0] : NaN;
  cost?.dispose();
  return loss;
}
