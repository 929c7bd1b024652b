import type * as tfjs from '@tensorflow/tfjs';
import type { ClassifierModel, EvalSet, TF } from '../models/types';

export interface EvalOutcome {
  /** Fraction correct. */
  accuracy: number;
  /** Mean softmax cross-entropy. */
  loss: number;
  /** Fraction correct under `alternateMask` (when given). */
  alternateAccuracy?: number;
}

export interface EvalOptions {
  /** Additive logit mask [outputs] for scoring (default: the set's own, else none). */
  mask?: tfjs.Tensor1D | null;
  /** A second mask scored from the same forward pass (the other scenario's accuracy). */
  alternateMask?: tfjs.Tensor1D | null;
  /** The strategy's classifier (e.g. iCaRL's nearest mean of exemplars): argmax of these scores, masked, is the prediction. */
  scores?: (x: tfjs.Tensor4D) => tfjs.Tensor2D;
}

/**
 * Rows per forward pass inside an evaluation batch on wasm. There each example's logits do not
 * depend on the other rows of its batch (the engine's kernels compute every image's outputs by the
 * same instructions in the same order, tested), so a 1000-image batch computed as 4 x 250 gives
 * bitwise the same logits, and hence the same sums, with a quarter of the activations (a small
 * CNN's first conv output is ~86 MB at 1000).
 */
export const EVAL_FORWARD_ROWS = 250;

/** f(x) computed EVAL_FORWARD_ROWS rows at a time where that is bitwise f(x) (wasm), else at once. */
function rowsInChunks(tf: TF, x: tfjs.Tensor4D, f: (x: tfjs.Tensor4D) => tfjs.Tensor2D): tfjs.Tensor2D {
  const n = x.shape[0];
  if (n <= EVAL_FORWARD_ROWS || tf.getBackend() !== 'wasm') return f(x);
  const parts: tfjs.Tensor2D[] = [];
  for (let start = 0; start < n; start += EVAL_FORWARD_ROWS) {
    const size = Math.min(EVAL_FORWARD_ROWS, n - start);
    parts.push(tf.tidy(() => f(x.slice([start, 0, 0, 0], [size, -1, -1, -1]))));
  }
  return tf.concat(parts, 0);
}

/** Additive logit masks a batch is scored with (tensors [outputs] or null = none). */
export interface BatchMasks {
  mask: tfjs.Tensor1D | null;
  /** The alternate scenario's mask; undefined = not scored. */
  alternateMask?: tfjs.Tensor1D | null;
  /** The strategy's classifier (see EvalOptions.scores). */
  scores?: (x: tfjs.Tensor4D) => tfjs.Tensor2D;
}

/** A batch's partial sums as the backend computed them (float32 values): what evaluations combine, in batch order. */
export interface BatchSums {
  /** Examples classified correctly under the mask. */
  correct: number;
  /** Sum over the batch of -log softmax(masked logits)[target] (the negated float32 sum, exact). */
  loss: number;
  /** Examples correct under the alternate mask (0 without one). */
  correctAlternate: number;
}

/**
 * The partial sums of one batch (x [n,h,w,c], y [n] int32 targets): one forward pass, one host
 * read. Every evaluation (evaluateModel here, the evaluation lanes of evalLanes.ts on the main
 * thread and in the worker) computes its batches with this one function.
 */
export function batchSums(tf: TF, model: ClassifierModel, x: tfjs.Tensor4D, y: tfjs.Tensor1D, masks: BatchMasks): BatchSums {
  const { mask, alternateMask: alternate, scores: scoreFn } = masks;
  const hits = (scores: tfjs.Tensor2D, m: tfjs.Tensor1D | null) => tf.sum(tf.cast(tf.equal(tf.argMax(m ? tf.add(scores, m) : scores, 1), y), 'float32'));
  const sums = tf.tidy(() => {
    const logits = rowsInChunks(tf, x, (rows) => model.forward(rows));
    const logp = tf.logSoftmax(mask ? tf.add(logits, mask) : logits);
    const logLikelihood = tf.sum(tf.mul(logp, tf.oneHot(y, model.outputs)));
    const scores = scoreFn ? rowsInChunks(tf, x, scoreFn) : logits;
    const correct = hits(scores, mask);
    const correctAlt = alternate !== undefined ? hits(scores, alternate) : tf.scalar(0);
    return tf.stack([correct, logLikelihood, correctAlt]);
  });
  try {
    const [correct, logLikelihood, correctAlternate] = sums.dataSync();
    return { correct, loss: -logLikelihood, correctAlternate };
  } finally {
    sums.dispose();
  }
}

/** The running totals of an evaluation, float32 as the backend accumulated them when the sums stayed there. */
export interface EvalTotals {
  correct: number;
  lossSum: number;
  correctAlternate: number;
}

export const emptyTotals = (): EvalTotals => ({ correct: 0, lossSum: 0, correctAlternate: 0 });

/**
 * Adds one batch in float32 arithmetic, exactly the backend's scalar ops of the evaluation that
 * kept its sums as tensors (correct + hits, lossSum - log-likelihood): combined in batch order,
 * the totals are bitwise the same wherever and whenever each batch was computed.
 */
export function addBatch(t: EvalTotals, b: BatchSums): EvalTotals {
  return {
    correct: Math.fround(t.correct + b.correct),
    lossSum: Math.fround(t.lossSum + b.loss),
    correctAlternate: Math.fround(t.correctAlternate + b.correctAlternate),
  };
}

/** Accuracy and mean loss of `n` examples from their totals (alternateAccuracy when the alternate mask was scored). */
export function outcomeOf(t: EvalTotals, n: number, alternate: boolean): EvalOutcome {
  if (n === 0) return { accuracy: NaN, loss: NaN };
  const out: EvalOutcome = { accuracy: t.correct / n, loss: t.lossSum / n };
  if (alternate) out.alternateAccuracy = t.correctAlternate / n;
  return out;
}

/**
 * Accuracy and mean cross-entropy of the model's current weights on a set, in batches (one host
 * read per batch; each batch's activations are freed before the next).
 */
export function evaluateModel(tf: TF, model: ClassifierModel, set: EvalSet, batchSize = 1000, opts: EvalOptions = {}): EvalOutcome {
  const n = set.labels.shape[0];
  if (n === 0) return { accuracy: NaN, loss: NaN };
  const masks: BatchMasks = { mask: opts.mask === undefined ? (set.mask ?? null) : opts.mask, alternateMask: opts.alternateMask, scores: opts.scores };
  let totals = emptyTotals();
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const x = set.images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
    const y = set.labels.slice([start], [size]);
    try {
      totals = addBatch(totals, batchSums(tf, model, x, y, masks));
    } finally {
      x.dispose();
      y.dispose();
    }
  }
  return outcomeOf(totals, n, opts.alternateMask !== undefined);
}
