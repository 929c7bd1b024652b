// DER++ (dark experience replay): the memory keeps, with each example, the logits the model gave it
// when it was seen; training matches the current logits on a memory sample to the stored ones (MSE)
// and fits the stored labels of another sample (cross-entropy). Buzzega et al. 2020, Dark experience
// for general continual learning: a strong, simple baseline, NeurIPS.
//   penalty = alpha * MSE(logits of memory sample A, stored logits) + beta * CE(logits of sample B, stored labels)
// As in the authors' code (Mammoth's derpp), every presentation of a training example streams into a
// reservoir memory with the logits of that step, so stored logits are sampled along the whole
// optimisation trajectory. Logits of units masked when the example was stored (task-IL, class-IL)
// were never computed: the MSE runs over the units that were allowed then (with no mask: every unit,
// the mean over examples and units as torch's mse_loss).
import type * as tfjs from '@tensorflow/tfjs';
import { createMemory } from './memory';
import type { StrategyDefinition } from './types';

export const der: StrategyDefinition = {
  name: 'der',
  summary: "DER++: replays remembered examples, matching the model's current logits to the logits stored with them (alpha) and fitting their labels (beta).",
  paper: 'Buzzega et al. 2020, Dark experience for general continual learning: a strong, simple baseline, NeurIPS',
  hyperparameters: {
    alpha: { type: 'number', default: 1.0, minimum: 0, description: "Weight of the logit-matching (MSE) term; 1.0 is the authors' choice for Seq-MNIST with 500 examples." },
    beta: { type: 'number', default: 0.5, minimum: 0, description: 'Weight of the cross-entropy on replayed labels (the "++"; 0 gives plain DER); 0.5 for Seq-MNIST with 500 examples.' },
    memorySize: { type: 'integer', default: 500, minimum: 1, description: 'Examples (with their logits) the reservoir memory holds over all tasks.' },
    replayBatch: { type: 'integer', default: 0, minimum: 0, description: 'Memory examples drawn for each of the two terms per step; 0 = as many as training.batchSize.' },
  },
  create(env, params) {
    const { tf } = env;
    const [h, w, c] = env.model.inputShape;
    const outputs = env.head.outputs;
    const alpha = Number(params.alpha);
    const beta = Number(params.beta);
    const replayBatch = Number(params.replayBatch) || env.experiment.training.batchSize;
    const memory = createMemory({ capacity: Number(params.memorySize), pixels: h * w * c, policy: 'reservoir', rng: env.rng, logits: outputs });
    // The batch's logits read inside the tape, stored after the step (a failed step stores nothing).
    let pending: { rows: Int32Array; logits: Float32Array } | null = null;

    /** Logits of the phase's examples in the batch, NaN where the unit was masked. */
    const readLogits = (logits: tfjs.Tensor2D, batch: { indices: Int32Array; mask: tfjs.Tensor2D | null }) => {
      const values = logits.dataSync();
      const mask = batch.mask ? batch.mask.dataSync() : null;
      const keep = batch.indices.reduce((n, i) => n + (i >= 0 ? 1 : 0), 0);
      const rows = new Int32Array(keep);
      const stored = new Float32Array(keep * outputs);
      let k = 0;
      batch.indices.forEach((index, b) => {
        if (index < 0) return;
        rows[k] = index;
        for (let u = 0; u < outputs; u++) stored[k * outputs + u] = mask && mask[b * outputs + u] !== 0 ? NaN : values[b * outputs + u];
        k++;
      });
      return { rows, logits: stored };
    };

    return {
      penalty(logits, batch, ctx) {
        pending = readLogits(logits, batch);
        if (memory.size === 0) return null;
        // Runs inside the loop's tidy: the memory batches' tensors are released with it.
        const terms: tfjs.Scalar[] = [];
        if (alpha > 0) {
          const a = memory.sample(replayBatch);
          const stored = a.logits!;
          const target = new Float32Array(stored.length);
          const weight = new Float32Array(stored.length);
          let count = 0;
          for (let i = 0; i < stored.length; i++) {
            if (Number.isNaN(stored[i])) continue;
            target[i] = stored[i];
            weight[i] = 1;
            count++;
          }
          if (count > 0) {
            const batchA = env.makeBatch(a.images, a.labels, a.tasks, ctx.seenTasks);
            const n = a.labels.length;
            const diff = tf.sub(env.model.forward(batchA.x), tf.tensor2d(target, [n, outputs]));
            const mse = tf.div(tf.sum(tf.mul(tf.tensor2d(weight, [n, outputs]), tf.square(diff))), count);
            terms.push(tf.mul(mse, alpha) as tfjs.Scalar);
          }
        }
        if (beta > 0) {
          const b = memory.sample(replayBatch);
          const batchB = env.makeBatch(b.images, b.labels, b.tasks, ctx.seenTasks);
          terms.push(tf.mul(env.crossEntropy(env.logits(batchB), batchB), beta) as tfjs.Scalar);
        }
        return terms.length === 0 ? null : (terms.reduce((s, t) => tf.add(s, t)) as tfjs.Scalar);
      },
      afterStep(_grads, _batch, ctx) {
        if (!pending) return;
        memory.observe(ctx.train, pending.rows, pending.logits);
        pending = null;
      },
    };
  },
};
