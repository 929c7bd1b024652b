import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  EXPERIMENT_DEFAULTS,
  MODEL_PRESETS,
  closestName,
  formatDiagnostic,
  loadExperimentFile,
  normaliseExperiment,
  parseExperiment,
  type ExperimentDiagnostic,
} from '../../src/engine/config/load';
import { experimentSchema, resolveRef, type JsonSchema } from '../../src/engine/config/schema';

const FILE = '/experiments/demo.cl.json';
const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

function lines(...rows: string[]): string {
  return rows.join('\n');
}

function diagnose(text: string): ExperimentDiagnostic[] {
  return parseExperiment(text, FILE).diagnostics;
}

/** "line:column-endLine:endColumn severity pointer" of each diagnostic. */
function where(ds: ExperimentDiagnostic[]): string[] {
  return ds.map((d) => `${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.severity} ${d.pointer}`);
}

function only(ds: ExperimentDiagnostic[]): ExperimentDiagnostic {
  assert.equal(ds.length, 1, `expected one diagnostic, got:\n${ds.map(formatDiagnostic).join('\n')}`);
  return ds[0];
}

const TWO_TASKS = '"tasks": [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}]';

// ---------------------------------------------------------------------------------------------
// Valid files

test('a minimal file normalises with every default', () => {
  const { experiment, diagnostics } = parseExperiment(`{${TWO_TASKS}}`, FILE);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(experiment, {
    name: 'demo',
    seed: 0,
    tasks: [{ dataset: 'mnist' }, { dataset: 'fashion-mnist' }],
    scenario: 'domain-il',
    model: {
      type: 'cnn',
      conv: [
        { filters: 32, kernel: 3, pool: 2 },
        { filters: 64, kernel: 3, pool: 2 },
      ],
      dense: [128],
      preset: 'small-cnn',
    },
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
      optima: [0, 1],
    },
  });
});

test('given fields override defaults one by one; optima default to first and last task', () => {
  const text = `{"name": "X", "seed": 7, "tasks": [{"dataset": "mnist"}, {"dataset": "mnist"}, {"dataset": "fashion-mnist", "train": 10, "test": 5, "label": "F"}],
    "model": {"preset": "mlp"}, "training": {"epochs": 3, "optimizer": "sgd"}, "landscape": {"grid": 9}}`;
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  assert.deepEqual(diagnostics, []);
  assert.ok(experiment);
  assert.equal(experiment.name, 'X');
  assert.equal(experiment.seed, 7);
  assert.deepEqual(experiment.tasks[2], { dataset: 'fashion-mnist', train: 10, test: 5, label: 'F' });
  assert.deepEqual(experiment.model, { type: 'mlp', hidden: [400, 400], preset: 'mlp' });
  assert.deepEqual(experiment.training, { ...EXPERIMENT_DEFAULTS.training, epochs: 3, optimizer: 'sgd' });
  assert.ok(experiment.landscape);
  assert.equal(experiment.landscape.grid, 9);
  assert.equal(experiment.landscape.samples, 1000);
  assert.deepEqual(experiment.landscape.optima, [0, 2]);
});

test('normalising copies: the result shares no arrays with the defaults or the presets', () => {
  const experiment = normaliseExperiment({ tasks: [{ dataset: 'mnist' }, { dataset: 'mnist' }] }, FILE);
  assert.ok(experiment.landscape && experiment.model.type === 'cnn');
  experiment.landscape.alphaRange[0] = 99;
  experiment.model.conv[0].filters = 1;
  assert.equal(EXPERIMENT_DEFAULTS.landscape.alphaRange[0], -0.5);
  assert.equal(MODEL_PRESETS['small-cnn'].type === 'cnn' && MODEL_PRESETS['small-cnn'].conv[0].filters, 32);
});

test('custom models pass through; "landscape": false is accepted', () => {
  const text = `{${TWO_TASKS}, "model": {"type": "cnn", "conv": [{"filters": 8, "kernel": 5}], "dense": []}, "landscape": false}`;
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  assert.deepEqual(diagnostics, []);
  assert.ok(experiment);
  assert.deepEqual(experiment.model, { type: 'cnn', conv: [{ filters: 8, kernel: 5 }], dense: [] });
  assert.equal(experiment.landscape, false);
});

