// Loss landscape: plane geometry, filter normalisation, exactness on a closed-form model, a real
// (tiny) tfjs model, cancellation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import type { LandscapeSpec } from '../../src/protocol/experiment';
import type { ClassifierModel, EvalSet, ModelParameter, Tensor2D, Tensor4D } from '../../src/engine/models/types';
import { createRng, deriveSeed, gaussian } from '../../src/engine/random';
import { evaluateModel } from '../../src/engine/train/evaluate';
import { computeLandscape, linspace, modelEvaluator, type LandscapeCheckpoint, type TaskOutcome } from '../../src/engine/landscape/compute';
import {
  buildPlane,
  explainedVariance,
  filterNormalize,
  filterNormalizedRandomDirection,
  orthogonalizeAndRescale,
  powerIteration,
  trajectoryPcaDirection,
} from '../../src/engine/landscape/directions';
import { dot, layoutOf, norm, readParameters, sub, writeParameters, type ParameterLayout } from '../../src/engine/landscape/vector';

const spec = (over: Partial<LandscapeSpec> = {}): LandscapeSpec => ({
  grid: 21,
  samples: 100,
  alphaRange: [-0.5, 1.5],
  betaRange: [-1, 1],
  secondAxis: 'random',
  checkpointEvery: 50,
  linePoints: 41,
  optima: [0, 1],
  ...over,
});

