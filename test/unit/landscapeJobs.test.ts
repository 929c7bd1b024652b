// The run panel's landscapes on the host (src/extension/landscapeJobs.ts) with a real trainer (from
// source) on a tiny real three-task run: the saved planes listed and shown, a new plane computed by
// a landscape-only job with its progress forwarded, the choice remembered when the panel reopens,
// and the requests refused: a phase the run does not have, a second job, Restricted Mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../../src/protocol/result';
import type { ToWebviewMessage } from '../../src/protocol/webview';
import { PanelLandscapes, landscapeDataDirs, readSavedLandscape, recomputeProblem, requestProblem, savedLandscapes, type PanelLandscapeHost } from '../../src/extension/landscapeJobs';
import { startTrainerJob, type TrainerJob } from '../../src/extension/trainerJob';
import { TRAINER_SOURCE, TSX, workspace } from '../helpers/trainer';
import { experiment, run } from '../helpers/runner';

test('requests are checked against the run: its phases, two different optima, a third point off their line', () => {
  assert.equal(requestProblem(3, [0, 2], 'trajectory-pca'), undefined);
  assert.equal(requestProblem(3, [2, 0], { phase: 1 }), undefined);
  assert.match(requestProblem(3, [0, 3], 'random')!, /phase 3 is not a phase of this run \(it kept phases 0 to 2\)/);
  assert.match(requestProblem(3, [1, 1], 'random')!, /two different optima/);
  assert.match(requestProblem(3, [0, 1], { phase: 1 })!, /one of the two optima/);
  assert.match(requestProblem(3, [0, 1], { phase: 7 })!, /third point: phase 7/);
  assert.match(requestProblem(2, [0, 1], { phase: 2 })!, /third point/);
});

test('which runs can be recomputed, and where the job finds their data', () => {
  const base = { status: 'completed', weights: { file: 'weights.json', bytes: 1, checkpoints: 3, dtype: 'float16', parameterCount: 10, phases: 3 } } as unknown as RunResult;
  assert.equal(recomputeProblem(base), undefined);
  assert.match(recomputeProblem({ ...base, status: 'running' })!, /not finished/);
  assert.match(recomputeProblem({ ...base, weights: undefined })!, /kept no weights/);
  assert.match(recomputeProblem({ ...base, weights: { ...base.weights!, phases: 1 } })!, /1 phase; a plane needs two/);
  assert.match(recomputeProblem(undefined)!, /no result/);
  const tasks = [
    { source: 'dataDir', dir: '/data/mnist' },
    { source: 'cache', dir: '/home/u/.cache/cw/datasets/fashion-mnist' },
  ] as RunResult['tasks'];
  assert.deepEqual(landscapeDataDirs({ tasks }, '/data'), { dataDir: '/data', cacheDir: '/home/u/.cache/cw/datasets' });
  assert.deepEqual(landscapeDataDirs({ tasks: tasks.slice(0, 1) }, undefined), {});
});

test('saved landscapes: only landscape-*.json files, newest first; a file that is not a landscape is refused', () => {
  const dir = workspace('clw-landscapes-');
  const land = { optima: [0, 1], alphas: [0], betas: [0], grids: [], line: { t: [], loss: [], accuracy: [] }, trajectory: [] };
  for (const [name, age] of [['landscape-0-1-pca.json', 30], ['landscape-1-2-random.json', 10], ['landscape-0-2-self-1.json', 20]] as const) {
    writeFileSync(join(dir, name), JSON.stringify(land));
    const t = Date.now() / 1000 - age;
    utimesSync(join(dir, name), t, t);
  }
  for (const other of ['result.json', 'landscape-0-1-pca.json.1234.tmp', 'weights.json', 'notes-landscape-0-1.json']) writeFileSync(join(dir, other), '{}');
  assert.deepEqual(savedLandscapes(dir), ['landscape-1-2-random.json', 'landscape-0-2-self-1.json', 'landscape-0-1-pca.json']);
  assert.deepEqual(savedLandscapes(join(dir, 'missing')), []);
  assert.deepEqual(readSavedLandscape(join(dir, 'landscape-0-1-pca.json')).optima, [0, 1]);
  writeFileSync(join(dir, 'landscape-9-9-pca.json'), '{"optima":[9,9]}');
  assert.throws(() => readSavedLandscape(join(dir, 'landscape-9-9-pca.json')), /is not a landscape/);
});

