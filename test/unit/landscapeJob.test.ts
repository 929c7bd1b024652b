// The landscape-only job on a real three-task run (MNIST, Fashion-MNIST, permuted MNIST; tiny
// subsets): the run keeps its weights, the job recomputes any pair's plane from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { landscapeCommand, parseAxis } from '../../src/cli/landscape';
import type { FromLandscapeJobMessage, LandscapeRequest } from '../../src/protocol/trainer';
import { TRAINER_SOURCE, TSX } from '../helpers/trainer';
import { loadBackend } from '../../src/engine/backend';
import { computeLandscapeForRun, landscapeJobFile } from '../../src/engine/landscape/job';
import { readWeightStore } from '../../src/engine/landscape/store';
import type { LandscapeResult } from '../../src/protocol/result';
import { experiment, run } from '../helpers/runner';

const threeTasks = () =>
  experiment({
    model: { type: 'mlp', hidden: [32] },
    training: { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 1, evalEvery: 100, evalSamples: 100 },
    tasks: [
      { dataset: 'mnist', train: 400, test: 200 },
      { dataset: 'fashion-mnist', train: 400, test: 200 },
      { dataset: 'mnist', train: 400, test: 200, permutation: 5 },
    ],
    landscape: { grid: 5, samples: 100, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 3, linePoints: 9, optima: [0, 1] },
  });

let shared: Promise<{ outDir: string; landscape: LandscapeResult; weights: NonNullable<Awaited<ReturnType<typeof run>>['result']['weights']> }> | null = null;
const sharedRun = () =>
  (shared ??= run(threeTasks()).then(({ result, outDir }) => {
    assert.equal(result.status, 'completed', result.error?.message);
    return { outDir, landscape: result.landscape!, weights: result.weights! };
  }));

test('the run keeps its initial, phase-end and trajectory weights over the whole run, and records them in the result', async () => {
  const { outDir, weights } = await sharedRun();
  assert.ok(weights, 'result.weights');
  assert.equal(weights.phases, 3);
  assert.equal(weights.dtype, 'float16');
  const store = readWeightStore(outDir);
  assert.equal(store.bytes, weights.bytes);
  assert.equal(store.taskEnd.length, 3);
  // 8 steps per phase, a checkpoint every 3 steps and at each phase end, plus the initial weights.
  const phases = store.trajectory.map((c) => c.phase);
  assert.equal(phases[0], -1);
  assert.ok(phases.includes(2), 'checkpoints after the later optimum (phase 2) are kept too');
  assert.equal(store.trajectory.length, weights.checkpoints);
  for (let p = 0; p < 3; p++) {
    const last = store.trajectory.filter((c) => c.phase === p).at(-1)!;
    assert.equal(last.theta, store.taskEnd[p], `phase ${p}'s last checkpoint is its end weights`);
  }
  const n = store.init.length;
  const intermediate = store.trajectory.length - 4;
  assert.equal(store.bytes, 4 * n * 4 + 2 * n * intermediate, 'float32 endpoints + float16 checkpoints, each once');
  const onDisk = JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8'));
  assert.deepEqual(onDisk.weights, weights);
});

test('recomputing the run\'s own pair gives the run\'s own grid, line and trajectory, bitwise', async () => {
  const { outDir, landscape } = await sharedRun();
  const { tf } = await loadBackend('wasm');
  const again = await computeLandscapeForRun(outDir, { tf, optima: [0, 1], secondAxis: 'trajectory-pca' });
  assert.deepEqual(again.grids, landscape.grids);
  assert.deepEqual(again.line, landscape.line);
  assert.deepEqual(again.trajectory, landscape.trajectory);
  assert.equal(again.distance, landscape.distance);
  assert.equal(again.explainedVariance, landscape.explainedVariance);
  assert.ok(existsSync(landscapeJobFile(outDir, { optima: [0, 1], secondAxis: 'trajectory-pca' })));
});

