// A trainer job that is not a run (src/extension/trainerJob.ts), with real forked processes: stand-in
// trainers for the ways a job ends (done, crash, silent exit, ignored cancel), then the real trainer
// from source on a tiny real run: a landscape job's progress and its file, and a cancel mid-grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FromLandscapeJobMessage, LandscapeRequest } from '../../src/protocol/trainer';
import { startTrainerJob, type TrainerJobOutcome } from '../../src/extension/trainerJob';
import { landscapeJobFile } from '../../src/engine/landscape/job';
import { ROOT, TRAINER_SOURCE, TSX } from '../helpers/trainer';
import { experiment, run } from '../helpers/runner';

type Msg = Extract<FromLandscapeJobMessage, { type: 'landscapeEvent' }>;
const ECHO = join(ROOT, 'test', 'fixtures', 'trainerJobEcho.mjs');
const IGNORES_CANCEL = join(ROOT, 'test', 'fixtures', 'trainerIgnoresCancel.mjs');
const request = (runDir: string): LandscapeRequest => ({ type: 'landscape', runDir, optima: [0, 1], secondAxis: 'random' });

function stub(mode: string, env?: NodeJS.ProcessEnv) {
  const messages: Msg[] = [];
  const stderr: string[] = [];
  const job = startTrainerJob<Msg>({ request: request(mode), entry: ECHO, env, onMessage: (m) => messages.push(m), onStderr: (t) => stderr.push(t) });
  return { job, messages, stderr };
}

test('every message but exit is passed on; done is the exit message; CLW_THREADS and the extra env reach the trainer', async () => {
  const { job, messages } = stub('echo', { CLW_TEST_EXTRA: 'yes' });
  const outcome = await job.done;
  assert.deepEqual(outcome, { status: 'completed', resultFile: '/tmp/landscape-0-1-random.json' });
  assert.deepEqual(messages.map((m) => m.event.type), ['log', 'landscapeProgress']);
  const log = messages[0].event;
  assert.ok(log.type === 'log');
  assert.match(log.message, /^threads [1-9]\d* extra yes$/);
});

test('a trainer that dies fails the job with its stderr tail', async () => {
  const { job, stderr } = stub('crash');
  const outcome = await job.done;
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error!, /code 1.*weights\.bin is truncated/);
  assert.deepEqual(stderr, ['Error: weights.bin is truncated']);
});

test('a trainer that exits without saying exit has failed, not completed', async () => {
  const outcome = await stub('silent').job.done;
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error!, /code 0/);
});

test('a trainer that ignores cancel is killed after the grace period: cancelled', async () => {
  const job = startTrainerJob({ request: { type: 'run', experimentFile: join(ROOT, 'package.json'), outDir: '/nonexistent', backend: 'wasm' }, entry: IGNORES_CANCEL, onMessage: () => {} });
  const t0 = Date.now();
  job.cancel(300);
  const outcome = await job.done;
  assert.deepEqual(outcome, { status: 'cancelled' });
  assert.ok(Date.now() - t0 >= 250, 'not before the grace period');
});

test('dispose kills at once and passes on nothing more', async () => {
  const seen: unknown[] = [];
  const job = startTrainerJob({ request: request('never'), entry: ECHO, onMessage: (m) => seen.push(m) });
  job.dispose();
  assert.deepEqual(await job.done, { status: 'cancelled' });
  assert.deepEqual(seen, []);
});

test('a fork that throws fails the job without a process', async () => {
  const job = startTrainerJob({ request: request('echo'), entry: ECHO, fork: () => { throw new Error('EAGAIN'); }, onMessage: () => {} });
  const outcome: TrainerJobOutcome = await job.done;
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error!, /EAGAIN/);
});

test('the real trainer (from source) on a tiny real run: a cancel at the first progress writes nothing; then the plane is computed and saved', async () => {
  const { result, outDir } = await run(
    experiment({
      model: { type: 'mlp', hidden: [8] },
      training: { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 1, evalEvery: 100, evalSamples: 50 },
      tasks: [
        { dataset: 'mnist', train: 100, test: 50 },
        { dataset: 'fashion-mnist', train: 100, test: 50 },
      ],
      landscape: { grid: 3, samples: 50, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 1, linePoints: 5, optima: [0, 1] },
    }),
  );
  assert.equal(result.status, 'completed', result.error?.message);
  assert.ok(result.weights, 'the run kept its weights');
  const req: LandscapeRequest = { type: 'landscape', runDir: outDir, optima: [1, 0], secondAxis: 'random', grid: 11, backend: 'wasm' };
  const file = landscapeJobFile(outDir, req, 3);
  const start = (onMessage: (m: Msg) => void) => startTrainerJob<Msg>({ request: req, entry: TRAINER_SOURCE, execArgv: ['--import', TSX], onMessage });

  const cancelled: Msg[] = [];
  const first = start((m) => {
    cancelled.push(m);
    if (m.event.type === 'landscapeProgress' && cancelled.filter((x) => x.event.type === 'landscapeProgress').length === 1) first.cancel();
  });
  assert.equal((await first.done).status, 'cancelled');
  assert.equal(cancelled.at(-1)?.event.type, 'landscapeJobFinished');
  assert.ok(!existsSync(file), 'a cancelled job writes no file');

  const messages: Msg[] = [];
  const outcome = await start((m) => messages.push(m)).done;
  assert.deepEqual(outcome, { status: 'completed', resultFile: file });
  const progress = messages.flatMap((m) => (m.event.type === 'landscapeProgress' ? [m.event] : []));
  assert.ok(progress.length >= 2);
  assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);
  const fin = messages.at(-1)!.event;
  assert.ok(fin.type === 'landscapeJobFinished' && fin.status === 'completed');
  assert.deepEqual(fin.landscape?.optima, [1, 0]);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), fin.landscape);
});
