// What keeps a run's memory small without changing its numbers: training images kept as bytes and
// normalised per batch (bitwise the old float32 normalisation), evaluation freeing each batch's
// activations (bitwise the old single-tidy evaluation), a constant tensor count across steps, and
// the landscape pool's sets in shared memory. Real MNIST and Fashion-MNIST subsets on wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import type { ClassifierModel, EvalSet, TF } from '../../src/engine/models/types';
import { loadTaskData, type TaskData } from '../../src/engine/data/scenarios/taskData';
import { concatImages, gatherImages, imageCount, pixelBytes, pixelLevels, type PixelBytes } from '../../src/engine/data/pixels';
import { buildHead } from '../../src/engine/train/head';
import { concatTrainSets, createOptimizer, createStrategyEnv, epochOrder, makeBatch, planPhases, runPhases } from '../../src/engine/train/loop';
import { EVAL_FORWARD_ROWS, evaluateModel } from '../../src/engine/train/evaluate';
import { poolSetsFromTensors, sharedPoolSets } from '../../src/engine/landscape/pool';
import type { TrainSet } from '../../src/engine/strategies/types';
import { memoryTracer } from '../../src/engine/memoryTrace';
import type { NormalisedExperiment, TrainingSpec } from '../../src/protocol/experiment';

const PIXELS = 784;

/** The normalisation the runner applied to whole sets before images were kept as bytes (verbatim). */
function oldNormalisedImages(images: Uint8Array, pixels: number, mean: number, std: number): Float32Array {
  const n = images.length / pixels;
  const out = new Float32Array(n * pixels);
  const scale = 1 / (255 * std);
  const shift = mean / std;
  for (let k = 0; k < n; k++) {
    const dst = k * pixels;
    for (let p = 0; p < pixels; p++) out[dst + p] = images[dst + p] * scale - shift;
  }
  return out;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

let loaded: Promise<TaskData[]> | null = null;
function twoDatasets(): Promise<TaskData[]> {
  loaded ??= Promise.all(
    (['mnist', 'fashion-mnist'] as const).map((dataset, i) => loadTaskData({ dataset, train: 300, test: 600 }, i, 5, { allowDownload: false })),
  );
  return loaded;
}

function trainSets(data: TaskData[], asBytes: boolean): TrainSet[] {
  const head = buildHead('domain-il', data);
  return data.map((d, i) => {
    const labels = Int32Array.from(d.train.labels, (l) => head.units[i][d.classIds.indexOf(l)]);
    const images = asBytes ? pixelBytes(d.train.images, d.mean, d.std) : oldNormalisedImages(d.train.images, PIXELS, d.mean, d.std);
    return { images, labels, tasks: new Int32Array(labels.length).fill(i), n: labels.length, shape: [28, 28, 1] };
  });
}

test('bytes normalised per batch are bitwise the float32 normalisation of the whole set, at a quarter of its memory', async () => {
  for (const d of await twoDatasets()) {
    const old = oldNormalisedImages(d.train.images, PIXELS, d.mean, d.std);
    const store = pixelBytes(d.train.images, d.mean, d.std);
    assert.ok(store.bytes instanceof Uint8Array && store.bytes.length === d.train.n * PIXELS, 'one byte a pixel');
    assert.equal(imageCount(store, PIXELS), d.train.n);
    // Every byte value, not only those this subset happens to contain.
    const all = Uint8Array.from({ length: 256 }, (_, b) => b);
    assert.deepEqual(bits(pixelLevels(d.mean, d.std)), bits(oldNormalisedImages(all, 1, d.mean, d.std)));
    // A shuffled batch order, as the loop reads it.
    const order = epochOrder(d.train.n, 7, 0, 0);
    const gathered = gatherImages(store, PIXELS, order);
    const expected = gatherImages(old, PIXELS, order);
    assert.deepEqual(bits(gathered), bits(expected), `${d.label}: per-batch normalisation differs`);
    assert.ok(gathered.some((v) => v !== gathered[0]), 'real images, not a constant');
  }
});

test('a joint phase over two datasets keeps bytes with one normalisation each, and its batches are bitwise the float batches', async () => {
  const { tf } = await loadBackend('wasm');
  const data = await twoDatasets();
  assert.notEqual(data[0].mean, data[1].mean, 'MNIST and Fashion-MNIST normalise differently');
  const bytes = concatTrainSets(trainSets(data, true));
  const floats = concatTrainSets(trainSets(data, false));
  const store = bytes.images as PixelBytes;
  assert.ok(store.bytes instanceof Uint8Array, 'the union is still bytes');
  assert.equal(store.levels.length, 512, 'two normalisations');
  assert.deepEqual([store.group![0], store.group![bytes.n - 1]], [0, 1]);
  const head = buildHead('domain-il', data);
  const order = epochOrder(bytes.n, 3, 0, 0);
  for (let start = 0; start < bytes.n; start += 128) {
    const size = Math.min(128, bytes.n - start);
    const a = makeBatch(tf, head, [0, 1], bytes, order, start, size);
    const b = makeBatch(tf, head, [0, 1], floats, order, start, size);
    assert.deepEqual(bits(a.x.dataSync() as Float32Array), bits(b.x.dataSync() as Float32Array));
    assert.deepEqual(a.y.dataSync(), b.y.dataSync());
    assert.deepEqual(a.tasks, b.tasks);
    tf.dispose([a.x, a.y, b.x, b.y]);
  }
  // Concatenating a union again finds the same two normalisations (no duplicate blocks).
  const twice = concatImages([{ images: store, n: bytes.n }, { images: store, n: bytes.n }], PIXELS) as PixelBytes;
  assert.equal(twice.levels.length, 512);
});

const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.002, batchSize: 32, epochs: 1, evalEvery: 1000, evalSamples: 100 };

