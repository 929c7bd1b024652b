import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alternateScenario, buildHead, MASKED_LOGIT, maskRows, maskVector, scoringUnits, trainingUnits } from '../../src/engine/train/head';

const split = [[0, 1], [2, 3], [4, 5]].map((classIds) => ({ classIds, domain: 'mnist' }));
const mnistThenFashion = [
  { classIds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], domain: 'mnist' },
  { classIds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], domain: 'fashion-mnist' },
];

test('domain-IL: one shared head, a task\'s k-th class is unit k, nothing masked', () => {
  const h = buildHead('domain-il', split);
  assert.equal(h.outputs, 2);
  assert.deepEqual(h.units, [[0, 1], [0, 1], [0, 1]]);
  assert.equal(trainingUnits(h, 2, [0, 1, 2]), null);
  assert.equal(scoringUnits(h, 0, [0, 1, 2]), null);
  assert.equal(alternateScenario(h), null);
  assert.equal(buildHead('domain-il', mnistThenFashion).outputs, 10);
});

test('task-IL: every task owns its units, and only they compete when training and scoring', () => {
  const h = buildHead('task-il', split);
  assert.equal(h.outputs, 6);
  assert.deepEqual(h.units, [[0, 1], [2, 3], [4, 5]]);
  assert.deepEqual(trainingUnits(h, 1, [0, 1]), [2, 3]);
  assert.deepEqual(scoringUnits(h, 0, [0, 1, 2]), [0, 1]);
  // Two tasks with the same classes still get separate heads.
  assert.deepEqual(buildHead('task-il', mnistThenFashion).units[1], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.equal(alternateScenario(h), 'class-il');
  assert.deepEqual(scoringUnits(h, 0, [0, 1], 'class-il'), [0, 1, 2, 3]);
});

test('class-IL: one unit per class over all tasks, allocated up front; every class seen so far competes', () => {
  const h = buildHead('class-il', split);
  assert.equal(h.outputs, 6);
  assert.deepEqual(trainingUnits(h, 1, [0, 1]), [0, 1, 2, 3]);
  assert.deepEqual(scoringUnits(h, 0, [0, 1]), [0, 1, 2, 3]);
  // The scored task's own units are always allowed (a future task's loss stays finite).
  assert.deepEqual(scoringUnits(h, 2, [0]), [0, 1, 4, 5]);
  assert.equal(scoringUnits(h, 2, []), null, 'before training: all units');
  // The same class in the same domain is one unit; another dataset's class 0 is another unit.
  assert.deepEqual(buildHead('class-il', [{ classIds: [0, 1], domain: 'a' }, { classIds: [1, 2], domain: 'a' }]).units, [[0, 1], [1, 2]]);
  assert.equal(buildHead('class-il', mnistThenFashion).outputs, 20);
  assert.equal(alternateScenario(h), 'task-il');
});

test('masks: 0 where allowed, MASKED_LOGIT elsewhere; rows follow each example\'s task', () => {
  assert.deepEqual(Array.from(maskVector(4, [1, 3])!), [MASKED_LOGIT, 0, MASKED_LOGIT, 0]);
  assert.equal(maskVector(4, null), null);
  const h = buildHead('task-il', split);
  const rows = maskRows(h, Int32Array.from([2, 0]), [0, 1, 2])!;
  assert.deepEqual(Array.from(rows.subarray(0, 6)).map((v) => (v === 0 ? 1 : 0)), [0, 0, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(rows.subarray(6, 12)).map((v) => (v === 0 ? 1 : 0)), [1, 1, 0, 0, 0, 0]);
  assert.equal(maskRows(buildHead('domain-il', split), Int32Array.from([0]), [0]), null);
  // exp(MASKED_LOGIT - max) underflows to exactly 0 in float32: masked units get no probability.
  assert.equal(Math.fround(Math.exp(MASKED_LOGIT)), 0);
});
