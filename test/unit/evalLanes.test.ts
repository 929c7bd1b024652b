// A run's evaluations on both cores (train/evalLanes.ts): units of (task, batch) computed by the
// main thread and a worker, combined in task/batch order, give bitwise the outcomes of the
// evaluation that kept its sums on the backend (the code before the lanes, kept below as
// legacyEvaluateModel) on 0 or 1 worker, with class-IL and task-IL masks and a strategy's
// classifier; a cancel between units rejects and leaves the lanes usable; a worker that dies
// fails the evaluation with its message. Then whole runs: CLW_THREADS=1 and 2 give the same
// result bitwise, and a dying evaluation worker fails the run in its 'evaluate' phase.
// Real Split MNIST / MNIST + Fashion-MNIST subsets on wasm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type * as tfjs from '@tensorflow/tfjs';
import type { ResolvedModelSpec } from '../../src/protocol/experiment';
import type { RunEvent } from '../../src/protocol/events';
import type { RunResult } from '../../src/protocol/result';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import type { ClassifierModel, EvalSet, TF } from '../../src/engine/models/types';
import { loadTaskData, normalisedImages, type TaskData } from '../../src/engine/data/scenarios/taskData';
import { pixelLevels } from '../../src/engine/data/pixels';
import { alternateScenario, buildHead, maskVector, scoringUnits, type HeadLayout } from '../../src/engine/train/head';
import { EVAL_FORWARD_ROWS, evaluateModel, type EvalOutcome } from '../../src/engine/train/evaluate';
import { createEvalLanes, type EvalLanes } from '../../src/engine/train/evalLanes';
import type { EvalRequest, HostEvalSet } from '../../src/engine/train/evalUnits';
import { readParameters, writeParameters } from '../../src/engine/landscape/vector';
import { createRng, gaussian } from '../../src/engine/random';
import { runExperiment } from '../../src/engine/runner';
import { cancelledRun, tinyExperiment } from '../helpers/runner';

const SPEC: ResolvedModelSpec = { type: 'cnn', conv: [{ filters: 6, kernel: 3, pool: 2 }], dense: [24] };
const BATCH = 1000;

// ---- the evaluation before the lanes, verbatim (src/engine/train/evaluate.ts at b9b53fd) ----

function rowsInChunks(tf: TF, x: tfjs.Tensor4D, f: (x: tfjs.Tensor4D) => tfjs.Tensor2D): tfjs.Tensor2D {
  const n = x.shape[0];
  if (n <= EVAL_FORWARD_ROWS || tf.getBackend() !== 'wasm') return f(x);
  const parts: tfjs.Tensor2D[] = [];
  for (let start = 0; start < n; start += EVAL_FORWARD_ROWS) {
    const size = Math.min(EVAL_FORWARD_ROWS, n - start);
    parts.push(tf.tidy(() => f(x.slice([start, 0, 0, 0], [size, -1, -1, -1]))));
  }
  return tf.concat(parts, 0);
}

function legacyEvaluateModel(
  tf: TF,
  model: ClassifierModel,
  set: EvalSet,
  batchSize: number,
  opts: { mask?: tfjs.Tensor1D | null; alternateMask?: tfjs.Tensor1D | null; scores?: (x: tfjs.Tensor4D) => tfjs.Tensor2D } = {},
): EvalOutcome {
  const n = set.labels.shape[0];
  if (n === 0) return { accuracy: NaN, loss: NaN };
  const mask = opts.mask === undefined ? (set.mask ?? null) : opts.mask;
  const alternate = opts.alternateMask;
  const hits = (scores: tfjs.Tensor2D, m: tfjs.Tensor1D | null, y: tfjs.Tensor1D) => tf.sum(tf.cast(tf.equal(tf.argMax(m ? tf.add(scores, m) : scores, 1), y), 'float32'));
  let sums = [tf.scalar(0), tf.scalar(0), tf.scalar(0)];
  let totals: tfjs.Tensor1D;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const next = tf.tidy(() => {
        let [correct, lossSum, correctAlt] = sums;
        const x = set.images.slice([start, 0, 0, 0], [size, -1, -1, -1]);
        const y = set.labels.slice([start], [size]);
        const logits = rowsInChunks(tf, x, (rows) => model.forward(rows));
        const logp = tf.logSoftmax(mask ? tf.add(logits, mask) : logits);
        lossSum = tf.sub(lossSum, tf.sum(tf.mul(logp, tf.oneHot(y, model.outputs))));
        const scores = opts.scores ? rowsInChunks(tf, x, opts.scores) : logits;
        correct = tf.add(correct, hits(scores, mask, y));
        if (alternate !== undefined) correctAlt = tf.add(correctAlt, hits(scores, alternate, y));
        return [correct, lossSum, correctAlt];
      });
      for (const t of sums) if (!next.includes(t)) t.dispose();
      sums = next;
    }
    totals = tf.stack(sums) as tfjs.Tensor1D;
  } finally {
    tf.dispose(sums);
  }
  const [correct, lossSum, correctAlt] = totals.dataSync();
  totals.dispose();
  const out: EvalOutcome = { accuracy: correct / n, loss: lossSum / n };
  if (alternate !== undefined) out.alternateAccuracy = correctAlt / n;
  return out;
}

