// Paths between solutions: the loss barrier on analytic curves, straight lines and Bezier curves
// evaluated on a closed-form model, evaluation order/concurrency/cancel, the barriers table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskOutcome } from '../../src/engine/landscape/compute';
import { barrierTable, bezierPath, evaluateMany, evaluatePath, linePath, lossBarrier } from '../../src/engine/landscape/paths';
import { createRng, gaussian } from '../../src/engine/random';

const ts = (K: number) => Array.from({ length: K }, (_, k) => k / (K - 1));

test('loss barrier: analytic curves', () => {
  const t = ts(21);
  // A bump on a tilted line: loss = 1 + 2t + 4 t(1-t); barrier = max 4t(1-t) = 1 at t = 0.5.
  const bump = lossBarrier(t, t.map((x) => 1 + 2 * x + 4 * x * (1 - x)));
  assert.ok(Math.abs(bump.barrier - 1) < 1e-12, String(bump.barrier));
  assert.equal(bump.at, 0.5);
  // Convex along the path: never above the chord, so the barrier is 0 (attained at the endpoints).
  const convex = lossBarrier(t, t.map((x) => (x - 0.3) ** 2 + 5 * x));
  assert.equal(convex.barrier, 0);
  // An asymmetric bump: loss = 3 - 2t + sin(pi t)^3 -> max sin^3 = 1 at t = 0.5 (chord removed exactly).
  const asym = lossBarrier(t, t.map((x) => 3 - 2 * x + Math.sin(Math.PI * x) ** 3));
  assert.ok(Math.abs(asym.barrier - 1) < 1e-12);
  // The chord uses the endpoints' values, not the minimum: a path that dips below both has barrier 0.
  const dip = lossBarrier(t, t.map((x) => 2 - Math.sin(Math.PI * x)));
  assert.equal(dip.barrier, 0);
  // The max excess of a peak off the grid's centre: loss = 1 + 10 max(0, 0.1 - |t - 0.8|)
  const peak = lossBarrier(t, t.map((x) => 1 + 10 * Math.max(0, 0.1 - Math.abs(x - 0.8))));
  assert.ok(Math.abs(peak.barrier - 1) < 1e-12);
  assert.equal(peak.at, 0.8);
  // A non-finite loss makes the barrier NaN (never a silently smaller number).
  assert.ok(Number.isNaN(lossBarrier([0, 0.5, 1], [1, Infinity, 1]).barrier));
  assert.throws(() => lossBarrier([0], [1]), /needs >= 2 points/);
  assert.throws(() => lossBarrier([0, 1], [1]), /needs >= 2 points/);
});

const N = 30;
const rng = createRng(3);
const theta0 = Float32Array.from({ length: N }, () => gaussian(rng));
const theta1 = Float32Array.from({ length: N }, () => gaussian(rng));
// Two bowls with minima at theta0 and theta1: L_k(w) = 0.5 |w - star_k|^2.
const bowls = (w: ArrayLike<number>): TaskOutcome[] => [theta0, theta1].map((s) => {
  let l = 0;
  for (let i = 0; i < N; i++) l += 0.5 * (w[i] - s[i]) ** 2;
  return { loss: l, accuracy: Math.exp(-l) };
});
const d2 = (() => {
  let s = 0;
  for (let i = 0; i < N; i++) s += (theta1[i] - theta0[i]) ** 2;
  return s;
})();

test('straight line: endpoints bitwise, the bowls along it are 0.5 t^2 |d|^2 and 0.5 (1-t)^2 |d|^2 (barrier 0)', async () => {
  const path = linePath(theta0, theta1);
  const out = new Float32Array(N);
  assert.deepEqual(path.at(0, out), theta0);
  assert.deepEqual(path.at(1, out), theta1);
  const res = await evaluatePath({ path, points: 11, label: 'A → B', from: { run: 'r', phase: 0, label: 'A' }, to: { run: 'r', phase: 1, label: 'B' }, taskCount: 2, evaluateAt: bowls });
  assert.equal(res.kind, 'line');
  assert.ok(Math.abs(res.distance - Math.sqrt(d2)) < 1e-12);
  res.t.forEach((t, k) => {
    assert.ok(Math.abs(res.loss[0][k] - 0.5 * t * t * d2) < 1e-5 * d2, `task 0 at t=${t}`);
    assert.ok(Math.abs(res.loss[1][k] - 0.5 * (1 - t) ** 2 * d2) < 1e-5 * d2, `task 1 at t=${t}`);
  });
  assert.equal(res.loss[0][0], 0);
  assert.equal(res.loss[1][10], 0);
  // Convex along the line: both barriers are 0 up to float32 rounding of the points.
  for (const b of res.barrier) assert.ok(Math.abs(b) < 1e-5, String(b));
  // The mean of the two bowls, 0.25 (t^2 + (1-t)^2) |d|^2, dips below its chord: barrier 0 at the ends.
  res.t.forEach((t, k) => assert.ok(Math.abs(res.meanLoss[k] - 0.25 * (t * t + (1 - t) ** 2) * d2) < 1e-5 * d2));
  assert.ok(Math.abs(res.meanBarrier) < 1e-5);
});

