import test from 'node:test';
import assert from 'node:assert/strict';
import { formatCount, formatDuration, formatPercent, formatPercentTick, formatPoints, formatStepTick, formatTick, formatValue, roundHalfAway } from '../../src/webview/format';

test('percentages: one decimal, half away from zero despite binary noise', () => {
  assert.equal(formatPercent(0.989), '98.9');
  assert.equal(formatPercent(0.081), '8.1');
  assert.equal(formatPercent((0.244 + 0.903) / 2), '57.4'); // 57.349999… in binary
  assert.equal(formatPercent(1), '100.0');
  assert.equal(formatPercent(0), '0.0');
  assert.equal(formatPercent(null), '—');
  assert.equal(formatPercent(Number.NaN), '—');
  assert.equal(roundHalfAway(-0.25, 1), -0.3);
});

test('percentage points: signed where asked, no negative zero', () => {
  assert.equal(formatPoints(0.244 - 0.989, true), '-74.5');
  assert.equal(formatPoints(0.081 - 0.1, true), '-1.9');
  assert.equal(formatPoints(0.012, true), '+1.2');
  assert.equal(formatPoints(0.989 - 0.244, false), '74.5');
  assert.equal(formatPoints(-0.00001, true), '0.0');
  assert.equal(formatPoints(undefined, true), '—');
});

test('durations, counts, values', () => {
  assert.equal(formatDuration(400), '0.4 s');
  assert.equal(formatDuration(12_300), '12 s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
  assert.equal(formatDuration(null), '—');
  assert.equal(formatCount(225034), '225,034');
  assert.equal(formatValue(0.0671), '0.0671');
  assert.equal(formatValue(3.7412), '3.74');
  assert.equal(formatValue(12.61), '12.6');
});

test('tick formatting', () => {
  assert.deepEqual([0, 500, 1000, 1500, 2814, 12000].map(formatStepTick), ['0', '500', '1k', '1.5k', '2.8k', '12k']);
  assert.deepEqual([0, 0.25, 0.5, 1].map(formatPercentTick), ['0%', '25%', '50%', '100%']);
  assert.deepEqual([0.07, 0.2, 1, 9, 10.2, 0.0671234].map(formatTick), ['0.07', '0.2', '1', '9', '10.2', '0.0671']);
});