async function train(tf: TF, data: TaskData[], asBytes: boolean, onStep: () => void): Promise<{ model: ClassifierModel; weights: Float32Array[] }> {
  const head = buildHead('domain-il', data);
  const model = buildModel(tf, { type: 'cnn', conv: [{ filters: 4, kernel: 3, pool: 2 }], dense: [16] }, [28, 28, 1], head.outputs, 2);
  const experiment: NormalisedExperiment = { name: 'bytes', seed: 2, tasks: [], scenario: 'domain-il', model: { type: 'mlp', hidden: [16] }, training, strategy: { name: 'naive' }, landscape: false };
  const env = createStrategyEnv({ tf, model, head, experiment, tasks: trainSets(data, asBytes), strategyName: 'naive', log: () => {} });
  await runPhases({ tf, env, strategy: {}, optimizer: createOptimizer(tf, training), phases: planPhases('sequential', 2), training: { ...training, iterations: 8 }, seed: 2, observers: [{ stepDone: onStep }] });
  return { model, weights: model.params.map((p) => p.variable.dataSync() as Float32Array) };
}

test('training on byte-backed sets gives bitwise the weights of float-backed sets; the tensor count is constant across steps', async () => {
  const { tf } = await loadBackend('wasm');
  const data = await twoDatasets();
  const counts: number[] = [];
  const a = await train(tf, data, true, () => counts.push(tf.memory().numTensors));
  const b = await train(tf, data, false, () => undefined);
  a.weights.forEach((w, k) => assert.deepEqual(bits(w), bits(b.weights[k]), `parameter ${a.model.params[k].name}`));
  assert.equal(counts.length, 16);
  // The optimizer's slots appear with the first step; after that nothing accumulates.
  assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensors per step ${counts.join(',')}`);
  a.model.dispose();
  b.model.dispose();
});

/** The evaluation as it was: every batch inside one tidy (all activations alive until the end). */
function oneTidyEvaluation(tf: TF, model: ClassifierModel, set: EvalSet, batchSize: number, mask: tfjs.Tensor1D | null) {
  const n = set.labels.shape[0];
  const totals = tf.tidy(() => {
    let correct = tf.scalar(0);
    let lossSum = tf.scalar(0);
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const x = set.images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
      const y = set.labels.slice([start], [size]);
      const logits = model.forward(x);
      const logp = tf.logSoftmax(mask ? tf.add(logits, mask) : logits);
      lossSum = tf.sub(lossSum, tf.sum(tf.mul(logp, tf.oneHot(y, model.outputs))));
      correct = tf.add(correct, tf.sum(tf.cast(tf.equal(tf.argMax(mask ? tf.add(logits, mask) : logits, 1), y), 'float32')));
    }
    return tf.stack([correct, lossSum]);
  });
  const [correct, lossSum] = totals.dataSync();
  totals.dispose();
  return { accuracy: correct / n, loss: lossSum / n };
}

test('evaluation frees each batch (and forward chunk) before the next: bitwise the single-tidy results, no tensor left behind', async () => {
  const { tf } = await loadBackend('wasm');
  const data = await twoDatasets();
  const { model } = await train(tf, data, true, () => undefined);
  const d = data[1];
  const head = buildHead('domain-il', data);
  const set: EvalSet = {
    images: tf.tensor4d(gatherImages(pixelBytes(d.test.images, d.mean, d.std), PIXELS, Int32Array.from({ length: d.test.n }, (_, i) => i)), [d.test.n, 28, 28, 1]),
    labels: tf.tensor1d(Int32Array.from(d.test.labels, (l) => head.units[1][d.classIds.indexOf(l)]), 'int32'),
  };
  const mask = tf.tensor1d(Float32Array.from({ length: head.outputs }, (_, k) => (k === 3 ? -1e9 : 0)));
  const before = tf.memory().numTensors;
  // Batches above EVAL_FORWARD_ROWS are computed in row chunks on wasm: still bitwise the same.
  assert.ok(d.test.n > EVAL_FORWARD_ROWS);
  for (const batch of [64, 300, 1000]) {
    for (const m of [null, mask]) {
      const now = evaluateModel(tf, model, set, batch, { mask: m });
      const old = oneTidyEvaluation(tf, model, set, batch, m);
      assert.ok(Object.is(now.loss, old.loss) && Object.is(now.accuracy, old.accuracy), `batch ${batch}${m ? ', masked' : ''}: ${JSON.stringify(now)} vs ${JSON.stringify(old)}`);
      assert.equal(tf.memory().numTensors, before, 'evaluation leaves no tensor');
    }
  }
  const out = evaluateModel(tf, model, set, 100);
  assert.ok(out.loss > 0 && Number.isFinite(out.loss) && out.accuracy > 0, `a real evaluation: ${JSON.stringify(out)}`);
  tf.dispose([set.images, set.labels, mask]);
  model.dispose();
});

test('the landscape pool gets its evaluation sets in shared memory, values unchanged', async () => {
  const { tf } = await loadBackend('wasm');
  const images = Float32Array.from({ length: 3 * 16 }, (_, i) => i / 7);
  const labels = Int32Array.from([2, 0, 1]);
  const set: EvalSet = { images: tf.tensor4d(images, [3, 4, 4, 1]), labels: tf.tensor1d(labels, 'int32'), mask: tf.tensor1d([0, -1e9, 0]) };
  const [shared] = poolSetsFromTensors([set]);
  for (const a of [shared.images, shared.labels, shared.mask!]) assert.ok(a.buffer instanceof SharedArrayBuffer);
  assert.deepEqual(bits(shared.images), bits(images));
  assert.deepEqual(shared.labels, labels);
  assert.deepEqual(Array.from(shared.mask!), [0, -1e9, 0].map(Math.fround));
  // Already shared arrays are passed on as they are (no further copy).
  const [again] = sharedPoolSets([shared]);
  assert.equal(again.images, shared.images);
  tf.dispose([set.images, set.labels, set.mask!]);
});

test('CLW_MEMORY_TRACE=1 makes the tracer log resident, peak and wasm heap sizes; unset, it logs nothing', async () => {
  const { tf } = await loadBackend('wasm');
  const saved = process.env.CLW_MEMORY_TRACE;
  const lines: string[] = [];
  try {
    delete process.env.CLW_MEMORY_TRACE;
    memoryTracer(tf, (l) => lines.push(l))('off');
    process.env.CLW_MEMORY_TRACE = '1';
    memoryTracer(tf, (l) => lines.push(l))('data ready');
  } finally {
    if (saved === undefined) delete process.env.CLW_MEMORY_TRACE;
    else process.env.CLW_MEMORY_TRACE = saved;
  }
  assert.equal(lines.length, 1);
  const m = /^memory at data ready: rss (\d+) MB, peak (\d+) MB, .*tensors \d+ .*wasm heap (\d+) MB$/.exec(lines[0]);
  assert.ok(m, lines[0]);
  assert.ok(Number(m[2]) >= Number(m[1]) && Number(m[3]) >= 16, lines[0]);
});
