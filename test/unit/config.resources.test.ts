// The validator's resource estimates (engine/config/resources.ts): parameter counts equal to the
// built model's, memory refused above the (injected) machine's, run time warned about or refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import { MODEL_PRESETS } from '../../src/engine/config/defaults';
import { parseExperiment, type ExperimentDiagnostic } from '../../src/engine/config/load';
import { knownTaskSize } from '../../src/engine/config/clamps';
import { planPhases } from '../../src/engine/train/loop';
import type { ResolvedModelSpec } from '../../src/protocol/experiment';
import {
  EFFECTIVE_FLOPS_PER_SECOND,
  HARD_CAP_SECONDS,
  LONG_RUN_SECONDS,
  MEASURED_SMALL_CNN_IMAGES_PER_SECOND,
  estimateRun,
  formatBytes,
  formatSeconds,
  modelLayers,
  parameterCount,
  trainingFlopsPerImage,
} from '../../src/engine/config/resources';

const FILE = '/work/experiments/resources.cl.json';
const GB = 1e9;
const machine = (bytes: number) => ({ resources: { totalMemoryBytes: bytes } });
const parse = (text: string, bytes = 16 * GB) => parseExperiment(text, FILE, machine(bytes));
const at = (text: string, d: ExperimentDiagnostic) => text.slice(d.offset, d.offset + d.length);
const resourceDiagnostics = (ds: ExperimentDiagnostic[]) => ds.filter((d) => /the run (needs|will take|would take)/.test(d.message));

test('parameterCount equals the parameter count of the model buildModel builds (wasm)', async () => {
  const { tf } = await loadBackend('wasm');
  const cases: [ResolvedModelSpec, [number, number, number], number][] = [
    [MODEL_PRESETS['small-cnn'], [28, 28, 1], 10],
    [MODEL_PRESETS.mlp, [28, 28, 1], 10],
    [{ type: 'mlp', hidden: [16] }, [28, 28, 1], 4],
    [{ type: 'mlp', hidden: [] }, [28, 28, 1], 20],
    [{ type: 'cnn', conv: [{ filters: 8, kernel: 5 }, { filters: 4, kernel: 3, pool: 3 }, { filters: 6, kernel: 2 }], dense: [12, 7] }, [28, 28, 1], 3],
  ];
  for (const [spec, shape, outputs] of cases) {
    const model = buildModel(tf, spec, shape, outputs, 0);
    try {
      assert.equal(parameterCount(spec, shape, outputs), model.parameterCount, JSON.stringify(spec));
    } finally {
      model.dispose();
    }
  }
  assert.equal(parameterCount(MODEL_PRESETS['small-cnn'], [28, 28, 1], 10), 225_034);
  // A conv stack that does not fit the image has no count (semantic.ts reports why).
  assert.equal(parameterCount({ type: 'cnn', conv: [{ filters: 1, kernel: 30 }], dense: [] }, [28, 28, 1], 10), null);
});

test('the FLOP rate is the measured 1,200 small-CNN images/s, in one place', () => {
  const layers = modelLayers(MODEL_PRESETS['small-cnn'], [28, 28, 1], 10)!;
  // conv1 26x26x32x9 + conv2 11x11x64x288 + 1600x128 + 128x10 multiply-accumulates.
  assert.equal(layers.reduce((n, l) => n + l.macs, 0), 26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 1600 * 128 + 128 * 10);
  assert.equal(MEASURED_SMALL_CNN_IMAGES_PER_SECOND, 1200);
  assert.equal(EFFECTIVE_FLOPS_PER_SECOND, 1200 * trainingFlopsPerImage(layers));
  assert.ok(Math.abs(EFFECTIVE_FLOPS_PER_SECOND / 1e9 - 18.9) < 0.1, 'DESIGN.md: ~19 GFLOP/s');
});

