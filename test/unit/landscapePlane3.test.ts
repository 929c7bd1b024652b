// Several runs on one plane through three models: exact projections on a constructed fixture,
// grid values against a closed-form bowl, anchors, comparability checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskOutcome } from '../../src/engine/landscape/compute';
import { comparability, computeMultiRunPlane, type RunWeights } from '../../src/engine/landscape/plane3';
import { planeThroughThree, projectOntoPlane, planeFromAxes } from '../../src/engine/landscape/projection';
import { createRng, gaussian } from '../../src/engine/random';

// Vectors with dyadic entries on disjoint supports, so every sum below is exact in float32 and
// the answers are known in closed form:
//   u (indices 0..9, +-0.5):  |u| = sqrt(2.5)
//   w (indices 10..19, +-0.25), orthogonal to u: |w| = sqrt(0.625) = |u| / 2
//   z (indices 20..29, +-0.125), orthogonal to both: |z| = sqrt(0.15625)
// theta_C = theta_A + 0.5 u + w  ->  (alpha, beta) = (0.5, 0.5)
// theta_A + a u + b w + c z       ->  (a, b / 2), off-plane |c| |z|
const N = 40;
const sign = (i: number) => (i * 7919) % 3 === 0 ? -1 : 1;
const vec = (lo: number, hi: number, value: number) => Float32Array.from({ length: N }, (_, i) => (i >= lo && i < hi ? sign(i) * value : 0));
const U = vec(0, 10, 0.5);
const W = vec(10, 20, 0.25);
const Z = vec(20, 30, 0.125);
const thetaA = Float32Array.from({ length: N }, (_, i) => ((i * 37) % 33 - 16) / 8);
const combo = (a: number, b: number, c: number) => Float32Array.from({ length: N }, (_, i) => thetaA[i] + a * U[i] + b * W[i] + c * Z[i]);
const thetaB = combo(1, 0, 0);
const thetaC = combo(0.5, 1, 0);
const normU = Math.sqrt(2.5);
const normZ = Math.sqrt(0.15625);

// Closed-form bowls: L_t = 0.5 sum_i h_t[i] (theta_i - s_t[i])^2, accuracy exp(-L).
const rng = createRng(5);
const h = [0, 1].map(() => Float64Array.from({ length: N }, () => 0.5 + rng()));
const star = [thetaA, thetaB];
const bowl = (theta: ArrayLike<number>): TaskOutcome[] => [0, 1].map((t) => {
  let s = 0;
  for (let i = 0; i < N; i++) s += h[t][i] * (theta[i] - star[t][i]) ** 2;
  return { loss: 0.5 * s, accuracy: Math.exp(-0.5 * s) };
});

function run(name: string, phases: number[][], init: Float32Array, taskEnd: Float32Array[], trajectory: RunWeights['trajectory'] = []): RunWeights {
  return { name, phases, init, taskEnd, trajectory };
}
const init = combo(-0.25, 0.5, 1);

test('projection: coordinates and off-plane distances are exact on the constructed fixture', () => {
  const plane = planeThroughThree(thetaA, thetaB, thetaC);
  assert.equal(plane.distance, normU);
  const cases: [number, number, number][] = [[0, 0, 0], [1, 0, 0], [0.5, 1, 0], [0.25, -1.5, 2], [1.75, 0.5, -3], [-0.5, 2, 1]];
  let maxErr = 0;
  for (const [a, b, c] of cases) {
    const p = projectOntoPlane(plane, combo(a, b, c));
    const err = Math.max(Math.abs(p.alpha - a), Math.abs(p.beta - b / 2), Math.abs(p.offPlane - Math.abs(c) * normZ), Math.abs(p.offPlaneRelative - (Math.abs(c) * normZ) / normU));
    maxErr = Math.max(maxErr, err);
  }
  console.log(`projection fixture: max error ${maxErr}`);
  assert.ok(maxErr < 1e-14, `max error ${maxErr}`);
  // theta_A and theta_B land exactly on (0,0) and (1,0), in the plane.
  assert.deepEqual(projectOntoPlane(plane, thetaA), { alpha: 0, beta: 0, offPlane: 0, offPlaneRelative: 0 });
  const b = projectOntoPlane(plane, thetaB);
  assert.equal(b.alpha, 1);
  assert.equal(b.beta, 0);
  assert.equal(b.offPlane, 0);
});

