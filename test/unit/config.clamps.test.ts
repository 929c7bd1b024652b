// What the engine changes in what an experiment asks for (a subset beyond the data, samples beyond a
// test set, a batch beyond a phase's data): a warning at the field in the editor, and the same words
// as a note in the result of a real run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment, type ExperimentDiagnostic } from '../../src/engine/config/load';
import { BUILTIN_CLASS_COUNTS, knownTaskSize } from '../../src/engine/config/clamps';
import { DATASETS } from '../../src/engine/data/datasets';
import { resolveDataset } from '../../src/engine/data/resolve';
import { loadDataset } from '../../src/engine/data/load';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment } from '../../src/engine/runner';
import type { RunEvent } from '../../src/protocol/events';

const FILE = '/experiments/clamps.cl.json';

function warnings(text: string): ExperimentDiagnostic[] {
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  assert.ok(experiment, `loads despite its warnings: ${JSON.stringify(diagnostics)}`);
  assert.ok(diagnostics.every((d) => d.severity === 'warning'));
  return diagnostics;
}

/** "line:column-endLine:endColumn pointer: message". */
const show = (ds: ExperimentDiagnostic[]) => ds.map((d) => `${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.pointer}: ${d.message}`);

test('a train or test subset larger than a built-in dataset warns at its value, in words the user can act on', () => {
  const text = [
    '{',
    '  "tasks": [',
    '    { "dataset": "mnist", "train": 100000 },',
    '    { "dataset": "fashion-mnist", "train": 2000, "test": 12000 }',
    '  ]',
    '}',
  ].join('\n');
  assert.deepEqual(show(warnings(text)), [
    '3:36-3:42 /tasks/0/train: tasks[0].train is 100000, more than the 60,000 training examples of mnist: the task trains on all of them',
    '4:58-4:63 /tasks/1/test: tasks[1].test is 12000, more than the 10,000 test examples of fashion-mnist: the task is tested on all of them',
  ]);
  // What a task has is what its classes have.
  const classes = warnings('{"tasks": [{"dataset": "mnist", "classes": [0, 1], "train": 12666, "test": 2115}]}');
  assert.deepEqual(
    classes.map((d) => d.message),
    ['tasks[0].train is 12666, more than the 12,665 training examples of mnist classes 0, 1: the task trains on all of them'],
  );
  // Exactly what there is, or an idx dataset (known only once loaded): no warning.
  assert.deepEqual(parseExperiment('{"tasks": [{"dataset": "mnist", "train": 60000, "test": 10000}]}', FILE).diagnostics, []);
  assert.deepEqual(parseExperiment('{"tasks": [{"dataset": "idx", "path": "d", "train": 9999999}]}', FILE).diagnostics, []);
});

test('a benchmark\'s subsets warn once at benchmark.train, naming the tasks that have fewer (Split-MNIST: about 12k per task)', () => {
  const text = '{"benchmark": {"name": "split-mnist", "scenario": "class-il", "train": 12100, "test": 1900}}';
  const ds = warnings(text);
  assert.deepEqual(show(ds), [
    '1:72-1:77 /benchmark/train: benchmark.train is 12100, more than the training examples of 2/3 (12,089), 4/5 (11,263), 8/9 (11,800): those tasks train on all of theirs',
    '1:87-1:91 /benchmark/test: benchmark.test is 1900, more than the 1,874 test examples of 4/5: that task is tested on all of them',
  ]);
  // Every task short by the same amount: said once.
  const permuted = warnings('{"benchmark": {"name": "permuted-mnist", "scenario": "domain-il", "tasks": 3, "test": 20000}}');
  assert.deepEqual(permuted.map((d) => d.message), ["benchmark.test is 20000, more than the 10,000 test examples of each of the benchmark's tasks: those tasks are tested on all of theirs"]);
});

