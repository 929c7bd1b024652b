// protocol/format.ts (shared by the CLI, the host and the webview) and the webview's tick formatting.
import test from 'node:test';
import assert from 'node:assert/strict';
import { formatCoordinate, formatPercentTick, formatStepTick, formatTick } from '../../src/webview/format';
import {
  averageAccuracy,
  formatCount,
  formatDuration,
  formatPercent,
  formatPoints,
  formatValue,
  landscapePlan,
  phaseLabels,
  progressMessage,
  roundHalfAway,
  rowSummary,
  runProgress,
  runSetupTitle,
  strategyTitle,
  taskLabels,
} from '../../src/protocol/format';
import { applyRunEvent, stateFromResult, type RunState } from '../../src/protocol/runState';
import type { RunResult } from '../../src/protocol/result';
import { experiment, jointResult, sampleResult, splitResult } from './dom';

test('percentages: one decimal, half away from zero despite binary noise', () => {
  assert.equal(formatPercent(0.989), '98.9');
  assert.equal(formatPercent(0.081), '8.1');
  assert.equal(formatPercent((0.244 + 0.903) / 2), '57.4'); // 57.349999… in binary
  assert.equal(formatPercent(1), '100.0');
  assert.equal(formatPercent(0), '0.0');
  assert.equal(formatPercent(null), '—');
  assert.equal(formatPercent(Number.NaN), '—');
  assert.equal(formatPercent(0.98765, 2), '98.77');
  assert.equal(roundHalfAway(-0.25, 1), -0.3);
});

test('percentage points: signed where asked, no negative zero', () => {
  assert.equal(formatPoints(0.244 - 0.989, true), '-74.5');
  assert.equal(formatPoints(0.081 - 0.1, true), '-1.9');
  assert.equal(formatPoints(0.012, true), '+1.2');
  assert.equal(formatPoints(0.989 - 0.244, false), '74.5');
  assert.equal(formatPoints(-0.00001, true), '0.0');
  assert.equal(formatPoints(-0.00001, true, 2), '0.00');
  assert.equal(formatPoints(undefined, true), '—');
});

test('durations (one format for CLI, host and panel), counts, values', () => {
  assert.equal(formatDuration(400), '0.4 s');
  assert.equal(formatDuration(12_300), '12 s');
  assert.equal(formatDuration(70_000), '1m 10s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
  assert.equal(formatDuration(null), '—');
  assert.equal(formatDuration(-1), '—');
  assert.equal(formatCount(225034), '225,034');
  assert.equal(formatValue(0.0671), '0.0671');
  assert.equal(formatValue(3.7412), '3.74');
  assert.equal(formatValue(12.61), '12.6');
});

test('tick formatting', () => {
  assert.deepEqual([0, 500, 1000, 1500, 2814, 12000].map(formatStepTick), ['0', '500', '1k', '1.5k', '2.8k', '12k']);
  assert.deepEqual([0, 0.25, 0.5, 1].map(formatPercentTick), ['0%', '25%', '50%', '100%']);
  assert.deepEqual([0.07, 0.2, 1, 9, 10.2, 0.0671234].map(formatTick), ['0.07', '0.2', '1', '9', '10.2', '0.0671']);
  assert.equal(formatCoordinate(-0.001), '0.00');
});

test('task labels: a class subset, rotation or permutation names the task when its label is the dataset', () => {
  assert.deepEqual(taskLabels(splitResult()), ['0/1', '2/3', '4/5', '6/7', '8/9']);
  // A label of the task's own (the loader's, or the experiment's) is kept.
  assert.deepEqual(taskLabels(splitResult({ labels: ['zero-one', '2/3', 'MNIST', 'MNIST', 'MNIST'] })), ['zero-one', '2/3', '4/5', '6/7', '8/9']);
  // Whole datasets keep their names.
  assert.deepEqual(taskLabels(sampleResult()), ['MNIST', 'Fashion-MNIST']);
  // Before the data is ready: from the experiment's task specs.
  const early: RunResult = { ...splitResult(), tasks: [] };
  assert.deepEqual(taskLabels(early), ['0/1', '2/3', '4/5', '6/7', '8/9']);
  // Rotated and permuted tasks; a sequence over two datasets keeps the dataset in front.
  const r = sampleResult();
  r.experiment = { ...r.experiment, tasks: [{ dataset: 'mnist', rotation: 45 }, { dataset: 'mnist', permutation: 3 }] };
  r.tasks = r.tasks.map((t) => ({ ...t, label: 'MNIST', dataset: 'mnist' }));
  assert.deepEqual(taskLabels(r), ['45°', 'perm 3']);
  r.experiment = { ...r.experiment, tasks: [{ dataset: 'mnist', classes: [0, 1] }, { dataset: 'fashion-mnist', classes: [0, 1] }] };
  r.tasks = sampleResult().tasks;
  assert.deepEqual(taskLabels(r), ['MNIST 0/1', 'Fashion-MNIST 0/1']);
});

test('phase labels: one task, joint, cumulative (short and long)', () => {
  assert.deepEqual(phaseLabels(splitResult()), ['0/1', '2/3', '4/5', '6/7', '8/9']);
  assert.deepEqual(phaseLabels(jointResult()), ['joint (all tasks)']);
  const cumulative = { ...splitResult(), phases: [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4]] };
  assert.deepEqual(phaseLabels(cumulative), ['0/1', '0/1 + 2/3', '0/1 + 2/3 + 4/5', 'tasks 0–3', 'tasks 0–4']);
  // A joint run before its data is ready: one phase per task until dataReady says otherwise.
  assert.deepEqual(phaseLabels({ ...jointResult(), phases: [] }), ['MNIST', 'Fashion-MNIST']);
});

