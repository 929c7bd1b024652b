// LwF and iCaRL: their defining properties on hand-built cases and on small real MNIST subsets
// (wasm backend), and a class-IL Split-MNIST run where iCaRL keeps the first task and fine-tuning does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { resolveDataset } from '../../src/engine/data/resolve';
import { loadDataset, type LoadedDataset } from '../../src/engine/data/load';
import { buildModel } from '../../src/engine/models/build';
import type { ClassifierModel, TF } from '../../src/engine/models/types';
import type { NormalisedExperiment, Scenario } from '../../src/protocol/experiment';
import { buildHead, maskVector, scoringUnits, type HeadLayout } from '../../src/engine/train/head';
import { createOptimizer, createStrategyEnv, epochOrder, makeBatch, disposeBatch, planPhases, runPhases } from '../../src/engine/train/loop';
import type { PhaseContext, Strategy, StrategyDefinition, StrategyEnv, TrainBatch, TrainSet } from '../../src/engine/strategies/types';
import { distillationKL, lwf } from '../../src/engine/strategies/lwf';
import { classMean, createIcarl, herding, icarl, nearestMeanScores, normaliseRows, type IcarlStrategy } from '../../src/engine/strategies/icarl';
import { naive } from '../../src/engine/strategies/naive';
import { createRng, gaussian } from '../../src/engine/random';
import { imageRange } from '../../src/engine/data/pixels';

const SHAPE: [number, number, number] = [28, 28, 1];
const PIXELS = 28 * 28;

let mnistLoad: Promise<LoadedDataset> | null = null;
const mnist = () => (mnistLoad ??= resolveDataset({ dataset: 'mnist' }, { allowDownload: false }).then((r) => loadDataset(r)));

/** The first `perClass` examples of each class of `classIds` in a split, normalised, targets mapped to `units`. */
function classSubset(data: LoadedDataset, split: 'train' | 'test', classIds: number[], units: number[], task: number, perClass: number): TrainSet {
  const s = data[split];
  const picked: number[] = [];
  const taken = new Map<number, number>();
  for (let i = 0; i < s.n && picked.length < perClass * classIds.length; i++) {
    const k = classIds.indexOf(s.labels[i]);
    if (k < 0 || (taken.get(k) ?? 0) >= perClass) continue;
    taken.set(k, (taken.get(k) ?? 0) + 1);
    picked.push(i);
  }
  const images = new Float32Array(picked.length * PIXELS);
  const scale = 1 / (255 * data.std);
  const shift = data.mean / data.std;
  picked.forEach((src, k) => {
    for (let p = 0; p < PIXELS; p++) images[k * PIXELS + p] = s.images[src * PIXELS + p] * scale - shift;
  });
  const labels = Int32Array.from(picked, (i) => units[classIds.indexOf(s.labels[i])]);
  return { images, labels, tasks: new Int32Array(picked.length).fill(task), n: picked.length, shape: SHAPE };
}

/** Split-MNIST tasks {0,1}, {2,3}, ... under a scenario's head, with train and test subsets. */
async function splitMnist(scenario: Scenario, taskCount: number, trainPerClass: number, testPerClass: number) {
  const data = await mnist();
  const classes = Array.from({ length: taskCount }, (_, t) => [2 * t, 2 * t + 1]);
  const head = buildHead(scenario, classes.map((classIds) => ({ classIds, domain: 'mnist' })));
  const train = classes.map((ids, t) => classSubset(data, 'train', ids, head.units[t], t, trainPerClass));
  const test = classes.map((ids, t) => classSubset(data, 'test', ids, head.units[t], t, testPerClass));
  return { head, train, test, classes };
}

function experiment(scenario: Scenario, classes: number[][], strategy: string, hidden: number[]): NormalisedExperiment {
  return {
    name: 'distillation test',
    seed: 11,
    tasks: classes.map((c) => ({ dataset: 'mnist', classes: c })),
    scenario,
    model: { type: 'mlp', hidden },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 32, epochs: 2, evalEvery: 1000, evalSamples: 100 },
    strategy: { name: strategy },
    landscape: false,
  };
}