test('a single task gets no landscape, and no warning when none was asked for', () => {
  const { experiment, diagnostics } = parseExperiment('{"tasks": [{"dataset": "mnist"}]}', FILE);
  assert.deepEqual(diagnostics, []);
  assert.equal(experiment?.landscape, false);
});

test('relative task paths resolve against the experiment file folder', () => {
  const text = '{"tasks": [{"dataset": "idx", "path": "data/letters"}, {"dataset": "mnist", "path": "/abs/mnist"}]}';
  const { experiment, diagnostics } = parseExperiment(text, '/home/me/exp/letters.cl.json');
  assert.deepEqual(diagnostics, []);
  assert.equal(experiment?.tasks[0].path, path.resolve('/home/me/exp/data/letters'));
  assert.equal(experiment?.tasks[1].path, path.resolve('/abs/mnist'));
  assert.equal(experiment?.name, 'letters');
});

test('every example validates without a diagnostic and points at the schema', async () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.cl.json'));
  for (const expected of ['mnist-then-fashion.cl.json', 'quick-demo.cl.json', 'mlp-mnist-then-fashion.cl.json', 'three-tasks.cl.json']) {
    assert.ok(files.includes(expected), `missing example ${expected}`);
  }
  for (const f of files) {
    const { experiment, diagnostics } = await loadExperimentFile(path.join(EXAMPLES, f));
    assert.deepEqual(diagnostics.map(formatDiagnostic), [], f);
    assert.ok(experiment, f);
    // A landscape unless the file turns it off (joint trains one phase: there are no two task optima).
    const off = (JSON.parse(readFileSync(path.join(EXAMPLES, f), 'utf8')) as { landscape?: unknown }).landscape === false;
    assert.ok(off || experiment.landscape, `${f} computes a landscape`);
  }
  const main = await loadExperimentFile(path.join(EXAMPLES, 'three-tasks.cl.json'));
  assert.deepEqual(main.experiment?.landscape && main.experiment.landscape.optima, [0, 1]);
  assert.equal(main.experiment?.tasks.length, 3);
});

// ---------------------------------------------------------------------------------------------
// The schema

/** The schemas an object takes through if/then (a strategy's or a benchmark's own settings). */
function branches(s: JsonSchema): JsonSchema[] {
  return ((s.allOf ?? []) as JsonSchema[]).filter((b) => b.if !== undefined && b.then !== undefined).map((b) => resolveRef(b.then as JsonSchema));
}

test('every property in the schema has a description, a markdownDescription and enum descriptions', () => {
  const problems: string[] = [];
  const visit = (schema: JsonSchema, where: string): void => {
    const s = resolveRef(schema);
    for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
      const p = resolveRef(prop);
      if (typeof p.description !== 'string') problems.push(`${where}.${name}: description`);
      if (typeof p.markdownDescription !== 'string') problems.push(`${where}.${name}: markdownDescription`);
      // Strategy hyperparameters describe their values in their description (the registry has no per-value texts).
      if (Array.isArray(p.enum) && !where.startsWith('root.strategy(')) {
        if ((p.enumDescriptions as unknown[] | undefined)?.length !== p.enum.length) problems.push(`${where}.${name}: enumDescriptions`);
        if ((p.markdownEnumDescriptions as unknown[] | undefined)?.length !== p.enum.length) problems.push(`${where}.${name}: markdownEnumDescriptions`);
      }
      visit(p, `${where}.${name}`);
      if (p.items) visit(p.items as JsonSchema, `${where}.${name}[]`);
    }
    for (const alt of [...((s.oneOf ?? []) as JsonSchema[]), ...((s.anyOf ?? []) as JsonSchema[])]) visit(alt, where);
    for (const branch of branches(s)) visit(branch, `${where}(${(branch.properties as Record<string, JsonSchema>).name.const})`);
    if (s.additionalProperties !== undefined && s.additionalProperties !== false) problems.push(`${where}: additionalProperties`);
    // Closed: directly, or (strategy, benchmark) by the closed settings of the one named.
    const closedByBranches = branches(s).length > 0 && branches(s).every((b) => b.additionalProperties === false);
    if (s.properties && s.additionalProperties !== false && !closedByBranches) problems.push(`${where}: additionalProperties must be false`);
  };
  visit(experimentSchema, 'root');
  assert.deepEqual(problems, []);
});