test('a new pair (0, 2): theta_A and theta_B evaluated directly equal the grid at (0,0) and (1,0); the saved file reopens', async () => {
  const { outDir, landscape: own } = await sharedRun();
  const { tf } = await loadBackend('wasm');
  const progress: string[] = [];
  const land = await computeLandscapeForRun(outDir, { tf, optima: [0, 2], secondAxis: 'trajectory-pca', onProgress: (done, total, phase) => progress.push(`${phase} ${done}/${total}`) });
  assert.deepEqual(land.optima, [0, 2]);
  assert.equal(land.grids.length, 3);
  assert.ok(progress.length > 25 && progress.at(-1)!.endsWith(`${25 + 4}/${25 + 4}`), progress.at(-1));
  assert.notEqual(land.distance, own.distance, 'a different plane');
  assert.ok(land.trajectory.some((c) => c.task === 2), 'the trajectory runs to the later optimum');
  assert.ok(land.trajectory.every((c) => c.task <= 2));
  assert.equal(land.anchors?.length, 2);
  for (const a of land.anchors!) {
    assert.ok(a.grid, `${a.which} is a grid point`);
    assert.deepEqual(a.grid.loss, a.direct.loss, `${a.which}: grid loss = direct loss`);
    assert.deepEqual(a.grid.accuracy, a.direct.accuracy);
  }
  // At its own optimum each task is better than at the other's.
  const col = (alpha: number) => land.alphas.findIndex((x) => x === alpha);
  const row0 = land.betas.indexOf(0);
  assert.ok(land.grids[0].loss[row0][col(0)] < land.grids[0].loss[row0][col(1)], 'task 0 (MNIST) loss rises from theta_A to theta_B');
  assert.ok(land.grids[2].loss[row0][col(1)] < land.grids[2].loss[row0][col(0)], 'task 2 (permuted MNIST) loss falls');
  const file = landscapeJobFile(outDir, { optima: [0, 2], secondAxis: 'trajectory-pca' });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), JSON.parse(JSON.stringify(land)));
  const logs: string[] = [];
  const reopened = await computeLandscapeForRun(outDir, { tf, optima: [0, 2], secondAxis: 'trajectory-pca', onLog: (_l, m) => logs.push(m), onProgress: () => assert.fail('no recomputation') });
  assert.deepEqual(reopened, JSON.parse(JSON.stringify(land)));
  assert.ok(logs.some((m) => m.startsWith('reopened')));
});

test('a plane through a third point (phase 2 of the same run) holds it at its projected coordinates', async () => {
  const { outDir } = await sharedRun();
  const { tf } = await loadBackend('wasm');
  const land = await computeLandscapeForRun(outDir, { tf, optima: [0, 1], secondAxis: { run: outDir, phase: 2 }, grid: 3 });
  assert.equal(land.secondAxis, 'point');
  const c = land.thirdPoint!;
  assert.equal(c.phase, 2);
  assert.ok(c.beta > 0, 'beta of the third point is its distance from the line, positive');
  const reach = Math.max(...land.betas.map(Math.abs));
  assert.ok(reach >= c.beta, 'the grid holds the third point');
  assert.ok(existsSync(landscapeJobFile(outDir, { optima: [0, 1], secondAxis: { run: outDir, phase: 2 }, grid: 3 }, 5)));
});