test('samples and a batch beyond what the tasks have warn only when the file asks for them', () => {
  const text = [
    '{',
    '  "tasks": [{ "dataset": "mnist", "train": 600, "test": 300 }, { "dataset": "fashion-mnist", "train": 600, "test": 5000 }],',
    '  "training": { "batchSize": 1000, "evalSamples": 2000 },',
    '  "landscape": { "samples": 400 }',
    '}',
  ].join('\n');
  assert.deepEqual(show(warnings(text)), [
    '3:30-3:34 /training/batchSize: training.batchSize is 1000, more than the 600 training examples of each of tasks[0], tasks[1]: every step on those uses all of them',
    '3:51-3:55 /training/evalSamples: training.evalSamples is 2000, more than the 300 test examples of tasks[0]: the accuracy curve of that task uses all of them',
    '4:29-4:32 /landscape/samples: landscape.samples is 400, more than the 300 test examples of tasks[0]: the landscape uses all of them',
  ]);
  // Joint training's one phase has both tasks' data: 1,200 examples hold a batch of 1,000.
  const joint = warnings(text.replace('"landscape": { "samples": 400 }', '"strategy": { "name": "joint" }, "landscape": false'));
  assert.deepEqual(joint.map((d) => d.pointer), ['/training/evalSamples']);
  // The defaults (1,000 samples against 300 test examples) are not the user's doing.
  assert.deepEqual(parseExperiment('{"tasks": [{"dataset": "mnist", "test": 300}, {"dataset": "mnist", "test": 300}]}', FILE).diagnostics, []);
});

test('a landscape given to a strategy that trains in one phase warns that none is computed', () => {
  const ds = warnings('{"tasks": [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}], "strategy": {"name": "joint"}, "landscape": {"grid": 9}}');
  assert.deepEqual(show(ds), ['1:109-1:120 /landscape: no landscape will be computed: joint trains every task in one phase, so there is one optimum, and the plane needs two']);
});

test('no warning for the examples (they ask only for what the data has)', () => {
  const dir = join(__dirname, '..', '..', 'examples');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.cl.json'))) {
    const { diagnostics } = parseExperiment(readFileSync(join(dir, f), 'utf8'), join(dir, f));
    assert.deepEqual(diagnostics, [], f);
  }
});

test('the class counts are those of the real files', async () => {
  for (const name of ['mnist', 'fashion-mnist'] as const) {
    const data = await loadDataset(await resolveDataset({ dataset: name }, { allowDownload: false }), name);
    for (const split of ['train', 'test'] as const) {
      const counts = new Array<number>(DATASETS[name].classes).fill(0);
      for (const l of data[split].labels) counts[l]++;
      assert.deepEqual(counts, BUILTIN_CLASS_COUNTS[name][split], `${name} ${split}`);
    }
    assert.deepEqual(knownTaskSize({ dataset: name }), { train: DATASETS[name].trainSize, test: DATASETS[name].testSize });
  }
});

test('a real run notes what it cut, in the words the editor used, and the result keeps the notes', async () => {
  const text = JSON.stringify({
    name: 'clamped',
    tasks: [
      { dataset: 'mnist', classes: [0, 1], train: 100000, test: 20000 },
      { dataset: 'fashion-mnist', classes: [0, 1], train: 200, test: 100 },
    ],
    model: { preset: 'mlp' },
    training: { iterations: 2, batchSize: 500, evalEvery: 1000, evalSamples: 150 },
    landscape: false,
  });
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  assert.ok(experiment);
  const { tf, info } = await loadBackend('wasm');
  const events: RunEvent[] = [];
  const result = await runExperiment({ tf, environment: info, experiment, outDir: mkdtempSync(join(tmpdir(), 'clw-clamps-')), allowDownload: false, onEvent: (e) => events.push(e) });
  assert.equal(result.status, 'completed', result.error?.message);
  const expected = [
    { field: 'tasks[0].train', message: 'tasks[0].train is 100000, more than the 12,665 training examples of mnist classes 0, 1: the task trains on all of them' },
    { field: 'tasks[0].test', message: 'tasks[0].test is 20000, more than the 2,115 test examples of mnist classes 0, 1: the task is tested on all of them' },
    { field: 'training.evalSamples', message: 'training.evalSamples is 150, more than the 100 test examples of tasks[1]: the accuracy curve of that task uses all of them' },
    { field: 'training.batchSize', message: 'training.batchSize is 500, more than the 200 training examples of tasks[1]: every step on it uses all of them' },
  ];
  assert.deepEqual(result.notes, expected);
  assert.deepEqual(new Set(diagnostics.map((d) => d.message)), new Set(expected.map((n) => n.message)), 'the editor said the same before the run');
  // The notes arrive as events right after the data is ready, and the file on disk has them.
  const at = events.findIndex((e) => e.type === 'note');
  assert.equal(events[at - 1].type, 'dataReady');
  assert.deepEqual(result.tasks.map((t) => [t.trainSize, t.testSize]), [[12665, 2115], [200, 100]]);
});
