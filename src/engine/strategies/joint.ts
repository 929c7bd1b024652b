// Joint training: one phase on the union of every task's data (the upper bound; not continual).
import type { StrategyDefinition } from './types';

export const joint: StrategyDefinition = {
  name: 'joint',
  summary:
    'Trains once on the union of all tasks (epochs over the union, or iterations times the number of tasks): the upper bound a continual method aims for. R has one row.',
  paper: '',
  hyperparameters: {},
  phases: 'joint',
  create: () => ({}),
};
