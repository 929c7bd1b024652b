// The fused Adam (train/adam.ts, backend/wasmAdam.ts) against tfjs's own tf.train.adam: bitwise equal
// weights and moments on wasm (the fused kernel) and on cpu / with SIMD off (tfjs's ops), no leak,
// and a real engine training run that ends on the same bits with either optimizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { setWasmSimdKernelsEnabled } from '../../src/engine/backend/wasmAsm';
import { ADAM_KERNEL, registerWasmAdamKernel, wasmAdamAvailable } from '../../src/engine/backend/wasmAdam';
import { createAdam } from '../../src/engine/train/adam';
import { buildModel } from '../../src/engine/models/build';
import { createRng, gaussian } from '../../src/engine/random';
import { loadTaskData, normalisedImages } from '../../src/engine/data/scenarios/taskData';
import { buildHead } from '../../src/engine/train/head';
import { createStrategyEnv, planPhases, runPhases } from '../../src/engine/train/loop';
import type { TF } from '../../src/engine/models/types';
import type { TrainSet } from '../../src/engine/strategies/types';
import type { ResolvedModelSpec, NormalisedExperiment, TrainingSpec } from '../../src/protocol/experiment';

const SHAPES = [[784, 400], [400], [3, 3, 1, 32], [7], [1], [5, 3]];

/** Values over many magnitudes, with exact zeros and float32 subnormals (Adam's v' underflows there). */
function values(rng: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng();
    out[i] = u < 0.02 ? 0 : u < 0.04 ? gaussian(rng) * 1e-40 : gaussian(rng) * 10 ** (-7 + 8 * rng());
  }
  return out;
}

