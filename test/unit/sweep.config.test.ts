// Seeds and sweeps in the experiment file: expansion (Cartesian product, order, labels, complete
// run specs) and validation with positions (unknown paths with a did-you-mean, each value checked
// in the field's own words at its place in the sweep array, duplicates, empties, too many runs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperiment, type ExperimentDiagnostic } from '../../src/engine/config/load';
import { expandExperiment, sweepRunLabel, MAX_SWEEP_RUNS } from '../../src/engine/config/sweep';
import { checkSweepPath } from '../../src/engine/config/sweepPaths';
import { experimentSchema, experimentSchemaFile, type JsonSchema } from '../../src/engine/config/schema';
import type { ExperimentSpec } from '../../src/protocol/experiment';

const FILE = '/experiments/sweep.cl.json';
const TASKS = '"tasks": [{"dataset": "mnist", "train": 300}, {"dataset": "fashion-mnist", "train": 300}]';

function diagnose(text: string) {
  return parseExperiment(text, FILE);
}

/** The text the diagnostic's range covers. */
function covered(text: string, d: ExperimentDiagnostic): string {
  return text.slice(d.offset, d.offset + d.length);
}

function errors(ds: ExperimentDiagnostic[]): ExperimentDiagnostic[] {
  return ds.filter((d) => d.severity === 'error');
}

test('a plain experiment expands to one run, index 0, no params; parseExperiment gives it no sweep', () => {
  const spec: ExperimentSpec = { seed: 4, tasks: [{ dataset: 'mnist' }] };
  const e = expandExperiment(spec);
  assert.deepEqual(e.axes, []);
  assert.deepEqual(e.runs, [{ entry: { index: 0, params: {}, seed: 4 }, spec }]);
  assert.equal(sweepRunLabel(e.axes, {}), 'run');
  const parsed = diagnose(`{${TASKS}}`);
  assert.ok(parsed.experiment);
  assert.equal(parsed.sweep, undefined);
});

test('the Cartesian product: axes in file order, the last fastest, seeds last; every run a complete spec without seeds/sweep', () => {
  const text = `{"name": "lam", ${TASKS}, "strategy": {"name": "ewc"}, "sweep": {"strategy.lambda": [100, 1000, 10000], "training.learningRate": [0.01, 0.001]}, "seeds": [0, 1]}`;
  const parsed = diagnose(text);
  assert.deepEqual(errors(parsed.diagnostics), []);
  const sweep = parsed.sweep!;
  assert.deepEqual(sweep.axes.map((a) => a.path), ['strategy.lambda', 'training.learningRate', 'seed']);
  assert.equal(sweep.runs.length, 12);
  assert.deepEqual(sweep.runs.map((r) => r.entry.index), [...Array(12).keys()]);
  assert.deepEqual(sweep.runs[0].entry.params, { 'strategy.lambda': 100, 'training.learningRate': 0.01, seed: 0 });
  assert.deepEqual(sweep.runs[1].entry.params, { 'strategy.lambda': 100, 'training.learningRate': 0.01, seed: 1 });
  assert.deepEqual(sweep.runs[2].entry.params, { 'strategy.lambda': 100, 'training.learningRate': 0.001, seed: 0 });
  assert.deepEqual(sweep.runs[11].entry.params, { 'strategy.lambda': 10000, 'training.learningRate': 0.001, seed: 1 });
  const r7 = sweep.runs[7];
  assert.equal(r7.entry.seed, 1);
  assert.equal(r7.spec.seed, 1);
  assert.deepEqual(r7.spec.strategy, { name: 'ewc', lambda: 1000 });
  assert.deepEqual(r7.spec.training, { learningRate: 0.001 });
  assert.equal(r7.spec.name, 'lam');
  assert.ok(!('seeds' in r7.spec) && !('sweep' in r7.spec));
  assert.equal(sweepRunLabel(sweep.axes, r7.entry.params), 'lambda-1000-learningRate-0.001-seed-1');
  // The experiment is the first run's, normalised, with the experiment's name.
  assert.equal(parsed.experiment!.name, 'lam');
  assert.equal(parsed.experiment!.strategy.lambda, 100);
  // Every run passes the loader alone (as its experiment.cl.json will be run).
  for (const run of sweep.runs) assert.deepEqual(errors(diagnose(JSON.stringify(run.spec)).diagnostics), []);
});

