// A-GEM (averaged gradient episodic memory): a step may not increase the loss on a sample of the
// memory of earlier tasks, to first order. Chaudhry et al. 2019, Efficient lifelong learning with
// A-GEM, ICLR. With g the batch's gradient and g_ref the gradient on a reference batch drawn from
// memory, both flattened over every parameter together: if g.g_ref < 0 the step applies
// g - (g.g_ref / g_ref.g_ref) g_ref, else g unchanged.
// The memory is filled at the end of each phase from the phase's training data (a seeded random
// pass, as Avalanche's AGEMPlugin): memorySize examples in total, split equally between the tasks
// seen, each task's share a uniform sample of its data. In the first phase the memory is empty and
// A-GEM is plain fine-tuning.
import { shuffleInPlace } from '../random';
import type { TF } from '../models/types';
import { createMemory } from './memory';
import type { Gradients, StrategyDefinition } from './types';

export interface Projection {
  /** The gradients to apply (`grads` itself when no projection was needed). */
  grads: Gradients;
  /** g . g_ref before the projection. */
  dot: number;
  projected: boolean;
}

/**
 * A-GEM's projection of `grads` against `reference` (aligned lists; dot products over all of them
 * at once). Returns new tensors when it projects (the caller still owns `grads` and `reference`).
 */
export function projectGradients(tf: TF, grads: Gradients, reference: Gradients): Projection {
  const sums = tf.tidy(() => {
    let dot = tf.scalar(0);
    let refNorm2 = tf.scalar(0);
    grads.forEach((g, k) => {
      dot = tf.add(dot, tf.sum(tf.mul(g, reference[k])));
      refNorm2 = tf.add(refNorm2, tf.sum(tf.square(reference[k])));
    });
    return tf.stack([dot, refNorm2]);
  });
  const [dot, refNorm2] = sums.dataSync();
  sums.dispose();
  if (!(dot < 0 && refNorm2 > 0)) return { grads, dot, projected: false };
  const scale = dot / refNorm2;
  return { grads: grads.map((g, k) => tf.tidy(() => tf.sub(g, tf.mul(reference[k], scale)))), dot, projected: true };
}

export const agem: StrategyDefinition = {
  name: 'agem',
  summary: 'A-GEM: projects each gradient so that, to first order, the step does not increase the loss on a reference batch from a memory of earlier tasks.',
  paper: 'Chaudhry et al. 2019, Efficient lifelong learning with A-GEM, ICLR',
  hyperparameters: {
    memorySize: { type: 'integer', default: 500, minimum: 1, description: 'Examples remembered over all earlier tasks, split equally between them (filled at the end of each task).' },
    referenceBatch: { type: 'integer', default: 256, minimum: 1, description: 'Memory examples drawn at each step for the reference gradient (256 in Chaudhry et al.).' },
  },
  create(env, params) {
    const { tf } = env;
    const [h, w, c] = env.model.inputShape;
    const memory = createMemory({ capacity: Number(params.memorySize), pixels: h * w * c, policy: 'class-balanced', balanceBy: 'task', rng: env.rng });
    const referenceBatch = Number(params.referenceBatch);
    return {
      adjustGradients(grads, _batch, ctx) {
        if (memory.size === 0) return grads;
        const s = memory.sample(referenceBatch);
        const ref = env.makeBatch(s.images, s.labels, s.tasks, ctx.seenTasks);
        let reference: Gradients = [];
        try {
          reference = env.gradients(ref);
          return projectGradients(tf, grads, reference).grads;
        } finally {
          env.disposeBatch(ref);
          for (const t of reference) t.dispose();
        }
      },
      afterPhase(ctx) {
        // A seeded random pass over the phase's data: each task's share ends a uniform sample of it.
        const order = new Int32Array(ctx.train.n);
        for (let i = 0; i < order.length; i++) order[i] = i;
        shuffleInPlace(order, env.rng);
        memory.observe(ctx.train, order);
      },
    };
  },
};
