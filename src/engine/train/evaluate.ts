import type { ClassifierModel, EvalSet, TF } from '../models/types';

export interface EvalOutcome {
  /** Fraction correct. */
  accuracy: number;
  /** Mean softmax cross-entropy. */
  loss: number;
}

/**
 * Accuracy and mean cross-entropy of the model's current weights on a set, in batches.
 * One host read per call (sums accumulate on the backend).
 */
export function evaluateModel(tf: TF, model: ClassifierModel, set: EvalSet, batchSize = 1000): EvalOutcome {
  const n = set.labels.shape[0];
  if (n === 0) return { accuracy: NaN, loss: NaN };
  const totals = tf.tidy(() => {
    let correct = tf.scalar(0);
    let lossSum = tf.scalar(0);
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const x = set.images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
      const y = set.labels.slice([start], [size]);
      const logits = model.forward(x);
      const logp = tf.logSoftmax(logits);
      const picked = tf.sum(tf.mul(logp, tf.oneHot(y, model.outputs)));
      lossSum = tf.sub(lossSum, picked);
      correct = tf.add(correct, tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')));
    }
    return tf.stack([correct, lossSum]);
  });
  const [correct, lossSum] = totals.dataSync();
  totals.dispose();
  return { accuracy: correct / n, loss: lossSum / n };
}
