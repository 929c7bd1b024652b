// Real training on small real subsets of MNIST and Fashion-MNIST (wasm backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NormalisedExperiment } from '../../src/protocol/experiment';
import type { RunEvent } from '../../src/protocol/events';
import { RESULT_FORMAT_VERSION } from '../../src/protocol/result';
import { cancelledRun, experiment, onEvent, run, tinyExperiment, type RunOutcome } from '../helpers/runner';

// The default two-task run, run once per process and shared by the tests that read it: each of
// them calls firstRun(), so any one of them passes alone (--test-name-pattern).
let firstRunPromise: Promise<RunOutcome> | null = null;
const firstRun = () => (firstRunPromise ??= run(experiment()));

test('a small real run learns both tasks and forgets the first', async () => {
  const r = (await firstRun()).result;
  assert.equal(r.status, 'completed', r.error?.message);
  assert.equal(r.accuracyMatrix.length, 2);
  const [[a00], [a10, a11]] = r.accuracyMatrix;
  assert.ok(a00 > 0.8, `MNIST after MNIST ${a00}`); // chance is 0.1
  assert.ok(a11 > 0.65, `Fashion after Fashion ${a11}`);
  assert.ok(a10 < a00 - 0.1, `MNIST after Fashion ${a10} should drop from ${a00}`);
  assert.ok(r.metrics.bwt !== null && r.metrics.bwt < -0.1, `BWT ${r.metrics.bwt}`);
  assert.ok(Math.abs(r.metrics.bwt! - (a10 - a00)) < 1e-12);
  assert.equal(r.randomInitAccuracy.length, 2);
  assert.ok(r.randomInitAccuracy.every((b) => b > 0 && b < 0.35), `baseline ${r.randomInitAccuracy}`);
  assert.ok(Math.abs(r.metrics.fwt! - (r.accuracyMatrix[0][1] - r.randomInitAccuracy[1])) < 1e-12);
  assert.deepEqual(r.tasks.map((t) => [t.trainSize, t.testSize]), [[1500, 500], [1500, 500]]);
  assert.deepEqual(r.taskBoundaries, [0, 2 * Math.ceil(1500 / 32)]);
  assert.equal(r.totalSteps, 4 * Math.ceil(1500 / 32));
  assert.equal(r.curves[0].step, 0);
  assert.ok(r.curves.length >= r.totalSteps / 20, `curve points ${r.curves.length}`);
  assert.ok(r.timing.trainImagesPerSecond > 0 && r.environment?.backend === 'wasm');
});

test('the result file is the returned result, written atomically, with no temp files left', async () => {
  const first = await firstRun();
  const onDisk = JSON.parse(readFileSync(join(first.outDir, 'result.json'), 'utf8'));
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(first.result)));
  assert.equal(onDisk.formatVersion, RESULT_FORMAT_VERSION);
  assert.deepEqual(readdirSync(first.outDir), ['result.json'], 'no temp files left');
});

test('events come in protocol order', async () => {
  const first = await firstRun();
  const types = first.events.map((e) => e.type);
  assert.equal(types[0], 'runStarted');
  assert.equal(types.at(-1), 'finished');
  const order = ['dataReady', 'baseline', 'taskStarted', 'taskFinished'];
  const idx = order.map((t) => types.indexOf(t as RunEvent['type']));
  assert.ok(idx.every((v, i) => v >= 0 && (i === 0 || v > idx[i - 1])), `order ${idx}`);
  assert.equal(types.filter((t) => t === 'taskFinished').length, 2);
});

test('same seed, same backend: the same result twice', async () => {
  const first = await firstRun();
  const again = await run(experiment());
  assert.deepEqual(again.result.accuracyMatrix, first.result.accuracyMatrix);
  assert.deepEqual(again.result.curves.map((c) => c.accuracy), first.result.curves.map((c) => c.accuracy));
  const other = await run(experiment({ seed: 4 }));
  assert.notDeepEqual(other.result.accuracyMatrix, first.result.accuracyMatrix);
});

// Cancels are tied to events that always happen, never to the 250 ms progress throttle.
const cancelAt = (ex: NormalisedExperiment, when: (e: RunEvent, ex: NormalisedExperiment) => boolean) => cancelledRun(ex, onEvent((e) => when(e, ex)));
const small = () => tinyExperiment();

test('cancelling when task 1 starts marks the run cancelled, keeps the rows it has, and writes that', async () => {
  const { result, events } = await cancelAt(small(), (e) => e.type === 'taskStarted' && e.task === 1);
  assert.equal(result.status, 'cancelled');
  assert.equal(result.accuracyMatrix.length, 1);
  assert.equal(result.metrics.bwt, null);
  assert.equal(result.metrics.acc, result.accuracyMatrix[0][0]);
  assert.ok(!events.some((e) => e.type === 'progress' && e.task === 1), 'no step of task 1 ran after the cancel');
});

