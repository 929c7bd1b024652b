// L2 regularisation towards the previous task's solution: after each phase the end weights become
// the anchor, and later phases pay (lambda/2) * sum_i (theta_i - theta*_i)^2, every weight equally
// important (the baseline that EWC, SI and MAS refine with per-weight importances; see e.g.
// Kirkpatrick et al. 2017, Fig. 2A). Default lambda 0.01: on MNIST -> Fashion-MNIST (domain-IL, 1 epoch,
// Adam 1e-3, MLP 400-400) MNIST kept 80% after Fashion at a cost of 4 points on Fashion (0.001: 53%;
// 0.1: 81% but Fashion -10 points; naive 30%).
import { latestAnchor, type RegularisedStrategy } from './quadraticPenalty';
import type { StrategyDefinition } from './types';

export const l2: StrategyDefinition = {
  name: 'l2',
  summary: 'Pulls every weight towards its value at the end of the previous task with the same strength: (lambda/2) * sum (theta - theta*)^2.',
  paper: '',
  hyperparameters: {
    lambda: { type: 'number', default: 0.01, exclusiveMinimum: 0, description: "Strength of the pull towards the previous task's weights: the penalty is (lambda/2) * sum over weights of (theta - theta*)^2." },
  },
  create(env, params): RegularisedStrategy {
    const anchor = latestAnchor(env.tf, env.model, Number(params.lambda) / 2);
    return { ...anchor, afterPhase: () => anchor.reanchor(() => null) };
  },
};