test('the defaults in the schema are the defaults in code', () => {
  const props = experimentSchema.properties as Record<string, JsonSchema>;
  const defs = experimentSchema.definitions as Record<string, JsonSchema>;
  assert.equal(props.seed.default, EXPERIMENT_DEFAULTS.seed);
  assert.equal(props.scenario.default, EXPERIMENT_DEFAULTS.scenario);
  assert.deepEqual(resolveRef(props.scenario).enum, ['task-il', 'domain-il', 'class-il']);
  assert.deepEqual(defs.model.default, EXPERIMENT_DEFAULTS.model);
  assert.deepEqual(defs.training.default, EXPERIMENT_DEFAULTS.training);
  assert.deepEqual(defs.strategy.default, EXPERIMENT_DEFAULTS.strategy);
  assert.deepEqual(defs.landscape.default, EXPERIMENT_DEFAULTS.landscape);
  for (const [key, value] of Object.entries(EXPERIMENT_DEFAULTS.training)) {
    assert.deepEqual(((defs.training.properties as Record<string, JsonSchema>)[key]).default, value, `training.${key}`);
  }
  for (const [key, value] of Object.entries(EXPERIMENT_DEFAULTS.landscape)) {
    assert.deepEqual(((defs.landscapeSettings.properties as Record<string, JsonSchema>)[key]).default, value, `landscape.${key}`);
  }
  const mlp = MODEL_PRESETS.mlp;
  assert.deepEqual((defs.modelMlp.properties as Record<string, JsonSchema>).hidden.default, mlp.type === 'mlp' ? mlp.hidden : null);
});

// ---------------------------------------------------------------------------------------------
// Syntax errors

test('a missing comma is reported at the exact line and column, and nothing else', () => {
  const text = lines(
    '{', //
    '  "seed": 1',
    '  "tasks": [{"dataset": "mnist"}]',
    '}',
  );
  const d = only(diagnose(text));
  assert.deepEqual(where([d]), ['3:3-3:10 error /tasks']);
  assert.equal(d.message, 'expected a comma before this');
  assert.equal(d.offset, text.indexOf('"tasks"'));
  assert.equal(formatDiagnostic(d), '/experiments/demo.cl.json:3:3: error: expected a comma before this');
});

test('trailing commas and comments are errors (the file is plain JSON)', () => {
  const text = lines(
    '{',
    '  // the usual pair',
    '  "tasks": [',
    '    {"dataset": "mnist"},',
    '  ],',
    '  "seed": 3,',
    '}',
  );
  const ds = diagnose(text);
  assert.deepEqual(where(ds), ['2:3-2:20 error ', '4:25-4:26 error /tasks', '6:12-6:13 error ']);
  assert.match(ds[0].message, /comments are not allowed/);
  assert.equal(ds[1].message, "trailing comma: remove the ',' before ']'");
  assert.equal(ds[2].message, "trailing comma: remove the ',' before '}'");
  assert.equal(parseExperiment(text, FILE).experiment, null);
});

test('an unexpected end of file points just after the last character', () => {
  const text = lines('{', '  "tasks": [{"dataset": "mnist"}', '');
  const d = only(diagnose(text));
  assert.deepEqual(where([d]), ['2:33-2:33 error /tasks/0']);
  assert.equal(d.message, "unexpected end of file: expected ']' to close the array");
});

test('an empty file, a bare word and single quotes get plain explanations', () => {
  assert.match(only(diagnose('  \n')).message, /the file is empty/);
  const bare = only(diagnose('{"tasks": [{"dataset": mnist}]}'));
  assert.deepEqual(where([bare]), ['1:24-1:29 error /tasks/0/dataset']);
  assert.match(bare.message, /unexpected 'mnist': strings and property names must be in double quotes/);
  assert.match(only(diagnose("{'tasks': []}")).message, /double quotes, not single quotes/);
});

