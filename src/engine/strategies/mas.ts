// Memory aware synapses (Aljundi et al. 2018, ECCV): a weight matters as much as the outputs are
// sensitive to it. After each phase, Omega += mean over `samples` training examples of
// |d ||logits||^2 / d theta|, one example at a time, over the units the head allows that example
// (masked units are left out of the norm); the end weights become the anchor. Penalty:
// (lambda/2) * sum_i Omega_i (theta_i - theta*_i)^2. No labels needed (unsupervised importance).
// Default lambda 0.1 (Aljundi et al. use 1 with SGD): on MNIST -> Fashion-MNIST (domain-IL, 1 epoch,
// Adam 1e-3) MNIST kept 79% after Fashion with the MLP 400-400 (0.03: 81%, 1: 73%, 10: 61%; naive 30%)
// and 57% with the small CNN (1: 37%; naive 28%).
import type * as tfjs from '@tensorflow/tfjs';
import { accumulate, latestAnchor, perExampleImportance, type RegularisedStrategy } from './quadraticPenalty';
import type { StrategyDefinition, TrainBatch } from './types';

export const mas: StrategyDefinition = {
  name: 'mas',
  summary: 'Weights each parameter by how strongly the network\'s outputs depend on it (gradient of the squared output norm), and pulls important ones back.',
  paper: 'Aljundi et al. 2018, Memory aware synapses: learning what (not) to forget, ECCV',
  hyperparameters: {
    lambda: { type: 'number', default: 0.1, minimum: 0, description: 'Penalty strength: (lambda/2) * sum over weights of Omega (theta - theta*)^2 (Aljundi et al. use 1 with SGD).' },
    samples: { type: 'integer', default: 200, minimum: 1, description: 'Training examples of the task (seeded choice) whose per-example |gradient of the squared logit norm| is averaged into Omega.' },
  },
  create(env, params): RegularisedStrategy {
    const { tf } = env;
    const anchor = latestAnchor(tf, env.model, Number(params.lambda) / 2);
    // Masked units carry -1e9: keep only the allowed ones (mask 0) in the norm.
    const squaredOutputNorm = (logits: tfjs.Tensor2D, batch: TrainBatch) =>
      tf.sum(tf.square(batch.mask ? tf.mul(logits, tf.cast(tf.equal(batch.mask, 0), 'float32')) : logits)) as tfjs.Scalar;
    return {
      ...anchor,
      afterPhase(ctx) {
        const fresh = perExampleImportance(env, ctx, Number(params.samples), 'abs', squaredOutputNorm);
        anchor.reanchor((omega) => accumulate(tf, omega, fresh));
      },
    };
  },
};