function layoutFrom(entries: [string, ParameterLayout['kind'], number[]][]): ParameterLayout[] {
  let offset = 0;
  return entries.map(([name, kind, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const e = { name, kind, shape, offset, size };
    offset += size;
    return e;
  });
}

// ---------------------------------------------------------------- (1) closed-form quadratic bowls
const N = 50;
// 30 + 5 + 15 = 50 parameters
const quadLayout = layoutFrom([
  ['dense1/kernel', 'dense-kernel', [6, 5]],
  ['dense1/bias', 'bias', [5]],
  ['dense2/kernel', 'dense-kernel', [5, 3]],
]);

function quadratics(seed: number) {
  const rng = createRng(deriveSeed(seed, 'quadratic-test'));
  const spd = () => {
    const A = Array.from({ length: N }, () => Array.from({ length: N }, () => gaussian(rng)));
    const H = Array.from({ length: N }, (_, i) => Array.from({ length: N }, (_, j) => {
      let s = 0;
      for (let k = 0; k < N; k++) s += A[i][k] * A[j][k];
      return s / N + (i === j ? 0.1 : 0);
    }));
    return H;
  };
  const H = [spd(), spd()];
  const optimum = () => Float32Array.from({ length: N }, () => gaussian(rng));
  const star = [optimum(), optimum()];
  /** L_t(theta) = 0.5 (theta - star_t)^T H_t (theta - star_t), float64. */
  const loss = (t: number, theta: ArrayLike<number>): number => {
    const r = Array.from({ length: N }, (_, i) => theta[i] - star[t][i]);
    let s = 0;
    for (let i = 0; i < N; i++) {
      let hi = 0;
      for (let j = 0; j < N; j++) hi += H[t][i][j] * r[j];
      s += r[i] * hi;
    }
    return 0.5 * s;
  };
  const outcome = (theta: ArrayLike<number>): TaskOutcome[] => [0, 1].map((t) => {
    const l = loss(t, theta);
    return { loss: l, accuracy: Math.exp(-l) };
  });
  return { H, star, loss, outcome, rng };
}

const F32_EPS = 2 ** -24; // half an ulp, relative

test('closed-form bowls: grid and line equal the formula at theta_A + a d1 + b d2', async () => {
  const q = quadratics(7);
  const thetaA = q.star[0];
  const thetaB = q.star[1];
  const points: Float32Array[] = [];
  const evaluateAt = (theta: Float32Array) => {
    points.push(theta.slice());
    return q.outcome(theta);
  };
  for (const secondAxis of ['random', 'trajectory-pca'] as const) {
    points.length = 0;
    const s = spec({ secondAxis });
    const checkpoints: LandscapeCheckpoint[] = [
      { step: 0, task: 0, theta: thetaA },
      { step: 10, task: 1, theta: thetaB },
    ];
    const progress: number[] = [];
    const res = await computeLandscape({
      thetaA, thetaB, checkpoints, layout: quadLayout, spec: s, optima: [0, 1], seed: 11, taskCount: 2, evaluateAt,
      onProgress: (done, total) => progress.push(done / total),
    });
    // Two checkpoints: trajectory-pca must fall back to the random direction, and say so.
    assert.equal(res.secondAxis, 'random');
    const plane = buildPlane({ thetaA, thetaB, checkpoints, layout: quadLayout, secondAxis, seed: 11 });
    const { d1, d2 } = plane;
    const n1 = norm(d1);
    assert.ok(Math.abs(dot(d1, d2)) / (n1 * n1) < 1e-14, `cos(d1, d2) = ${dot(d1, d2) / (n1 * n1)}`);
    assert.ok(Math.abs(norm(d2) / n1 - 1) < 1e-14, `|d2|/|d1| = ${norm(d2) / n1}`);
    assert.ok(Math.abs(res.distance - n1) < 1e-12 * n1);
    assert.deepEqual(res.alphas, linspace([-0.5, 1.5], 21));
    assert.equal(res.alphas[5], 0);
    assert.equal(res.alphas[15], 1);
    assert.equal(res.betas[10], 0);
    assert.equal(res.grids.length, 2);
    assert.equal(res.parameterCount, N);

    let maxRel = 0;
    let maxPointUlp = 0;
    const recon = (a: number, b: number) => Float64Array.from({ length: N }, (_, i) => thetaA[i] + a * d1[i] + b * d2[i]);
    // Grid points are evaluated row by row (beta outer, alpha inner); the line's new points follow.
    let p = 0;
    for (let bi = 0; bi < res.betas.length; bi++) {
      for (let ai = 0; ai < res.alphas.length; ai++) {
        const r = recon(res.alphas[ai], res.betas[bi]);
        const pt = points[p++];
        for (let i = 0; i < N; i++) maxPointUlp = Math.max(maxPointUlp, Math.abs(pt[i] - r[i]) / (Math.abs(r[i]) * F32_EPS * 2));
        for (let t = 0; t < 2; t++) {
          const expected = q.loss(t, r);
          const got = res.grids[t].loss[bi][ai];
          maxRel = Math.max(maxRel, Math.abs(got - expected) / Math.max(1, Math.abs(expected)));
          assert.equal(res.grids[t].accuracy[bi][ai], Math.exp(-got));
        }
      }
    }
    for (let k = 0; k < res.line.t.length; k++) {
      const r = recon(res.line.t[k], 0);
      for (let t = 0; t < 2; t++) {
        const expected = q.loss(t, r);
        maxRel = Math.max(maxRel, Math.abs(res.line.loss[t][k] - expected) / Math.max(1, Math.abs(expected)));
      }
    }
    assert.ok(maxRel < 1e-5, `max relative error ${maxRel}`);
    assert.ok(maxPointUlp <= 1, `points off by ${maxPointUlp} float32 ulp`);
    console.log(`  [${secondAxis}] grid+line vs float64 formula: max rel. error ${maxRel.toExponential(2)}; points within ${maxPointUlp.toFixed(2)} ulp`);
    // 21 of the 41 line points lie on the grid's beta = 0 row and are reused.
    assert.equal(points.length, 21 * 21 + 20);
    assert.equal(progress.at(-1), 1);

    // At (0,0) and (1,0) the weights are bitwise theta_A / theta_B: the values are exact.
    assert.deepEqual(points[10 * 21 + 5], thetaA);
    assert.deepEqual(points[10 * 21 + 15], thetaB);
    for (let t = 0; t < 2; t++) {
      assert.equal(res.grids[t].loss[10][5], q.loss(t, thetaA));
      assert.equal(res.grids[t].loss[10][15], q.loss(t, thetaB));
      assert.equal(res.line.loss[t][10], q.loss(t, thetaA));
      assert.equal(res.line.loss[t][30], q.loss(t, thetaB));
    }
    assert.equal(res.grids[0].loss[10][5], 0); // theta_A is task 0's optimum
    assert.equal(res.grids[1].loss[10][15], 0);
    // Projected optima.
    assert.equal(res.trajectory.length, 2);
    assert.ok(Math.abs(res.trajectory[0].alpha) < 1e-15 && Math.abs(res.trajectory[0].beta) < 1e-15);
    assert.ok(Math.abs(res.trajectory[1].alpha - 1) < 1e-12 && Math.abs(res.trajectory[1].beta) < 1e-12, JSON.stringify(res.trajectory[1]));
    // The output is plain JSON.
    assert.deepEqual(JSON.parse(JSON.stringify(res)), res);
  }
});

test('a trajectory in a known plane is explained ~100% and projects back to its coordinates', async () => {
  const q = quadratics(3);
  const thetaA = q.star[0];
  const thetaB = q.star[1];
  const d1 = sub(thetaB, thetaA);
  // w: a random direction orthogonal to d1 with |w| = |d1|.
  const w = orthogonalizeAndRescale(Float64Array.from({ length: N }, () => gaussian(q.rng)), d1);
  const coords: [number, number][] = [];
  for (let k = 0; k <= 30; k++) {
    const s = k / 30;
    coords.push([s + 0.2 * Math.sin(5 * s), 0.6 * Math.sin(Math.PI * s) + 0.3 * s - 0.1]);
  }
  coords[0] = [0, 0];
  coords[30] = [1, 0];
  const checkpoints = coords.map(([a, b], k) => ({
    step: k * 10,
    task: k <= 15 ? 0 : 1,
    theta: Float32Array.from({ length: N }, (_, i) => thetaA[i] + a * d1[i] + b * w[i]),
  }));
  checkpoints[0].theta = thetaA;
  checkpoints[30].theta = thetaB;

  const pca = trajectoryPcaDirection(checkpoints, d1, () => { throw new Error('must not fall back'); });
  assert.equal(pca.fallback, false);
  const cos = dot(pca.direction, w) / (norm(pca.direction) * norm(w));
  assert.ok(cos > 1 - 1e-10, `d2 should be w (cos ${cos})`);

  // With the PCA limited to an evenly spaced subset of the checkpoints: the same plane.
  const sub8 = trajectoryPcaDirection(checkpoints, d1, () => w, 8);
  assert.equal(sub8.fallback, false);
  assert.ok(dot(sub8.direction, w) / (norm(sub8.direction) * norm(w)) > 1 - 1e-10);

  const res = await computeLandscape({
    thetaA, thetaB, checkpoints, layout: quadLayout, spec: spec({ secondAxis: 'trajectory-pca', grid: 5, linePoints: 5 }),
    optima: [0, 1], seed: 1, taskCount: 2, evaluateAt: q.outcome,
  });
  assert.equal(res.secondAxis, 'trajectory-pca');
  assert.ok(res.explainedVariance > 1 - 1e-9, `explained ${res.explainedVariance}`);
  let maxErr = 0;
  res.trajectory.forEach((p, k) => {
    assert.equal(p.step, k * 10);
    maxErr = Math.max(maxErr, Math.abs(p.alpha - coords[k][0]), Math.abs(p.beta - coords[k][1]));
  });
  assert.ok(maxErr < 1e-5, `projection error ${maxErr}`);
  console.log(`  planar trajectory: explained ${res.explainedVariance}, max coordinate error ${maxErr.toExponential(2)}`);
  assert.equal(res.trajectory[0].alpha, 0);
  assert.equal(res.trajectory[0].beta, 0);
  assert.ok(Math.abs(res.trajectory[30].alpha - 1) < 1e-12 && Math.abs(res.trajectory[30].beta) < 1e-12);

  // A direction off the plane explains less; the trajectory along d1 only falls back.
  const other = orthogonalizeAndRescale(Float64Array.from({ length: N }, () => gaussian(q.rng)), d1);
  assert.ok(explainedVariance(checkpoints, d1, other) < 0.9);
  const onLine = coords.map(([a]) => Float32Array.from({ length: N }, (_, i) => thetaA[i] + a * d1[i]));
  let called = false;
  const fb = trajectoryPcaDirection(onLine, d1, () => { called = true; return w; });
  assert.ok(fb.fallback && called, 'collinear trajectory falls back');
  assert.match(fb.reason ?? '', /line/);
  assert.ok(Math.abs(dot(fb.direction, d1)) < 1e-12 * dot(d1, d1));
});

test('power iteration finds the top eigenpair of a symmetric PSD matrix', () => {
  const rng = createRng(8);
  const T = 12;
  // M = Q diag(lambda) Q^T with a random orthogonal Q (Gram-Schmidt of Gaussian columns).
  const Q: Float64Array[] = [];
  for (let k = 0; k < T; k++) {
    const v = Float64Array.from({ length: T }, () => gaussian(rng));
    for (const q of Q) {
      const c = dot(v, q);
      for (let i = 0; i < T; i++) v[i] -= c * q[i];
    }
    const nv = norm(v);
    Q.push(v.map((x) => x / nv));
  }
  const lambda = Array.from({ length: T }, (_, k) => (k === 3 ? 5 : k === 7 ? 4 : 1 / (k + 1)));
  const M = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) for (let k = 0; k < T; k++) M[i * T + j] += Q[k][i] * lambda[k] * Q[k][j];
  const { vector, value } = powerIteration(M, T);
  assert.ok(Math.abs(value - 5) < 1e-9, `eigenvalue ${value}`);
  assert.ok(Math.abs(Math.abs(dot(vector, Q[3])) - 1) < 1e-9);
});