test('positions count CRLF line ends as one line break', () => {
  const text = ['{', '  "tasks": [{"dataset": "mnist"}],', '  "seed": -1', '}'].join('\r\n');
  assert.deepEqual(where([only(diagnose(text))]), ['3:11-3:13 error /seed']);
});

test('schema errors away from a syntax error are still reported; those inside it are not', () => {
  const text = lines(
    '{',
    '  "tasks": [{"dataset": "mnist"} {"dataset": "fashion"}],',
    '  "seed": "one",',
    '  "model": {"preset": small}',
    '}',
  );
  const ds = diagnose(text);
  assert.deepEqual(where(ds), ['2:34-2:35 error /tasks/0', '2:46-2:55 error /tasks/1/dataset', '3:11-3:16 error /seed', '4:23-4:28 error /model/preset']);
  assert.match(ds[1].message, /did you mean "fashion-mnist"/);
  assert.match(ds[3].message, /^unexpected 'small'/);
});

// ---------------------------------------------------------------------------------------------
// Schema errors

test('several errors in one file are all reported, each at its value or key', () => {
  const text = lines(
    '{',
    '  "tasks": [',
    '    {"dataset": "mnist"},',
    '    {"dataset": "fashion"}',
    '  ],',
    '  "training": {"epoch": 3, "batchSize": 0},',
    '  "landscape": {"grid": 200}',
    '}',
  );
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  assert.equal(experiment, null);
  assert.deepEqual(where(diagnostics), [
    '4:17-4:26 error /tasks/1/dataset',
    '6:16-6:23 error /training/epoch',
    '6:41-6:42 error /training/batchSize',
    '7:25-7:28 error /landscape/grid',
  ]);
  assert.deepEqual(
    diagnostics.map((d) => d.message),
    [
      'tasks[1].dataset must be one of "mnist", "fashion-mnist", "idx", got "fashion" — did you mean "fashion-mnist"?',
      "unknown property 'epoch' in training — did you mean 'epochs'?",
      'training.batchSize must be an integer ≥ 1, got 0',
      'landscape.grid must be an integer from 3 to 101, got 200',
    ],
  );
});

test('an unknown property is reported at its key, with the allowed names when nothing is close', () => {
  const text = lines('{', `  ${TWO_TASKS},`, '  "trainnig": {},', '  "colour": "red"', '}');
  const ds = diagnose(text);
  assert.deepEqual(where(ds), ['3:3-3:13 error /trainnig', '4:3-4:11 error /colour']);
  assert.equal(ds[0].message, "unknown property 'trainnig' in the experiment — did you mean 'training'?");
  assert.equal(
    ds[1].message,
    "unknown property 'colour' in the experiment; allowed: '$schema', 'name', 'seed', 'tasks', 'benchmark', 'scenario', 'model', 'training', 'strategy', 'landscape'",
  );
});

test('a bad enum value is reported at the value, listing the allowed values', () => {
  const text = lines('{', `  ${TWO_TASKS},`, '  "training": {', '    "optimizer": "rmsprop"', '  }', '}');
  const d = only(diagnose(text));
  assert.deepEqual(where([d]), ['4:18-4:27 error /training/optimizer']);
  assert.equal(d.message, 'training.optimizer must be one of "adam", "sgd", got "rmsprop"');
});

test('a wrong type says what was found', () => {
  const d = only(diagnose(`{${TWO_TASKS}, "training": {"learningRate": "0.001"}}`));
  assert.equal(d.message, 'training.learningRate must be a number > 0, got the string "0.001"');
});

