// The trainer's 'paths' request for real: the trainer forked from source (tsx) on two tiny real runs
// (naive and joint training from one initialisation), through the host's startTrainerJob: progress
// per stage, a cancel mid-job (nothing written), then the paths and the plane through the joint
// run's weights, written beside the reference, reported in 'finished' and reopened on a second ask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { PathsJobEvent } from '../../src/protocol/landscape';
import type { FromPathsJobMessage, PathsRequest } from '../../src/protocol/trainer';
import { startTrainerJob } from '../../src/extension/trainerJob';
import { pathsFileName, planeFileName } from '../../src/engine/landscape/pathsJob';
import { TRAINER_SOURCE, TSX } from '../helpers/trainer';
import { experiment, run } from '../helpers/runner';

type Msg = Extract<FromPathsJobMessage, { type: 'pathsEvent' }>;

test('trainer paths request: progress, cancel, then the paths and the plane written beside the reference and reopened', async () => {
  const ex = (strategy: string) =>
    experiment({
      model: { type: 'mlp', hidden: [8] },
      training: { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 1, evalEvery: 100, evalSamples: 50 },
      tasks: [
        { dataset: 'mnist', train: 100, test: 50 },
        { dataset: 'fashion-mnist', train: 100, test: 50 },
      ],
      strategy: { name: strategy },
      landscape: { grid: 3, samples: 50, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 1, linePoints: 5, optima: [0, 1] },
    });
  const naive = await run(ex('naive'));
  const joint = await run(ex('joint'));
  for (const r of [naive, joint]) assert.equal(r.result.status, 'completed', r.result.error?.message);
  const req: PathsRequest = { type: 'paths', reference: naive.outDir, to: [joint.outDir], planeWith: joint.outDir, grid: 5, points: 5, backend: 'wasm' };
  const events = (ms: Msg[]) => ms.map((m) => m.event);
  const start = (onMessage: (m: Msg) => void) => startTrainerJob<Msg>({ request: req, entry: TRAINER_SOURCE, execArgv: ['--import', TSX], onMessage });
  const written = () => readdirSync(naive.outDir).filter((n) => /^(paths|plane)-/.test(n));

  const cancelled: Msg[] = [];
  const first = start((m) => {
    cancelled.push(m);
    if (m.event.type === 'progress' && events(cancelled).filter((e) => e.type === 'progress').length === 1) first.cancel();
  });
  assert.equal((await first.done).status, 'cancelled');
  assert.deepEqual(events(cancelled).at(-1), { ...events(cancelled).at(-1), type: 'finished', status: 'cancelled' });
  assert.deepEqual(written(), [], 'a cancelled job writes nothing');

  const messages: Msg[] = [];
  const outcome = await start((m) => messages.push(m)).done;
  const pathsFile = join(naive.outDir, pathsFileName(req, [0, 1]));
  const planeFile = join(naive.outDir, planeFileName(req, [0, 1], 3));
  assert.deepEqual(outcome, { status: 'completed', resultFile: pathsFile });
  const progress = events(messages).filter((e): e is Extract<PathsJobEvent, { type: 'progress' }> => e.type === 'progress');
  assert.deepEqual([...new Set(progress.map((p) => p.stage))], ['line A → B', `line A → ${joint.outDir.split('/').pop()}`, 'plane']);
  for (const stage of new Set(progress.map((p) => p.stage))) {
    const last = progress.filter((p) => p.stage === stage).at(-1)!;
    assert.equal(last.done, last.total, `${stage} reaches its total`);
  }
  const fin = events(messages).at(-1)!;
  assert.ok(fin.type === 'finished' && fin.status === 'completed');
  assert.deepEqual(fin.files, [pathsFile, planeFile]);
  assert.deepEqual(fin.reopened, { paths: false, plane: false });
  assert.deepEqual(JSON.parse(readFileSync(pathsFile, 'utf8')), fin.paths);
  assert.deepEqual(JSON.parse(readFileSync(planeFile, 'utf8')), fin.plane);
  assert.equal(fin.plane!.grids[0].loss.length, 5);
  assert.deepEqual(fin.plane!.runs.map((r) => r.shares), ['theta-A', 'init'], 'joint training shares only the initialisation');
  assert.ok(fin.plane!.runs[1].ends[0].offPlane < 1e-3 * fin.plane!.distance, 'the third point lies in its plane');

  const again: Msg[] = [];
  assert.equal((await start((m) => again.push(m)).done).status, 'completed');
  const fin2 = events(again).at(-1)!;
  assert.ok(fin2.type === 'finished');
  assert.deepEqual(fin2.reopened, { paths: true, plane: true });
  assert.deepEqual(fin2.paths, fin.paths);
  assert.ok(!existsSync(join(naive.outDir, 'paths.json')));
});