// ---------------------------------------------------------------- (2) filter normalisation
test('filter normalisation: per-filter norms equal the weights\', biases zero', () => {
  const layout = layoutFrom([
    ['conv1/kernel', 'conv-kernel', [3, 3, 2, 4]],
    ['conv1/bias', 'bias', [4]],
    ['dense1/kernel', 'dense-kernel', [7, 5]],
    ['dense1/bias', 'bias', [5]],
  ]);
  const total = layout.reduce((n, p) => n + p.size, 0);
  const rng = createRng(5);
  const ref = Float32Array.from({ length: total }, () => gaussian(rng) * 0.3);
  // One dead filter (all zero) in the reference: the direction's filter becomes zero.
  for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 2; c++) ref[((y * 3 + x) * 2 + c) * 4 + 2] = 0;
  const d = filterNormalizedRandomDirection(layout, ref, 9);
  assert.deepEqual(d, filterNormalizedRandomDirection(layout, ref, 9), 'seeded');
  assert.notDeepEqual(d, filterNormalizedRandomDirection(layout, ref, 10));

  // Conv [kh, kw, in, out]: filter f = elements (y, x, c, f), explicit indexing.
  const conv = layout[0];
  for (let f = 0; f < 4; f++) {
    let dn = 0;
    let wn = 0;
    for (let y = 0; y < 3; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 2; c++) {
      const i = conv.offset + ((y * 3 + x) * 2 + c) * 4 + f;
      dn += d[i] ** 2;
      wn += ref[i] ** 2;
    }
    assert.ok(Math.abs(Math.sqrt(dn) - Math.sqrt(wn)) <= 1e-12 * Math.max(1, Math.sqrt(wn)), `conv filter ${f}: ${Math.sqrt(dn)} vs ${Math.sqrt(wn)}`);
    if (f === 2) assert.equal(dn, 0);
  }
  // Dense [in, out]: output unit j's column.
  const dense = layout[2];
  for (let j = 0; j < 5; j++) {
    let dn = 0;
    let wn = 0;
    for (let i = 0; i < 7; i++) {
      dn += d[dense.offset + i * 5 + j] ** 2;
      wn += ref[dense.offset + i * 5 + j] ** 2;
    }
    assert.ok(Math.abs(Math.sqrt(dn) - Math.sqrt(wn)) <= 1e-12, `dense unit ${j}`);
  }
  for (const b of [layout[1], layout[3]]) for (let i = 0; i < b.size; i++) assert.equal(d[b.offset + i], 0);

  // filterNormalize on a given direction: a rows-vs-columns mix-up would show here.
  const dir = new Float64Array(total).fill(1);
  filterNormalize(dir, ref, layout);
  for (let j = 0; j < 5; j++) {
    let wn = 0;
    for (let i = 0; i < 7; i++) wn += ref[dense.offset + i * 5 + j] ** 2;
    for (let i = 0; i < 7; i++) assert.ok(Math.abs(dir[dense.offset + i * 5 + j] - Math.sqrt(wn / 7)) < 1e-12);
  }

  // Orthogonalised and rescaled to |d1|.
  const d1 = Float64Array.from({ length: total }, () => gaussian(rng));
  const d2 = orthogonalizeAndRescale(d, d1);
  assert.ok(Math.abs(dot(d1, d2)) < 1e-13 * dot(d1, d1));
  assert.ok(Math.abs(norm(d2) - norm(d1)) < 1e-13 * norm(d1));
});

