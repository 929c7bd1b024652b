// Online EWC (Schwarz et al. 2018, Progress & compress, ICML): one running Fisher
// F <- gamma * F + F_new after each phase and one anchor, the latest end weights; the penalty is
// (lambda/2) * sum_i F_i (theta_i - theta*_i)^2. F_new is EWC's per-example empirical Fisher
// (see ewc.ts). gamma = 1 as van de Ven & Tolias (2019); lambda as ewc.ts (MNIST -> Fashion-MNIST,
// MLP 400-400: MNIST 84% after Fashion at 1e4, naive 30%).
import { accumulate, latestAnchor, perExampleImportance, type RegularisedStrategy } from './quadraticPenalty';
import type { StrategyDefinition } from './types';

export const onlineEwc: StrategyDefinition = {
  name: 'online-ewc',
  summary: 'EWC with a single penalty: a running, decayed sum of the tasks\' Fishers, anchored at the weights after the latest task.',
  paper: 'Schwarz et al. 2018, Progress & compress: a scalable framework for continual learning, ICML',
  hyperparameters: {
    lambda: { type: 'number', default: 10000, minimum: 0, description: 'Penalty strength: (lambda/2) * sum over weights of F (theta - theta*)^2, F the running Fisher (per-example squared gradients, averaged).' },
    gamma: { type: 'number', default: 1, minimum: 0, maximum: 1, description: 'Decay of the earlier tasks\' Fisher at each new task: F <- gamma * F + F_new (1 keeps it all, 0 only the latest task).' },
    fisherSamples: { type: 'integer', default: 200, minimum: 1, description: 'Training examples of the task (seeded choice) whose per-example squared log-likelihood gradients (true labels, masked logits) are averaged into F_new.' },
  },
  create(env, params): RegularisedStrategy {
    const anchor = latestAnchor(env.tf, env.model, Number(params.lambda) / 2);
    return {
      ...anchor,
      afterPhase(ctx) {
        const fresh = perExampleImportance(env, ctx, Number(params.fisherSamples), 'square');
        anchor.reanchor((fisher) => accumulate(env.tf, fisher, fresh, Number(params.gamma)));
      },
    };
  },
};