/**
 * Tensors a buildModel + dispose leaves behind (today its initial-value tensors, one per parameter:
 * a builder issue reported to the lead; 0 once fixed). Snapshots (teachers) are builds too.
 */
function builderLeak(tf: TF, ex: NormalisedExperiment, outputs: number): number {
  const before = tf.memory().numTensors;
  buildModel(tf, ex.model, SHAPE, outputs, ex.seed).dispose();
  return tf.memory().numTensors - before;
}

function setup(tf: TF, ex: NormalisedExperiment, head: HeadLayout, train: TrainSet[]) {
  const model = buildModel(tf, ex.model, SHAPE, head.outputs, ex.seed);
  const env = createStrategyEnv({ tf, model, head, experiment: ex, tasks: train, strategyName: ex.strategy.name, log: () => {} });
  return { model, env };
}

const phaseCtx = (phase: number, train: TrainSet): PhaseContext => ({ phase, tasks: [phase], train, seenTasks: Array.from({ length: phase + 1 }, (_, i) => i) });

/** The first `size` examples of a phase's data (the loop's seeded order) as a batch. */
function firstBatch(tf: TF, env: StrategyEnv, ctx: PhaseContext, size: number): TrainBatch {
  return makeBatch(tf, env.head, ctx.seenTasks, ctx.train, epochOrder(ctx.train.n, 11, ctx.phase, 0), 0, size);
}

