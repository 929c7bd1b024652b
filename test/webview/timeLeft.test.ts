// Time left over every phase of a run (protocol/format.ts timeLeft): never "0 s" while the last
// evaluation or the landscape is still to come.
import test from 'node:test';
import assert from 'node:assert/strict';
import { experiment, sampleResult } from './dom';
import { applyRunEvent, type RunState } from '../../src/protocol/runState';
import { observeLandscapeProgress, progressLine, timeLeft, timeLeftText } from '../../src/protocol/format';
import type { Metrics } from '../../src/protocol/result';

const metrics: Metrics = { acc: null, bwt: null, fwt: null, forgetting: null, forgettingPerTask: [], learningAccuracy: null };

/** A live two-task run with a 5x5 landscape (25 grid + 5 line points), 100 test images per task. */
function live(): RunState {
  const r = sampleResult();
  const tasks = r.tasks.map((t) => ({ ...t, testSize: 100 }));
  let s = applyRunEvent(null, { type: 'runStarted', runId: 'r', experiment: experiment(), startedAt: '2025-01-01T00:00:00Z' });
  s = applyRunEvent(s, { type: 'environment', environment: { ...r.environment!, cpus: 2 } });
  s = applyRunEvent(s, { type: 'dataReady', tasks, phases: [[0], [1]], head: r.head, totalSteps: 400, dataMs: 1 });
  return s;
}

const progress = (step: number, etaMs: number) => ({ type: 'progress' as const, task: step < 200 ? 0 : 1, epoch: 1, step, totalSteps: 400, loss: 0.5, imagesPerSecond: 300, elapsedMs: 1000, etaMs });

test('training: the engine ETA plus the landscape, named until something was timed, estimated after', () => {
  const s = live();
  applyRunEvent(s, progress(100, 30_000));
  // Nothing evaluated yet: the landscape's cost is unknown, and the text says it is still to come.
  assert.deepEqual(timeLeft(s, 0, null), { ms: 30_000, unestimated: 'the landscape' });
  assert.equal(timeLeftText(timeLeft(s, 0, null)), 'about 30 s left + the landscape');

  // Row 0 measured: 200 test images (2 tasks x 100) and no curve points in 400 ms = 0.5 image/ms.
  applyRunEvent(s, { type: 'taskFinished', task: 0, accuracy: [0.9, 0.1], loss: [0.3, 2], metrics, trainMs: 1000, evalMs: 400 });
  applyRunEvent(s, progress(300, 10_000));
  // Landscape: (25 + 5 + 2 anchors) points x 2 tasks x min(100 samples, 100 test) = 6,400 images on 2 lanes at 0.5/ms = 6,400 ms.
  const t = timeLeft(s, 0, null);
  assert.equal(t.unestimated, null);
  assert.ok(Math.abs(t.ms! - (10_000 + 6_400)) < 1, `${t.ms}`);
});

test('the last step done, the last row not yet: the evaluation is still to come, never "0.0 s"', () => {
  const s = live();
  applyRunEvent(s, { type: 'taskFinished', task: 0, accuracy: [0.9, 0.1], loss: [0.3, 2], metrics, trainMs: 1000, evalMs: 400 });
  applyRunEvent(s, progress(400, 0));
  const t = timeLeft(s, 0, null);
  // 200 images at 0.5/ms = 400 ms for the last row, then the 6,400 ms landscape.
  assert.ok(Math.abs(t.ms! - 6_800) < 1, `${t.ms}`);
  assert.doesNotMatch(progressLine(s, 0, null), /0\.0 s|ETA 0/);
  assert.match(progressLine(s, 0, null), /about 7 s left$/);
});

test('landscape: from its own progress rate once it is measured', () => {
  const s = live();
  applyRunEvent(s, { type: 'taskFinished', task: 0, accuracy: [0.9, 0.1], loss: [0.3, 2], metrics, trainMs: 1000, evalMs: 400 });
  applyRunEvent(s, { type: 'taskFinished', task: 1, accuracy: [0.5, 0.9], loss: [1, 0.3], metrics, trainMs: 1000, evalMs: 400 });
  applyRunEvent(s, { type: 'landscapeProgress', done: 0, total: 30, phase: 'plane' });
  let clock = observeLandscapeProgress(null, s, 1_000);
  applyRunEvent(s, { type: 'landscapeProgress', done: 3, total: 30, phase: 'grid' });
  clock = observeLandscapeProgress(clock, s, 2_000);
  assert.deepEqual(clock, { phase: 'grid', at: 2_000, done: 3 }, 'a new phase starts a new clock');
  applyRunEvent(s, { type: 'landscapeProgress', done: 13, total: 30, phase: 'grid' });
  clock = observeLandscapeProgress(clock, s, 7_000);
  assert.equal(clock!.at, 2_000, 'the same phase keeps its first sighting');
  // 10 points in 5 s: the 17 left take 8.5 s.
  assert.deepEqual(timeLeft(s, 7_000, clock), { ms: 8_500, unestimated: null });
  assert.equal(progressLine(s, 7_000, clock), 'landscape grid 13/30 · about 9 s left');
  applyRunEvent(s, { type: 'landscape', landscape: sampleResult().landscape! });
  assert.deepEqual(timeLeft(s, 8_000, clock), { ms: 0, unestimated: null });
  assert.equal(timeLeftText({ ms: 400, unestimated: null }), 'less than a second left');
  applyRunEvent(s, { type: 'finished', status: 'completed', finishedAt: 'f', totalMs: 1, trainImagesPerSecond: 1 });
  assert.equal(observeLandscapeProgress(clock, s, 9_000), null);
  assert.deepEqual(timeLeft(s, 9_000, null), { ms: null, unestimated: null });
});
