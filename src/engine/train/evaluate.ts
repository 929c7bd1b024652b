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
 * Accuracy and mean cross-entropy of the model's current weights on a set, in batches.
 * One host read per call (sums accumulate on the backend).
 */
export function evaluateModel(tf: TF, model: ClassifierModel, set: EvalSet, batchSize = 1000, opts: EvalOptions = {}): EvalOutcome {
  const n = set.labels.shape[0];
  if (n === 0) return { accuracy: NaN, loss: NaN };
  const mask = opts.mask === undefined ? (set.mask ?? null) : opts.mask;
  const alternate = opts.alternateMask;
  const totals = tf.tidy(() => {
    let correct = tf.scalar(0);
    let correctAlt = tf.scalar(0);
    let lossSum = tf.scalar(0);
    const hits = (scores: tfjs.Tensor2D, m: tfjs.Tensor1D | null, y: tfjs.Tensor1D) =>
      tf.sum(tf.cast(tf.equal(tf.argMax(m ? tf.add(scores, m) : scores, 1), y), 'float32'));
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const x = set.images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
      const y = set.labels.slice([start], [size]);
      const logits = model.forward(x);
      const logp = tf.logSoftmax(mask ? tf.add(logits, mask) : logits);
      lossSum = tf.sub(lossSum, tf.sum(tf.mul(logp, tf.oneHot(y, model.outputs))));
      const scores = opts.scores ? opts.scores(x) : logits;
      correct = tf.add(correct, hits(scores, mask, y));
      if (alternate !== undefined) correctAlt = tf.add(correctAlt, hits(scores, alternate, y));
    }
    return tf.stack([correct, lossSum, correctAlt]);
  });
  const [correct, lossSum, correctAlt] = totals.dataSync();
  totals.dispose();
  const out: EvalOutcome = { accuracy: correct / n, loss: lossSum / n };
  if (alternate !== undefined) out.alternateAccuracy = correctAlt / n;
  return out;
}
