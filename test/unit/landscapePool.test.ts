// Landscape evaluator pool (worker threads): bitwise the same outcomes as the in-process
// modelEvaluator, more points than workers, the main thread as an extra lane, dispose, and the
// failures the runner falls back on (missing script, a worker that cannot start or dies).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LandscapeSpec, ResolvedModelSpec } from '../../src/protocol/experiment';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import type { ClassifierModel, EvalSet, TF } from '../../src/engine/models/types';
import { createRng, gaussian } from '../../src/engine/random';
import { computeLandscape, modelEvaluator, type PointEvaluator, type TaskOutcome } from '../../src/engine/landscape/compute';
import { createEvaluatorPool, defaultWorkerScript, poolSetsFromTensors, type PoolEvalSet } from '../../src/engine/landscape/pool';
import { layoutOf, readParameters } from '../../src/engine/landscape/vector';

const SPEC: ResolvedModelSpec = { type: 'cnn', conv: [{ filters: 4, kernel: 3, pool: 2 }], dense: [16] };
const SHAPE: [number, number, number] = [12, 12, 1];
const OUTPUTS = 10;
const N = 300; // per task; batch 128 -> batches of 128, 128, 44
const BATCH = 128;

let tf: TF;
let model: ClassifierModel;
let arrays: PoolEvalSet[];
let sets: EvalSet[];
let local: PointEvaluator;
let thetas: Float32Array[];
let expected: TaskOutcome[][];
let tmp: string;

before(async () => {
  ({ tf } = await loadBackend('wasm'));
  const rng = createRng(7);
  arrays = [0, 1].map(() => ({
    images: Float32Array.from({ length: N * 144 }, () => gaussian(rng)),
    labels: Int32Array.from({ length: N }, () => Math.floor(rng() * OUTPUTS)),
  }));
  sets = arrays.map((a) => ({ images: tf.tensor4d(a.images, [N, ...SHAPE]), labels: tf.tensor1d(a.labels, 'int32') }));
  model = buildModel(tf, SPEC, SHAPE, OUTPUTS, 3);
  local = modelEvaluator(tf, model, sets, BATCH);
  const theta0 = readParameters(tf, model);
  thetas = Array.from({ length: 7 }, (_, k) => Float32Array.from(theta0, (w) => w + 0.3 * k * gaussian(rng)));
  expected = [];
  for (const t of thetas) expected.push(await local(t));
  tmp = mkdtempSync(join(tmpdir(), 'clw-pool-'));
});

after(() => {
  model?.dispose();
  for (const s of sets ?? []) {
    s.images.dispose();
    s.labels.dispose();
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const options = () => ({ spec: SPEC, inputShape: SHAPE, outputs: OUTPUTS, sets: arrays, batchSize: BATCH });

/** Bitwise equality of every loss and accuracy. */
function assertIdentical(actual: TaskOutcome[][], wanted: TaskOutcome[][]) {
  assert.equal(actual.length, wanted.length);
  actual.forEach((outs, p) => {
    assert.equal(outs.length, wanted[p].length);
    outs.forEach((o, t) => {
      assert.ok(Object.is(o.loss, wanted[p][t].loss), `point ${p} task ${t}: loss ${o.loss} vs ${wanted[p][t].loss}`);
      assert.ok(Object.is(o.accuracy, wanted[p][t].accuracy), `point ${p} task ${t}: accuracy ${o.accuracy} vs ${wanted[p][t].accuracy}`);
    });
  });
}

test('the default worker script is the TypeScript source when running from source', () => {
  assert.match(defaultWorkerScript(), /landscape[\\/]worker\.ts$/);
});

test('two workers: bitwise the in-process outcomes, more points than workers in flight, reusable buffer', async () => {
  const pool = await createEvaluatorPool({ ...options(), workers: 2 });
  try {
    assert.equal(pool.size, 2);
    // 7 points at once on 2 workers; the caller's buffer is overwritten right after each call.
    const buffer = new Float32Array(thetas[0].length);
    const pending = thetas.map((t) => {
      buffer.set(t);
      const p = pool.evaluateAt(buffer);
      buffer.fill(NaN);
      return p;
    });
    assertIdentical(await Promise.all(pending), expected);
    assert.notEqual(expected[0][0].loss, expected[6][0].loss); // the points really differ

    // Through computeLandscape (grid + line), against the in-process run.
    const spec: LandscapeSpec = { grid: 3, samples: N, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'random', checkpointEvery: 1, linePoints: 4, optima: [0, 1] };
    const common = { thetaA: thetas[1], thetaB: thetas[2], checkpoints: [], layout: layoutOf(model), spec, optima: [0, 1] as [number, number], seed: 5, taskCount: 2 };
    const inProcess = await computeLandscape({ ...common, evaluateAt: local });
    const pooled = await computeLandscape({ ...common, evaluateAt: pool.evaluateAt, concurrency: pool.size });
    assert.deepEqual(pooled.grids, inProcess.grids);
    assert.deepEqual(pooled.line, inProcess.line);
    for (const g of pooled.grids) for (const row of g.loss) for (const v of row) assert.ok(Number.isFinite(v));

    await assert.rejects(pool.evaluateAt(new Float32Array(5)), /theta has 5 values/);
  } finally {
    await pool.dispose();
  }
  await assert.rejects(pool.evaluateAt(thetas[0]), /disposed/);
});

test('one worker plus the main thread: identical outcomes; dispose rejects pending evaluations', async () => {
  const pool = await createEvaluatorPool({ ...options(), workers: 1, local, sets: poolSetsFromTensors(sets) });
  assert.equal(pool.size, 2);
  assertIdentical(await Promise.all(thetas.map((t) => pool.evaluateAt(t))), expected);
  const pending = thetas.map((t) => pool.evaluateAt(t).then(() => 'done', (e: Error) => e.message));
  await pool.dispose();
  const settled = await Promise.all(pending);
  assert.ok(settled.some((s) => /disposed/.test(s)), settled.join(', '));
  await pool.dispose(); // idempotent
});

test('a missing worker script is a clear error', async () => {
  const script = join(tmp, 'dist', 'landscapeWorker.js');
  await assert.rejects(createEvaluatorPool({ ...options(), workerScript: script }), (e: Error) => {
    assert.match(e.message, /landscape worker script not found/);
    assert.ok(e.message.includes(script));
    return true;
  });
});

test('a worker that cannot build the model fails the start with its message', async () => {
  const bad: ResolvedModelSpec = { type: 'cnn', conv: [{ filters: 4, kernel: 13 }], dense: [] }; // 13x13 kernel on 12x12 images
  await assert.rejects(createEvaluatorPool({ ...options(), spec: bad, workers: 1 }), /landscape worker pool failed to start: worker 0: model\.conv\[0\]/);
});

test('a worker that dies rejects the pending evaluations with its message', async () => {
  // A stand-in worker: starts, then throws on the first point.
  const script = join(tmp, 'crashingWorker.js');
  writeFileSync(
    script,
    `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.type === 'init') parentPort.postMessage({ type: 'ready', backend: 'none', parameterCount: ${thetas[0].length} });
  else throw new Error('kaboom at point ' + m.id);
});
`,
  );
  const pool = await createEvaluatorPool({ ...options(), workerScript: script, workers: 1 });
  try {
    const results = await Promise.allSettled(thetas.slice(0, 3).map((t) => pool.evaluateAt(t)));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.match(String((r as PromiseRejectedResult).reason.message), /landscape worker 0 failed: kaboom at point 1/);
    }
    await assert.rejects(pool.evaluateAt(thetas[0]), /kaboom/);
  } finally {
    await pool.dispose();
  }
});