test('projection: least squares holds for non-orthogonal axes and random vectors', () => {
  const r = createRng(9);
  const n = 300;
  const rand = () => Float64Array.from({ length: n }, () => gaussian(r));
  const origin = Float32Array.from(rand());
  const u = rand();
  const v = rand(); // not orthogonal to u
  const plane = planeFromAxes(origin, u, v);
  const [a, b] = [0.37, -1.21];
  const off = rand();
  // make `off` orthogonal to u and v (alternating projections converge) so the answer is known
  for (let pass = 0; pass < 60; pass++) {
    for (const d of [u, v]) {
      let dd = 0;
      let od = 0;
      for (let i = 0; i < n; i++) {
        dd += d[i] * d[i];
        od += off[i] * d[i];
      }
      for (let i = 0; i < n; i++) off[i] -= (od / dd) * d[i];
    }
  }
  const theta = Float64Array.from({ length: n }, (_, i) => origin[i] + a * u[i] + b * v[i] + off[i]);
  const p = projectOntoPlane(plane, theta);
  const offNorm = Math.sqrt(off.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(p.alpha - a) < 1e-12, `alpha ${p.alpha}`);
  assert.ok(Math.abs(p.beta - b) < 1e-12, `beta ${p.beta}`);
  assert.ok(Math.abs(p.offPlane - offNorm) < 1e-10 * offNorm, `off-plane ${p.offPlane} vs ${offNorm}`);
});

test('plane through three models: collinear third point and mismatched lengths are refused', () => {
  assert.throws(() => planeThroughThree(thetaA, thetaB, combo(2, 0, 0)), /lies on the line/);
  assert.throws(() => planeThroughThree(thetaA, thetaB, thetaA), /lies on the line/);
  assert.throws(() => planeThroughThree(thetaA, thetaA, thetaC), /identical/);
  assert.throws(() => planeThroughThree(thetaA, thetaB, new Float32Array(3)), /different models/);
});

test('comparability: same init and first phase share theta_A; joint shares init; others are refused', () => {
  const ref = run('runs/naive', [[0], [1]], init, [thetaA, thetaB]);
  const ewc = run('runs/ewc', [[0], [1]], init.slice(), [thetaA.slice(), combo(0.8, 0.4, 0.5)]);
  const joint = run('runs/joint', [[0, 1]], init.slice(), [thetaC]);
  assert.equal(comparability(ref, ref), 'theta-A');
  assert.equal(comparability(ref, ewc), 'theta-A');
  assert.equal(comparability(ref, joint), 'init');
  const otherSeed = init.slice();
  otherSeed[3] = Math.fround(otherSeed[3] + 2 ** -20);
  assert.throws(() => comparability(ref, run('runs/seed4', [[0], [1]], otherSeed, [thetaA, thetaB])), /does not start from the initialisation of runs\/naive/);
  const driftedA = thetaA.slice();
  driftedA[0] = Math.fround(driftedA[0] + 2 ** -10);
  assert.throws(() => comparability(ref, run('runs/other', [[0], [1]], init, [driftedA, thetaB])), /does not share theta_A/);
  assert.throws(() => comparability(ref, run('runs/cnn', [[0], [1]], new Float32Array(N + 1), [])), /different models/);
  // -0 and +0 differ bitwise: the check is on the bits, not the values
  const negZero = init.slice();
  const zi = negZero.findIndex((x) => x === 0);
  assert.ok(zi >= 0);
  negZero[zi] = -0;
  assert.throws(() => comparability(ref, run('runs/negzero', [[0], [1]], negZero, [thetaA, thetaB])), /initialisation/);
});