// ---- fixtures: Split MNIST (0-4, 5-9), class-IL head, 2300 + 1700 test images ----

let tf: TF;
let model: ClassifierModel;
let head: HeadLayout;
let raw: TaskData[];
let hostSets: HostEvalSet[];
let tensorSets: EvalSet[];
let thetas: Float32Array[];
let tmp: string;
const lanesToDispose: EvalLanes[] = [];

before(async () => {
  ({ tf } = await loadBackend('wasm'));
  raw = await Promise.all(
    [
      [0, 1, 2, 3, 4],
      [5, 6, 7, 8, 9],
    ].map((classes, i) => loadTaskData({ dataset: 'mnist', classes, train: 100, test: i === 0 ? 2300 : 1700 }, i, 1, { allowDownload: false })),
  );
  head = buildHead('class-il', raw);
  const pixels = 28 * 28;
  hostSets = raw.map((d, i) => {
    const unitOf = new Map(d.classIds.map((c, k) => [c, head.units[i][k]]));
    return { bytes: d.test.images, levels: pixelLevels(d.mean, d.std), labels: Int32Array.from(d.test.labels, (l) => unitOf.get(l)!) };
  });
  tensorSets = raw.map((d, i) => ({
    images: tf.tensor4d(normalisedImages(d.test.images, null, pixels, d.mean, d.std), [d.test.n, 28, 28, 1]),
    labels: tf.tensor1d(hostSets[i].labels, 'int32'),
  }));
  model = buildModel(tf, SPEC, [28, 28, 1], head.outputs, 5);
  // The initial weights, and two perturbations of them (accuracies far from chance and from each other).
  const rng = createRng(11);
  const theta0 = readParameters(tf, model);
  thetas = [theta0, Float32Array.from(theta0, (w) => w * 1.5 + 0.02 * gaussian(rng)), Float32Array.from(theta0, (w) => w + 0.05 * gaussian(rng))];
  tmp = mkdtempSync(join(tmpdir(), 'clw-evallanes-'));
});

