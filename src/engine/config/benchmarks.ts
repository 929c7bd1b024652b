// The standard benchmarks and how each becomes an explicit task list. The table also feeds the
// benchmark part of the schema (scripts/schema.ts): its one-line summaries are the hover docs.
import type { BenchmarkName, BenchmarkSpec, TaskSpec } from '../../protocol/experiment';
import { DATASETS, type BuiltinDatasetName } from '../data/datasets';
import { deriveSeed } from '../random';
import { BENCHMARK_DEFAULTS } from './defaults';

/** Settings a benchmark takes besides name, scenario, tasks, train and test. */
export type BenchmarkOption = 'seed' | 'angles';

export interface BenchmarkInfo {
  name: BenchmarkName;
  dataset: BuiltinDatasetName;
  /** One line for hovers. */
  summary: string;
  /** Most tasks it can make (a split has one task per class pair); none: any number. */
  maxTasks?: number;
  options: readonly BenchmarkOption[];
}

/** Class pairs of a dataset: [0,1], [2,3], ... */
function classPairs(dataset: BuiltinDatasetName): number[][] {
  const n = DATASETS[dataset].classes;
  return Array.from({ length: Math.floor(n / 2) }, (_, i) => [2 * i, 2 * i + 1]);
}

function pairList(dataset: BuiltinDatasetName): string {
  return classPairs(dataset)
    .map((p) => p.join('/'))
    .join(', ');
}

export const BENCHMARKS: readonly BenchmarkInfo[] = [
  {
    name: 'split-mnist',
    dataset: 'mnist',
    summary: `Split-MNIST: MNIST's digits in ${classPairs('mnist').length} tasks of two classes each, ${pairList('mnist')}.`,
    maxTasks: classPairs('mnist').length,
    options: [],
  },
  {
    name: 'split-fashion-mnist',
    dataset: 'fashion-mnist',
    summary: `Split-Fashion-MNIST: Fashion-MNIST's classes in ${classPairs('fashion-mnist').length} tasks of two each, ${pairList('fashion-mnist')} (T-shirt/top and Trouser first).`,
    maxTasks: classPairs('fashion-mnist').length,
    options: [],
  },
  {
    name: 'permuted-mnist',
    dataset: 'mnist',
    summary: `Permuted-MNIST: every task is all of MNIST with its own fixed, seeded pixel permutation; task 0 is the identity (the digits as they are). Default ${BENCHMARK_DEFAULTS['permuted-mnist'].tasks} tasks.`,
    options: ['seed'],
  },
  {
    name: 'rotated-mnist',
    dataset: 'mnist',
    summary: `Rotated-MNIST: every task is all of MNIST rotated by its own angle (default ${BENCHMARK_DEFAULTS['rotated-mnist'].angles?.map((a) => `${a}°`).join(', ')}).`,
    options: ['angles'],
  },
];

export function benchmarkInfo(name: string): BenchmarkInfo | undefined {
  return BENCHMARKS.find((b) => b.name === name);
}

/** `n` angles evenly spaced from 0 to 180 degrees ([0] for one task). */
export function evenAngles(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n === 1 ? 0 : (180 * i) / (n - 1)));
}

/** The angles of a rotated-mnist benchmark: given, evenly spaced for a given task count, or the default. */
export function rotationAngles(spec: Pick<BenchmarkSpec, 'tasks' | 'angles'>): number[] {
  if (spec.angles) return [...spec.angles];
  if (spec.tasks !== undefined) return evenAngles(spec.tasks);
  return [...(BENCHMARK_DEFAULTS['rotated-mnist'].angles ?? [])];
}

/** How many tasks a benchmark makes. */
export function benchmarkTaskCount(spec: Pick<BenchmarkSpec, 'name' | 'tasks' | 'angles'>): number {
  if (spec.name === 'rotated-mnist') return rotationAngles(spec).length;
  return spec.tasks ?? BENCHMARK_DEFAULTS[spec.name].tasks;
}

/** The seed of task i's pixel permutation (i >= 1; task 0 is the identity). */
export function permutationSeed(seed: number, task: number): number {
  return deriveSeed(seed, `permuted-mnist/${task}`);
}

function degrees(a: number): string {
  return `${Number(a.toFixed(1))}°`;
}

/**
 * The benchmark as an explicit task list (the spec is assumed valid). `seed` is the experiment's:
 * permutations use benchmark.seed when given, else it.
 */
export function expandBenchmark(spec: BenchmarkSpec, seed: number): TaskSpec[] {
  const info = benchmarkInfo(spec.name);
  if (!info) throw new Error(`unknown benchmark '${spec.name}'`);
  const subset = (task: TaskSpec): TaskSpec => {
    if (spec.train !== undefined) task.train = spec.train;
    if (spec.test !== undefined) task.test = spec.test;
    return task;
  };
  const count = benchmarkTaskCount(spec);
  switch (spec.name) {
    case 'split-mnist':
    case 'split-fashion-mnist':
      return classPairs(info.dataset)
        .slice(0, count)
        .map((classes) => subset({ dataset: info.dataset, label: classes.join('/'), classes: [...classes] }));
    case 'permuted-mnist': {
      const base = spec.seed ?? seed;
      return Array.from({ length: count }, (_, i) =>
        subset(i === 0 ? { dataset: info.dataset, label: 'identity' } : { dataset: info.dataset, label: `perm ${i}`, permutation: permutationSeed(base, i) }),
      );
    }
    case 'rotated-mnist':
      return rotationAngles(spec).map((a) => subset({ dataset: info.dataset, label: degrees(a), rotation: a }));
  }
}