test('missing tasks and an empty task list are explained', () => {
  assert.match(only(diagnose('{"seed": 1}')).message, /^the experiment is missing the required property 'tasks', e\.g\. \[/);
  const d = only(diagnose('{"tasks": []}'));
  assert.deepEqual(where([d]), ['1:11-1:13 error /tasks']);
  assert.match(d.message, /^tasks is empty: list at least one task/);
});

test('a model matching no alternative gives one readable message, not a cascade', () => {
  const text = lines('{', `  ${TWO_TASKS},`, '  "model": {"layers": [64], "hidden": [32]}', '}');
  const d = only(diagnose(text));
  assert.deepEqual(where([d]), ['3:12-3:44 error /model']);
  assert.equal(d.message, `model needs a 'preset' ("small-cnn" or "mlp") or a 'type' ("mlp" with 'hidden', or "cnn" with 'conv' and 'dense')`);
  assert.match(only(diagnose(`{${TWO_TASKS}, "model": {"presets": "mlp"}}`)).message, /is 'presets' meant to be 'preset'\?/);
  assert.match(only(diagnose(`{${TWO_TASKS}, "model": {"preset": "mlp", "type": "mlp"}}`)).message, /both 'preset' and 'type'/);
  assert.match(only(diagnose(`{${TWO_TASKS}, "model": "mlp"}`)).message, /^model must be an object/);
  assert.match(only(diagnose(`{${TWO_TASKS}, "model": {"type": "resnet"}}`)).message, /^model\.type must be "mlp" \(with 'hidden'\) or "cnn"/);
});

test('once the model kind is clear, errors are those of that kind only', () => {
  const text = lines(
    '{',
    `  ${TWO_TASKS},`,
    '  "model": {',
    '    "type": "cnn",',
    '    "conv": [{"filters": 32, "kernal": 3}],',
    '    "dense": [128, 0]',
    '  }',
    '}',
  );
  const ds = diagnose(text);
  assert.deepEqual(where(ds), ['5:14-5:15 error /model/conv/0/kernel', '5:30-5:38 error /model/conv/0/kernal', '6:20-6:21 error /model/dense/1']);
  assert.deepEqual(
    ds.map((d) => d.message),
    [
      "model.conv[0] is missing the required property 'kernel', e.g. 3",
      "unknown property 'kernal' in model.conv[0] — did you mean 'kernel'?",
      'model.dense[1] must be an integer ≥ 1, got 0',
    ],
  );
  const preset = only(diagnose(`{${TWO_TASKS}, "model": {"preset": "cnn"}}`));
  assert.equal(preset.message, 'model.preset must be one of "small-cnn", "mlp", got "cnn" — did you mean "small-cnn"?');
  const mlp = only(diagnose(`{${TWO_TASKS}, "model": {"type": "mlp", "hidden": [10], "dense": [10]}}`));
  assert.equal(mlp.message, "unknown property 'dense' in model; allowed: 'type', 'hidden'");
});

test('landscape must be false or an object', () => {
  const d = only(diagnose(`{${TWO_TASKS}, "landscape": true}`));
  assert.equal(d.pointer, '/landscape');
  assert.match(d.message, /^landscape must be false \(no landscape\) or an object of settings/);
  assert.equal(only(diagnose(`{${TWO_TASKS}, "landscape": {"secondAxis": "pca"}}`)).message, 'landscape.secondAxis must be one of "trajectory-pca", "random", got "pca" — did you mean "trajectory-pca"?');
});

// ---------------------------------------------------------------------------------------------
// Semantic errors

test('an idx task without a path is an error at its dataset', () => {
  const text = lines('{', '  "tasks": [', '    {"dataset": "mnist"},', '    {"dataset": "idx", "label": "letters"}', '  ]', '}');
  const d = only(diagnose(text));
  assert.deepEqual(where([d]), ['4:17-4:22 error /tasks/1/path']);
  assert.match(d.message, /^tasks\[1\]: dataset "idx" needs a 'path': the folder holding train-images-idx3-ubyte/);
});

test('a CNN that shrinks a 28x28 image below its kernel names the layer', () => {
  const text = lines(
    '{',
    `  ${TWO_TASKS},`,
    '  "model": {"type": "cnn", "dense": [], "conv": [',
    '    {"filters": 8, "kernel": 3, "pool": 4},',
    '    {"filters": 8, "kernel": 3, "pool": 2},',
    '    {"filters": 8, "kernel": 3}',
    '  ]}',
    '}',
  );
  const d = only(diagnose(text));
  assert.deepEqual(where([d]), ['6:30-6:31 error /model/conv/2/kernel']);
  assert.equal(
    d.message,
    'model.conv[2]: the 3x3 conv gets a 2x2 input (28x28 image → conv[0] 26x26 → pool 6x6 → conv[1] 4x4 → pool 2x2), smaller than its kernel; use a smaller kernel, less pooling or fewer conv layers',
  );
  const pool = only(diagnose(`{${TWO_TASKS}, "model": {"type": "cnn", "dense": [], "conv": [{"filters": 8, "kernel": 27, "pool": 3}]}}`));
  assert.equal(pool.pointer, '/model/conv/0/pool');
  assert.match(pool.message, /^model\.conv\[0\]: the 3x3 max-pool gets a 2x2 input \(28x28 image → conv\[0\] 2x2\)/);
  // The small-cnn stack fits; idx images have sizes known only at run time.
  assert.deepEqual(diagnose(`{${TWO_TASKS}, "model": {"type": "cnn", "dense": [128], "conv": [{"filters": 32, "kernel": 3, "pool": 2}, {"filters": 64, "kernel": 3, "pool": 2}]}}`), []);
  assert.deepEqual(diagnose('{"tasks": [{"dataset": "idx", "path": "x"}], "model": {"type": "cnn", "dense": [], "conv": [{"filters": 8, "kernel": 40}]}}'), []);
});

test('landscape optima out of range or equal are errors at the index', () => {
  const text = lines('{', `  ${TWO_TASKS},`, '  "landscape": {', '    "optima": [0, 2]', '  }', '}');
  const d = only(diagnose(text));
  assert.deepEqual(where([d]), ['4:19-4:20 error /landscape/optima/1']);
  assert.equal(d.message, 'landscape.optima[1] is 2, but there are only 2 tasks: use task indexes 0 to 1');
  const same = only(diagnose(`{${TWO_TASKS}, "landscape": {"optima": [1, 1]}}`));
  assert.equal(same.pointer, '/landscape/optima');
  assert.equal(same.message, 'landscape.optima names task 1 twice: the plane needs two different tasks (indexes 0 to 1)');
  assert.match(only(diagnose(`{${TWO_TASKS}, "landscape": {"optima": [0, -1]}}`)).message, /^landscape\.optima\[1\] must be an integer ≥ 0, got -1/);
  assert.match(only(diagnose(`{${TWO_TASKS}, "landscape": {"optima": [0]}}`)).message, /^landscape\.optima must be an array of 2 integers, got an array of 1 item/);
});

test('optima with a single task warn that no landscape is computed, and the experiment still loads', () => {
  const text = lines('{', '  "tasks": [{"dataset": "mnist"}],', '  "landscape": {"optima": [0, 1]}', '}');
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  const d = only(diagnostics);
  assert.deepEqual(where([d]), ['3:27-3:33 warning /landscape/optima']);
  assert.match(d.message, /^no landscape will be computed: the experiment has a single task/);
  assert.ok(experiment);
  assert.equal(experiment.landscape, false);
});

test('an alpha or beta range with min >= max is an error at the range', () => {
  const text = lines('{', `  ${TWO_TASKS},`, '  "landscape": {"alphaRange": [1, 1], "betaRange": [1, -1]}', '}');
  const ds = diagnose(text);
  assert.deepEqual(where(ds), ['3:31-3:37 error /landscape/alphaRange', '3:52-3:59 error /landscape/betaRange']);
  assert.equal(ds[0].message, 'landscape.alphaRange must be [min, max] with min < max, got [1, 1]');
});

test('evalSamples and landscape samples beyond a test subset warn; the experiment still loads', () => {
  const text = `{"tasks": [{"dataset": "mnist", "test": 300}, {"dataset": "fashion-mnist"}], "training": {"evalSamples": 500}, "landscape": {"samples": 400}}`;
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  assert.ok(experiment);
  assert.deepEqual(
    diagnostics.map((d) => `${d.severity} ${d.pointer}: ${d.message}`),
    [
      'warning /training/evalSamples: training.evalSamples is 500, more than the 300 test examples of tasks[0]: the accuracy curve of that task uses all of them',
      'warning /landscape/samples: landscape.samples is 400, more than the 300 test examples of tasks[0]: the landscape uses all of them',
    ],
  );
  // Defaults are not the user's doing: no warning for them.
  assert.deepEqual(diagnose('{"tasks": [{"dataset": "mnist", "test": 300}, {"dataset": "mnist"}]}'), []);
});

test('a duplicate property warns at the earlier key', () => {
  const text = lines('{', `  ${TWO_TASKS},`, '  "seed": 1,', '  "seed": 2', '}');
  const { experiment, diagnostics } = parseExperiment(text, FILE);
  assert.deepEqual(where(diagnostics), ['3:3-3:9 warning /seed']);
  assert.equal(experiment?.seed, 2);
});

// ---------------------------------------------------------------------------------------------
// Files and helpers

test('loadExperimentFile reads a file (BOM stripped) and reports an unreadable one', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'clw-config-'));
  const file = path.join(dir, 'bom.cl.json');
  await writeFile(file, '\uFEFF{"tasks": [{"dataset": "mnist"}], "seed": -1}');
  const d = only((await loadExperimentFile(file)).diagnostics);
  assert.deepEqual(where([d]), ['1:43-1:45 error /seed']);
  assert.equal(formatDiagnostic(d), `${file}:1:43: error: seed must be an integer ≥ 0, got -1`);
  const missing = await loadExperimentFile(path.join(dir, 'nope.cl.json'));
  assert.equal(missing.experiment, null);
  assert.equal(only(missing.diagnostics).message, 'cannot read the experiment file: no such file');
});

