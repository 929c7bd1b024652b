import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeMetrics, intransigence } from '../../src/engine/metrics/metrics';

const close = (a: number | null, b: number, msg?: string) => {
  assert.ok(a !== null, msg);
  assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);
};

test('two tasks: the design document\'s reference matrix', () => {
  // R = [[98.9, 8.1], [24.4, 90.3]] (PyTorch, DESIGN.md), b = [9.8, 10.0]
  const m = computeMetrics([[0.989, 0.081], [0.244, 0.903]], [0.098, 0.1]);
  close(m.acc, (0.244 + 0.903) / 2, 'ACC');
  close(m.bwt, 0.244 - 0.989, 'BWT'); // -74.5 points
  close(m.fwt, 0.081 - 0.1, 'FWT');
  close(m.forgetting, 0.989 - 0.244, 'forgetting');
  assert.deepEqual(m.forgettingPerTask.map((f) => (f === null ? null : Math.round(f * 1000))), [745, null]);
  close(m.learningAccuracy, (0.989 + 0.903) / 2, 'LA');
});

test('three tasks, hand computed: forgetting takes the max over earlier rows, not the diagonal', () => {
  const R = [
    [0.9, 0.2, 0.1],
    [0.5, 0.8, 0.3],
    [0.7, 0.4, 0.95],
  ];
  const b = [0.1, 0.15, 0.05];
  const m = computeMetrics(R, b);
  close(m.acc, (0.7 + 0.4 + 0.95) / 3);
  close(m.bwt, ((0.7 - 0.9) + (0.4 - 0.8)) / 2);
  close(m.fwt, ((0.2 - 0.15) + (0.3 - 0.05)) / 2);
  // f_0 = max(0.9, 0.5) - 0.7 = 0.2 ; f_1 = max(0.2, 0.8) - 0.4 = 0.4
  close(m.forgetting, (0.2 + 0.4) / 2);
  close(m.forgettingPerTask[0], 0.2);
  close(m.forgettingPerTask[1], 0.4);
  assert.equal(m.forgettingPerTask[2], null);
});

test('partial matrix (cancelled after the first task): only what can be defined', () => {
  const m = computeMetrics([[0.97, 0.11]], [0.1, 0.09]);
  close(m.acc, 0.97);
  assert.equal(m.bwt, null);
  assert.equal(m.fwt, null);
  assert.equal(m.forgetting, null);
});

test('positive backward transfer is reported with its sign', () => {
  const m = computeMetrics([[0.6, 0.5], [0.8, 0.9]], [0.1, 0.1]);
  close(m.bwt, 0.2);
  close(m.forgetting, -0.2);
});

test('empty and malformed matrices', () => {
  assert.equal(computeMetrics([], []).acc, null);
  assert.throws(() => computeMetrics([[0.9], [0.1]], [0.1, 0.1]), /row 0 has 1 entries/);
});

test('joint training (one row over every task): ACC over all tasks, the sequential metrics are not defined', () => {
  const m = computeMetrics([[0.9, 0.8, 0.7]], [0.1, 0.1, 0.1], 3);
  assert.ok(Math.abs(m.acc! - 0.8) < 1e-12);
  assert.equal(m.bwt, null);
  assert.equal(m.fwt, null);
  assert.equal(m.forgetting, null);
});

test('intransigence: mean gap between a joint reference and the diagonal (Chaudhry et al. 2018)', () => {
  const R = [[0.9, 0.1], [0.3, 0.8]];
  assert.ok(Math.abs(intransigence(R, [0.95, 0.9])! - ((0.95 - 0.9) + (0.9 - 0.8)) / 2) < 1e-12);
  assert.equal(intransigence([], [0.9]), null);
  assert.equal(intransigence(R, [0.9]), null);
});
