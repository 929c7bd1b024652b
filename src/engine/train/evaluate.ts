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
 * depend on the other rows of its batch (XNNPACK's kernels accumulate every output row in the same
 * order), so a 1000-image batch computed as 4 x 250 gives bitwise the same logits, and hence the
 * same sums, with a quarter of the activations (a small CNN's first conv output is ~86 MB at 1000).
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

/**
 * Accuracy and mean cross-entropy of the model's current weights on a set, in batches.
 * One host read per call (sums accumulate on the backend).
 */
export function evaluateModel(tf: TF, model: ClassifierModel, set: EvalSet, batchSize = 1000, opts: EvalOptions = {}): EvalOutcome {
  const n = set.labels.shape[0];
  if (n === 0) return { accuracy: NaN, loss: NaN };
  const mask = opts.mask === undefined ? (set.mask ?? null) : opts.mask;
  const alternate = opts.alternateMask;
  const hits = (scores: tfjs.Tensor2D, m: tfjs.Tensor1D | null, y: tfjs.Tensor1D) =>
    tf.sum(tf.cast(tf.equal(tf.argMax(m ? tf.add(scores, m) : scores, 1), y), 'float32'));
  let sums = [tf.scalar(0), tf.scalar(0), tf.scalar(0)]; // correct, loss sum, correct under the alternate mask
  let totals: tfjs.Tensor1D;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      // One tidy per batch: a batch's activations are freed before the next (one tidy over all
      // batches kept every batch's, growing the wasm heap, which never shrinks, by ~150 MB a batch).
      const next = tf.tidy(() => {
        let [correct, lossSum, correctAlt] = sums;
        const x = set.images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
        const y = set.labels.slice([start], [size]);
        const logits = rowsInChunks(tf, x, (rows) => model.forward(rows));
        const logp = tf.logSoftmax(mask ? tf.add(logits, mask) : logits);
        lossSum = tf.sub(lossSum, tf.sum(tf.mul(logp, tf.oneHot(y, model.outputs))));
        const scores = opts.scores ? rowsInChunks(tf, x, opts.scores) : logits;
        correct = tf.add(correct, hits(scores, mask, y));
        if (alternate !== undefined) correctAlt = tf.add(correctAlt, hits(scores, alternate, y));
        return [correct, lossSum, correctAlt];
      });
      for (const t of sums) if (!next.includes(t)) t.dispose();
      sums = next;
    }
    totals = tf.stack(sums) as tfjs.Tensor1D;
  } finally {
    tf.dispose(sums);
  }
  const [correct, lossSum, correctAlt] = totals.dataSync();
  totals.dispose();
  const out: EvalOutcome = { accuracy: correct / n, loss: lossSum / n };
  if (alternate !== undefined) out.alternateAccuracy = correctAlt / n;
  return out;
}
