// Cumulative training: at task i, train on the union of tasks 0..i (keeps all data; an upper bound that stays sequential).
import type { StrategyDefinition } from './types';

export const cumulative: StrategyDefinition = {
  name: 'cumulative',
  summary: 'At each task, continues training on the union of that task and every earlier one (all data kept): a sequential upper bound.',
  paper: '',
  hyperparameters: {},
  phases: 'cumulative',
  create: () => ({}),
};
