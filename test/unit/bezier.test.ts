// The quadratic Bezier curve between two solutions (Garipov et al. 2018): parametrisation, the
// gradient chain factor, Adam on a closed-form objective, and training on a real tiny two-task
// problem (MNIST then Fashion-MNIST subsets, small MLP) lowering the path's loss barrier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from '../../src/engine/backend';
import { loadTaskData, normalisedImages } from '../../src/engine/data/scenarios/taskData';
import { modelEvaluator } from '../../src/engine/landscape/compute';
import { bezierPoint, controlFactor, midpoint, modelGradient, trainBezier } from '../../src/engine/landscape/bezier';
import { bezierPath, evaluatePath, linePath } from '../../src/engine/landscape/paths';
import { readParameters } from '../../src/engine/landscape/vector';
import { buildModel } from '../../src/engine/models/build';
import type { EvalSet } from '../../src/engine/models/types';
import { createRng, gaussian } from '../../src/engine/random';
import type { TrainSet } from '../../src/engine/strategies/types';
import { buildHead } from '../../src/engine/train/head';
import { concatTrainSets, createOptimizer, createStrategyEnv, planPhases, runPhases } from '../../src/engine/train/loop';
import type { NormalisedExperiment, TrainingSpec } from '../../src/protocol/experiment';

const N = 24;
const rng = createRng(11);
const rand = () => Float32Array.from({ length: N }, () => gaussian(rng));
const theta0 = rand();
const theta1 = rand();
const target = rand();

test('Bezier parametrisation: endpoints bitwise, the midpoint control gives the straight line, weights sum to 1', () => {
  const control = rand();
  const out = new Float32Array(N);
  assert.deepEqual(bezierPoint(out, theta0, control, theta1, 0), theta0);
  assert.deepEqual(bezierPoint(out, theta0, control, theta1, 1), theta1);
  // phi(0.5) = theta0/4 + control/2 + theta1/4
  bezierPoint(out, theta0, control, theta1, 0.5);
  for (let i = 0; i < N; i++) assert.equal(out[i], Math.fround(0.25 * theta0[i] + 0.5 * control[i] + 0.25 * theta1[i]));
  // With the midpoint as control the curve is the line theta0 + t (theta1 - theta0), at the same speed.
  const mid = midpoint(theta0, theta1);
  for (const t of [0.1, 0.37, 0.5, 0.9]) {
    bezierPoint(out, theta0, mid, theta1, t);
    for (let i = 0; i < N; i++) assert.ok(Math.abs(out[i] - (theta0[i] + t * (theta1[i] - theta0[i]))) < 1e-6 * (1 + Math.abs(out[i])));
  }
  // A constant vector is reproduced exactly: (1-t)^2 + 2t(1-t) + t^2 = 1.
  const ones = new Float32Array(N).fill(1);
  for (const t of [0.25, 0.5, 0.75]) assert.ok(bezierPoint(out, ones, ones, ones, t).every((x) => x === 1));
});

test('gradient chain factor: d L(phi(t)) / d theta = 2t(1-t) grad L(phi(t)), checked by central differences', () => {
  // L(w) = sum_i (w_i - target_i)^2 (w_i + 2)^2 / 4: non-quadratic, so the check is not trivially linear.
  const L = (w: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < N; i++) s += ((w[i] - target[i]) ** 2 * (w[i] + 2) ** 2) / 4;
    return s;
  };
  const gradL = (w: ArrayLike<number>) => Float64Array.from({ length: N }, (_, i) => 0.5 * (w[i] - target[i]) * (w[i] + 2) * (2 * w[i] + 2 - target[i]));
  const phi = (control: Float64Array, t: number) => Float64Array.from({ length: N }, (_, i) => (1 - t) ** 2 * theta0[i] + 2 * t * (1 - t) * control[i] + t * t * theta1[i]);
  const control = Float64Array.from(rand());
  assert.equal(controlFactor(0), 0);
  assert.equal(controlFactor(1), 0);
  assert.equal(controlFactor(0.5), 0.5);
  for (const t of [0.13, 0.5, 0.81]) {
    const g = gradL(phi(control, t));
    const h = 1e-5;
    let maxRel = 0;
    for (let i = 0; i < N; i++) {
      const up = Float64Array.from(control);
      const dn = Float64Array.from(control);
      up[i] += h;
      dn[i] -= h;
      const numeric = (L(phi(up, t)) - L(phi(dn, t))) / (2 * h);
      const chained = controlFactor(t) * g[i];
      maxRel = Math.max(maxRel, Math.abs(numeric - chained) / Math.max(1e-3, Math.abs(numeric)));
    }
    assert.ok(maxRel < 1e-6, `t=${t}: max relative error ${maxRel}`);
  }
});