test('whole values and list indexes: a sweep over strategy objects, over tasks.1.train; labels from names, told apart when alike', () => {
  const text = `{${TASKS}, "sweep": {"strategy": [{"name": "naive"}, {"name": "ewc", "lambda": 1000}, {"name": "ewc", "lambda": 10}], "tasks.1.train": [100, 200]}}`;
  const parsed = diagnose(text);
  assert.deepEqual(errors(parsed.diagnostics), []);
  const sweep = parsed.sweep!;
  assert.equal(sweep.runs.length, 6);
  const labels = sweep.runs.map((r) => sweepRunLabel(sweep.axes, r.entry.params));
  assert.deepEqual(labels, ['strategy-naive-1-train1-100', 'strategy-naive-1-train1-200', 'strategy-ewc-2-train1-100', 'strategy-ewc-2-train1-200', 'strategy-ewc-3-train1-100', 'strategy-ewc-3-train1-200']);
  assert.deepEqual(sweep.runs[3].spec.tasks, [{ dataset: 'mnist', train: 300 }, { dataset: 'fashion-mnist', train: 200 }]);
  assert.deepEqual(sweep.runs[3].spec.strategy, { name: 'ewc', lambda: 1000 });
  assert.equal(sweep.runs[0].entry.seed, 0, 'the default seed');
});

test('a bad value is reported at its place in the sweep array, in the field\'s own words', () => {
  const text = `{${TASKS}, "strategy": {"name": "ewc"}, "sweep": {"strategy.lambda": [100, -5, 1000], "training.optimizer": ["adam", "sgdd"]}}`;
  const { experiment, sweep, diagnostics } = diagnose(text);
  assert.equal(experiment, null);
  assert.equal(sweep, undefined);
  const errs = errors(diagnostics);
  assert.deepEqual(
    errs.map((d) => [d.pointer, covered(text, d), d.message]),
    [
      ['/sweep/strategy.lambda/1', '-5', 'sweep["strategy.lambda"][1]: strategy.lambda must be a number ≥ 0, got -5'],
      ['/sweep/training.optimizer/1', '"sgdd"', 'sweep["training.optimizer"][1]: training.optimizer must be one of "adam", "sgd", got "sgdd" — did you mean "sgd"?'],
    ],
  );
  assert.equal(errs[0].line, 1);
  assert.equal(errs[0].column, text.indexOf('-5') + 1);
});

test('an unknown path gets a positioned error at its key with a did-you-mean; lists need an index; name and seeds cannot be swept', () => {
  const text = [
    '{',
    `  ${TASKS},`,
    '  "strategy": {"name": "ewc"},',
    '  "sweep": {',
    '    "strategy.lamda": [1],',
    '    "trainin.learningRate": [0.1],',
    '    "tasks.train": [10],',
    '    "tasks.2.train": [10],',
    '    "name": ["a"],',
    '    "training.learningRate.x": [1]',
    '  }',
    '}',
  ].join('\n');
  const errs = errors(diagnose(text).diagnostics);
  assert.deepEqual(
    errs.map((d) => `${d.line}:${d.column} ${covered(text, d)}`),
    ['5:5 "strategy.lamda"', '6:5 "trainin.learningRate"', '7:5 "tasks.train"', '8:5 "tasks.2.train"', '9:5 "name"', '10:5 "training.learningRate.x"'],
  );
  assert.match(errs[0].message, /unknown field "strategy\.lamda" — did you mean "strategy\.lambda"\?/);
  assert.match(errs[1].message, /did you mean "training\.learningRate"\?/);
  assert.match(errs[2].message, /tasks is a list: name an item by its index, e.g. "tasks\.0\.train"/);
  assert.match(errs[3].message, /tasks has 2 items, so "tasks\.2\.train" names none/);
  assert.match(errs[4].message, /"name" cannot be swept/);
  assert.match(errs[5].message, /training\.learningRate/);
});