function scalar(tf: TF, f: () => tfjs.Scalar): number {
  const t = tf.tidy(f);
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** theta = theta0 + s * delta for every parameter. */
function moveTo(tf: TF, model: ClassifierModel, theta0: Float32Array[], delta: Float32Array[], s: number) {
  model.params.forEach((p, k) => p.variable.assign(tf.tensor(theta0[k].map((v, i) => v + s * delta[k][i]), p.shape)));
}

function noise(model: ClassifierModel, scale: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return model.params.map((p) => Float32Array.from({ length: p.variable.size }, () => scale * gaussian(rng)));
}

// ------------------------------------------------------------------------------------------ LwF

test('lwf: the KL to the softened teacher is T^2 KL of the softmaxes at T (hand check)', async () => {
  const { tf } = await loadBackend('wasm');
  const student = [[1, -1, 0.5], [0, 2, -2]];
  const teacher = [[0.5, 0, 1], [1, 1, -1]];
  const T = 2;
  const softmax = (z: number[]) => {
    const e = z.map((v) => Math.exp(v / T));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const expected = (T * T * student.reduce((sum, z, i) => {
    const p = softmax(teacher[i]);
    const q = softmax(z);
    return sum + p.reduce((acc, pk, k) => acc + pk * Math.log(pk / q[k]), 0);
  }, 0)) / student.length;
  const got = scalar(tf, () => distillationKL(tf, tf.logSoftmax(tf.div(tf.tensor2d(student), T)) as tfjs.Tensor2D, tf.tensor2d(teacher), T));
  assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
  assert.ok(expected > 0);
});

test('lwf: the distillation is 0 when the student is the teacher and grows with the distance from it (task-IL and domain-IL)', async () => {
  const { tf } = await loadBackend('wasm');
  for (const scenario of ['task-il', 'domain-il'] as const) {
    const { head, train, classes } = await splitMnist(scenario, 3, 40, 1);
    const ex = experiment(scenario, classes, 'lwf', [32]);
    const { model, env } = setup(tf, ex, head, train);
    const strategy = lwf.create(env, { temperature: 2, alpha: 1, weighting: 'constant' });
    const ctx = phaseCtx(1, train[1]);
    strategy.beforePhase!(ctx); // the teacher = the model as it is now
    const batch = firstBatch(tf, env, ctx, 64);
    const theta0 = env.readWeights();
    const delta = noise(model, 0.02, 5);
    const kd = [0, 0.25, 0.5, 1].map((s) => {
      moveTo(tf, model, theta0, delta, s);
      return scalar(tf, () => strategy.penalty!(env.logits(batch), batch, { ...ctx, step: 1 })!);
    });
    assert.ok(Math.abs(kd[0]) < 1e-6, `${scenario}: KD at the teacher ${kd[0]}`);
    for (let i = 1; i < kd.length; i++) assert.ok(kd[i] > kd[i - 1], `${scenario}: KD must grow away from the teacher: ${kd.join(', ')}`);
    disposeBatch(batch);
    strategy.dispose!();
    model.dispose();
  }
});

test("lwf class-IL (van de Ven's padding): at the teacher, KD = T^2 * mean(-log of the student's mass on the old units)", async () => {
  const { tf } = await loadBackend('wasm');
  const { head, train, classes } = await splitMnist('class-il', 3, 40, 1);
  const ex = experiment('class-il', classes, 'lwf', [32]);
  const { model, env } = setup(tf, ex, head, train);
  const strategy = lwf.create(env, { temperature: 2, alpha: 1, weighting: 'constant' });
  const ctx = phaseCtx(1, train[1]);
  strategy.beforePhase!(ctx);
  const batch = firstBatch(tf, env, ctx, 64);
  const kd = scalar(tf, () => strategy.penalty!(env.logits(batch), batch, { ...ctx, step: 1 })!);
  // Old units 0,1; the masked logits allow 0..3 (seen), not 4,5.
  const logits = tf.tidy(() => model.forward(batch.x)).arraySync() as number[][];
  const T = 2;
  const expected = (T * T * logits.reduce((sum, z) => {
    const e = z.slice(0, 4).map((v) => Math.exp(v / T));
    return sum - Math.log((e[0] + e[1]) / e.reduce((a, b) => a + b, 0));
  }, 0)) / logits.length;
  assert.ok(kd > 0.1, `the new units' share is a miss: ${kd}`);
  assert.ok(Math.abs(kd - expected) < 1e-4 * expected, `${kd} vs ${expected}`);
  disposeBatch(batch);
  strategy.dispose!();
  model.dispose();
});

test('lwf: units outside the distilled set get exactly the cross-entropy gradient', async () => {
  const { tf } = await loadBackend('wasm');
  // Task-IL: distilled = task 0's units {0,1}; task 1 (current) {2,3} and task 2 {4,5} are not.
  // Class-IL: distilled teacher units {0,1}, the student's softmax spans the seen {0..3}; {4,5} are unseen.
  for (const [scenario, untouched, touched] of [['task-il', [2, 3, 4, 5], [0, 1]], ['class-il', [4, 5], [0, 1, 2, 3]]] as const) {
    const { head, train, classes } = await splitMnist(scenario, 3, 40, 1);
    const ex = experiment(scenario, classes, 'lwf', [32]);
    const { model, env } = setup(tf, ex, head, train);
    const strategy = lwf.create(env, { temperature: 2, alpha: 1, weighting: 'constant' });
    const ctx = phaseCtx(1, train[1]);
    strategy.beforePhase!(ctx);
    moveTo(tf, model, env.readWeights(), noise(model, 0.05, 6), 1); // away from the teacher: KD has gradients
    const batch = firstBatch(tf, env, ctx, 64);
    const withKd = env.gradients(batch, (logits) => tf.add(env.crossEntropy(logits, batch), strategy.penalty!(logits, batch, { ...ctx, step: 1 })!) as tfjs.Scalar);
    const ceOnly = env.gradients(batch);
    const bias = model.params.length - 1; // the output layer's bias
    const a = Array.from(withKd[bias].dataSync());
    const b = Array.from(ceOnly[bias].dataSync());
    for (const u of untouched) assert.equal(a[u], b[u], `${scenario}: unit ${u} must get the CE gradient only`);
    for (const u of touched) assert.ok(Math.abs(a[u] - b[u]) > 1e-7, `${scenario}: unit ${u} is distilled: ${a[u]} vs ${b[u]}`);
    tf.dispose([...withKd, ...ceOnly]);
    disposeBatch(batch);
    strategy.dispose!();
    model.dispose();
  }
});

test("lwf 'tasks-seen' weighting: classification loss + penalty = CE/t + (1 - 1/t) alpha KD (van de Ven & Tolias)", async () => {
  const { tf } = await loadBackend('wasm');
  const { head, train, classes } = await splitMnist('domain-il', 3, 40, 1);
  const ex = experiment('domain-il', classes, 'lwf', [32]);
  const { model, env } = setup(tf, ex, head, train);
  const ctx: PhaseContext = { phase: 2, tasks: [2], train: train[2], seenTasks: [0, 1, 2] };
  const constant = lwf.create(env, { temperature: 2, alpha: 0.7, weighting: 'constant' });
  const seen = lwf.create(env, { temperature: 2, alpha: 0.7, weighting: 'tasks-seen' });
  constant.beforePhase!(ctx);
  seen.beforePhase!(ctx);
  moveTo(tf, model, env.readWeights(), noise(model, 0.05, 7), 1);
  const batch = firstBatch(tf, env, ctx, 64);
  const ce = scalar(tf, () => env.crossEntropy(env.logits(batch), batch));
  const kd = scalar(tf, () => constant.penalty!(env.logits(batch), batch, { ...ctx, step: 1 })!) / 0.7;
  const stepCtx = { ...ctx, step: 1 };
  const total = scalar(tf, () => seen.classificationLoss!(env.logits(batch), batch, stepCtx)) + scalar(tf, () => seen.penalty!(env.logits(batch), batch, stepCtx)!);
  assert.equal(scalar(tf, () => constant.classificationLoss!(env.logits(batch), batch, stepCtx)), ce, "'constant' keeps the plain cross-entropy");
  const expected = ce / 3 + (2 / 3) * 0.7 * kd;
  assert.ok(kd > 0);
  assert.ok(Math.abs(total - expected) < 1e-5 * expected, `${total} vs ${expected}`);
  disposeBatch(batch);
  constant.dispose!();
  seen.dispose!();
  model.dispose();
});

// ---------------------------------------------------------------------------------------- iCaRL

test('icarl herding: each exemplar brings the running mean closest to the class mean (not the nearest examples in turn)', () => {
  const angles = [0, 30, 60, 90, 50];
  const features = new Float32Array(angles.flatMap((a) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)]));
  const picked = Array.from(herding(features, angles.length, 2, 5));
  // Class mean at 46.1 degrees: 50 first; then 30 (mean of 50 and 30 is nearer the mean than that of 50 and 60,
  // though 60 is nearer than 30 on its own), then 60.
  assert.deepEqual(picked.slice(0, 3), [4, 1, 2]);
  assert.deepEqual([...picked].sort(), [0, 1, 2, 3, 4]);

  // Any features: brute force over every remaining example at every step.
  const rng = createRng(3);
  const n = 40;
  const dim = 6;
  const rows = normaliseRows(Float32Array.from({ length: n * dim }, () => gaussian(rng) + 0.5), n, dim);
  const mu = classMean(rows, n, dim);
  const order = Array.from(herding(rows, n, dim, 15));
  assert.equal(order.length, 15);
  const dist = (chosen: number[]) => {
    let d = 0;
    for (let j = 0; j < dim; j++) d += (mu[j] - chosen.reduce((s, i) => s + rows[i * dim + j], 0) / chosen.length) ** 2;
    return d;
  };
  const nearest = [...Array(n).keys()].sort((a, b) => dist([a]) - dist([b]))[0];
  assert.equal(order[0], nearest, 'the first exemplar is the example closest to the class mean');
  for (let k = 0; k < order.length; k++) {
    const before = order.slice(0, k);
    for (let i = 0; i < n; i++) {
      if (order.slice(0, k + 1).includes(i)) continue;
      assert.ok(dist([...before, order[k]]) <= dist([...before, i]) + 1e-6, `step ${k}: ${i} would bring the mean closer than ${order[k]}`);
    }
  }
});