test('a cancel after the last training step (before the final evaluation) is a cancelled run with the earlier rows', async () => {
  const { result, events } = await cancelAt(small(), (e, ex) => e.type === 'curvePoint' && e.point.trainingTask === ex.tasks.length - 1 && e.point.step === 2 * 6);
  assert.equal(result.status, 'cancelled');
  assert.equal(result.accuracyMatrix.length, 1, 'the last row was not evaluated');
  assert.equal(events.filter((e) => e.type === 'taskFinished').length, 1);
});

test('a cancel after the final evaluation, before the run is declared complete, is honoured and keeps every row', async () => {
  const { result } = await cancelAt(small(), (e, ex) => e.type === 'taskFinished' && e.task === ex.tasks.length - 1);
  assert.equal(result.status, 'cancelled');
  assert.equal(result.accuracyMatrix.length, 2);
  assert.ok(result.metrics.bwt !== null, 'metrics of the finished rows are kept');
});

test('a cancel during the landscape stops it: cancelled, every row kept, no landscape', async () => {
  const ex = small();
  ex.model = { type: 'mlp', hidden: [16] };
  ex.landscape = { grid: 5, samples: 50, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 2, linePoints: 5, optima: [0, 1] };
  const { result, events } = await cancelAt(ex, (e) => e.type === 'landscapeProgress' && e.phase === 'grid' && e.done >= 1);
  assert.equal(result.status, 'cancelled');
  assert.equal(result.accuracyMatrix.length, 2);
  assert.equal(result.landscape, null);
  assert.ok(!events.some((e) => e.type === 'landscape'));
});

test('a dataset that cannot be found fails the run in the data phase, with the reason, written as failed', async () => {
  const { result, outDir } = await run(experiment({ tasks: [{ dataset: 'idx', path: '/nonexistent/clw-data' }] }));
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.phase, 'data');
  assert.match(result.error!.message, /nonexistent\/clw-data/);
  assert.ok(existsSync(join(outDir, 'result.json')));
  assert.equal(JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')).status, 'failed');
});

test('landscape on a real run: grid at (0,0) and (1,0) equals theta_A and theta_B evaluated directly; A rises, B falls along the line', async () => {
  const { result } = await run(
    experiment({
      model: { type: 'cnn', conv: [{ filters: 8, kernel: 3, pool: 2 }], dense: [32] },
      training: { optimizer: 'adam', learningRate: 0.002, batchSize: 32, epochs: 1, evalEvery: 10, evalSamples: 200 },
      tasks: [
        { dataset: 'mnist', train: 1200, test: 300 },
        { dataset: 'fashion-mnist', train: 1200, test: 300 },
      ],
      landscape: { grid: 5, samples: 150, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 5, linePoints: 9, optima: [0, 1] },
    }),
  );
  assert.equal(result.status, 'completed', result.error?.message);
  const land = result.landscape!;
  assert.ok(land, 'landscape computed');
  assert.deepEqual(land.alphas, [-0.5, 0, 0.5, 1, 1.5]);
  assert.equal(land.grids.length, 2);
  assert.ok(land.grids.every((g) => g.loss.length === 5 && g.loss.every((row) => row.length === 5)));
  assert.equal(land.anchors?.length, 2);
  for (const anchor of land.anchors!) {
    assert.ok(anchor.grid, `grid point for theta_${anchor.which}`);
    for (let t = 0; t < 2; t++) {
      assert.ok(Math.abs(anchor.grid.loss[t] - anchor.direct.loss[t]) <= 1e-6 * Math.max(1, anchor.direct.loss[t]), `theta_${anchor.which} task ${t}: grid ${anchor.grid.loss[t]} direct ${anchor.direct.loss[t]}`);
      assert.equal(anchor.grid.accuracy[t], anchor.direct.accuracy[t]);
    }
  }
  const i0 = land.line.t.findIndex((t) => Math.abs(t) < 1e-9);
  const i1 = land.line.t.findIndex((t) => Math.abs(t - 1) < 1e-9);
  assert.ok(land.line.loss[0][i1] > 1.25 * land.line.loss[0][i0], `task A loss along the line ${land.line.loss[0][i0]} -> ${land.line.loss[0][i1]}`);
  assert.ok(land.line.loss[1][i1] < land.line.loss[1][i0], `task B loss along the line ${land.line.loss[1][i0]} -> ${land.line.loss[1][i1]}`);
  assert.ok(land.trajectory.length >= 2 * Math.floor(1200 / 32 / 5));
  assert.ok(land.explainedVariance > 0 && land.explainedVariance <= 1 + 1e-9);
  assert.ok(land.distance > 0);
});

