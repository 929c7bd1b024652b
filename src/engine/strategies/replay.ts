// Experience replay: every batch is trained together with examples drawn from a small memory of
// earlier examples. Chaudhry et al. 2019, On tiny episodic memories in continual learning (arXiv
// 1902.10486), and Rolnick et al. 2019, Experience replay for continual learning, NeurIPS.
// The memory is filled during training, as in Chaudhry et al.: after each step the batch's examples
// stream into it (reservoir over the stream, or class-balanced). Each example enters the stream
// once per phase, at its first presentation, so with several epochs the memory still holds
// distinct examples (with one epoch this is exactly their stream). Replayed examples get the
// masks of their own tasks with every task seen so far (env.makeBatch).
import type * as tfjs from '@tensorflow/tfjs';
import type { TF } from '../models/types';
import { createMemory, type MemoryPolicy } from './memory';
import type { StrategyDefinition, TrainBatch } from './types';

/** The batch the optimizer sees: the loop's batch followed by the replayed examples (indices -1). */
export function concatBatches(tf: TF, current: TrainBatch, replayed: TrainBatch): TrainBatch {
  const n = current.indices.length;
  const m = replayed.indices.length;
  const outputs = (current.mask ?? replayed.mask)?.shape[1] ?? 0;
  const tasks = new Int32Array(n + m);
  tasks.set(current.tasks);
  tasks.set(replayed.tasks, n);
  const indices = new Int32Array(n + m).fill(-1);
  indices.set(current.indices);
  const mask =
    current.mask || replayed.mask
      ? tf.tidy(() => tf.concat([current.mask ?? tf.zeros([n, outputs]), replayed.mask ?? tf.zeros([m, outputs])]) as tfjs.Tensor2D)
      : null;
  return { x: tf.concat([current.x, replayed.x]), y: tf.concat([current.y, replayed.y]), tasks, mask, indices };
}

export const replay: StrategyDefinition = {
  name: 'replay',
  summary: 'Experience replay: trains every batch together with examples replayed from a small memory of earlier examples (reservoir or class-balanced).',
  paper: 'Chaudhry et al. 2019, On tiny episodic memories in continual learning, arXiv; Rolnick et al. 2019, Experience replay for continual learning, NeurIPS',
  hyperparameters: {
    memorySize: { type: 'integer', default: 500, minimum: 1, description: 'Examples the memory holds over all tasks (500 is the middle of the 200/500/5120 sizes Buzzega et al. 2020 compare).' },
    selection: {
      type: 'string',
      default: 'reservoir',
      enum: ['reservoir', 'class-balanced'],
      description: 'Which examples stay: reservoir (a uniform sample of every example seen) or class-balanced (equal slots per class seen).',
    },
    replayBatch: { type: 'integer', default: 0, minimum: 0, description: 'Replayed examples added to each batch; 0 = as many as training.batchSize (Chaudhry et al.).' },
  },
  create(env, params) {
    const { tf } = env;
    const [h, w, c] = env.model.inputShape;
    const memory = createMemory({ capacity: Number(params.memorySize), pixels: h * w * c, policy: params.selection as MemoryPolicy, rng: env.rng });
    const replayBatch = Number(params.replayBatch) || env.experiment.training.batchSize;
    let presented = new Uint8Array(0); // examples of the phase already streamed into the memory
    return {
      beforePhase(ctx) {
        presented = new Uint8Array(ctx.train.n);
      },
      augmentBatch(batch, ctx) {
        if (memory.size === 0) return batch;
        const s = memory.sample(replayBatch);
        const replayed = env.makeBatch(s.images, s.labels, s.tasks, ctx.seenTasks);
        try {
          return concatBatches(tf, batch, replayed);
        } finally {
          env.disposeBatch(replayed);
        }
      },
      afterStep(_grads, batch, ctx) {
        let fresh = 0;
        const rows = new Int32Array(batch.indices.length);
        for (const i of batch.indices) {
          if (i < 0 || presented[i]) continue;
          presented[i] = 1;
          rows[fresh++] = i;
        }
        memory.observe(ctx.train, rows.subarray(0, fresh));
      },
    };
  },
};