test('icarl nearest mean of exemplars: -|f/|f| - mu|^2, unknown classes never win', async () => {
  const { tf } = await loadBackend('wasm');
  const means = [Float32Array.of(1, 0), null, Float32Array.of(0, 1)];
  const scores = tf.tidy(() => nearestMeanScores(tf, tf.tensor2d([[2, 0.1], [-1, 3], [0.3, 0.4]]), means)).arraySync() as number[][];
  const norm = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const expect = (f: number[], mu: number[]) => -norm(f).reduce((s, x, j) => s + (x - mu[j]) ** 2, 0);
  assert.ok(Math.abs(scores[0][0] - expect([2, 0.1], [1, 0])) < 1e-6);
  assert.ok(Math.abs(scores[2][2] - expect([0.3, 0.4], [0, 1])) < 1e-6); // f/|f| = (0.6, 0.8): distance^2 0.4
  assert.ok(Math.abs(scores[2][2] + 0.4) < 1e-6);
  assert.deepEqual(scores.map((row) => row.indexOf(Math.max(...row))), [0, 2, 2]);
  for (const row of scores) assert.ok(row[1] < -1e8, 'a class without exemplars is never predicted');
});

/** Class-IL accuracy on a test set (every unit seen allowed), with the strategy's classifier if it has one. */
function accuracy(tf: TF, model: ClassifierModel, strategy: Strategy, head: HeadLayout, set: TrainSet, task: number, seenTasks: number[]): number {
  const correct = tf.tidy(() => {
    const x = tf.tensor4d(imageRange(set.images, PIXELS, 0, set.n), [set.n, ...SHAPE]);
    const scores = strategy.scores ? strategy.scores(x) : model.forward(x);
    const mask = maskVector(head.outputs, scoringUnits(head, task, seenTasks));
    const predicted = tf.argMax(mask ? tf.add(scores, tf.tensor1d(mask)) : scores, 1);
    return tf.sum(tf.cast(tf.equal(predicted, tf.tensor1d(set.labels, 'int32')), 'float32'));
  });
  const n = correct.dataSync()[0];
  correct.dispose();
  return n / set.n;
}