test('optima in either order: the trajectory reaches the later optimum and the anchors still match', async () => {
  const { result } = await run(
    experiment({
      model: { type: 'mlp', hidden: [32] },
      training: { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 1, evalEvery: 10, evalSamples: 100 },
      tasks: [
        { dataset: 'mnist', train: 500, test: 200 },
        { dataset: 'fashion-mnist', train: 500, test: 200 },
      ],
      landscape: { grid: 3, samples: 100, alphaRange: [0, 1], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 5, linePoints: 3, optima: [1, 0] },
    }),
  );
  assert.equal(result.status, 'completed', result.error?.message);
  const land = result.landscape!;
  assert.deepEqual(land.optima, [1, 0]);
  assert.ok(land.trajectory.some((c) => c.task === 1), 'checkpoints of the second task are on the trajectory');
  // theta_A = the weights after task 1 = the trajectory's last point, so it projects to (0, 0).
  for (const anchor of land.anchors!) {
    assert.ok(anchor.grid);
    assert.deepEqual(anchor.grid.accuracy, anchor.direct.accuracy);
  }
  const last = land.trajectory[land.trajectory.length - 1];
  assert.equal(last.task, 1);
  assert.ok(Math.abs(last.alpha) < 1e-6 && Math.abs(last.beta) < 1e-6, `the end of training is theta_A here: (${last.alpha}, ${last.beta})`);
});

test('class-IL Split-MNIST (2 tasks): a phase per task, units over all classes, task-IL accuracy beside it; naive forgets', async () => {
  const { result } = await run(
    experiment({
      scenario: 'class-il',
      tasks: [
        { dataset: 'mnist', classes: [0, 1], train: 600, test: 300 },
        { dataset: 'mnist', classes: [2, 3], train: 600, test: 300 },
      ],
      model: { type: 'mlp', hidden: [64] },
      training: { optimizer: 'adam', learningRate: 0.001, batchSize: 32, epochs: 1, evalEvery: 10, evalSamples: 100, iterations: 60 },
    }),
  );
  assert.equal(result.status, 'completed', result.error?.message);
  assert.deepEqual(result.phases, [[0], [1]]);
  assert.deepEqual(result.head, { scenario: 'class-il', outputs: 4 });
  assert.deepEqual(result.tasks.map((t) => [t.label, t.classIds, t.units]), [['0/1', [0, 1], [0, 1]], ['2/3', [2, 3], [2, 3]]]);
  assert.equal(result.totalSteps, 120, 'iterations per task, not epochs');
  const R = result.accuracyMatrix;
  assert.ok(R[0][0] > 0.95 && R[1][1] > 0.9, `learned: ${JSON.stringify(R)}`);
  assert.ok(R[1][0] < 0.2, `class-IL naive forgets task 0 almost entirely: ${R[1][0]}`);
  const alt = result.alternateAccuracy!;
  assert.equal(alt.scenario, 'task-il');
  // The task's own units are a subset of the seen ones: task-IL accuracy is never below class-IL's.
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) assert.ok(alt.accuracyMatrix[i][j] >= R[i][j], `task-IL ${alt.accuracyMatrix[i][j]} >= class-IL ${R[i][j]} at [${i}][${j}]`);
  assert.ok(alt.accuracyMatrix[1][0] > R[1][0] + 0.3, 'given the task label, much of task 0 is still there');
});

test('joint strategy: one phase over every task, R has one row, ACC over all tasks', async () => {
  const { result } = await run(
    experiment({
      strategy: { name: 'joint' },
      tasks: [
        { dataset: 'mnist', train: 500, test: 200 },
        { dataset: 'fashion-mnist', train: 500, test: 200 },
      ],
      model: { type: 'mlp', hidden: [64] },
      training: { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 3, evalEvery: 5, evalSamples: 100 },
    }),
  );
  assert.equal(result.status, 'completed', result.error?.message);
  assert.deepEqual(result.phases, [[0, 1]]);
  assert.equal(result.accuracyMatrix.length, 1);
  assert.equal(result.totalSteps, 3 * Math.ceil(1000 / 50));
  const [row] = result.accuracyMatrix;
  assert.ok(row[0] > 0.7 && row[1] > 0.6, `both tasks learned at once (chance 0.1): ${row}`);
  assert.ok(Math.abs(result.metrics.acc! - (row[0] + row[1]) / 2) < 1e-12);
  assert.equal(result.metrics.bwt, null);
});