test('multi-run plane on the bowl: grid equals the formula, in-plane anchors equal the grid at their coordinates', async () => {
  const ref = run('runs/naive', [[0], [1]], init, [thetaA, thetaB], [
    { step: 0, phase: -1, theta: init },
    { step: 5, phase: 0, theta: combo(-0.125, 0.25, 0.5) },
    { step: 10, phase: 0, theta: thetaA },
    { step: 15, phase: 1, theta: combo(0.5, -0.5, 0.25) },
    { step: 20, phase: 1, theta: thetaB },
  ]);
  const ewcEnd = combo(0.75, 0.5, -1.5);
  const ewc = run('runs/ewc', [[0], [1]], init.slice(), [thetaA.slice(), ewcEnd], [{ step: 20, phase: 1, theta: ewcEnd }]);
  const joint = run('runs/joint', [[0, 1]], init.slice(), [thetaC], [{ step: 20, phase: 0, theta: thetaC }]);
  const progress: number[] = [];
  const res = await computeMultiRunPlane({
    reference: ref,
    third: { run: joint, label: 'joint' },
    runs: [ewc],
    grid: 21,
    taskCount: 2,
    evaluateAt: async (theta) => bowl(theta),
    concurrency: 3,
    samples: 0,
    tasks: ['bowl A', 'bowl B'],
    onProgress: (done, total) => progress.push(done / total),
  });
  assert.equal(progress.at(-1), 1);
  assert.deepEqual(res.third, { alpha: 0.5, beta: 0.5 });
  assert.equal(res.distance, normU);
  assert.equal(res.alphas[5], 0);
  assert.equal(res.alphas[15], 1);
  assert.equal(res.betas[5], 0);
  assert.equal(res.betas[15], 0.5, "the third point's beta is a grid row");
  assert.deepEqual(res.points.map((p) => p.label), ['A', 'B', 'joint']);
  assert.deepEqual(res.runs.map((r) => [r.run, r.shares]), [['runs/naive', 'theta-A'], ['runs/joint', 'init'], ['runs/ewc', 'theta-A']]);

  // Grid: each node equals the closed form at theta_A + a u + b v (v = 2 w), to float32 rounding.
  let maxRel = 0;
  for (let bi = 0; bi < 21; bi++) {
    for (let ai = 0; ai < 21; ai++) {
      const a = res.alphas[ai];
      const b = res.betas[bi];
      const exact = bowl(Float64Array.from({ length: N }, (_, i) => thetaA[i] + a * U[i] + 2 * b * W[i]));
      for (let t = 0; t < 2; t++) maxRel = Math.max(maxRel, Math.abs(res.grids[t].loss[bi][ai] - exact[t].loss) / Math.max(1, exact[t].loss));
    }
  }
  console.log(`bowl grid vs closed form: max relative error ${maxRel}`);
  assert.ok(maxRel < 1e-6, `grid vs closed form: max relative error ${maxRel}`);

  // Projections: the trajectories and ends at their known coordinates and distances.
  const naive = res.runs[0];
  const expected = [[-0.125, 0.125, 0.5], [0, 0, 0], [0.5, -0.25, 0.25], [1, 0, 0]];
  naive.trajectory.slice(1).forEach((p, k) => {
    const [a, b, c] = expected[k];
    assert.ok(Math.abs(p.alpha - a) < 1e-14 && Math.abs(p.beta - b) < 1e-14, `step ${p.step}: (${p.alpha}, ${p.beta})`);
    assert.ok(Math.abs(p.offPlane - c * normZ) < 1e-14, `step ${p.step}: off-plane ${p.offPlane}`);
  });
  const ewcP = res.runs[2].ends[1];
  assert.ok(Math.abs(ewcP.alpha - 0.75) < 1e-14 && Math.abs(ewcP.beta - 0.25) < 1e-14);
  assert.ok(Math.abs(ewcP.offPlaneRelative - (1.5 * normZ) / normU) < 1e-14);

  // Anchors: every in-plane end (A, B, joint) evaluated directly equals the grid at its coordinates.
  const inPlane = res.anchors.filter((x) => x.offPlane === 0);
  assert.deepEqual(inPlane.map((x) => `${x.run}:${x.phase}`), ['runs/naive:0', 'runs/naive:1', 'runs/joint:0', 'runs/ewc:0']);
  for (const x of inPlane) {
    assert.ok(x.grid, `${x.run}:${x.phase} at (${x.alpha}, ${x.beta}) is a grid node`);
    for (let t = 0; t < 2; t++) {
      assert.ok(Math.abs(x.direct.loss[t] - x.grid.loss[t]) <= 1e-6 * Math.max(1, x.direct.loss[t]), `${x.run}:${x.phase} task ${t}: direct ${x.direct.loss[t]} vs grid ${x.grid.loss[t]}`);
      assert.ok(Math.abs(x.direct.loss[t] - x.inPlane.loss[t]) <= 1e-6 * Math.max(1, x.direct.loss[t]));
    }
  }
  // theta_A and theta_B are formed bitwise: the grid equals the direct value exactly there.
  assert.deepEqual(inPlane[0].direct, inPlane[0].grid);
  assert.deepEqual(inPlane[1].direct, inPlane[1].grid);
  // An off-plane end: the in-plane value differs from the direct one (the plane hides it), and it is reported.
  const off = res.anchors.find((x) => x.run === 'runs/ewc' && x.phase === 1)!;
  assert.ok(off.offPlane > 0);
  assert.notEqual(off.direct.loss[0], off.inPlane.loss[0]);
});

test('multi-run plane: an incomparable run is refused before any evaluation', async () => {
  const ref = run('runs/naive', [[0], [1]], init, [thetaA, thetaB]);
  const joint = run('runs/joint', [[0, 1]], init, [thetaC]);
  const bad = run('runs/seed9', [[0], [1]], combo(0, 0, 3), [thetaA, thetaB]);
  let calls = 0;
  await assert.rejects(
    computeMultiRunPlane({ reference: ref, third: { run: joint }, runs: [bad], grid: 5, taskCount: 2, evaluateAt: (t) => (calls++, bowl(t)), samples: 0, tasks: ['a', 'b'] }),
    /runs\/seed9 does not start from the initialisation/,
  );
  assert.equal(calls, 0);
});