test('empty lists, duplicate values, seed with seeds, seeds with sweep.seed, more than MAX_SWEEP_RUNS runs: errors at their place', () => {
  const dup = `{${TASKS}, "sweep": {"training.batchSize": [32, 64, 32], "strategy": [{"name": "ewc", "lambda": 1}, {"lambda": 1, "name": "ewc"}]}}`;
  const d1 = errors(diagnose(dup).diagnostics);
  assert.deepEqual(d1.map((d) => d.pointer), ['/sweep/training.batchSize/2', '/sweep/strategy/1']);
  assert.match(d1[0].message, /sweep\["training.batchSize"\]\[2\]: 32 is already listed at \[0\]/);
  const empty = `{${TASKS}, "sweep": {"training.batchSize": []}, "seeds": []}`;
  const d2 = errors(diagnose(empty).diagnostics);
  assert.deepEqual(d2.map((d) => [d.pointer, covered(empty, d)]), [['/sweep/training.batchSize', '[]'], ['/seeds', '[]']]);
  assert.match(d2[0].message, /at least 1 item, got an empty array/);
  const both = `{${TASKS}, "seed": 1, "seeds": [0, 1, 1]}`;
  const d3 = errors(diagnose(both).diagnostics);
  assert.deepEqual(d3.map((d) => [d.pointer, covered(both, d)]), [['/seeds', '"seeds"'], ['/seeds/2', '1']]);
  assert.match(d3[0].message, /both 'seed' and 'seeds'/);
  const twice = `{${TASKS}, "seeds": [0], "sweep": {"seed": [1, 2]}}`;
  assert.match(errors(diagnose(twice).diagnostics)[0].message, /sweep "seed" and 'seeds' both give the seeds/);
  const seeds = JSON.stringify([...Array(11).keys()]);
  const sizes = JSON.stringify(Array.from({ length: 100 }, (_, i) => i + 1));
  const many = `{${TASKS}, "sweep": {"training.batchSize": ${sizes}}, "seeds": ${seeds}}`;
  const d4 = errors(diagnose(many).diagnostics);
  assert.equal(d4.length, 1);
  assert.equal(d4[0].pointer, '/sweep');
  assert.match(d4[0].message, new RegExp(`1,100 runs \\(100 × 11\\): at most ${MAX_SWEEP_RUNS.toLocaleString('en')}`));
  assert.throws(() => expandExperiment({ tasks: [{ dataset: 'mnist' }], seeds: [0, 0] } as ExperimentSpec), /lists 0 twice/);
  assert.throws(() => expandExperiment({ tasks: [{ dataset: 'mnist' }], seed: 0, seeds: [1] } as ExperimentSpec), /both 'seed' and 'seeds'/);
});

test('fields wrong only together (a hyperparameter of one swept strategy) are reported at the sweep', () => {
  const text = `{${TASKS}, "strategy": {"name": "ewc"}, "sweep": {"strategy.name": ["ewc", "naive"], "strategy.lambda": [10, 100]}}`;
  const errs = errors(diagnose(text).diagnostics);
  assert.equal(errs.length, 2);
  for (const e of errs) assert.equal(e.pointer, '/sweep');
  assert.match(errs[0].message, /the runs with strategy.name = "naive", strategy.lambda = 10 are invalid: .*lambda/);
});

test('the schema describes seeds and sweep (editor completion lists the paths, strategy hyperparameters included)', () => {
  const props = experimentSchemaFile.properties as Record<string, JsonSchema>;
  assert.equal((props.seeds.items as JsonSchema).type, 'integer');
  const sweep = (experimentSchemaFile.definitions as Record<string, JsonSchema>).sweep;
  const paths = Object.keys(sweep.properties as object);
  for (const p of ['seed', 'strategy', 'strategy.name', 'strategy.lambda', 'strategy.memorySize', 'training.learningRate', 'model.hidden', 'landscape']) assert.ok(paths.includes(p), p);
  assert.ok(!paths.includes('name') && !paths.includes('seeds') && !paths.includes('sweep'));
  assert.deepEqual(checkSweepPath('strategy.lambda', experimentSchema).ok, true);
  assert.deepEqual(checkSweepPath('tasks.0.permutation', experimentSchema).ok, true);
});
