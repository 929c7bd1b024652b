// A cancel at every phase of a run (data, model, baseline, training, evaluation, landscape,
// writing) ends in result.json marked 'cancelled', complete JSON with the rows evaluated so far,
// never 'completed'. Real MNIST / Fashion-MNIST subsets on wasm; every cancel is triggered by an
// event, a checkpoint or a write of the run itself, never by a timer. The four cancel points of
// test/unit/runner.test.ts (task 1 starting, after the last step, after the last row, during the
// landscape grid) are not repeated here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveDataset } from '../../src/engine/data/resolve';
import type { LandscapeSpec } from '../../src/protocol/experiment';
import type { RunEvent } from '../../src/protocol/events';
import type { RunResult } from '../../src/protocol/result';
import { cancelledRun, onEvent, resultOnDisk, tinyExperiment } from '../helpers/runner';

const count = (events: RunEvent[], type: RunEvent['type']) => events.filter((e) => e.type === type).length;

/** Nothing of training or evaluation was recorded. */
function assertNoRows(result: RunResult) {
  assert.deepEqual(result.accuracyMatrix, []);
  assert.deepEqual(result.lossMatrix, []);
  assert.equal(result.metrics.acc, null);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name));
}

// ---- data ----

test('data: a cancel as task 1 is about to load (task 0 loaded) stops before the data is ready', async () => {
  const { result, events } = await cancelledRun(tinyExperiment(), (abort) => ({
    onCheckpoint: (at) => {
      if (at.phase === 'data' && at.task === 1) abort();
    },
  }));
  assert.equal(count(events, 'dataReady'), 0, 'no dataReady after the cancel');
  assert.deepEqual(result.tasks, []);
  assertNoRows(result);
  assert.equal(result.error, undefined);
});

