// Real training on small real subsets of MNIST and Fashion-MNIST (wasm backend).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment } from '../../src/engine/runner';
import type { NormalisedExperiment } from '../../src/protocol/experiment';
import type { RunEvent } from '../../src/protocol/events';
import type { RunResult } from '../../src/protocol/result';

function experiment(over: Partial<NormalisedExperiment> = {}): NormalisedExperiment {
  return {
    name: 'runner test',
    seed: 3,
    tasks: [
      { dataset: 'mnist', train: 1500, test: 500 },
      { dataset: 'fashion-mnist', train: 1500, test: 500 },
    ],
    scenario: 'domain-il',
    model: { type: 'mlp', hidden: [128] },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 32, epochs: 2, evalEvery: 20, evalSamples: 200 },
    strategy: { name: 'naive' },
    landscape: false,
    ...over,
  };
}

async function run(ex: NormalisedExperiment, extra: { signal?: AbortSignal; onEvent?: (e: RunEvent) => void } = {}) {
  const { tf, info } = await loadBackend('wasm');
  const outDir = mkdtempSync(join(tmpdir(), 'clw-run-'));
  const events: RunEvent[] = [];
  const result = await runExperiment({
    tf,
    environment: info,
    experiment: ex,
    outDir,
    allowDownload: false,
    signal: extra.signal,
    onEvent: (e) => {
      events.push(e);
      extra.onEvent?.(e);
    },
  });
  return { result, events, outDir, tf };
}

let first: { result: RunResult; events: RunEvent[]; outDir: string } | null = null;

test('a small real run learns both tasks and forgets the first', async () => {
  first = await run(experiment());
  const r = first.result;
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

test('the result file is the returned result, written atomically, with no temp files left', () => {
  assert.ok(first);
  const onDisk = JSON.parse(readFileSync(join(first.outDir, 'result.json'), 'utf8'));
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(first.result)));
  assert.equal(onDisk.formatVersion, 1);
  const leftovers = require('node:fs').readdirSync(first.outDir).filter((f: string) => f.endsWith('.tmp'));
  assert.deepEqual(leftovers, []);
});

test('events come in protocol order', () => {
  assert.ok(first);
  const types = first.events.map((e) => e.type);
  assert.equal(types[0], 'runStarted');
  assert.equal(types.at(-1), 'finished');
  const order = ['dataReady', 'baseline', 'taskStarted', 'taskFinished'];
  const idx = order.map((t) => types.indexOf(t as RunEvent['type']));
  assert.ok(idx.every((v, i) => v >= 0 && (i === 0 || v > idx[i - 1])), `order ${idx}`);
  assert.equal(types.filter((t) => t === 'taskFinished').length, 2);
});

test('same seed, same backend: the same result twice', async () => {
  assert.ok(first);
  const again = await run(experiment());
  assert.deepEqual(again.result.accuracyMatrix, first.result.accuracyMatrix);
  assert.deepEqual(again.result.curves.map((c) => c.accuracy), first.result.curves.map((c) => c.accuracy));
  const other = await run(experiment({ seed: 4 }));
  assert.notDeepEqual(other.result.accuracyMatrix, first.result.accuracyMatrix);
});

test('cancelling marks the run cancelled, keeps the rows it has, and writes that', async () => {
  const controller = new AbortController();
  const { result, outDir } = await run(experiment(), {
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'progress' && e.task === 1) controller.abort();
    },
  });
  assert.equal(result.status, 'cancelled');
  assert.equal(result.accuracyMatrix.length, 1);
  assert.equal(result.metrics.bwt, null);
  const onDisk = JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8'));
  assert.equal(onDisk.status, 'cancelled');
});

test('a dataset that cannot be found fails the run in the data phase, with the reason, written as failed', async () => {
  const { result, outDir } = await run(experiment({ tasks: [{ dataset: 'idx', path: '/nonexistent/clw-data' }] }));
  assert.equal(result.status, 'failed');
  assert.equal(result.error?.phase, 'data');
  assert.match(result.error!.message, /nonexistent\/clw-data/);
  assert.ok(existsSync(join(outDir, 'result.json')));
  assert.equal(JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')).status, 'failed');
});