async function trainClassIL(def: StrategyDefinition, params: Record<string, number | string | boolean>) {
  const { tf } = await loadBackend('wasm');
  const { head, train, test: tests, classes } = await splitMnist('class-il', 2, 500, 300);
  const ex = experiment('class-il', classes, def.name, [64]);
  const perBuild = builderLeak(tf, ex, head.outputs);
  const before = tf.memory().numTensors;
  const { model, env } = setup(tf, ex, head, train);
  const strategy = def.name === 'icarl' ? createIcarl(env, params) : def.create(env, params);
  const optimizer = createOptimizer(tf, ex.training);
  const tensorsAtStep: number[][] = [[], []];
  const counts: Record<number, number>[] = [];
  const firstImages: Float32Array[] = [];
  let beforeHerding = NaN;
  await runPhases({
    tf,
    env,
    strategy,
    optimizer,
    phases: planPhases('sequential', 2),
    training: ex.training,
    seed: ex.seed,
    observers: [
      {
        stepDone: (info) => {
          tensorsAtStep[info.phase].push(tf.memory().numTensors);
          // Task 1's classes have no exemplars until afterPhase: a curve point now must still score them.
          if (info.phase === 1 && info.lastOfPhase) beforeHerding = accuracy(tf, model, strategy, head, tests[1], 1, [0, 1]);
        },
        phaseEnded: () => {
          if (def.name !== 'icarl') return;
          const s = strategy as IcarlStrategy;
          counts.push(s.exemplarCounts());
          firstImages.push(s.exemplarImages(0));
        },
      },
    ],
  });
  const acc = [0, 1].map((t) => accuracy(tf, model, strategy, head, tests[t], t, [0, 1]));
  strategy.dispose?.();
  optimizer.dispose();
  model.dispose();
  return { acc, beforeHerding, tensorsAtStep, counts, firstImages, leaked: tf.memory().numTensors - before, perBuild };
}

