// Benchmarks, task classes/permutations/rotations, scenarios and iterations in the experiment file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, parseExperiment, type ExperimentDiagnostic } from '../../src/engine/config/load';
import { evenAngles, expandBenchmark, permutationSeed } from '../../src/engine/config/benchmarks';
import { EXPERIMENT_DEFAULTS } from '../../src/engine/config/defaults';

const FILE = '/experiments/bench.cl.json';

function lines(...rows: string[]): string {
  return rows.join('\n');
}

function parse(text: string) {
  return parseExperiment(text, FILE);
}

function where(ds: ExperimentDiagnostic[]): string[] {
  return ds.map((d) => `${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.severity} ${d.pointer}`);
}

function only(ds: ExperimentDiagnostic[]): ExperimentDiagnostic {
  assert.equal(ds.length, 1, `expected one diagnostic, got:\n${ds.map(formatDiagnostic).join('\n')}`);
  return ds[0];
}

function loads(text: string) {
  const { experiment, diagnostics } = parse(text);
  assert.deepEqual(diagnostics.map(formatDiagnostic), []);
  assert.ok(experiment);
  return experiment;
}

// ---------------------------------------------------------------------------------------------
// Expansion

test('split-mnist expands into 5 class-pair tasks labelled by their classes, with the benchmark subsets and scenario', () => {
  const e = loads('{"benchmark": {"name": "split-mnist", "scenario": "class-il", "train": 2000, "test": 500}}');
  assert.deepEqual(e.tasks, [
    { dataset: 'mnist', label: '0/1', classes: [0, 1], train: 2000, test: 500 },
    { dataset: 'mnist', label: '2/3', classes: [2, 3], train: 2000, test: 500 },
    { dataset: 'mnist', label: '4/5', classes: [4, 5], train: 2000, test: 500 },
    { dataset: 'mnist', label: '6/7', classes: [6, 7], train: 2000, test: 500 },
    { dataset: 'mnist', label: '8/9', classes: [8, 9], train: 2000, test: 500 },
  ]);
  assert.equal(e.scenario, 'class-il');
  assert.deepEqual(e.benchmark, { name: 'split-mnist', scenario: 'class-il', train: 2000, test: 500 });
  assert.deepEqual(e.landscape && e.landscape.optima, [0, 4]);
});

test('split-fashion-mnist takes the first N pairs of Fashion-MNIST', () => {
  const e = loads('{"benchmark": {"name": "split-fashion-mnist", "scenario": "task-il", "tasks": 3}}');
  assert.deepEqual(
    e.tasks.map((t) => [t.dataset, t.label, t.classes]),
    [
      ['fashion-mnist', '0/1', [0, 1]],
      ['fashion-mnist', '2/3', [2, 3]],
      ['fashion-mnist', '4/5', [4, 5]],
    ],
  );
  assert.equal(e.scenario, 'task-il');
  assert.deepEqual(e.landscape && e.landscape.optima, [0, 2]);
});

test('permuted-mnist: 10 tasks by default, task 0 the identity, the others distinct seeded permutations, the same every time', () => {
  const e = loads('{"seed": 3, "benchmark": {"name": "permuted-mnist", "scenario": "domain-il"}}');
  assert.equal(e.tasks.length, 10);
  assert.deepEqual(e.tasks[0], { dataset: 'mnist', label: 'identity' });
  assert.deepEqual(
    e.tasks.slice(1).map((t) => t.label),
    Array.from({ length: 9 }, (_, i) => `perm ${i + 1}`),
  );
  const seeds = e.tasks.slice(1).map((t) => t.permutation);
  assert.ok(seeds.every((s) => Number.isInteger(s) && (s as number) >= 0));
  assert.equal(new Set(seeds).size, 9, 'distinct permutations');
  assert.deepEqual(seeds, Array.from({ length: 9 }, (_, i) => permutationSeed(3, i + 1)), 'derived from the experiment seed');
  assert.deepEqual(loads('{"seed": 3, "benchmark": {"name": "permuted-mnist", "scenario": "domain-il"}}').tasks, e.tasks, 'deterministic');
  // Another experiment seed gives other permutations; benchmark.seed overrides the experiment's.
  const other = loads('{"seed": 4, "benchmark": {"name": "permuted-mnist", "scenario": "domain-il"}}').tasks.slice(1).map((t) => t.permutation);
  assert.ok(other.every((s, i) => s !== seeds[i]));
  const pinned = (seed: number) => loads(`{"seed": ${seed}, "benchmark": {"name": "permuted-mnist", "scenario": "domain-il", "tasks": 3, "seed": 3}}`).tasks;
  assert.deepEqual(pinned(0), pinned(99));
  assert.deepEqual(pinned(0), e.tasks.slice(0, 3));
});