test('trainBezier: Adam finds the closed-form optimal control point of a bowl; seeded; cancellable', async () => {
  // E_t 0.5 |phi(t) - s|^2 is minimised by theta* = 2.5 s - 0.75 (theta0 + theta1)
  // (from int b^2 = 2/15, int a b = int b c = 1/10, int b = 1/3 with a, b, c the Bernstein weights).
  const star = Float64Array.from({ length: N }, (_, i) => 2.5 * target[i] - 0.75 * (theta0[i] + theta1[i]));
  const gradientAt = (w: Float32Array) => {
    let loss = 0;
    const gradient = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      gradient[i] = w[i] - target[i];
      loss += 0.5 * gradient[i] ** 2;
    }
    return { loss, gradient };
  };
  const progress: number[] = [];
  const opts = { theta0, theta1, steps: 3000, learningRate: 0.02, seed: 5, gradientAt, lossEvery: 100 };
  const a = await trainBezier({ ...opts, onProgress: (s) => progress.push(s) });
  const dist = (x: ArrayLike<number>) => Math.sqrt(Array.from(star, (s, i) => (x[i] - s) ** 2).reduce((p, q) => p + q, 0));
  const start = dist(midpoint(theta0, theta1));
  assert.ok(dist(a.control) < 0.05 * start, `|theta - theta*| = ${dist(a.control)} (from ${start})`);
  assert.equal(progress.length, 3000);
  assert.equal(a.trainLoss.length, 30);
  assert.ok(a.trainLoss[29] < 0.5 * a.trainLoss[0], `loss ${a.trainLoss[0]} -> ${a.trainLoss[29]}`);
  assert.ok(a.ts.every((t) => t >= 0 && t < 1));
  const b = await trainBezier(opts);
  assert.deepEqual(b.control, a.control, 'the same seed gives the same curve');
  const controller = new AbortController();
  await assert.rejects(trainBezier({ ...opts, signal: controller.signal, onProgress: (s) => s === 7 && controller.abort() }), { name: 'AbortError' });
});

