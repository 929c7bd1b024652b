// Every default of the experiment file, in one place. The schema states the same values as
// `default`s (hover docs and completion); tests keep the two equal, and the generated parts of the
// schema (strategies, benchmarks) are written from these.
import type { BenchmarkName, LandscapeSpec, ModelSpec, ResolvedModelSpec, Scenario, StrategySpec, TrainingSpec } from '../../protocol/experiment';

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export const EXPERIMENT_DEFAULTS: {
  readonly seed: number;
  /** Of an explicit task list (a benchmark names its own). */
  readonly scenario: Scenario;
  readonly model: Readonly<ModelSpec>;
  /** No `iterations`: absent means `epochs` passes over each task. */
  readonly training: Readonly<TrainingSpec>;
  /** The hyperparameters' defaults are in the strategy registry. */
  readonly strategy: Readonly<StrategySpec>;
  /** optima defaults to [0, tasks.length - 1]. */
  readonly landscape: Readonly<Omit<LandscapeSpec, 'optima'>>;
} = deepFreeze({
  seed: 0,
  scenario: 'domain-il',
  model: { preset: 'small-cnn' },
  training: { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 1, evalEvery: 100, evalSamples: 1000 },
  strategy: { name: 'naive' },
  landscape: {
    grid: 21,
    samples: 1000,
    alphaRange: [-0.5, 1.5],
    betaRange: [-1, 1],
    secondAxis: 'trajectory-pca',
    checkpointEvery: 50,
    linePoints: 41,
  },
});

/** The model presets expanded (the final output layer is implied). */
export const MODEL_PRESETS: Readonly<Record<'small-cnn' | 'mlp', ResolvedModelSpec>> = deepFreeze({
  'small-cnn': {
    type: 'cnn',
    conv: [
      { filters: 32, kernel: 3, pool: 2 },
      { filters: 64, kernel: 3, pool: 2 },
    ],
    dense: [128],
    preset: 'small-cnn',
  },
  mlp: { type: 'mlp', hidden: [400, 400], preset: 'mlp' },
});

/** What a benchmark gives when its `tasks` (and, for rotated-mnist, `angles`) are absent. */
export const BENCHMARK_DEFAULTS: Readonly<Record<BenchmarkName, { readonly tasks: number; readonly angles?: readonly number[] }>> = deepFreeze({
  'split-mnist': { tasks: 5 },
  'split-fashion-mnist': { tasks: 5 },
  // van de Ven & Tolias (2019) use 10 permutations.
  'permuted-mnist': { tasks: 10 },
  'rotated-mnist': { tasks: 5, angles: [0, 45, 90, 135, 180] },
});