// ---------------------------------------------------------------- (3) a tiny real tfjs model
const tf: typeof tfjs = require('@tensorflow/tfjs');
let tfReady: Promise<unknown> | null = null;
const cpu = () => (tfReady ??= tf.setBackend('cpu').then(() => tf.ready()));

let counter = 0;
function tinyModel(init: Float32Array | null, seed: number): ClassifierModel {
  const rng = createRng(seed);
  const shapes: [string, ModelParameter['kind'], number[]][] = [
    ['conv1/kernel', 'conv-kernel', [3, 3, 1, 2]],
    ['conv1/bias', 'bias', [2]],
    ['dense1/kernel', 'dense-kernel', [18, 3]],
    ['dense1/bias', 'bias', [3]],
  ];
  let offset = 0;
  const params: ModelParameter[] = shapes.map(([name, kind, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = init ? init.slice(offset, offset + size) : Float32Array.from({ length: size }, () => gaussian(rng) * 0.5);
    offset += size;
    return { name, kind, shape, variable: tf.variable(tf.tensor(values, shape, 'float32'), true, `landscape-test${++counter}/${name}`) };
  });
  const [k, kb, w, wb] = params.map((p) => p.variable);
  return {
    params,
    inputShape: [5, 5, 1],
    outputs: 3,
    parameterCount: offset,
    forward(x: Tensor4D): Tensor2D {
      return tf.tidy(() => {
        const h = tf.relu(tf.add(tf.conv2d(x, k as unknown as Tensor4D, 1, 'valid'), kb));
        return tf.add(tf.matMul(tf.reshape(h, [x.shape[0], 18]), w as unknown as Tensor2D), wb) as Tensor2D;
      });
    },
    dispose() {
      for (const p of params) p.variable.dispose();
    },
  };
}

function evalSet(seed: number, n: number): EvalSet {
  const rng = createRng(seed);
  return {
    images: tf.tensor4d(Float32Array.from({ length: n * 25 }, () => gaussian(rng)), [n, 5, 5, 1]),
    labels: tf.tensor1d(Int32Array.from({ length: n }, () => Math.floor(rng() * 3)), 'int32'),
  };
}

test('tiny tfjs model: read/write parameters, grid at (0,0) and (1,0) equals direct evaluation', async () => {
  await cpu();
  const sets = [evalSet(21, 40), evalSet(22, 40)];
  const model = tinyModel(null, 1);
  const layout = layoutOf(model);
  assert.deepEqual(layout.map((p) => [p.name, p.offset, p.size]), [['conv1/kernel', 0, 18], ['conv1/bias', 18, 2], ['dense1/kernel', 20, 54], ['dense1/bias', 74, 3]]);
  const thetaA = readParameters(tf, model);
  assert.equal(thetaA.length, 77);
  const readFresh = (seed: number) => {
    const m = tinyModel(null, seed);
    const theta = readParameters(tf, m);
    m.dispose();
    return theta;
  };
  const thetaB = readFresh(2);
  assert.notDeepEqual(thetaA, thetaB);

  // writeParameters copies: overwriting the buffer afterwards must not change the weights.
  const buf = thetaB.slice();
  writeParameters(tf, model, buf);
  buf.fill(123);
  assert.deepEqual(readParameters(tf, model), thetaB);
  writeParameters(tf, model, thetaA);
  assert.deepEqual(readParameters(tf, model), thetaA);

  // Direct evaluations on independent models built from the snapshots.
  const direct = [thetaA, thetaB].map((theta) => {
    const m = tinyModel(theta, 0);
    const outs = sets.map((s) => evaluateModel(tf, m, s));
    m.dispose();
    return outs;
  });
  const checkpoints = [{ step: 0, task: -1, theta: readFresh(3) }, { step: 5, task: 0, theta: thetaA }, { step: 9, task: 1, theta: thetaB }];
  const tensorsBefore = tf.memory().numTensors;
  const res = await computeLandscape({
    thetaA, thetaB, checkpoints, layout, spec: spec({ grid: 5, linePoints: 5, secondAxis: 'trajectory-pca' }),
    optima: [0, 1], seed: 4, taskCount: 2, evaluateAt: modelEvaluator(tf, model, sets, 1000),
  });
  assert.equal(tf.memory().numTensors, tensorsBefore, 'no tensor leak');
  assert.equal(res.secondAxis, 'trajectory-pca');
  assert.deepEqual(res.alphas, [-0.5, 0, 0.5, 1, 1.5]);
  assert.deepEqual(res.betas, [-1, -0.5, 0, 0.5, 1]);
  let maxDiff = 0;
  for (let t = 0; t < 2; t++) {
    for (const [ai, k, d] of [[1, 1, direct[0]], [3, 3, direct[1]]] as const) {
      maxDiff = Math.max(maxDiff, Math.abs(res.grids[t].loss[2][ai] - d[t].loss), Math.abs(res.line.loss[t][k] - d[t].loss));
      assert.equal(res.grids[t].accuracy[2][ai], d[t].accuracy);
    }
  }
  assert.ok(maxDiff <= 1e-5, `grid vs direct evaluation: ${maxDiff}`);
  console.log(`  tfjs cpu: grid/line at theta_A, theta_B vs direct evaluateModel: max |diff| ${maxDiff}`);
  // Losses are finite everywhere and the landscape is not flat.
  const all = res.grids.flatMap((g) => g.loss.flat());
  assert.ok(all.every(Number.isFinite));
  assert.ok(Math.max(...all) - Math.min(...all) > 1e-3);
  model.dispose();
  for (const s of sets) {
    s.images.dispose();
    s.labels.dispose();
  }
});

// ---------------------------------------------------------------- (4) cancellation
test('cancellation stops early with an AbortError', async () => {
  const q = quadratics(1);
  const base = { thetaA: q.star[0], thetaB: q.star[1], checkpoints: [], layout: quadLayout, spec: spec(), optima: [0, 1] as [number, number], seed: 0, taskCount: 2 };

  // Aborted from inside an evaluation.
  const ac = new AbortController();
  let calls = 0;
  await assert.rejects(
    computeLandscape({ ...base, signal: ac.signal, evaluateAt: (th) => { if (++calls === 5) ac.abort(); return q.outcome(th); } }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.equal(calls, 5);

  // Aborted from a macrotask queued during the first evaluation: the computation yields to the
  // event loop between points, so the abort gets in long before the grid is done (no clock involved).
  const ac2 = new AbortController();
  let calls2 = 0;
  await assert.rejects(
    computeLandscape({
      ...base,
      signal: ac2.signal,
      evaluateAt: (th) => {
        if (++calls2 === 1) setTimeout(() => ac2.abort(), 0);
        return q.outcome(th);
      },
    }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.ok(calls2 < 21 * 21, `stopped after ${calls2} points`);

  // Already aborted: nothing is evaluated.
  let calls3 = 0;
  await assert.rejects(
    computeLandscape({ ...base, signal: AbortSignal.abort(), evaluateAt: (th) => { calls3++; return q.outcome(th); } }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.equal(calls3, 0);
});

test('identical optima are a clear error; a wrong outcome count is reported', async () => {
  const q = quadratics(2);
  await assert.rejects(
    computeLandscape({ thetaA: q.star[0], thetaB: q.star[0].slice(), checkpoints: [], layout: quadLayout, spec: spec(), optima: [0, 1], seed: 0, taskCount: 2, evaluateAt: q.outcome }),
    /identical/,
  );
  await assert.rejects(
    computeLandscape({ thetaA: q.star[0], thetaB: q.star[1], checkpoints: [], layout: quadLayout, spec: spec(), optima: [0, 1], seed: 0, taskCount: 3, evaluateAt: q.outcome }),
    /one per task/,
  );
});

test('concurrent evaluations (async evaluator) give the same result as sequential ones', async () => {
  const q = quadratics(4);
  const base = { thetaA: q.star[0], thetaB: q.star[1], checkpoints: [], layout: quadLayout, spec: spec({ grid: 7, linePoints: 13 }), optima: [0, 1] as [number, number], seed: 2, taskCount: 2 };
  const seq = await computeLandscape({ ...base, evaluateAt: q.outcome });
  let inFlight = 0;
  let maxInFlight = 0;
  const par = await computeLandscape({
    ...base,
    concurrency: 3,
    evaluateAt: async (theta) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const copy = theta.slice();
      await new Promise((r) => setTimeout(r, Math.floor(q.rng() * 3)));
      inFlight--;
      return q.outcome(copy);
    },
  });
  assert.equal(maxInFlight, 3);
  assert.deepEqual({ ...par, timeMs: 0 }, { ...seq, timeMs: 0 });

  // A failure in one lane rejects after the others finish their point.
  let calls = 0;
  await assert.rejects(
    computeLandscape({
      ...base,
      concurrency: 2,
      evaluateAt: async (theta) => {
        await new Promise((r) => setTimeout(r, 1));
        if (++calls === 4) throw new Error('evaluation failed');
        return q.outcome(theta);
      },
    }),
    /evaluation failed/,
  );
  assert.ok(calls <= 5);
});