test('strategy and scenario: "EWC λ=1000 · class-IL · Split-MNIST"', () => {
  assert.equal(strategyTitle({ name: 'ewc', lambda: 1000 }), 'EWC λ=1000');
  assert.equal(strategyTitle({ name: 'online-ewc', fisherSamples: 600, lambda: 100, gamma: 0.9 }), 'Online EWC λ=100 γ=0.9');
  assert.equal(strategyTitle({ name: 'replay', memorySize: 500, selection: 'reservoir', replayBatch: 0 }), 'Replay memorySize=500 selection=reservoir');
  assert.equal(strategyTitle({ name: 'si', c: 0.1, xi: 0.1 }), 'SI c=0.1 ξ=0.1');
  assert.equal(strategyTitle({ name: 'my-method', strength: 2 }), 'my-method strength=2');
  assert.equal(strategyTitle(undefined), 'Naive');
  assert.equal(runSetupTitle(splitResult()), 'EWC λ=1000 · class-IL · Split-MNIST');
  // Format-1 results have no head: domain-IL, as they were run.
  const old = sampleResult() as Partial<RunResult>;
  delete old.head;
  assert.equal(runSetupTitle(old as RunResult), 'Naive · domain-IL');
});

test('ACC of rows so far: tasks trained up to that phase (all of them for joint training)', () => {
  const R = [
    [0.9, 0.1, 0.2],
    [0.5, 0.8, 0.3],
  ];
  assert.equal(averageAccuracy(R, [[0], [1], [2]]), (0.5 + 0.8) / 2);
  assert.equal(averageAccuracy(R, [[0], [1], [2]], 0), 0.9);
  assert.equal(averageAccuracy([[0.9, 0.8, 0.7]], [[0, 1, 2]]), (0.9 + 0.8 + 0.7) / 3);
  assert.equal(averageAccuracy([], [[0]]), null);
  assert.equal(averageAccuracy([R[0], null], [[0], [1]]), 0.9, 'rows so far: the last that arrived');
  assert.equal(rowSummary(splitResult(), 1, [0.02, 0.98, 0, 0, 0]), 'after 2/3: 0/1 2.0%, 2/3 98.0%, 4/5 0.0%, 6/7 0.0%, 8/9 0.0%');
});

test('does the run have a landscape: one answer for runner, progress and panel', () => {
  const ex = experiment();
  assert.deepEqual(landscapePlan(ex).optima, [0, 1]);
  assert.match(landscapePlan(ex, 1).reason!, /one phase/);
  assert.match(landscapePlan({ ...ex, landscape: false }).reason!, /turned off/);
  assert.match(landscapePlan({ ...ex, tasks: [ex.tasks[0]], landscape: false }).reason!, /needs two tasks/);
  assert.match(landscapePlan({ ...ex, landscape: { ...(ex.landscape as object), optima: [1, 1] } as typeof ex.landscape }).reason!, /twice/);
  assert.equal(landscapePlan(undefined).optima, null);
});

/** The joint run as it arrives: started, data ready with one phase, training. */
function liveJoint(): RunState {
  const r = jointResult();
  let s = applyRunEvent(null, { type: 'runStarted', runId: 'j', experiment: r.experiment, startedAt: 't' });
  s = applyRunEvent(s, { type: 'dataReady', tasks: r.tasks, phases: r.phases, head: r.head, totalSteps: 400, dataMs: 1 });
  return applyRunEvent(s, { type: 'progress', task: 0, epoch: 2, step: 100, totalSteps: 400, loss: 0.21, imagesPerSecond: 1234, elapsedMs: 1000, etaMs: 70_000 });
}

test('progress: the same line everywhere, by phase; a joint run has no landscape share', () => {
  const s = liveJoint();
  assert.equal(progressMessage(s), 'joint (all tasks) 1/1 · step 100/400 · epoch 2/3 · loss 0.210 · 1,234 img/s · ETA 1m 10s');
  // No landscape follows a one-phase run: training is the whole bar.
  assert.equal(runProgress(s).fraction, 0.25);
  applyRunEvent(s, { type: 'taskFinished', task: 0, accuracy: [0.98, 0.9], loss: [0.1, 0.3], metrics: jointResult().metrics, trainMs: 1, evalMs: 1 });
  assert.deepEqual(runProgress(s), { fraction: 1, indeterminate: true, detail: 'finishing' });
  assert.equal(progressMessage(s), 'finishing');
  // A sequential run with a landscape: training is 80% of the bar, then the grid.
  const seq = stateFromResult({ ...sampleResult(), status: 'running', accuracyMatrix: [[0.9, 0.1]] });
  seq.progress = { type: 'progress', task: 1, epoch: 1, step: 300, totalSteps: 400, loss: 1, imagesPerSecond: 10, elapsedMs: 1, etaMs: null };
  assert.equal(runProgress(seq).fraction, 0.75 * 0.8);
  assert.equal(runProgress(seq).detail, 'Fashion-MNIST 2/2 · step 300/400');
  assert.equal(runProgress(null).detail, 'starting');
});