test('rotated-mnist: the default angles, evenly spaced angles for a task count, or the angles given', () => {
  const e = loads('{"benchmark": {"name": "rotated-mnist", "scenario": "domain-il"}}');
  assert.deepEqual(
    e.tasks.map((t) => [t.label, t.rotation]),
    [
      ['0°', 0],
      ['45°', 45],
      ['90°', 90],
      ['135°', 135],
      ['180°', 180],
    ],
  );
  assert.ok(e.tasks.every((t) => t.dataset === 'mnist' && t.classes === undefined && t.permutation === undefined));
  assert.deepEqual(
    loads('{"benchmark": {"name": "rotated-mnist", "scenario": "domain-il", "tasks": 4}}').tasks.map((t) => t.rotation),
    [0, 60, 120, 180],
  );
  assert.deepEqual(evenAngles(1), [0]);
  const given = loads('{"benchmark": {"name": "rotated-mnist", "scenario": "class-il", "angles": [10, -30, 22.5]}}');
  assert.deepEqual(
    given.tasks.map((t) => [t.label, t.rotation]),
    [
      ['10°', 10],
      ['-30°', -30],
      ['22.5°', 22.5],
    ],
  );
  assert.deepEqual(given.landscape && given.landscape.optima, [0, 2]);
});

test('expandBenchmark copies: two expansions share no arrays', () => {
  const a = expandBenchmark({ name: 'split-mnist', scenario: 'task-il' }, 0);
  a[0].classes?.push(7);
  assert.deepEqual(expandBenchmark({ name: 'split-mnist', scenario: 'task-il' }, 0)[0].classes, [0, 1]);
});

// ---------------------------------------------------------------------------------------------
// tasks or benchmark

test('tasks and benchmark together are an error at the later key; neither is an error at the start', () => {
  const both = lines('{', '  "tasks": [{"dataset": "mnist"}],', '  "benchmark": {"name": "split-mnist", "scenario": "class-il"}', '}');
  const d = only(parse(both).diagnostics);
  assert.deepEqual(where([d]), ['3:3-3:14 error /benchmark']);
  assert.equal(d.message, "the experiment has both 'tasks' and 'benchmark': keep one (a benchmark makes its own task list)");
  assert.equal(parse(both).experiment, null);
  const reversed = lines('{', '  "benchmark": {"name": "split-mnist", "scenario": "class-il"},', '  "tasks": [{"dataset": "mnist"}]', '}');
  assert.deepEqual(where(parse(reversed).diagnostics), ['3:3-3:10 error /tasks']);
  const neither = only(parse(lines('{', '  "seed": 1', '}')).diagnostics);
  assert.deepEqual(where([neither]), ['1:1-1:2 error /tasks']);
  assert.match(neither.message, /missing the required property 'tasks', e\.g\. .* or a 'benchmark' instead, e\.g\. \{"name": "split-mnist", "scenario": "class-il"\}$/);
});

