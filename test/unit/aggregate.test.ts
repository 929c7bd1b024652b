import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMeanSem, meanSem } from '../../src/engine/metrics/aggregate';

test('mean and SEM against hand-computed values', () => {
  // 0.90, 0.92, 0.97: mean 0.93, sample sd sqrt(((-.03)^2 + (-.01)^2 + .04^2) / 2) = sqrt(0.0013) ; sem = sd / sqrt(3)
  const m = meanSem([0.9, 0.92, 0.97]);
  assert.ok(Math.abs(m.mean! - 0.93) < 1e-12);
  assert.ok(Math.abs(m.sem! - Math.sqrt(0.0013 / 3)) < 1e-12);
  assert.equal(m.n, 3);
  assert.equal(m.missing, 0);
  assert.equal(formatMeanSem(m), '93.0 ± 2.1');
});

test('one seed: a mean without an error bar; no seed: nothing', () => {
  assert.deepEqual(meanSem([0.5]), { mean: 0.5, sem: null, n: 1, missing: 0 });
  assert.equal(formatMeanSem(meanSem([0.5])), '50.0');
  assert.deepEqual(meanSem([]), { mean: null, sem: null, n: 0, missing: 0 });
  assert.equal(formatMeanSem(meanSem([null])), '—');
});

test('a failed seed is excluded and reported, not averaged in as zero', () => {
  const m = meanSem([0.8, null, 0.9]);
  assert.ok(Math.abs(m.mean! - 0.85) < 1e-12);
  assert.equal(m.n, 2);
  assert.equal(m.missing, 1);
  assert.ok(Math.abs(m.sem! - 0.05) < 1e-12, 'sd of {0.8, 0.9} is 0.0707, / sqrt 2 = 0.05');
  assert.equal(meanSem([0.8, NaN]).missing, 1);
});

test('three seeds 0.9, 0.8, 0.7: mean 0.8, SEM 0.1 / sqrt 3 = 0.0577350…', () => {
  // deviations -0.1, 0, 0.1: sample variance (0.01 + 0 + 0.01) / 2 = 0.01, sd 0.1.
  const m = meanSem([0.9, 0.8, 0.7]);
  assert.ok(Math.abs(m.mean! - 0.8) < 1e-12);
  assert.ok(Math.abs(m.sem! - 0.05773502691896258) < 1e-12);
  assert.equal(formatMeanSem(m), '80.0 ± 5.8');
  assert.deepEqual({ n: m.n, missing: m.missing }, { n: 3, missing: 0 });
});