test('the default experiment (two tasks, small CNN, landscape): its estimate', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'examples', 'mnist-then-fashion.cl.json'), 'utf8');
  const { experiment, diagnostics } = parse(text);
  assert.ok(experiment);
  assert.deepEqual(diagnostics, []);
  const est = estimateRun(experiment, { sizes: experiment.tasks.map(knownTaskSize), phases: planPhases('sequential', 2) })!;
  assert.equal(est.parameters, 225_034);
  assert.equal(est.steps, 2 * 938);
  assert.equal(est.trainImages, 2 * 938 * 64);
  // Training alone at the measured rate: 120,064 images / 1,200 per second.
  assert.ok(Math.abs(est.trainFlops / EFFECTIVE_FLOPS_PER_SECOND - 120_064 / 1200) < 1e-6);
  assert.ok(est.memoryBytes > 200e6 && est.memoryBytes < 2 * GB, formatBytes(est.memoryBytes));
  assert.ok(est.seconds > 100 && est.seconds < 1800, formatSeconds(est.seconds));
  console.log(`default experiment: ${est.parameters} parameters, ${(est.memoryBytes / 1e6).toFixed(0)} MB, ${est.seconds.toFixed(0)} s (${est.steps} steps)`);
});

test('an MLP of two 100,000-unit layers is refused at model.hidden, with the estimate in human units', () => {
  const text = '{\n  "tasks": [{"dataset": "mnist"}],\n  "model": {"type": "mlp", "hidden": [100000, 100000]}\n}';
  const { experiment, diagnostics } = parse(text, 23 * GB);
  assert.equal(experiment, null);
  const memory = diagnostics.filter((d) => d.severity === 'error' && /needs about/.test(d.message));
  assert.equal(memory.length, 1);
  const [d] = memory;
  assert.equal(d.pointer, '/model/hidden');
  assert.equal(at(text, d), '[100000, 100000]');
  assert.equal(d.line, 3);
  // 784x1e5 + 1e5x1e5 + 1e5x10 weights (+ biases) ~ 1.0e10 parameters, x4 bytes x (weights, 2 gradients, 2 Adam moments).
  assert.match(d.message, /^the run needs about 20\d GB of memory \(1\.0e10 parameters; most of it for weights, gradients and optimizer state, 20\d GB\) but this machine has 23 GB: use a smaller model$/);
  // The same model on a machine big enough is not refused for memory.
  assert.equal(parse(text, 1e15).diagnostics.filter((x) => /needs about/.test(x.message)).length, 0);
});

test('the same MLP over two tasks (its weight checkpoints now the biggest part) is still refused at the model, which causes it', () => {
  const text = '{\n  "tasks": [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}],\n  "model": {"type": "mlp", "hidden": [100000, 100000]}\n}';
  const { diagnostics } = parse(text, 23 * GB);
  const [d] = diagnostics.filter((x) => x.severity === 'error' && /needs about/.test(x.message));
  assert.ok(d, 'refused for memory');
  assert.equal(d.pointer, '/model/hidden');
  assert.match(d.message, /most of it for \d+ trajectory checkpoints of the weights, [\d.]+ TB; weights, gradients and optimizer state alone need 20\d GB\) but this machine has 23 GB: use a smaller model$/);
});

test('the memory limit comes from the injected machine', () => {
  const text = '{"tasks": [{"dataset": "mnist"}], "landscape": false}';
  assert.deepEqual(parse(text, 16 * GB).diagnostics, []);
  const small = parse(text, 100e6);
  assert.equal(small.experiment, null);
  const [d] = small.diagnostics;
  assert.match(d.message, /needs about [\d.]+ MB of memory \(225,034 parameters; most of it for the images of tasks\[0\], .*\) but this machine has 100 MB: train on fewer examples/);
  assert.equal(d.pointer, '/tasks/0');
  assert.equal(at(text, d), '{"dataset": "mnist"}');
});

