// The experiment with every default filled in: the benchmark expanded into tasks, the model preset
// expanded, the strategy's hyperparameters completed from the registry.
import * as path from 'node:path';
import type { ConvLayerSpec, ExperimentSpec, LandscapeSpec, ModelSpec, NormalisedExperiment, ResolvedModelSpec, StrategySpec, TaskSpec } from '../../protocol/experiment';
import { strategyParams } from '../strategies/registry';
import { expandBenchmark } from './benchmarks';
import { EXPERIMENT_DEFAULTS, MODEL_PRESETS } from './defaults';

export const EXPERIMENT_FILE_SUFFIX = '.cl.json';

function clone<T>(value: T): T {
  return structuredClone(value) as T;
}

/**
 * Fills every default into a spec that passed validation. Relative task paths are resolved against
 * the folder of `file`. A single-task experiment gets no landscape (it needs two task optima).
 */
export function normaliseExperiment(spec: ExperimentSpec, file: string): NormalisedExperiment {
  const folder = path.dirname(file);
  const seed = spec.seed ?? EXPERIMENT_DEFAULTS.seed;
  const tasks: TaskSpec[] = spec.benchmark ? expandBenchmark(spec.benchmark, seed) : (spec.tasks ?? []).map((t) => explicitTask(t, folder));
  const modelSpec = spec.model ?? EXPERIMENT_DEFAULTS.model;
  const model: ResolvedModelSpec = 'preset' in modelSpec ? clone(MODEL_PRESETS[modelSpec.preset]) : resolveCustomModel(modelSpec);
  const landscape: LandscapeSpec | false =
    spec.landscape === false || tasks.length < 2
      ? false
      : { ...withDefaults(EXPERIMENT_DEFAULTS.landscape, spec.landscape), optima: spec.landscape?.optima ? [...spec.landscape.optima] : [0, tasks.length - 1] };
  const strategy = spec.strategy ?? EXPERIMENT_DEFAULTS.strategy;
  const experiment: NormalisedExperiment = {
    name: spec.name ?? experimentNameFromFile(file),
    seed,
    tasks,
    scenario: spec.benchmark?.scenario ?? spec.scenario ?? EXPERIMENT_DEFAULTS.scenario,
    model,
    training: withDefaults(EXPERIMENT_DEFAULTS.training, spec.training),
    strategy: { name: strategy.name, ...strategyParams(strategy) } as StrategySpec,
    landscape,
  };
  if (spec.benchmark) experiment.benchmark = clone(spec.benchmark);
  return experiment;
}

function explicitTask(t: TaskSpec, folder: string): TaskSpec {
  const task: TaskSpec = { dataset: t.dataset };
  if (t.path !== undefined) task.path = path.resolve(folder, t.path);
  if (t.train !== undefined) task.train = t.train;
  if (t.test !== undefined) task.test = t.test;
  if (t.label !== undefined) task.label = t.label;
  if (t.classes !== undefined) task.classes = [...t.classes];
  if (t.permutation !== undefined) task.permutation = t.permutation;
  if (t.rotation !== undefined) task.rotation = t.rotation;
  return task;
}

/** "runs/mnist-then-fashion.cl.json" -> "mnist-then-fashion". */
export function experimentNameFromFile(file: string): string {
  const base = path.basename(file);
  for (const suffix of [EXPERIMENT_FILE_SUFFIX, '.json']) {
    if (base.toLowerCase().endsWith(suffix) && base.length > suffix.length) return base.slice(0, -suffix.length);
  }
  return base;
}

function resolveCustomModel(model: Exclude<ModelSpec, { preset: string }>): ResolvedModelSpec {
  if (model.type === 'mlp') return { type: 'mlp', hidden: [...model.hidden] };
  return { type: 'cnn', conv: model.conv.map((c): ConvLayerSpec => ({ ...c })), dense: [...model.dense] };
}

/** Defaults overridden by the given fields (fields set to undefined keep the default); arrays copied. */
function withDefaults<T extends object>(defaults: Readonly<T>, given: Partial<T> | undefined): T {
  const out = clone(defaults) as T;
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = clone(value);
  }
  return out;
}