test('Bezier path: the bowls along a curve bent by c have barrier 2t(1-t)-shaped bumps with a known maximum', async () => {
  // control = midpoint + c e (e a unit vector orthogonal to d): phi(t) = line(t) + 2t(1-t) c e, so each
  // bowl gains 0.5 (2t(1-t) c)^2, a bump of 0.5 (c/2)^2 = c^2/8 at t = 0.5 over a convex (chord-below) term.
  const d = Float64Array.from({ length: N }, (_, i) => theta1[i] - theta0[i]);
  const e = Float64Array.from({ length: N }, (_, i) => (i % 2 ? 1 : -1) * (1 + (i % 3)));
  let ed = 0;
  for (let i = 0; i < N; i++) ed += e[i] * d[i];
  for (let i = 0; i < N; i++) e[i] -= (ed / d2) * d[i];
  const en = Math.sqrt(e.reduce((s, x) => s + x * x, 0));
  for (let i = 0; i < N; i++) e[i] /= en;
  const c = 20; // large enough for the bump to beat the convex term's dip below the chord
  const control = Float64Array.from({ length: N }, (_, i) => 0.5 * (theta0[i] + theta1[i]) + c * e[i]);
  const res = await evaluatePath({ path: bezierPath(theta0, control, theta1), points: 21, label: 'Bezier', from: { run: 'r', phase: 0, label: 'A' }, to: { run: 'r', phase: 1, label: 'B' }, taskCount: 2, evaluateAt: bowls, concurrency: 4 });
  res.t.forEach((t, k) => {
    const bend = 0.5 * (2 * t * (1 - t) * c) ** 2;
    assert.ok(Math.abs(res.loss[0][k] - (0.5 * t * t * d2 + bend)) < 1e-5 * (d2 + c * c), `t=${t}: ${res.loss[0][k]} vs ${0.5 * t * t * d2 + bend}`);
  });
  // Task 0: loss(t) - chord = 0.5 t^2 d2 - 0.5 t d2 + 2 c^2 t^2 (1-t)^2; its max over the 21 points.
  const expected = Math.max(...res.t.map((t) => 0.5 * t * t * d2 - 0.5 * t * d2 + 2 * c * c * t * t * (1 - t) ** 2));
  assert.ok(Math.abs(res.barrier[0] - expected) < 1e-5 * expected, `${res.barrier[0]} vs ${expected}`);
  assert.ok(expected > 10, String(expected));
  assert.equal(res.barrierT[0], 0.5);
});

test('evaluateMany: results in point order with several lanes, each lane its own buffer; cancel and failures', async () => {
  const seen = new Set<Float32Array>();
  const outs = await evaluateMany(9, 2, (k, b) => b.fill(k), async (theta) => {
    seen.add(theta);
    await new Promise((r) => setTimeout(r, (9 - theta[0]) % 3));
    return [{ loss: theta[0], accuracy: theta[1] }];
  }, { concurrency: 3 });
  assert.deepEqual(outs.map((o) => o[0].loss), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(seen.size, 3);
  const controller = new AbortController();
  let calls = 0;
  await assert.rejects(evaluateMany(50, 1, () => {}, () => {
    if (++calls === 5) controller.abort();
    return [{ loss: 0, accuracy: 0 }];
  }, { signal: controller.signal }), { name: 'AbortError' });
  assert.equal(calls, 5);
  await assert.rejects(evaluateMany(5, 1, () => {}, () => {
    throw new Error('worker died');
  }, { concurrency: 2 }), /worker died/);
});

test('barriers table: one row per path, barrier and max loss per task', () => {
  const table = barrierTable([
    { kind: 'line', label: 'A → B', from: { run: 'r', phase: 0, label: 'A' }, to: { run: 'r', phase: 1, label: 'B' }, distance: 12.5, t: [0, 0.5, 1], loss: [[0.1, 2, 3], [3, 2.5, 0.2]], accuracy: [[1, 0.5, 0.1], [0.1, 0.3, 0.9]], barrier: [0.45, 0.9], barrierT: [0.5, 0.5], meanLoss: [1.55, 2.25, 1.6], meanBarrier: 0.675 },
    { kind: 'bezier', label: 'Bezier A → B', from: { run: 'r', phase: 0, label: 'A' }, to: { run: 'r', phase: 1, label: 'B' }, distance: 12.5, t: [0, 0.5, 1], loss: [[0.1, 1, 3], [3, 1, 0.2]], accuracy: [[1, 0.7, 0.1], [0.1, 0.7, 0.9]], barrier: [0, 0], barrierT: [0, 0], meanLoss: [1.55, 1, 1.6], meanBarrier: 0 },
  ], ['mnist', 'fashion']);
  const lines = table.split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0], /path\s+distance\s+barrier mnist\s+barrier fashion\s+barrier mean\s+max inner mean loss/);
  assert.match(lines[2], /^A → B\s+12\.500\s+0\.4500\s+0\.9000\s+0\.6750\s+2\.2500$/);
  assert.match(lines[3], /^Bezier A → B\s+12\.500\s+0\.0000\s+0\.0000\s+0\.0000\s+1\.0000$/);
});

