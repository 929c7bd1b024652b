import { test } from 'node:test';
import assert from 'node:assert/strict';
import { examplesOfClasses, permuteImages, pixelPermutation, rotateImages } from '../../src/engine/data/scenarios/transforms';
import { loadTaskData } from '../../src/engine/data/scenarios/taskData';

test('a pixel permutation is a seeded bijection, applied identically to every image', () => {
  const p = pixelPermutation(784, 7);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 784 }, (_, i) => i));
  assert.deepEqual(p, pixelPermutation(784, 7));
  assert.notDeepEqual(p, pixelPermutation(784, 8));
  const imgs = Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 251);
  const out = permuteImages(imgs, 784, p);
  for (const q of [0, 100, 783]) {
    assert.equal(out[q], imgs[p[q]]);
    assert.equal(out[784 + q], imgs[784 + p[q]]);
  }
});

test('rotation: 0° is the identity, 90° is counter-clockwise, four quarter turns return the image', () => {
  const h = 5;
  const img = new Uint8Array(25);
  img[2 * 5 + 4] = 200; // right-middle pixel
  assert.deepEqual(rotateImages(img, h, h, 0), img);
  const r = rotateImages(img, h, h, 90);
  assert.equal(r[0 * 5 + 2], 200, 'the right-middle pixel moves to the top-middle');
  assert.equal(r.reduce((a, b) => a + b, 0), 200);
  let back: Uint8Array = img;
  for (let k = 0; k < 4; k++) back = rotateImages(back, h, h, 90);
  assert.deepEqual(back, img);
});

test('examplesOfClasses keeps the given labels in order', () => {
  assert.deepEqual(Array.from(examplesOfClasses(Uint8Array.from([3, 1, 2, 1, 0]), [1, 0])), [1, 3, 4]);
});

test('a Split-MNIST task keeps only its classes, in a stratified subset of the requested size (real MNIST)', async () => {
  const t = await loadTaskData({ dataset: 'mnist', classes: [2, 3], train: 400, test: 100 }, 1, 0, { allowDownload: false });
  assert.deepEqual(t.classIds, [2, 3]);
  assert.equal(t.label, '2/3');
  assert.equal(t.train.n, 400);
  assert.ok(t.train.labels.every((l) => l === 2 || l === 3));
  const twos = t.train.labels.filter((l) => l === 2).length;
  assert.ok(Math.abs(twos - 200) <= 20, `stratified: ${twos} twos of 400`);
  assert.equal(t.test.n, 100);
  const again = await loadTaskData({ dataset: 'mnist', classes: [2, 3], train: 400, test: 100 }, 1, 0, { allowDownload: false });
  assert.deepEqual(again.train.images, t.train.images, 'seeded');
  const permuted = await loadTaskData({ dataset: 'mnist', classes: [2, 3], train: 400, test: 100, permutation: 5 }, 1, 0, { allowDownload: false });
  assert.deepEqual(permuted.train.labels, t.train.labels, 'a permutation keeps the examples');
  assert.notDeepEqual(permuted.train.images, t.train.images);
  assert.notEqual(permuted.domain, t.domain, 'a permuted task is another domain (class-IL: new classes)');
  await assert.rejects(loadTaskData({ dataset: 'mnist', classes: [12] }, 0, 0, { allowDownload: false }), /class 12 is not a class of mnist/);
});