test('real tiny two-task problem: the trained Bezier curve lowers the union loss inside the path below that of the straight line', async () => {
  const { tf } = await loadBackend('wasm');
  const raw = await Promise.all((['mnist', 'fashion-mnist'] as const).map((dataset, i) => loadTaskData({ dataset, train: 600, test: 300 }, i, 1, { allowDownload: false })));
  const head = buildHead('domain-il', raw);
  const sets: TrainSet[] = raw.map((d, i) => {
    const labels = Int32Array.from(d.train.labels, (l) => head.units[i][d.classIds.indexOf(l)]);
    return { images: normalisedImages(d.train.images, null, 784, d.mean, d.std), labels, tasks: new Int32Array(labels.length).fill(i), n: labels.length, shape: [28, 28, 1] };
  });
  const evalSets: EvalSet[] = raw.map((d, i) => ({
    images: tf.tensor4d(normalisedImages(d.test.images, null, 784, d.mean, d.std), [d.test.n, 28, 28, 1]),
    labels: tf.tensor1d(Int32Array.from(d.test.labels, (l) => head.units[i][d.classIds.indexOf(l)]), 'int32'),
  }));
  const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.002, batchSize: 32, epochs: 6, evalEvery: 1000, evalSamples: 100 };
  const ex: NormalisedExperiment = { name: 'bezier', seed: 1, tasks: [], scenario: 'domain-il', model: { type: 'mlp', hidden: [32] }, training, strategy: { name: 'naive' }, landscape: false };
  const model = buildModel(tf, ex.model, [28, 28, 1], head.outputs, 1);
  const env = createStrategyEnv({ tf, model, head, experiment: ex, tasks: sets, strategyName: 'naive', log: () => {} });
  const ends: Float32Array[] = [];
  await runPhases({ tf, env, strategy: {}, optimizer: createOptimizer(tf, training), phases: planPhases('sequential', 2), training, seed: 1, observers: [{ phaseEnded: () => void ends.push(readParameters(tf, model)) }] });
  const [thetaA, thetaB] = ends;
  const evaluateAt = modelEvaluator(tf, model, evalSets);
  const refs = { from: { run: 'naive', phase: 0, label: 'A' }, to: { run: 'naive', phase: 1, label: 'B' }, taskCount: 2, evaluateAt, points: 11 };
  const line = await evaluatePath({ ...refs, path: linePath(thetaA, thetaB), label: 'A → B' });

  const gradientAt = modelGradient({ tf, model, head, train: concatTrainSets(sets), seenTasks: [0, 1], batchSize: 64, seed: 1 });
  const tensorsBefore = tf.memory().numTensors;
  gradientAt(thetaA, 0);
  gradientAt(thetaB, 1);
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leaks per gradient step');
  const trained = await trainBezier({ theta0: thetaA, theta1: thetaB, steps: 200, learningRate: 0.01, seed: 1, gradientAt, lossEvery: 20 });
  const curve = await evaluatePath({ ...refs, path: bezierPath(thetaA, trained.control, thetaB), label: 'Bezier A → B' });
  // The objective the curve is trained on: the union's loss (mean over the two tasks) along the path.
  // The endpoints are fixed (each is bad on the other task), so compare the interior points.
  const interior = (p: typeof line) => p.t.slice(1, -1).map((_, k) => (p.loss[0][k + 1] + p.loss[1][k + 1]) / 2);
  const lineMax = Math.max(...interior(line));
  const curveMax = Math.max(...interior(curve));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`straight line: barriers ${line.barrier.map((b) => b.toFixed(3))}, interior max union loss ${lineMax.toFixed(3)}, mean ${mean(interior(line)).toFixed(3)}; ` +
    `Bezier: barriers ${curve.barrier.map((b) => b.toFixed(3))}, interior max union loss ${curveMax.toFixed(3)}, mean ${mean(interior(curve)).toFixed(3)}; train loss ${trained.trainLoss.map((l) => l.toFixed(2)).join(' ')}`);
  // Same endpoints (bitwise): the paths' end values agree exactly.
  assert.equal(curve.loss[0][0], line.loss[0][0]);
  assert.equal(curve.loss[1][10], line.loss[1][10]);
  assert.ok(curveMax < 0.6 * lineMax, `interior max union loss: Bezier ${curveMax} vs line ${lineMax}`);
  assert.ok(mean(interior(curve)) < 0.8 * mean(interior(line)));
  assert.ok(trained.trainLoss.at(-1)! < trained.trainLoss[0], 'the training loss fell');
  for (let k = 0; k < 2; k++) assert.ok(Number.isFinite(curve.barrier[k]) && curve.barrier[k] >= 0 && Number.isFinite(line.barrier[k]) && line.barrier[k] >= 0);
  for (const s of evalSets) tf.dispose([s.images, s.labels]);
  model.dispose();
});
