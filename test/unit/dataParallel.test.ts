// Data-parallel training on worker threads (src/engine/train/parallel): real tfjs wasm in the main
// thread and in the workers, small real MNIST subsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import { loadTaskData, normalisedImages } from '../../src/engine/data/scenarios/taskData';
import { buildHead } from '../../src/engine/train/head';
import { concatTrainSets, createOptimizer, createStrategyEnv, crossEntropy, disposeBatch, epochOrder, makeBatch, maskedLogits, parameterGradients } from '../../src/engine/train/loop';
import { canTrainDataParallel, createDataParallel, dataParallelStep } from '../../src/engine/train/parallel/dataParallel';
import { laneRows } from '../../src/engine/train/parallel/lane';
import type { NormalisedExperiment, ResolvedModelSpec, TrainingSpec } from '../../src/protocol/experiment';
import type { StepContext, TrainSet } from '../../src/engine/strategies/types';

const spec: ResolvedModelSpec = { type: 'cnn', conv: [{ filters: 4, kernel: 3, pool: 2 }], dense: [8] };
const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.002, batchSize: 24, epochs: 1, evalEvery: 1000, evalSamples: 10 };

/** Two task-IL tasks of real MNIST (0/1 and 2/3): every batch mixes tasks, so rows carry different masks. */
async function setup() {
  const { tf } = await loadBackend('wasm');
  const raw = await Promise.all([[0, 1], [2, 3]].map((classes, i) => loadTaskData({ dataset: 'mnist', classes, train: 48, test: 10 }, i, 1, { allowDownload: false })));
  const head = buildHead('task-il', raw);
  const sets: TrainSet[] = raw.map((d, i) => {
    const unit = new Map(d.classIds.map((c, k) => [c, head.units[i][k]]));
    const labels = Int32Array.from(d.train.labels, (l) => unit.get(l)!);
    return { images: normalisedImages(d.train.images, null, 784, d.mean, d.std), labels, tasks: new Int32Array(labels.length).fill(i), n: labels.length, shape: [28, 28, 1] };
  });
  const train = concatTrainSets(sets);
  const experiment: NormalisedExperiment = { name: 'dp', seed: 5, tasks: [], scenario: 'task-il', model: spec, training, strategy: { name: 'naive' }, landscape: false };
  const order = epochOrder(train.n, 5, 0, 0);
  const ctx = (step: number): StepContext => ({ phase: 0, tasks: [0, 1], train, seenTasks: [0, 1], step });
  return { tf, head, sets, train, experiment, order, ctx };
}

const flat = (ts: readonly tfjs.Tensor[]) => ts.map((t) => Float32Array.from(t.dataSync()));
const weights = (model: { params: { variable: tfjs.Variable }[] }) => flat(model.params.map((p) => p.variable));