/** A panel's host on a real run folder: what it posts, the jobs it started, its log. */
function panelHost(resultFile: string, over: Partial<PanelLandscapeHost> = {}) {
  const posted: ToWebviewMessage[] = [];
  const jobs: TrainerJob[] = [];
  const log: string[] = [];
  const result = () => JSON.parse(readFileSync(resultFile, 'utf8')) as RunResult;
  const host: PanelLandscapeHost = {
    post: (m) => posted.push(m),
    result,
    resultFile: () => resultFile,
    refusal: () => undefined,
    start: (request, onMessage) => {
      const job = startTrainerJob({ request, entry: TRAINER_SOURCE, execArgv: ['--import', TSX], onMessage });
      jobs.push(job);
      return job;
    },
    log: (l) => log.push(l),
    ...over,
  };
  return { host, posted, jobs, log, panel: new PanelLandscapes(host) };
}

const errorOf = (m: ToWebviewMessage | undefined) => (m as { error?: string } | undefined)?.error;
const ofType = <T extends ToWebviewMessage['type']>(posted: ToWebviewMessage[], type: T) => posted.filter((m): m is Extract<ToWebviewMessage, { type: T }> => m.type === type);

test('on a real three-task run: a new plane (0, 2) computed with progress, listed, shown, and shown again when the panel reopens', async () => {
  const { result, outDir } = await run(
    experiment({
      model: { type: 'mlp', hidden: [8] },
      training: { optimizer: 'adam', learningRate: 0.002, batchSize: 50, epochs: 1, evalEvery: 100, evalSamples: 50 },
      tasks: [
        { dataset: 'mnist', train: 100, test: 50 },
        { dataset: 'fashion-mnist', train: 100, test: 50 },
        { dataset: 'mnist', train: 100, test: 50, permutation: 3 },
      ],
      landscape: { grid: 5, samples: 50, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 1, linePoints: 5, optima: [0, 1] },
    }),
  );
  assert.equal(result.status, 'completed', result.error?.message);
  assert.equal(result.weights?.phases, 3);
  const resultFile = join(outDir, 'result.json');

  // First open: nothing saved; the run's own landscape is shown.
  const first = panelHost(resultFile);
  first.panel.ready();
  assert.deepEqual(first.posted, [{ type: 'landscapeList', files: [], shown: null, canCompute: true }]);

  // Refused before any process starts: a phase the run does not have, a third point on the line.
  await first.panel.handle({ type: 'computeLandscape', optima: [0, 3], secondAxis: 'random' });
  await first.panel.handle({ type: 'computeLandscape', optima: [0, 2], secondAxis: { phase: 2 } });
  assert.equal(first.jobs.length, 0);
  const refusals = ofType(first.posted, 'landscapeJob').filter((m) => m.state === 'refused');
  assert.equal(refusals.length, 2);
  assert.match(errorOf(refusals[0])!, /phase 3 is not a phase of this run/);
  assert.match(errorOf(refusals[1])!, /lies on their line/);

  // The job, and a second request while it runs: refused, the first goes on.
  first.posted.length = 0;
  await first.panel.handle({ type: 'computeLandscape', optima: [0, 2], secondAxis: 'trajectory-pca' });
  await first.panel.handle({ type: 'computeLandscape', optima: [1, 2], secondAxis: 'random' });
  assert.equal(first.jobs.length, 1, 'one job per panel');
  assert.ok(first.panel.running);
  const outcome = await first.jobs[0].done;
  assert.equal(outcome.status, 'completed', outcome.error);
  await new Promise((r) => setImmediate(r));
  const jobMsgs = ofType(first.posted, 'landscapeJob');
  assert.equal(jobMsgs[0].state, 'running');
  assert.equal(jobMsgs[1].state, 'refused');
  assert.match(errorOf(jobMsgs[1])!, /already being computed/);
  const progress = jobMsgs.filter((m) => m.state === 'running');
  assert.ok(progress.length >= 2, 'progress forwarded');
  const lastProgress = progress.at(-1)!;
  assert.ok(lastProgress.state === 'running' && lastProgress.done === lastProgress.total && lastProgress.total > 0, JSON.stringify(lastProgress));
  assert.deepEqual(jobMsgs.at(-1), { type: 'landscapeJob', state: 'completed', file: 'landscape-0-2-pca.json' });
  const file = join(outDir, 'landscape-0-2-pca.json');
  assert.ok(existsSync(file));
  const list = ofType(first.posted, 'landscapeList').at(-1)!;
  assert.deepEqual(list.files, ['landscape-0-2-pca.json']);
  assert.equal(list.shown, 'landscape-0-2-pca.json');
  const shown = ofType(first.posted, 'landscapeShow').at(-1)!;
  assert.equal(shown.file, 'landscape-0-2-pca.json');
  assert.deepEqual(shown.landscape.optima, [0, 2]);
  assert.deepEqual(shown.landscape, JSON.parse(readFileSync(file, 'utf8')));
  // theta_A and theta_B are grid points whose values are their direct evaluations.
  for (const a of shown.landscape.anchors!) assert.deepEqual(a.grid?.loss, a.direct.loss, a.which);
  first.panel.dispose();

  // Reopened: the file is listed and shown again.
  const again = panelHost(resultFile);
  again.panel.ready();
  assert.equal(ofType(again.posted, 'landscapeList')[0].shown, 'landscape-0-2-pca.json');
  assert.deepEqual(ofType(again.posted, 'landscapeShow')[0].landscape.optima, [0, 2]);
  // Back to the run's own: remembered too.
  await again.panel.handle({ type: 'showLandscape' });
  const third = panelHost(resultFile);
  third.panel.ready();
  assert.deepEqual(third.posted, [{ type: 'landscapeList', files: ['landscape-0-2-pca.json'], shown: null, canCompute: true }]);
  // A file that is not there: an error in the card, the choice unchanged.
  await third.panel.handle({ type: 'showLandscape', file: 'landscape-5-6-pca.json' });
  assert.match(errorOf(ofType(third.posted, 'landscapeJob').at(-1))!, /cannot show landscape-5-6-pca.json/);

  // Restricted Mode: refused, no process.
  const untrusted = panelHost(resultFile, { refusal: () => 'Continual Workbench cannot run experiments in Restricted Mode' });
  untrusted.panel.ready();
  assert.deepEqual(untrusted.posted[0], { type: 'landscapeList', files: ['landscape-0-2-pca.json'], shown: null, canCompute: false, blocked: 'Continual Workbench cannot run experiments in Restricted Mode' });
  await untrusted.panel.handle({ type: 'computeLandscape', optima: [1, 2], secondAxis: 'random' });
  assert.equal(untrusted.jobs.length, 0);
  assert.match(errorOf(untrusted.posted.at(-1))!, /Restricted Mode/);

  // A panel closed while its job runs: the job is cancelled, nothing is saved, nothing more is posted.
  const closing = panelHost(resultFile);
  await closing.panel.handle({ type: 'computeLandscape', optima: [2, 1], secondAxis: 'random' });
  assert.equal(closing.jobs.length, 1);
  closing.panel.dispose();
  const posts = closing.posted.length;
  assert.equal((await closing.jobs[0].done).status, 'cancelled');
  assert.equal(closing.posted.length, posts, 'nothing posted after the panel closed');
  assert.ok(!existsSync(join(outDir, 'landscape-2-1-random.json')), 'a cancelled job writes no file');
});