test('benchmark errors: an unknown name, a setting of another benchmark, too many split tasks, a missing scenario', () => {
  const text = lines('{', '  "benchmark": {"name": "split-mnist", "scenario": "class-il", "tasks": 6, "angles": [0, 90]}', '}');
  const ds = parse(text).diagnostics;
  assert.deepEqual(where(ds), ['2:73-2:74 error /benchmark/tasks', '2:76-2:84 error /benchmark/angles']);
  assert.equal(ds[0].message, 'benchmark.tasks must be an integer from 1 to 5, got 6');
  assert.equal(ds[1].message, `unknown property 'angles' in benchmark: 'angles' belongs to "rotated-mnist", not to "split-mnist"; allowed: 'name', 'scenario', 'tasks', 'train', 'test'`);
  const name = only(parse('{"benchmark": {"name": "permuted_mnist", "scenario": "class-il"}}').diagnostics);
  assert.deepEqual(where([name]), ['1:24-1:40 error /benchmark/name']);
  assert.match(name.message, /^benchmark\.name must be one of "split-mnist", .*, got "permuted_mnist" — did you mean "permuted-mnist"\?$/);
  const scenario = only(parse('{"benchmark": {"name": "split-mnist"}}').diagnostics);
  assert.equal(scenario.pointer, '/benchmark/scenario');
  assert.equal(scenario.message, `benchmark is missing the required property 'scenario' (one of "task-il", "domain-il", "class-il")`);
  const typo = only(parse('{"benchmark": {"name": "split-mnist", "scenario": "class-incremental"}}').diagnostics);
  assert.match(typo.message, /^benchmark\.scenario must be one of "task-il", "domain-il", "class-il", got "class-incremental"/);
  assert.match(only(parse('{"benchmark": "split-mnist"}').diagnostics).message, /^benchmark must be an object .* — write \{"name": "split-mnist"\}$/);
});

test('rotated-mnist with both tasks and angles that disagree is an error at tasks', () => {
  const text = '{"benchmark": {"name": "rotated-mnist", "scenario": "domain-il", "tasks": 3, "angles": [0, 90]}}';
  const d = only(parse(text).diagnostics);
  assert.deepEqual(where([d]), ['1:75-1:76 error /benchmark/tasks']);
  assert.equal(d.message, "benchmark.tasks is 3, but angles lists 2: the angles make the tasks, so remove 'tasks' (or give 3 angles)");
  assert.equal(parse('{"benchmark": {"name": "rotated-mnist", "scenario": "domain-il", "tasks": 2, "angles": [0, 90]}}').diagnostics.length, 0);
});

test('a top-level scenario that contradicts the benchmark is an error at the scenario', () => {
  const text = '{"benchmark": {"name": "split-mnist", "scenario": "class-il"}, "scenario": "task-il"}';
  const d = only(parse(text).diagnostics);
  assert.deepEqual(where([d]), ['1:76-1:85 error /scenario']);
  assert.equal(d.message, 'scenario is "task-il" but benchmark.scenario is "class-il": with a benchmark, give the scenario in the benchmark only');
  assert.equal(loads('{"benchmark": {"name": "split-mnist", "scenario": "class-il"}, "scenario": "class-il"}').scenario, 'class-il');
});

test('checks that count tasks use the benchmark’s: landscape optima, samples, a CNN on its images', () => {
  const optima = only(parse('{"benchmark": {"name": "split-mnist", "scenario": "class-il", "tasks": 3}, "landscape": {"optima": [0, 3]}}').diagnostics);
  assert.equal(optima.message, 'landscape.optima[1] is 3, but there are only 3 tasks: use task indexes 0 to 2');
  assert.equal(loads('{"benchmark": {"name": "permuted-mnist", "scenario": "domain-il"}, "landscape": {"optima": [0, 9]}}').tasks.length, 10);
  const single = parse('{"benchmark": {"name": "permuted-mnist", "scenario": "domain-il", "tasks": 1}, "landscape": {"grid": 5}}');
  assert.match(only(single.diagnostics).message, /^no landscape will be computed/);
  assert.equal(single.experiment?.landscape, false);
  const samples = only(parse('{"benchmark": {"name": "rotated-mnist", "scenario": "domain-il", "test": 200}, "training": {"evalSamples": 300}}').diagnostics);
  assert.equal(samples.severity, 'warning');
  assert.equal(samples.message, "training.evalSamples is 300, more than the 200 test examples of each of the benchmark's tasks: the accuracy curves of those tasks use all of them");
  const cnn = only(parse('{"benchmark": {"name": "split-mnist", "scenario": "class-il"}, "model": {"type": "cnn", "dense": [], "conv": [{"filters": 4, "kernel": 29}]}}').diagnostics);
  assert.equal(cnn.pointer, '/model/conv/0/kernel');
  assert.match(cnn.message, /^model\.conv\[0\]: the 29x29 conv gets a 28x28 input \(28x28 image\), smaller than its kernel/);
});