test('data: a cancel during a download interrupts it, leaves nothing in the cache, and is a cancelled run', async () => {
  // Task 0 is real MNIST from its folder; task 1 (Fashion-MNIST) is only on a local mirror that
  // sends half of the real file and then stalls: only the cancel can end that download.
  const mnist = await resolveDataset({ dataset: 'mnist' }, { allowDownload: false });
  const fashion = await resolveDataset({ dataset: 'fashion-mnist' }, { allowDownload: false });
  const body = readFileSync(fashion.files.trainImages);
  const requests: string[] = [];
  let closed!: Promise<void>;
  const server = createServer((req, res: ServerResponse) => {
    requests.push(req.url ?? '');
    closed = new Promise((r) => res.on('close', () => r()));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    res.write(body.subarray(0, body.length >> 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cacheDir = mkdtempSync(join(tmpdir(), 'clw-cache-'));
  try {
    const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ex = tinyExperiment({
      tasks: [
        { dataset: 'mnist', path: mnist.dir, train: 300, test: 200 },
        { dataset: 'fashion-mnist', train: 300, test: 200 },
      ],
    });
    const { result, events } = await cancelledRun(ex, (abort) => ({
      cacheDir,
      // Nothing local for Fashion-MNIST: only the mirror. A stall that the cancel did not end would fail the run after 20 s.
      resolve: {
        mirrors: { 'fashion-mnist': [mirror] },
        allowedOrigins: [mirror],
        systemDirs: [],
        resolvePackage: () => null,
        env: {},
        downloadTimeoutMs: 20_000,
        download: { retries: 0 },
      },
      onEvent: (e) => {
        if (e.type === 'log' && e.message.startsWith('downloading ')) abort();
      },
    }));
    assert.equal(requests.length, 1, 'the download started, from the mirror');
    await closed; // the client closed the stalled connection
    assert.equal(count(events, 'dataReady'), 0);
    assertNoRows(result);
    assert.deepEqual(filesUnder(cacheDir), [], 'no partial file where a later run would trust it');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

// ---- model and baseline ----

test('model: a cancel when the data is ready (the model is being built) keeps the tasks and evaluates nothing', async () => {
  const { result, events } = await cancelledRun(tinyExperiment(), onEvent((e) => e.type === 'dataReady'));
  assert.equal(result.tasks.length, 2, 'what dataReady said is kept');
  assert.equal(count(events, 'baseline'), 0, 'the untrained model was not evaluated');
  assert.deepEqual(result.randomInitAccuracy, []);
  assert.deepEqual(result.curves, []);
  assertNoRows(result);
});

test('baseline: a cancel after the untrained model is scored keeps the baseline and trains nothing', async () => {
  const { result, events } = await cancelledRun(tinyExperiment(), onEvent((e) => e.type === 'baseline'));
  assert.equal(result.randomInitAccuracy.length, 2);
  assert.equal(count(events, 'taskStarted'), 0);
  assert.equal(count(events, 'progress'), 0);
  assertNoRows(result);
});

// ---- training ----

test('training: a cancel in the middle of task 0 stops at the next step, with no row', async () => {
  const { result, events } = await cancelledRun(tinyExperiment(), onEvent((e) => e.type === 'curvePoint' && e.point.trainingTask === 0 && e.point.step === 2));
  const steps = events.flatMap((e) => (e.type === 'progress' ? [e.step] : e.type === 'curvePoint' ? [e.point.step] : []));
  assert.ok(Math.max(...steps) === 2, `no step after the cancel: ${steps}`);
  assert.equal(count(events, 'taskFinished'), 0);
  assert.ok(!events.some((e) => e.type === 'taskStarted' && e.task === 1));
  assertNoRows(result);
});

// ---- evaluation of the rows of R ----

test('evaluation: a cancel as row 0 starts being scored gives no row', async () => {
  const { result, events } = await cancelledRun(tinyExperiment(), (abort) => ({
    onCheckpoint: (at) => {
      if (at.phase === 'evaluate' && at.row === 0 && at.task === 0) abort();
    },
  }));
  assert.ok(result.curves.some((c) => c.step === 6), 'task 0 was trained to its end');
  assert.equal(count(events, 'taskFinished'), 0);
  assertNoRows(result);
});

test('evaluation: a cancel half-way through row 1 keeps row 0 and no partial row 1', async () => {
  const { result, events } = await cancelledRun(tinyExperiment(), (abort) => ({
    onCheckpoint: (at) => {
      if (at.phase === 'evaluate' && at.row === 1 && at.task === 1) abort();
    },
  }));
  assert.equal(count(events, 'taskFinished'), 1);
  assert.equal(result.accuracyMatrix.length, 1);
  assert.equal(result.lossMatrix.length, 1);
  assert.equal(result.accuracyMatrix[0].length, 2);
  assert.equal(result.metrics.bwt, null, 'metrics of row 0 only');
  assert.equal(result.metrics.acc, result.accuracyMatrix[0][0]);
});

// ---- landscape ----

const withLandscape = () => {
  // Grid alphas -0.5, 0.5, 1.5; line points -0.5, 0, 0.5, 1, 1.5: 0 and 1 are evaluated as line jobs.
  const landscape: LandscapeSpec = { grid: 3, samples: 50, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 2, linePoints: 5, optima: [0, 1] };
  return tinyExperiment({ model: { type: 'mlp', hidden: [16] }, landscape });
};

function assertRowsButNoLandscape(result: RunResult, events: RunEvent[]) {
  assert.equal(result.accuracyMatrix.length, 2, 'every row kept');
  assert.ok(result.metrics.bwt !== null);
  assert.equal(result.landscape, null);
  assert.equal(count(events, 'landscape'), 0);
}

test('landscape: a cancel as it starts (the plane, before any point) keeps every row and no landscape', async () => {
  const { result, events } = await cancelledRun(withLandscape(), onEvent((e) => e.type === 'landscapeProgress' && e.phase === 'plane'));
  assertRowsButNoLandscape(result, events);
  assert.ok(!events.some((e) => e.type === 'landscapeProgress' && e.done > 0), 'no point evaluated after the cancel');
});

test('landscape: a cancel on the line (after the grid) keeps every row and no landscape', async () => {
  const { result, events } = await cancelledRun(withLandscape(), onEvent((e) => e.type === 'landscapeProgress' && e.phase === 'line'));
  assertRowsButNoLandscape(result, events);
  // Grid and line jobs share the evaluation lanes: the grid's points come first, not necessarily all of them.
  assert.ok(events.some((e) => e.type === 'landscapeProgress' && e.phase === 'grid' && e.done >= 1), 'grid points were evaluated before');
});

// ---- writing ----

test('writing: a cancel when the landscape arrives, just before the final write, keeps rows and landscape, cancelled', async () => {
  const { result } = await cancelledRun(withLandscape(), onEvent((e) => e.type === 'landscape'));
  assert.equal(result.accuracyMatrix.length, 2);
  assert.ok(result.landscape, 'the finished landscape is kept');
  assert.equal(result.landscape.grids.length, 2);
});

test('writing: a cancel while row 0 is written: that file is complete (running, row 0), the final one cancelled', async () => {
  const seen: RunResult[] = [];
  const { result, events } = await cancelledRun(tinyExperiment(), (abort) => ({
    onResultWritten: (r, outDir) => {
      const onDisk = resultOnDisk(outDir);
      seen.push(onDisk);
      if (onDisk.accuracyMatrix.length === 1) abort();
    },
  }));
  const atRow0 = seen.find((r) => r.accuracyMatrix.length === 1)!;
  assert.equal(atRow0.status, 'running');
  assert.deepEqual(atRow0.accuracyMatrix, result.accuracyMatrix);
  assert.equal(result.accuracyMatrix.length, 1);
  assert.ok(!events.some((e) => e.type === 'progress' && e.task === 1), 'no step of task 1');
  assert.equal(seen.at(-1)!.status, 'cancelled', 'the last write is the cancelled result');
});

test('writing: a cancel while the first (empty) result is written stops the run before any data', async () => {
  const { result, events } = await cancelledRun(tinyExperiment(), (abort) => ({
    onResultWritten: (r) => {
      if (r.status === 'running') abort();
    },
  }));
  assert.equal(count(events, 'dataReady'), 0);
  assertNoRows(result);
});