test('a replay memory of a billion examples is refused at strategy.memorySize', () => {
  const text = '{"tasks": [{"dataset": "mnist"}], "strategy": {"name": "replay", "memorySize": 1000000000}}';
  const { experiment, diagnostics } = parse(text);
  assert.equal(experiment, null);
  const [d] = resourceDiagnostics(diagnostics);
  assert.equal(d.pointer, '/strategy/memorySize');
  assert.equal(at(text, d), '1000000000');
  assert.match(d.message, /needs about 3\.\d TB .*replay's memory of 1\.0e9 examples.*use a smaller memorySize/);
});

test('epochs: 1e9 is refused as a run that would never finish; a run of days gets a warning with the estimate', () => {
  const never = '{"tasks": [{"dataset": "mnist"}], "training": {"epochs": 1e9, "evalEvery": 1000000000}, "landscape": false}';
  const refused = parse(never);
  assert.equal(refused.experiment, null);
  const time = refused.diagnostics.filter((d) => /would take/.test(d.message));
  assert.equal(time.length, 1);
  assert.equal(time[0].severity, 'error');
  assert.equal(at(never, time[0]), '1e9');
  assert.match(time[0].message, /about [\d,]+ years \(9\.4e11 steps, 6\.0e13 training .*\): more than a year/);

  // 2,000 epochs of MNIST: 1.9e6 steps of 64 images, ~30 hours at 1,200 images/s: valid, with a warning.
  const long = '{"tasks": [{"dataset": "mnist"}], "training": {"epochs": 2000, "evalEvery": 100000}, "landscape": false}';
  const warned = parse(long);
  assert.ok(warned.experiment, JSON.stringify(warned.diagnostics));
  const [w] = warned.diagnostics;
  assert.equal(warned.diagnostics.length, 1);
  assert.equal(w.severity, 'warning');
  assert.equal(at(long, w), '2000');
  assert.match(w.message, /^the run will take about \d+\.\d hours \(1,876,000 steps, 1\.2e8 training/);

  // 20 epochs: under a day, nothing to say.
  assert.deepEqual(parse('{"tasks": [{"dataset": "mnist"}], "training": {"epochs": 20}, "landscape": false}').diagnostics, []);
  assert.ok(LONG_RUN_SECONDS === 86400 && HARD_CAP_SECONDS === 365 * 86400);
});

test('a landscape kept over a million steps runs out of memory in its checkpoints, said at the steps', () => {
  const text = '{"tasks": [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}], "training": {"epochs": 1000, "evalEvery": 100000}}';
  const { experiment, diagnostics } = parse(text);
  assert.equal(experiment, null);
  const [d] = diagnostics.filter((x) => x.severity === 'error');
  assert.match(d.message, /most of it for 37,52\d trajectory checkpoints of the weights.*raise landscape\.checkpointEvery/);
  assert.equal(at(text, d), '1000');
  assert.equal(d.pointer, '/training/epochs');
});

test('idx tasks are estimated without their data and say so', () => {
  const text = '{"tasks": [{"dataset": "idx", "path": "data"}], "model": {"type": "mlp", "hidden": [100000, 100000]}}';
  const [d] = parse(text, 23 * GB).diagnostics.filter((x) => /needs about/.test(x.message));
  assert.match(d.message, /not counting the data of tasks\[0\] \(idx\), sized only at run time/);
});

test('every example validates on a 16 GB machine without resource diagnostics', () => {
  const dir = join(__dirname, '..', '..', 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.cl.json'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const { experiment, diagnostics } = parseExperiment(readFileSync(join(dir, f), 'utf8'), join(dir, f), machine(16 * GB));
    assert.ok(experiment, f);
    assert.deepEqual(resourceDiagnostics(diagnostics), [], f);
  }
});

test('human units', () => {
  assert.equal(formatBytes(23e9), '23 GB');
  assert.equal(formatBytes(1.5e6), '1.5 MB');
  assert.equal(formatBytes(812), '812 bytes');
  assert.equal(formatBytes(Infinity), 'more than can be counted');
  assert.equal(formatSeconds(40), '40 seconds');
  assert.equal(formatSeconds(3 * 3600), '3.0 hours');
  assert.equal(formatSeconds(3 * 86400), '3.0 days');
  assert.equal(formatSeconds(1600 * 365 * 86400), '1,600 years');
});
