// Seeded, stratified subsets of a dataset's examples.

import { createRng, shuffleInPlace } from '../random';

/** 0..n-1 in a seeded random order. */
export function shuffledIndices(n: number, rng: () => number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return shuffleInPlace(idx, rng);
}

/**
 * `n` indices into `labels` with the class proportions preserved: class c gets floor(n * count_c /
 * total) examples, and the remaining slots go to the classes with the largest remainders (ties: the
 * smaller class label first). Which examples of a class are taken is a seeded random choice
 * (createRng(seed)); the same labels, n and seed always give the same subset.
 * The result is SORTED ascending (the original order of the data; shuffle it for training).
 * n >= labels.length returns every index 0..length-1. n must be an integer >= 1.
 */
export function stratifiedSubset(labels: Uint8Array, n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`stratifiedSubset: n must be an integer >= 1, got ${n}`);
  const total = labels.length;
  if (n >= total) {
    const all = new Int32Array(total);
    for (let i = 0; i < total; i++) all[i] = i;
    return all;
  }
  // Indices per class.
  const counts = new Int32Array(256);
  for (let i = 0; i < total; i++) counts[labels[i]]++;
  const byClass: Int32Array[] = [];
  const fill = new Int32Array(256);
  for (let c = 0; c < 256; c++) byClass.push(new Int32Array(counts[c]));
  for (let i = 0; i < total; i++) {
    const c = labels[i];
    byClass[c][fill[c]++] = i;
  }
  // Largest-remainder quotas.
  const quota = new Int32Array(256);
  const rems: { c: number; r: number }[] = [];
  let assigned = 0;
  for (let c = 0; c < 256; c++) {
    if (!counts[c]) continue;
    const r = (n * counts[c]) % total; // exact integer arithmetic: n * count < 2^53
    quota[c] = (n * counts[c] - r) / total;
    assigned += quota[c];
    rems.push({ c, r });
  }
  rems.sort((a, b) => b.r - a.r || a.c - b.c);
  for (let k = 0; assigned < n; k++, assigned++) quota[rems[k].c]++;
  // Seeded choice within each class (partial Fisher-Yates), classes in label order.
  const rng = createRng(seed);
  const out = new Int32Array(n);
  let o = 0;
  for (let c = 0; c < 256; c++) {
    const pool = byClass[c];
    const k = quota[c];
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rng() * (pool.length - i));
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
      out[o++] = pool[i];
    }
  }
  return out.sort();
}