/** max |a - b| / max |b| per tensor. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

test('lanes cut a batch into contiguous rows whose sizes differ by at most one', () => {
  assert.deepEqual([0, 1].map((l) => laneRows(64, 2, l)), [[0, 32], [32, 64]]);
  assert.deepEqual([0, 1, 2].map((l) => laneRows(7, 3, l)), [[0, 2], [2, 4], [4, 7]]);
  assert.deepEqual([0, 1].map((l) => laneRows(1, 2, l)), [[0, 0], [0, 1]]);
  assert.equal(canTrainDataParallel({}), true);
  assert.equal(canTrainDataParallel({ penalty: () => null }), false, 'a penalty of the logits must run in the tape');
});

test('data-parallel gradients equal the full batch gradients (masked task-IL batch), and the same bits wherever the lanes run', async () => {
  const { tf, head, train, order } = await setup();
  const model = buildModel(tf, spec, [28, 28, 1], head.outputs, 3);
  const batch = makeBatch(tf, head, [0, 1], train, order, 0, 24);
  assert.ok(batch.mask, 'task-IL batches carry masks');
  const l2 = () => tf.mul(0.01, tf.addN(model.params.map((p) => tf.sum(tf.square(p.variable))))) as tfjs.Scalar;
  const full = parameterGradients(tf, model, () => tf.tidy(() => tf.add(crossEntropy(tf, maskedLogits(tf, model, batch), batch.y, model.outputs), l2()) as tfjs.Scalar));
  const expected = flat(full.grads);
  const expectedLoss = full.value.dataSync()[0];
  tf.dispose([full.value, ...full.grads]);

  const mixed = await createDataParallel({ tf, model, spec, lanes: 2, workers: 1 });
  const remote = await createDataParallel({ tf, model, spec, lanes: 2, workers: 2 });
  const here = await createDataParallel({ tf, model, spec, lanes: 2, workers: 0 });
  try {
    assert.equal(mixed.lanes, 2);
    assert.equal(here.liveWorkers(), 0);
    const a = await mixed.gradients(batch, l2);
    const b = await remote.gradients(batch, l2);
    const h = await here.gradients(batch, l2);
    const ga = flat(a.grads);
    const gb = flat(b.grads);
    const gh = flat(h.grads);
    tf.dispose([...a.grads, ...b.grads, ...h.grads]);
    ga.forEach((g, k) => assert.ok(relativeError(g, expected[k]) < 1e-5, `${model.params[k].name}: relative error ${relativeError(g, expected[k])}`));
    assert.ok(Math.abs(a.loss - expectedLoss) < 1e-5 * expectedLoss, `loss ${a.loss} vs ${expectedLoss}`);
    assert.ok(expected.some((g) => g.some((v) => v !== 0)), 'the gradients are not all zero');
    // The same lane maths on the same backend, summed in lane order: the same bits on 0, 1 or 2 workers.
    assert.deepEqual(gb, ga);
    assert.deepEqual(gh, ga);
    assert.equal(b.loss, a.loss);
    assert.equal(h.loss, a.loss);
  } finally {
    disposeBatch(batch);
    await Promise.all([mixed.dispose(), remote.dispose(), here.dispose()]);
    model.dispose();
  }
});

test('the same seed gives bitwise the same weights after several data-parallel steps; the tensor count stays constant', async () => {
  const { tf, head, sets, train, experiment, order, ctx } = await setup();
  const steps = 4;
  const run = async (track: number[]) => {
    const model = buildModel(tf, spec, [28, 28, 1], head.outputs, experiment.seed);
    const env = createStrategyEnv({ tf, model, head, experiment, tasks: sets, strategyName: 'naive', log: () => {} });
    const optimizer = createOptimizer(tf, training);
    const trainer = await createDataParallel({ tf, model, spec, lanes: 2, workers: 1 });
    const initial = weights(model);
    try {
      for (let s = 0; s < steps; s++) {
        const batch = makeBatch(tf, head, [0, 1], train, order, (s * 24) % train.n, 24);
        try {
          const loss = await dataParallelStep(trainer, env, optimizer, {}, batch, ctx(s + 1));
          assert.ok(Number.isFinite(loss));
        } finally {
          disposeBatch(batch);
        }
        track.push(tf.memory().numTensors);
      }
      const out = weights(model);
      assert.notDeepEqual(out, initial, 'training moved the weights');
      return out;
    } finally {
      await trainer.dispose();
      optimizer.dispose();
      model.dispose();
    }
  };
  const counts: number[] = [];
  const first = await run(counts);
  const second = await run([]);
  assert.deepEqual(second, first);
  assert.equal(new Set(counts.slice(1)).size, 1, `tensor counts across steps: ${counts.join(', ')}`);
});

test('dispose terminates the workers and rejects a pending step', async () => {
  const { tf, head, train, order } = await setup();
  const model = buildModel(tf, spec, [28, 28, 1], head.outputs, 1);
  const trainer = await createDataParallel({ tf, model, spec, lanes: 2, workers: 2 });
  const batch = makeBatch(tf, head, [0, 1], train, order, 0, 24);
  try {
    assert.equal(trainer.liveWorkers(), 2);
    const pending = assert.rejects(trainer.gradients(batch), /disposed/); // posted to the workers synchronously
    await trainer.dispose();
    assert.equal(trainer.liveWorkers(), 0);
    await pending;
    await assert.rejects(trainer.gradients(batch), /disposed/);
  } finally {
    disposeBatch(batch);
    model.dispose();
  }
});
