// The maths one lane of a data-parallel step runs (the main thread's lane and every worker's):
// the gradients of its rows' share of the batch's mean masked cross-entropy. Lanes divide by the
// FULL batch size, so the lanes' gradients add up to the full batch's (loop.ts's crossEntropy).
import type * as tfjs from '@tensorflow/tfjs';
import type { ClassifierModel, TF } from '../../models/types';

/** Where each parameter's values start in one flat vector (model.params order), and the total. */
export function parameterOffsets(model: Pick<ClassifierModel, 'params'>): { offsets: number[]; total: number } {
  const offsets: number[] = [];
  let total = 0;
  for (const p of model.params) {
    offsets.push(total);
    total += p.shape.reduce((a, b) => a * b, 1);
  }
  return { offsets, total };
}

/** Rows [start, end) of lane `lane` of `lanes` for a batch of n (contiguous, sizes differ by at most one). */
export function laneRows(n: number, lanes: number, lane: number): [number, number] {
  return [Math.floor((lane * n) / lanes), Math.floor(((lane + 1) * n) / lanes)];
}

/**
 * Gradients (model.params order) of sum over this lane's rows of the masked cross-entropy, divided
 * by `batchSize` (the whole batch's size), and that loss share. The caller disposes both.
 */
export function laneGradients(
  tf: TF,
  model: ClassifierModel,
  x: tfjs.Tensor4D,
  y: tfjs.Tensor1D,
  mask: tfjs.Tensor2D | null,
  batchSize: number,
): { value: tfjs.Scalar; grads: tfjs.Tensor[] } {
  const vars = model.params.map((p) => p.variable);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const raw = model.forward(x);
        const logits = mask ? tf.add(raw, mask) : raw;
        const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(y, model.outputs)));
        return tf.div(tf.neg(picked), batchSize) as tfjs.Scalar;
      }),
    vars,
  );
  return { value, grads: model.params.map((p) => grads[p.variable.name]) };
}

/**
 * One tensor per parameter (model.params order) from a flat vector at `offsets`. The cpu backend
 * keeps the array a tensor is made from, so there each tensor gets a copy (the vector is reused).
 */
export function readFlat(tf: TF, params: ClassifierModel['params'], offsets: readonly number[], flat: Float32Array): tfjs.Tensor[] {
  const copy = tf.getBackend() === 'cpu';
  return params.map((p, k) => {
    const view = flat.subarray(offsets[k], offsets[k] + p.variable.size);
    return tf.tensor(copy ? view.slice() : view, p.shape, 'float32');
  });
}

/** Writes each tensor's values into `out` at its parameter's offset (one host read per tensor). */
export function writeFlat(tensors: readonly tfjs.Tensor[], offsets: readonly number[], out: Float32Array): void {
  tensors.forEach((t, k) => out.set(t.dataSync() as Float32Array, offsets[k]));
}
