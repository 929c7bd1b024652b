// Fine-tuning: train each task in turn with nothing to protect the earlier ones (the lower bound).
import type { StrategyDefinition } from './types';

export const naive: StrategyDefinition = {
  name: 'naive',
  summary: 'Fine-tunes on each task in turn with no protection of earlier tasks: the lower bound that shows forgetting.',
  paper: '',
  hyperparameters: {},
  create: () => ({}),
};