// ---------------------------------------------------------------------------------------------
// Explicit tasks: classes, permutation, rotation, scenario

test('explicit tasks keep classes, permutation and rotation; the top-level scenario applies', () => {
  const e = loads(
    '{"scenario": "task-il", "tasks": [{"dataset": "mnist", "classes": [3, 1]}, {"dataset": "fashion-mnist", "classes": [0, 9], "permutation": 0, "label": "F"}, {"dataset": "mnist", "rotation": -12.5}]}',
  );
  assert.deepEqual(e.tasks, [
    { dataset: 'mnist', classes: [3, 1] },
    { dataset: 'fashion-mnist', classes: [0, 9], permutation: 0, label: 'F' },
    { dataset: 'mnist', rotation: -12.5 },
  ]);
  assert.equal(e.scenario, 'task-il');
  assert.equal(e.benchmark, undefined);
  assert.equal(loads('{"tasks": [{"dataset": "mnist"}]}').scenario, EXPERIMENT_DEFAULTS.scenario);
  // An idx dataset's classes are checked when it is loaded.
  assert.deepEqual(loads('{"tasks": [{"dataset": "idx", "path": "x", "classes": [25]}]}').tasks[0].classes, [25]);
});

test('classes out of a built-in dataset, repeated classes and a negative permutation are errors at the item', () => {
  const text = lines('{', '  "tasks": [', '    {"dataset": "mnist", "classes": [0, 10]},', '    {"dataset": "fashion-mnist", "classes": [4, 5, 4], "permutation": -1}', '  ]', '}');
  const ds = parse(text).diagnostics;
  assert.deepEqual(where(ds), ['3:41-3:43 error /tasks/0/classes/1', '4:52-4:53 error /tasks/1/classes/2', '4:71-4:73 error /tasks/1/permutation']);
  assert.deepEqual(
    ds.map((d) => d.message),
    [
      'tasks[0].classes[1] is 10, but mnist has classes 0 to 9',
      'tasks[1].classes lists 4 twice: give each once',
      'tasks[1].permutation must be an integer ≥ 0, got -1',
    ],
  );
  assert.equal(only(parse('{"tasks": [{"dataset": "mnist", "classes": []}]}').diagnostics).message, 'tasks[0].classes must be an array of at least 1 integer, got an empty array');
});

// ---------------------------------------------------------------------------------------------
// Iterations

test('training.iterations replaces epochs; both together are an error at the later one', () => {
  const e = loads('{"tasks": [{"dataset": "mnist"}], "training": {"iterations": 2000, "batchSize": 128}}');
  assert.deepEqual(e.training, { ...EXPERIMENT_DEFAULTS.training, iterations: 2000, batchSize: 128 });
  assert.equal(loads('{"tasks": [{"dataset": "mnist"}]}').training.iterations, undefined);
  const text = lines('{', '  "tasks": [{"dataset": "mnist"}],', '  "training": {', '    "epochs": 2,', '    "iterations": 500', '  }', '}');
  const d = only(parse(text).diagnostics);
  assert.deepEqual(where([d]), ['5:5-5:17 error /training/iterations']);
  assert.match(d.message, /^training has both 'epochs' and 'iterations': keep one \('iterations' = optimizer steps per task/);
  assert.equal(d.origin, 'semantic');
  assert.equal(only(parse('{"tasks": [{"dataset": "mnist"}], "training": {"iterations": 0}}').diagnostics).message, 'training.iterations must be an integer ≥ 1, got 0');
});