test('a cancel mid-grid writes no file and leaves no temp file', async () => {
  const { outDir } = await sharedRun();
  const { tf } = await loadBackend('wasm');
  const before = readdirSync(outDir).sort();
  const controller = new AbortController();
  await assert.rejects(
    computeLandscapeForRun(outDir, {
      tf,
      optima: [1, 2],
      secondAxis: 'random',
      signal: controller.signal,
      onProgress: (done, _t, phase) => {
        if (phase === 'grid' && done >= 3) controller.abort();
      },
    }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.ok(controller.signal.aborted);
  assert.deepEqual(readdirSync(outDir).sort(), before, 'nothing written');
  assert.ok(!existsSync(landscapeJobFile(outDir, { optima: [1, 2], secondAxis: 'random' })));
});

/** Runs a LandscapeRequest in a forked trainer (from source); `cancelWhen` may send a cancel. */
function trainerJob(request: LandscapeRequest, cancelWhen?: (m: FromLandscapeJobMessage) => boolean): Promise<{ messages: FromLandscapeJobMessage[]; code: number | null }> {
  const child = fork(TRAINER_SOURCE, [], { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const messages: FromLandscapeJobMessage[] = [];
  let cancelled = false;
  child.on('message', (m) => {
    const msg = m as FromLandscapeJobMessage;
    messages.push(msg);
    if (!cancelled && cancelWhen?.(msg)) {
      cancelled = true;
      child.send({ type: 'cancel' });
    }
  });
  child.send(request);
  return new Promise((res) => child.on('exit', (code) => res({ messages, code })));
}

test('through the trainer process: progress, then landscapeJobFinished with the file, then exit; a cancel during the job writes nothing', async () => {
  const { outDir } = await sharedRun();
  // 15 x 15 points: enough that a cancel sent at the first progress report arrives before the grid ends.
  const request: LandscapeRequest = { type: 'landscape', runDir: outDir, optima: [2, 1], secondAxis: 'trajectory-pca', grid: 15, backend: 'wasm' };
  const file = landscapeJobFile(outDir, request, 5);
  const cancelled = await trainerJob(request, (m) => m.type === 'landscapeEvent' && m.event.type === 'landscapeProgress');
  assert.equal(cancelled.code, 0);
  const end = cancelled.messages.find((m) => m.type === 'landscapeEvent' && m.event.type === 'landscapeJobFinished');
  assert.ok(end?.type === 'landscapeEvent' && end.event.type === 'landscapeJobFinished' && end.event.status === 'cancelled', JSON.stringify(end));
  assert.deepEqual(cancelled.messages.at(-1), { type: 'exit', status: 'cancelled' });
  assert.ok(!existsSync(file), 'a cancelled job writes no file');

  const done = await trainerJob(request);
  const types = done.messages.map((m) => (m.type === 'landscapeEvent' ? m.event.type : m.type));
  assert.ok(types.includes('landscapeProgress'));
  assert.deepEqual(types.slice(-2), ['landscapeJobFinished', 'exit']);
  const fin = done.messages.at(-2)!;
  assert.ok(fin.type === 'landscapeEvent' && fin.event.type === 'landscapeJobFinished');
  assert.equal(fin.event.status, 'completed');
  assert.equal(fin.event.file, file);
  assert.equal(fin.event.reopened, false);
  assert.deepEqual(fin.event.landscape?.optima, [2, 1]);
  assert.deepEqual(done.messages.at(-1), { type: 'exit', status: 'completed', resultFile: file });
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), fin.event.landscape);
});

test('the CLI prints progress on stderr and the file on stdout; a bad --pair or --axis is a usage error', async () => {
  const { outDir } = await sharedRun();
  const io = () => {
    const o = { out: '', err: '', output: { stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) } };
    return o;
  };
  const a = io();
  assert.equal(await landscapeCommand(outDir, { pair: '1,0', axis: 'random', grid: '9', backend: 'wasm', output: a.output }), 0, a.err);
  assert.equal(a.out, `${landscapeJobFile(outDir, { optima: [1, 0], secondAxis: 'random', grid: 9 }, 5)}\n`);
  assert.match(a.err, /landscape grid \d+\/\d+/);
  assert.match(a.err, /A matches the grid, B matches the grid/);
  const b = io();
  assert.equal(await landscapeCommand(outDir, { pair: '0', output: b.output }), 2);
  assert.match(b.err, /--pair/);
  assert.equal(await landscapeCommand(outDir, { pair: '0,1', axis: 'sideways', output: b.output }), 2);
  assert.deepEqual(parseAxis('run:/x/y@2'), { run: '/x/y', phase: 2 });
  assert.deepEqual(parseAxis('run:/x/y'), { run: '/x/y' });
  assert.equal(parseAxis('pca'), 'trajectory-pca');
});
