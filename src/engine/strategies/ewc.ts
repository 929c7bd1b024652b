// Elastic weight consolidation (Kirkpatrick et al. 2017, PNAS), with one penalty per task:
// after each phase, the phase's end weights theta*_t and a diagonal Fisher F_t; later phases pay
// (lambda/2) * sum_t sum_i F_t,i (theta_i - theta*_t,i)^2.
// The Fisher is the EMPIRICAL one: the mean over `fisherSamples` training examples of the phase
// (a seeded choice) of the squared gradient of ONE example's log-likelihood of its true label,
// under the head's mask (task-IL: the task's units; class-IL: the units seen so far). Per example,
// not per batch (Avalanche squares batch gradients, which shrinks F by about the batch size).
// lambda: van de Ven & Tolias (2019) use 5000 on Split-MNIST with this normalisation (a mean over
// examples). Default 1e4: on MNIST -> Fashion-MNIST (domain-IL, 1 epoch, batch 64, Adam 1e-3) it kept
// MNIST at 85% after Fashion with the MLP 400-400 (naive 30%; 3e3: 79%, 3e4: 80%) and 49-64% with the
// small CNN over 1e3..1e5 (naive 28%): past ~1e4, a stiffer penalty does not help under Adam.
import { disposeTerm, perExampleImportance, quadraticPenalty, snapshotWeights, type QuadraticTerm, type RegularisedStrategy } from './quadraticPenalty';
import type { StrategyDefinition } from './types';

export const ewc: StrategyDefinition = {
  name: 'ewc',
  summary: 'Protects each earlier task with its own quadratic penalty, weighted per weight by the diagonal Fisher information at the end of that task.',
  paper: 'Kirkpatrick et al. 2017, Overcoming catastrophic forgetting in neural networks, PNAS',
  hyperparameters: {
    lambda: { type: 'number', default: 10000, minimum: 0, description: 'Penalty strength: (lambda/2) * sum over tasks and weights of F (theta - theta*)^2, F the mean per-example squared gradient (van de Ven & Tolias 2019 use 5000 on Split-MNIST).' },
    fisherSamples: { type: 'integer', default: 200, minimum: 1, description: 'Training examples of the task (seeded choice) whose per-example squared log-likelihood gradients (true labels, masked logits) are averaged into the Fisher.' },
  },
  create(env, params): RegularisedStrategy {
    const lambda = Number(params.lambda);
    const samples = Number(params.fisherSamples);
    const terms: QuadraticTerm[] = [];
    return {
      penalty: () => quadraticPenalty(env.tf, env.model, terms, lambda / 2),
      afterPhase(ctx) {
        terms.push({ anchor: snapshotWeights(env.model), importance: perExampleImportance(env, ctx, samples, 'square') });
      },
      terms: () => terms,
      dispose() {
        terms.forEach(disposeTerm);
        terms.length = 0;
      },
    };
  },
};