test('closestName catches typos, case and separators, and stays quiet otherwise', () => {
  assert.equal(closestName('epoch', ['epochs', 'evalEvery']), 'epochs');
  assert.equal(closestName('learning_rate', ['learningRate', 'batchSize']), 'learningRate');
  assert.equal(closestName('MNIST', ['mnist', 'fashion-mnist']), 'mnist');
  assert.equal(closestName('lr', ['learningRate', 'batchSize']), undefined);
  assert.equal(closestName('colour', ['name', 'seed', 'tasks']), undefined);
});

test('each diagnostic says which check found it (the editor leaves the syntax ones, parse errors and duplicate keys, to VS Code\'s JSON service)', () => {
  const text = '{\n  "tasks": [{ "dataset": "idx" }],\n  "training": { "epoch": 2 }\n}\n';
  const { diagnostics } = parseExperiment(text, '/w/origin.cl.json');
  const byPointer = Object.fromEntries(diagnostics.map((d) => [d.pointer, d.origin]));
  assert.equal(byPointer['/training/epoch'], 'schema');
  assert.ok(diagnostics.some((d) => d.origin === 'schema' || d.origin === 'semantic'));
  const broken = parseExperiment('{ "tasks": [ }', '/w/broken.cl.json');
  assert.ok(broken.diagnostics.length > 0 && broken.diagnostics.every((d) => d.origin === 'syntax'), JSON.stringify(broken.diagnostics));
  assert.deepEqual(parseExperiment('{"seed": 1, "seed": 2, "tasks": [{"dataset": "mnist"}]}', '/w/dup.cl.json').diagnostics.map((d) => d.origin), ['syntax']);
  const shrink = parseExperiment(
    JSON.stringify({ tasks: [{ dataset: 'mnist' }], model: { type: 'cnn', conv: [{ filters: 4, kernel: 13, pool: 2 }, { filters: 4, kernel: 9 }], dense: [] } }), // 28 -> 16 -> 8, then a 9x9 conv
    '/w/shrink.cl.json',
  );
  assert.ok(shrink.diagnostics.some((d) => d.origin === 'semantic' && d.severity === 'error' && /model\.conv\[1\]/.test(d.message)), JSON.stringify(shrink.diagnostics));
});