const bytes = (t: tfjs.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

function assertSameBits(a: tfjs.Tensor[], b: tfjs.Tensor[], what: string): void {
  a.forEach((t, k) => {
    const x = bytes(t);
    const y = bytes(b[k]);
    if (!x.equals(y)) {
      const fx = new Float32Array(x.buffer, x.byteOffset, x.length / 4);
      const fy = new Float32Array(y.buffer, y.byteOffset, y.length / 4);
      const i = fx.findIndex((v, j) => !Object.is(v, fy[j]));
      assert.fail(`${what}: variable ${k} [${t.shape}] differs first at ${i}: ${fx[i]} vs ${fy[i]}`);
    }
  });
}

/** Two copies of the same variables stepped by tf.train.adam and by createAdam with the same seeded gradients. */
async function compareWithTfjs(tf: TF, opts: { steps: number; learningRate: number; seed: number; expectFused: boolean }) {
  const rng = createRng(opts.seed);
  const init = SHAPES.map((s) => values(rng, s.reduce((a, d) => a * d, 1)));
  const ref = SHAPES.map((s, k) => tf.variable(tf.tensor(init[k], s)));
  const ours = SHAPES.map((s, k) => tf.variable(tf.tensor(init[k], s)));
  // As the engine holds them (loop.ts: tfjs.Optimizer, gradients as a NamedTensorMap).
  const refOpt: tfjs.Optimizer = tf.train.adam(opts.learningRate, 0.9, 0.999, 1e-8);
  const opt: tfjs.Optimizer = createAdam(tf, opts.learningRate, 0.9, 0.999, 1e-8);
  const kernelsSeen = new Set<string>();
  const counts: number[] = [];
  for (let step = 0; step < opts.steps; step++) {
    const grads = SHAPES.map((s) => tf.tensor(values(rng, s.reduce((a, d) => a * d, 1)), s));
    refOpt.applyGradients(Object.fromEntries(ref.map((v, k) => [v.name, grads[k]])));
    // Alternate the two gradient forms applyGradients accepts.
    const named = ours.map((v, k) => ({ name: v.name, tensor: grads[k] }));
    if (step === 3) {
      const info = await tf.profile(() => void opt.applyGradients(named));
      info.kernels.forEach((k) => kernelsSeen.add(k.name));
    } else {
      opt.applyGradients(step % 2 ? named : Object.fromEntries(named.map((g) => [g.name, g.tensor])));
    }
    grads.forEach((g) => g.dispose());
    assertSameBits(ours, ref, `step ${step + 1}`);
    counts.push(tf.memory().numTensors);
  }
  // The moments too (getWeights: iterations, then m and v per variable).
  const [refState, state] = [await refOpt.getWeights(), await opt.getWeights()];
  assert.equal(state.length, refState.length);
  assertSameBits(state.map((w) => w.tensor), refState.map((w) => w.tensor), 'optimizer state');
  assert.equal(kernelsSeen.has(ADAM_KERNEL), opts.expectFused, `kernels of one step: ${[...kernelsSeen].join(', ')}`);
  if (opts.expectFused) assert.ok(!kernelsSeen.has('Sqrt') && !kernelsSeen.has('RealDiv'), 'no elementwise pass of tfjs\'s Adam');
  assert.ok(counts.every((c) => c === counts[0]), `tensors after each step: ${counts.join(',')}`);
  const before = tf.memory().numTensors;
  opt.dispose();
  assert.equal(tf.memory().numTensors, before - (2 + 2 * SHAPES.length), 'dispose frees accBeta1/2 and every moment');
  refOpt.dispose();
  [...ref, ...ours].forEach((v) => v.dispose());
}

test('wasm: the fused Adam update is bitwise tf.train.adam (weights and moments, 30 steps, odd lengths)', async () => {
  const { tf } = await loadBackend('wasm');
  assert.ok(wasmAdamAvailable(tf), 'the SIMD module instantiates on this wasm build');
  await compareWithTfjs(tf, { steps: 30, learningRate: 1e-3, seed: 7, expectFused: true });
  await compareWithTfjs(tf, { steps: 26, learningRate: 0.0123, seed: 8, expectFused: true });
});

test('wasm with the SIMD kernels off, and cpu: createAdam is tfjs\'s Adam', async () => {
  const { tf } = await loadBackend('wasm');
  const previous = setWasmSimdKernelsEnabled(false);
  try {
    assert.ok(!wasmAdamAvailable(tf));
    await compareWithTfjs(tf, { steps: 25, learningRate: 1e-3, seed: 9, expectFused: false });
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
  const cpu = await loadBackend('cpu');
  try {
    assert.ok(!wasmAdamAvailable(cpu.tf));
    await compareWithTfjs(cpu.tf, { steps: 25, learningRate: 1e-3, seed: 10, expectFused: false });
  } finally {
    await loadBackend('wasm');
  }
});

test('the kernel\'s JS loop (no SIMD module) writes the same bits as its SIMD loop, into new buffers', async () => {
  const { tf } = await loadBackend('wasm');
  registerWasmAdamKernel(tf);
  const rng = createRng(11);
  const n = 1031;
  const [w, m, g] = [values(rng, n), values(rng, n), values(rng, n)].map((a) => tf.tensor1d(a));
  const v = tf.tensor1d(values(rng, n).map(Math.abs));
  const attrs = {
    beta1: Math.fround(0.9), oneMinusBeta1: Math.fround(1 - 0.9), beta2: Math.fround(0.999), oneMinusBeta2: Math.fround(1 - 0.999),
    oneMinusAccBeta1: Math.fround(1 - 0.9 ** 3), oneMinusAccBeta2: Math.fround(1 - 0.999 ** 3), epsilon: Math.fround(1e-8), negLearningRate: Math.fround(-1e-3),
  };
  const inputsBefore = [w, m, v, g].map(bytes);
  const run = () => tf.engine().runKernel(ADAM_KERNEL, { w, m, v, g }, attrs) as tfjs.Tensor[];
  const simd = run();
  const previous = setWasmSimdKernelsEnabled(false);
  let js: tfjs.Tensor[];
  try {
    js = run();
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
  assertSameBits(simd, js, 'SIMD vs JS');
  [w, m, v, g].forEach((t, k) => assert.ok(bytes(t).equals(inputsBefore[k]), `input ${k} untouched`));
  assert.ok(!bytes(simd[0]).equals(inputsBefore[0]), 'the weights moved');
  [...simd, ...js, w, m, v, g].forEach((t) => t.dispose());
});

test('a real engine run (MNIST, MLP and CNN, two phases) ends on the same bits with createAdam as with tf.train.adam', async () => {
  const { tf } = await loadBackend('wasm');
  const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.002, batchSize: 32, epochs: 1, evalEvery: 1000, evalSamples: 100, iterations: 8 };
  const raw = await Promise.all([[0, 1], [2, 3]].map((c, i) => loadTaskData({ dataset: 'mnist', classes: c, train: 128, test: 20 }, i, 1, { allowDownload: false })));
  const head = buildHead('class-il', raw);
  const sets: TrainSet[] = raw.map((d, i) => {
    const unit = new Map(d.classIds.map((c, k) => [c, head.units[i][k]]));
    const labels = Int32Array.from(d.train.labels, (l) => unit.get(l)!);
    return { images: normalisedImages(d.train.images, null, 784, d.mean, d.std), labels, tasks: new Int32Array(labels.length).fill(i), n: labels.length, shape: [28, 28, 1] };
  });
  const specs: ResolvedModelSpec[] = [
    { type: 'mlp', hidden: [64, 32] },
    { type: 'cnn', conv: [{ filters: 8, kernel: 3, pool: 2 }, { filters: 16, kernel: 3, pool: 2 }], dense: [32] },
  ];
  for (const spec of specs) {
    const train = async (optimizer: tfjs.Optimizer) => {
      const model = buildModel(tf, spec, [28, 28, 1], head.outputs, 3);
      const experiment: NormalisedExperiment = { name: 'adam', seed: 3, tasks: [], scenario: 'class-il', model: spec, training, strategy: { name: 'naive' }, landscape: false };
      const env = createStrategyEnv({ tf, model, head, experiment, tasks: sets, strategyName: 'naive', log: () => {} });
      const counts: number[] = [];
      await runPhases({ tf, env, strategy: {}, optimizer, phases: planPhases('sequential', 2), training, seed: 3, observers: [{ stepDone: () => void counts.push(tf.memory().numTensors) }] });
      const weights = model.params.map((p) => tf.clone(p.variable));
      optimizer.dispose();
      model.dispose();
      return { weights, counts };
    };
    const ref = await train(tf.train.adam(training.learningRate, 0.9, 0.999, 1e-8));
    const ours = await train(createAdam(tf, training.learningRate, 0.9, 0.999, 1e-8));
    assertSameBits(ours.weights, ref.weights, `${spec.type} after 16 steps`);
    assert.ok(ours.counts.slice(1).every((c) => c === ours.counts[1]), `tensors per step ${ours.counts.join(',')}`);
    [...ours.weights, ...ref.weights].forEach((t) => t.dispose());
  }
});