test('class-IL Split-MNIST {0,1} then {2,3}: fine-tuning forgets task 0 entirely, iCaRL keeps it; no tensor leaks', async () => {
  const fineTuned = await trainClassIL(naive, {});
  const kept = await trainClassIL(icarl, { memorySize: 400 });
  assert.ok(fineTuned.acc[1] > 0.9, `naive learns task 1: ${fineTuned.acc[1]}`);
  assert.ok(fineTuned.acc[0] < 0.05, `naive on task 0 after task 1 (class-IL): ${fineTuned.acc[0]}`);
  assert.ok(kept.acc[0] > 0.8, `icarl on task 0 after task 1: ${kept.acc[0]}`);
  assert.ok(kept.acc[1] > 0.7, `icarl on task 1: ${kept.acc[1]}`);
  assert.ok(kept.beforeHerding > 0.7, `icarl on task 1 while it trains (sampled means): ${kept.beforeHerding}`);

  // floor(400 / 2) per class after task 0, floor(400 / 4) after task 1; reduction keeps the herding order.
  assert.deepEqual(kept.counts, [{ 0: 200, 1: 200 }, { 0: 100, 1: 100, 2: 100, 3: 100 }]);
  assert.deepEqual(kept.firstImages[1], kept.firstImages[0].subarray(0, 100 * PIXELS));

  for (const run of [fineTuned, kept]) {
    // Adam makes its slots at the run's first step; after that the count never moves within a phase.
    const steps = [run.tensorsAtStep[0].slice(1), run.tensorsAtStep[1]];
    for (const s of steps) assert.ok(s.length > 10 && s.every((v) => v === s[0]), `tensors per step: ${s.join(',')}`);
  }
  // Everything the strategies make is released: what stays is the builder's, once for the model (and the teacher).
  assert.equal(fineTuned.leaked, fineTuned.perBuild);
  assert.equal(kept.leaked, 2 * kept.perBuild);
});

test('lwf trains a task-IL sequence without leaking tensors', async () => {
  const { tf } = await loadBackend('wasm');
  const { head, train, classes } = await splitMnist('task-il', 2, 100, 1);
  const ex = experiment('task-il', classes, 'lwf', [32]);
  const perBuild = builderLeak(tf, ex, head.outputs);
  const before = tf.memory().numTensors;
  const { model, env } = setup(tf, ex, head, train);
  const strategy = lwf.create(env, { temperature: 2, alpha: 1, weighting: 'tasks-seen' });
  const optimizer = createOptimizer(tf, ex.training);
  const counts: number[][] = [[], []];
  const losses: number[] = [];
  await runPhases({
    tf, env, strategy, optimizer, phases: planPhases('sequential', 2), training: ex.training, seed: ex.seed,
    observers: [{ stepDone: (info) => void (counts[info.phase].push(tf.memory().numTensors), losses.push(info.loss)) }],
  });
  for (const s of [counts[0].slice(1), counts[1]]) assert.ok(s.every((v) => v === s[0]), `tensors per step: ${s.join(',')}`);
  assert.ok(losses.every(Number.isFinite));
  strategy.dispose!();
  optimizer.dispose();
  model.dispose();
  assert.equal(tf.memory().numTensors - before, 2 * perBuild, 'only the builder leak of the model and the teacher stays');
});