after(async () => {
  for (const l of lanesToDispose) await l.dispose();
  model?.dispose();
  for (const s of tensorSets ?? []) {
    s.images.dispose();
    s.labels.dispose();
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** scoreTasks' requests after `seen` tasks were trained (task j scores set j), plus task 0 again on its own units as a third request. */
function requestsAfter(seen: number[]): EvalRequest[] {
  const alt = seen.length ? alternateScenario(head) : null;
  const req = (j: number): EvalRequest => {
    const mask = maskVector(head.outputs, scoringUnits(head, j, seen));
    return alt ? { set: j, mask, alternateMask: maskVector(head.outputs, scoringUnits(head, j, seen, alt)) } : { set: j, mask };
  };
  return [req(0), req(1), { set: 0, mask: null }];
}

/** The old path: each request's set as a float32 tensor, its masks as tensors, legacyEvaluateModel. */
function legacy(requests: EvalRequest[], scores?: (x: tfjs.Tensor4D) => tfjs.Tensor2D): EvalOutcome[] {
  return requests.map((r) => {
    const m = r.mask ? tf.tensor1d(r.mask) : null;
    const a = r.alternateMask === undefined ? undefined : r.alternateMask ? tf.tensor1d(r.alternateMask) : null;
    try {
      return legacyEvaluateModel(tf, model, tensorSets[r.set], BATCH, { mask: m, alternateMask: a, scores });
    } finally {
      m?.dispose();
      a?.dispose();
    }
  });
}

async function lanesWith(workers: number, workerScript?: string): Promise<EvalLanes> {
  const lanes = await createEvalLanes({ tf, model, spec: SPEC, sets: hostSets, batchSize: BATCH, workers, workerScript });
  lanesToDispose.push(lanes);
  return lanes;
}

/** Bitwise equality of outcomes (deepEqual treats NaN as NaN and tells -0 from 0). */
function assertSameBits(actual: EvalOutcome[], expected: EvalOutcome[], what: string) {
  assert.deepEqual(actual, expected, what);
  for (let i = 0; i < expected.length; i++) {
    for (const key of ['accuracy', 'loss', 'alternateAccuracy'] as const) assert.ok(Object.is(actual[i][key], expected[i][key]), `${what}: request ${i} ${key}`);
  }
}

test('units on the main thread alone and beside a worker give bitwise the old evaluateModel outcomes, at every weights, with and without the alternate scenario', async () => {
  const local = await lanesWith(0);
  const both = await lanesWith(1);
  assert.equal(both.workers, 1);
  for (const [k, theta] of thetas.entries()) {
    writeParameters(tf, model, theta);
    for (const seen of [[], [0], [0, 1]]) {
      const requests = requestsAfter(seen);
      const expected = legacy(requests);
      // The refactored evaluateModel (batchSums + float32 totals) on the tensor sets, too.
      const direct = requests.map((r) => {
        const m = r.mask ? tf.tensor1d(r.mask) : null;
        const a = r.alternateMask === undefined ? undefined : r.alternateMask ? tf.tensor1d(r.alternateMask) : null;
        try {
          return evaluateModel(tf, model, tensorSets[r.set], BATCH, { mask: m, alternateMask: a });
        } finally {
          m?.dispose();
          a?.dispose();
        }
      });
      assertSameBits(direct, expected, `evaluateModel, weights ${k}, seen [${seen}]`);
      assertSameBits(await local.evaluate(requests), expected, `main thread alone, weights ${k}, seen [${seen}]`);
      assertSameBits(await both.evaluate(requests), expected, `main thread + worker, weights ${k}, seen [${seen}]`);
      if (seen.length) assert.ok(expected[0].alternateAccuracy !== undefined && expected[2].alternateAccuracy === undefined);
    }
  }
  // Defining properties that could fail: the sums differ between weights, the worker did its share.
  const losses: number[] = [];
  for (const t of thetas) {
    writeParameters(tf, model, t);
    losses.push((await both.evaluate(requestsAfter([0, 1])))[0].loss);
  }
  assert.equal(new Set(losses).size, thetas.length, 'each weights has its own loss');
  assert.ok(both.computed.workers > 0, `the worker computed units (${JSON.stringify(both.computed)})`);
  assert.ok(both.computed.main > 0, `the main thread computed units (${JSON.stringify(both.computed)})`);
  assert.equal(local.computed.workers, 0);
});

test("a strategy's classifier (scores) runs on the main thread alone, with the old outcomes", async () => {
  const both = await lanesWith(1);
  writeParameters(tf, model, thetas[1]);
  // A classifier other than the logits: the logits with the last unit boosted, the first damped.
  const bias = tf.tensor1d(Float32Array.from({ length: head.outputs }, (_, u) => (u === head.outputs - 1 ? 2 : u === 0 ? -2 : 0)));
  const scores = (x: tfjs.Tensor4D) => tf.tidy(() => tf.add(model.forward(x), bias) as tfjs.Tensor2D);
  try {
    const requests = requestsAfter([0, 1]);
    const before = { ...both.computed };
    const out = await both.evaluate(requests, { scores });
    assertSameBits(out, legacy(requests, scores), 'scores');
    assert.notDeepEqual(out, legacy(requests), 'the classifier changed the accuracies');
    assert.equal(both.computed.workers, before.workers, 'no unit went to the worker');
  } finally {
    bias.dispose();
  }
});

test('a cancel between units rejects with AbortError, announces tasks in order, and leaves the lanes usable', async () => {
  for (const workers of [0, 1]) {
    const lanes = await lanesWith(workers);
    writeParameters(tf, model, thetas[2]);
    const requests = requestsAfter([0]);
    const controller = new AbortController();
    const announced: number[] = [];
    const before = { ...lanes.computed };
    await assert.rejects(
      lanes.evaluate(requests, {
        signal: controller.signal,
        before: (r) => {
          announced.push(r);
          if (r === 1) controller.abort();
        },
      }),
      (e: Error) => e.name === 'AbortError',
    );
    assert.deepEqual(announced, [0, 1], `${workers} workers: requests announced in order, none after the cancel`);
    const units = lanes.computed.main + lanes.computed.workers - before.main - before.workers;
    assert.ok(units < 6, `${workers} workers: the evaluation stopped early (${units} of 6 units, counted ones that finished)`);
    // The pool is idle again: the next evaluation is complete and exact.
    assertSameBits(await lanes.evaluate(requests), legacy(requests), `${workers} workers: after the cancel`);
  }
});

/** A worker entry that runs the real one but exits as soon as it is sent units. */
function dyingWorker(): string {
  const file = join(tmp, 'dyingWorker.ts');
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
parentPort!.on('message', (m: { type: string }) => { if (m.type === 'units') process.exit(7); });
require(${JSON.stringify(resolve(__dirname, '../../src/engine/landscape/worker.ts'))});
`,
  );
  return file;
}

test('a worker that dies during an evaluation fails it with a clear error, never a number', async () => {
  const lanes = await lanesWith(1, dyingWorker());
  writeParameters(tf, model, thetas[0]);
  await assert.rejects(lanes.evaluate(requestsAfter([0, 1])), /evaluation worker 0 exited unexpectedly \(code 7\)/);
  // And the lanes stay failed: no later evaluation silently runs without the worker's units.
  await assert.rejects(lanes.evaluate(requestsAfter([0, 1])), /evaluation worker 0 exited unexpectedly/);
});

// ---- whole runs ----

/** Runs `fn` with CLW_THREADS set to `threads`. */
async function withThreads<T>(threads: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.CLW_THREADS;
  process.env.CLW_THREADS = threads;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.CLW_THREADS;
    else process.env.CLW_THREADS = saved;
  }
}

/** Two tasks of 1200 and 1100 test images (2 units each per row of R), 6 steps each, a curve point of 2 units every 3 steps. */
const runExperimentSpec = () =>
  tinyExperiment({
    model: SPEC,
    tasks: [
      { dataset: 'mnist', train: 300, test: 1200 },
      { dataset: 'fashion-mnist', train: 300, test: 1100 },
    ],
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 50, epochs: 1, evalEvery: 3, evalSamples: 1100 },
  });

async function runWith(threads: string, extra: { evaluationWorkerScript?: string } = {}): Promise<{ result: RunResult; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  return withThreads(threads, async () => {
    const { tf: wasm, info } = await loadBackend('wasm');
    const ex = runExperimentSpec();
    const result = await runExperiment({ tf: wasm, environment: info, experiment: ex, outDir: mkdtempSync(join(tmp, 'run-')), onEvent: (e) => events.push(e), ...extra });
    return { result, events };
  });
}

const logs = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'log' ? [e.message] : []));

test('a run gives bitwise the same baseline, curves, rows of R and losses with CLW_THREADS=1 and 2', async () => {
  const one = await runWith('1');
  const two = await runWith('2');
  assert.equal(one.result.status, 'completed', one.result.error?.message);
  assert.equal(two.result.status, 'completed', two.result.error?.message);
  assert.ok(!logs(one.events).some((m) => m.startsWith('evaluation: 1 worker')), 'one core: no evaluation worker');
  assert.ok(logs(two.events).includes('evaluation: 1 worker thread beside this one'), `two cores: the evaluation worker ran (${logs(two.events).join(' | ')})`);
  const scored = (r: RunResult) => ({ b: r.randomInitAccuracy, curves: r.curves, R: r.accuracyMatrix, L: r.lossMatrix, metrics: r.metrics });
  assert.deepEqual(scored(two.result), scored(one.result));
  assert.equal(one.result.accuracyMatrix.length, 2);
  assert.ok(one.result.curves.length >= 5, `curve points: ${one.result.curves.length}`);
  assert.ok(one.result.accuracyMatrix[1][1] > one.result.randomInitAccuracy[1] + 0.05, `task 1 learned: ${one.result.accuracyMatrix[1][1]} after ${one.result.randomInitAccuracy[1]}`);
});

test('a run whose evaluation worker dies fails in its evaluate phase with the worker in the message', async () => {
  const { result } = await runWith('2', { evaluationWorkerScript: dyingWorker() });
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.phase, 'evaluate');
  assert.match(result.error?.message ?? '', /evaluation worker 0 exited unexpectedly \(code 7\)/);
  assert.deepEqual(result.randomInitAccuracy, [], 'no baseline from a partial evaluation');
});

test('two cores: a cancel half-way through row 1 (task 1 about to be scored) writes a cancelled result with row 0 only', async () => {
  const { result, events } = await withThreads('2', () =>
    cancelledRun(runExperimentSpec(), (abort) => ({
      onCheckpoint: (at) => {
        if (at.phase === 'evaluate' && at.row === 1 && at.task === 1) abort();
      },
    })),
  );
  assert.ok(logs(events).includes('evaluation: 1 worker thread beside this one'));
  assert.equal(events.filter((e) => e.type === 'taskFinished').length, 1);
  assert.equal(result.accuracyMatrix.length, 1, 'row 0 kept, no partial row 1');
  assert.equal(result.error, undefined);
});