// ---------------------------------------------------------------- the CLI on synthetic stores
// Runs written by hand (result.json + a weight store of a small MLP, weights made up), evaluated
// on real MNIST / Fashion-MNIST subsets by the same code the runner uses.

test('paths CLI: lines, a Bezier curve and the plane through a third run, written beside the reference; incomparable runs refused', async () => {
  const { mkdtempSync, existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync, renameSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { loadBackend } = await import('../../src/engine/backend');
  const { buildModel } = await import('../../src/engine/models/build');
  const { layoutOf, readParameters } = await import('../../src/engine/landscape/vector');
  const { writeWeightStore } = await import('../../src/engine/landscape/store');
  const { pathsCommand } = await import('../../src/cli/paths');
  const { savedPaths, runPathsJob, pathsFileName, planeFileName } = await import('../../src/engine/landscape/pathsJob');
  const { tf } = await loadBackend('wasm');
  const experiment = {
    name: 'paths cli', seed: 4,
    tasks: [{ dataset: 'mnist', train: 200, test: 100 }, { dataset: 'fashion-mnist', train: 200, test: 100 }],
    scenario: 'domain-il', model: { type: 'mlp', hidden: [8] },
    training: { optimizer: 'adam', learningRate: 0.002, batchSize: 32, epochs: 1, evalEvery: 10, evalSamples: 50 },
    strategy: { name: 'naive' },
    landscape: { grid: 5, samples: 60, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'random', checkpointEvery: 10, linePoints: 5, optima: [0, 1] },
  };
  const model = buildModel(tf, experiment.model as never, [28, 28, 1], 10, 4);
  const layout = layoutOf(model);
  const init = readParameters(tf, model);
  model.dispose();
  const r = createRng(21);
  const moved = (from: Float32Array, s: number) => Float32Array.from(from, (x) => x + s * gaussian(r));
  const thetaA = moved(init, 0.05);
  const root = mkdtempSync(join(tmpdir(), 'clw-paths-'));
  const write = (name: string, phases: number[][], initW: Float32Array, ends: Float32Array[]) => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'result.json'), JSON.stringify({ formatVersion: 2, runId: name, status: 'completed', experiment: { ...experiment, strategy: { name } }, tasks: [], phases, head: { scenario: 'domain-il', outputs: 10 }, accuracyMatrix: [], lossMatrix: [], randomInitAccuracy: [], curves: [], taskBoundaries: [], totalSteps: 0, landscape: null, environment: { backend: 'wasm' } }));
    writeWeightStore(dir, { layout, init: initW, taskEnd: ends, trajectory: [{ step: 0, phase: -1, theta: initW }, ...ends.map((theta, k) => ({ step: 10 * (k + 1), phase: k, theta }))], dtype: 'float32', bytes: 0 });
    return dir;
  };
  const naive = write('naive', [[0], [1]], init, [thetaA, moved(thetaA, 0.05)]);
  const joint = write('joint', [[0, 1]], init.slice(), [moved(init, 0.05)]);
  const stranger = write('stranger', [[0], [1]], moved(init, 0.01), [thetaA, thetaA]);
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
  const code = await pathsCommand([naive, '--to', joint, '--bezier', '--steps', '20', '--batch-size', '32', '--points', '5', '--plane-with', joint, '--backend', 'wasm', '--no-download'], io);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /A → B/);
  assert.match(stdout, /A → joint/);
  assert.match(stdout, /Bezier A → B/);
  assert.match(stdout, /Plane through A, B and joint/);
  // Named by what was asked (the lines' targets, the curve, the third point and projected runs), never paths.json.
  const written = readdirSync(naive).filter((n) => /^(paths|plane)-/.test(n)).sort();
  const pathsName = pathsFileName({ to: [joint], bezier: true, steps: 20, batchSize: 32, learningRate: 0.01, points: 5 }, [0, 1]);
  const planeName = planeFileName({ planeWith: joint, to: [joint] }, [0, 1], 5);
  assert.deepEqual(written, [pathsName, planeName].sort());
  assert.match(pathsName, /^paths-0-1-[0-9a-f]{10}\.json$/);
  assert.match(planeName, /^plane-0-1-joint-[0-9a-f]{10}\.json$/);
  assert.notEqual(pathsFileName({ to: [] }, [0, 1]), pathsFileName({ to: [joint] }, [0, 1]), 'other targets, another file');
  assert.equal(planeFileName({ planeWith: joint, runs: [naive, joint] }, [0, 1], 5), planeFileName({ planeWith: joint, runs: [joint, naive] }, [0, 1], 5), 'the order of the runs does not matter');
  assert.ok(!existsSync(join(naive, 'paths.json')));
  const paths = JSON.parse(readFileSync(join(naive, pathsName), 'utf8'));
  assert.deepEqual(paths.paths.map((p: { label: string }) => p.label), ['A → B', 'A → joint', 'Bezier A → B']);
  assert.deepEqual(paths.tasks.length, 2);
  const [line, toJoint, curve] = paths.paths;
  assert.deepEqual(line.t, [0, 0.25, 0.5, 0.75, 1]);
  // The three paths start at theta_A; the line and the curve end at theta_B (bitwise): same values there.
  for (let t = 0; t < 2; t++) {
    assert.equal(toJoint.loss[t][0], line.loss[t][0]);
    assert.equal(curve.loss[t][0], line.loss[t][0]);
    assert.equal(curve.loss[t][4], line.loss[t][4]);
    assert.ok(line.barrier[t] >= 0 && Number.isFinite(line.barrier[t]));
  }
  assert.equal(curve.bezier.steps, 20);
  assert.deepEqual(curve.bezier.tasks, [0, 1]);
  assert.ok(curve.bezier.controlShift > 0);
  const plane = JSON.parse(readFileSync(join(naive, planeName), 'utf8'));
  assert.equal(plane.grids.length, 2);
  assert.equal(plane.alphas.length, 5);
  const anchorA = plane.anchors.find((x: { run: string; phase: number }) => x.run === naive && x.phase === 0);
  assert.deepEqual(anchorA.direct, anchorA.grid, 'theta_A evaluated directly equals the grid at (0, 0)');
  const anchorB = plane.anchors.find((x: { run: string; phase: number }) => x.run === naive && x.phase === 1);
  assert.deepEqual(anchorB.direct, anchorB.grid, 'theta_B evaluated directly equals the grid at (1, 0)');
  assert.deepEqual(anchorA.direct.loss, [line.loss[0][0], line.loss[1][0]], 'the pool and the path agree at theta_A');
  // The same request again reopens both files (no data, no backend: the signal is already aborted).
  const again = await runPathsJob({ reference: naive, to: [joint], bezier: true, steps: 20, batchSize: 32, points: 5, planeWith: joint, signal: AbortSignal.abort() });
  assert.deepEqual(again.reopened, { paths: true, plane: true });
  assert.deepEqual(again.paths, paths);
  assert.equal(again.plane?.createdAt, plane.createdAt);
  // A paths.json of earlier versions is still read.
  renameSync(join(naive, pathsName), join(naive, 'paths.json'));
  assert.deepEqual(savedPaths(naive).map((s) => s.paths.createdAt), [paths.createdAt]);
  assert.ok(savedPaths(naive)[0].file.endsWith('paths.json'));
  // A run from another initialisation is refused with the reason, and nothing is written for it.
  stderr = '';
  assert.equal(await pathsCommand([naive, '--to', stranger, '--backend', 'wasm', '--no-download'], io), 1);
  assert.match(stderr, /stranger does not start from the initialisation of .*naive/);
  assert.equal(await pathsCommand([naive, '--optima', '0-1'], io), 2);
});
