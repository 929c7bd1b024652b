// Bad data files: every malformed, hostile or unreadable IDX input ends in a DatasetError that names
// the file and says what is wrong, without allocating what a header only claims and without
// inflating a gzip bomb. (Valid files and the first malformed cases: idx.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, type CompressCallback, type InputType, type ZlibOptions } from 'node:zlib';
import { DatasetError, MAX_IDX_BYTES, parseIdx, readIdxFile } from '../../src/engine/data/idx';
import { loadDataset } from '../../src/engine/data/load';
import { resolveDataset, type ResolvedDataset } from '../../src/engine/data/resolve';
import { FILE_ROLES, STANDARD_FILE_NAMES } from '../../src/engine/data/datasets';
import { idxBytes, idxDataset, idxGzip, idxGzipBomb } from '../helpers/idx';

// The zlib module object itself (not an import copy), so the reader's inflation can be measured.
const zlib = createRequire(__filename)('node:zlib') as typeof import('node:zlib');

const dir = mkdtempSync(join(tmpdir(), 'clw-faults-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let k = 0;

function write(name: string, bytes: Uint8Array): string {
  const p = join(dir, `${k++}-${name}`);
  writeFileSync(p, bytes);
  return p;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Rejects with a DatasetError whose message starts with the file's path and matches `re`. */
async function rejectsNaming(p: Promise<unknown>, file: string, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DatasetError, `expected DatasetError, got ${String(e)}`);
    assert.ok(e.message.startsWith(file), `message does not name ${file}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

/** Runs `fn` and returns the largest Buffer allocation it asked for. */
async function largestAllocation(fn: () => Promise<unknown>): Promise<number> {
  let largest = 0;
  const saved = { alloc: Buffer.alloc, allocUnsafe: Buffer.allocUnsafe, allocUnsafeSlow: Buffer.allocUnsafeSlow };
  const spy =
    <F extends (size: number, ...rest: never[]) => Buffer>(f: F) =>
    (size: number, ...rest: never[]) => {
      largest = Math.max(largest, size);
      return f(size, ...rest);
    };
  Buffer.alloc = spy(saved.alloc) as typeof Buffer.alloc;
  Buffer.allocUnsafe = spy(saved.allocUnsafe) as typeof Buffer.allocUnsafe;
  Buffer.allocUnsafeSlow = spy(saved.allocUnsafeSlow) as typeof Buffer.allocUnsafeSlow;
  try {
    await fn().catch(() => {});
  } finally {
    Object.assign(Buffer, saved);
  }
  return largest;
}

/** Runs `fn` and returns the bytes zlib inflated for it (calls of gunzip and gunzipSync). */
async function inflatedBy(fn: () => Promise<unknown>): Promise<{ bytes: number; calls: number }> {
  const saved = { gunzip: zlib.gunzip, gunzipSync: zlib.gunzipSync };
  const seen = { bytes: 0, calls: 0 };
  zlib.gunzipSync = ((buf: InputType, o?: ZlibOptions) => {
    seen.calls++;
    const out = saved.gunzipSync(buf, o ?? {});
    seen.bytes += out.length;
    return out;
  }) as typeof zlib.gunzipSync;
  zlib.gunzip = ((buf: InputType, o: ZlibOptions, cb: CompressCallback) => {
    seen.calls++;
    saved.gunzip(buf, o, (e, out) => {
      if (out) seen.bytes += out.length;
      cb(e, out);
    });
  }) as typeof zlib.gunzip;
  try {
    await fn().catch(() => {});
  } finally {
    Object.assign(zlib, saved);
  }
  return seen;
}

// ---- header: magic, type, dimension count ----

test('wrong magic: first two bytes not 00 00 (a zip file, one stray byte)', async () => {
  let p = write('zip', idxBytes([2, 2], { magicPrefix: [0x50, 0x4b] }));
  await rejectsNaming(readIdxFile(p), p, /not an IDX file: magic starts 50 4b, expected 00 00$/);
  p = write('one-byte', idxBytes([2, 2], { magicPrefix: [0x00, 0x01] }));
  await rejectsNaming(readIdxFile(p), p, /magic starts 00 01/);
});

test('wrong type code: int16 / float64 are named, 0x00 is not an IDX type', async () => {
  let p = write('int16', idxBytes([3], { type: 0x0b }));
  await rejectsNaming(readIdxFile(p), p, /unsupported IDX data type 0x0b \(int16\); only 0x08 \(unsigned byte\)/);
  p = write('f64.gz', idxGzip([3], { type: 0x0e }));
  await rejectsNaming(readIdxFile(p), p, /unsupported IDX data type 0x0e \(float64\)/);
  p = write('zero-type', idxBytes([3], { type: 0x00 }));
  await rejectsNaming(readIdxFile(p), p, /unknown data type 0x00/);
});

test('dimension count: 0 dims; header count larger or smaller than the dims written', async () => {
  let p = write('ndim0.gz', gzipSync(Buffer.from([0, 0, 8, 0])));
  await rejectsNaming(readIdxFile(p), p, /IDX header has 0 dimensions/);
  // says 3 dims, writes 2 ([10, 3]) and 30 bytes: the 30 data bytes become a 3rd dim and the rest is missing
  p = write('ndim-too-many', idxBytes([10, 3], { ndims: 3 }));
  await rejectsNaming(readIdxFile(p), p, /truncated: header says 10x3x\d+ = \d+ bytes of data, file has 26/);
  // says 1 dim, writes 2: the second dim's 4 bytes are data
  p = write('ndim-too-few', idxBytes([10, 3], { ndims: 1 }));
  await rejectsNaming(readIdxFile(p), p, /trailing bytes: header says 10 = 10 bytes of data, file has 34 \(24 extra\)/);
});

// ---- length: truncated, trailing, absurd ----

test('truncated body, raw: detected from the file size before the body is read', async () => {
  const full = idxBytes([1000, 28, 28]);
  const p = write('cut-raw', full.subarray(0, 5000));
  await rejectsNaming(readIdxFile(p), p, /truncated: header says 1000x28x28 = 784000 bytes of data, file has 4984$/);
  const largest = await largestAllocation(() => readIdxFile(p));
  assert.ok(largest <= 5000, `allocated ${largest} bytes for a 5000-byte file claiming 784016`);
});

test('truncated body and trailing bytes inside a gzip file', async () => {
  let p = write('cut.gz', gzipSync(idxBytes([100, 10]).subarray(0, 600)));
  await rejectsNaming(readIdxFile(p), p, /truncated: header says 100x10 = 1000 bytes of data, file has 588$/);
  p = write('trail.gz', gzipSync(Buffer.concat([idxBytes([100, 10]), Buffer.alloc(7)])));
  await rejectsNaming(readIdxFile(p), p, /trailing bytes: header says 100x10 = 1000 bytes of data, file has 1007 \(7 extra\)$/);
});

test('absurd dimensions 4e9 x 4e9: exact (BigInt) size in the error, nothing of that size allocated', async () => {
  const header = idxBytes([4e9, 4e9], { data: new Uint8Array(16) });
  const p = write('absurd', header);
  await rejectsNaming(readIdxFile(p), p, /absurd dimensions: header says 4000000000x4000000000 = 16000000000000000000 bytes of data, over the 2 GiB limit; file has 16$/);
  assert.ok((await largestAllocation(() => readIdxFile(p))) <= 1024, 'only the header is read');
  // gzip: rejected from the header, before the body is inflated
  const pg = write('absurd.gz', gzipSync(header));
  await rejectsNaming(readIdxFile(pg), pg, /absurd dimensions: .* = 16000000000000000000 bytes/);
  // no float overflow: (2^32-1)^3 is exact, far beyond Number.MAX_SAFE_INTEGER
  const max = 2 ** 32 - 1;
  const p3 = write('absurd3', idxBytes([max, max, max], { data: new Uint8Array(0) }));
  await rejectsNaming(readIdxFile(p3), p3, new RegExp(`= ${(BigInt(max) ** 3n).toString()} bytes`));
  assert.ok(BigInt(max) ** 3n > BigInt(Number.MAX_SAFE_INTEGER));
  // within the limit but not in the file: truncated, still without allocating the claim
  const p4 = write('claims-1g', idxBytes([1000, 1000, 1000], { data: new Uint8Array(50) }));
  await rejectsNaming(readIdxFile(p4), p4, /truncated: header says 1000x1000x1000 = 1000000000 bytes of data, file has 50$/);
  assert.ok((await largestAllocation(() => readIdxFile(p4))) <= 1024);
  // a lower limit, as a caller may set
  const p5 = write('small-limit', idxBytes([10, 10, 11]));
  await rejectsNaming(readIdxFile(p5, { maxBytes: 1000 }), p5, /over the 1000-byte limit; file has 1100$/);
  assert.equal(MAX_IDX_BYTES, 2 ** 31);
});

test('gzip bomb: 200 MB of zeros is rejected after inflating a few MB, not 200', async () => {
  const bomb = await idxGzipBomb(new Uint8Array(0), 200 * 2 ** 20);
  assert.ok(bomb.length < 1 << 20, `bomb is ${bomb.length} bytes compressed`);
  const p = write('zeros.gz', bomb);
  await rejectsNaming(readIdxFile(p), p, /not an IDX file: unknown data type 0x00/);
  const seen = await inflatedBy(() => readIdxFile(p));
  assert.ok(seen.calls > 0, 'the reader inflates through zlib.gunzip/gunzipSync (update the spy if not)');
  assert.ok(seen.bytes < 8 * 2 ** 20, `inflated ${seen.bytes} bytes`);
});

test('gzip bomb behind a valid header: inflation stops just past the claimed size', async () => {
  // header says 1000x28x28 (784016 bytes with the header), the stream inflates to 200 MB
  const header = idxBytes([1000, 28, 28], { data: new Uint8Array(0) });
  const p = write('header-bomb.gz', await idxGzipBomb(header, 200 * 2 ** 20));
  await assert.rejects(readIdxFile(p), (e: unknown) => {
    assert.ok(e instanceof DatasetError && e.message.startsWith(p));
    const m = /trailing bytes: header says 1000x28x28 = 784000 bytes of data, the gzip stream inflates to more than (\d+) \(stopped inflating at (\d+) bytes: a corrupt file or a gzip bomb\)/.exec(e.message);
    assert.ok(m, e.message);
    assert.ok(Number(m[2]) <= 784016 + 2 ** 20, `stopped at ${m[2]}`);
    return true;
  });
  const seen = await inflatedBy(() => readIdxFile(p));
  assert.ok(seen.calls > 0);
  assert.ok(seen.bytes < 8 * 2 ** 20, `inflated ${seen.bytes} bytes`);
  // a header claiming more than the limit: rejected before inflating the body at all
  const huge = write('huge-claim.gz', await idxGzipBomb(idxBytes([60000, 60000, 1], { data: new Uint8Array(0) }), 8 * 2 ** 20));
  await rejectsNaming(readIdxFile(huge), huge, /absurd dimensions: header says 60000x60000x1 = 3600000000 bytes of data, over the 2 GiB limit$/);
  assert.ok((await inflatedBy(() => readIdxFile(huge))).bytes < 8 * 2 ** 20);
});

// ---- corrupt gzip ----

test('corrupt gzip: bad CRC, bad length, truncated stream, garbage after the stream', async () => {
  const gz = idxGzip([50, 10]);
  const crc = Buffer.from(gz);
  crc[crc.length - 8] ^= 0xff; // CRC32 of the trailer
  let p = write('crc.gz', crc);
  await rejectsNaming(readIdxFile(p), p, /corrupt or truncated gzip stream \(incorrect data check\)/);
  const len = Buffer.from(gz);
  len[len.length - 1] ^= 0x01; // ISIZE of the trailer
  p = write('isize.gz', len);
  await rejectsNaming(readIdxFile(p), p, /corrupt or truncated gzip stream \(incorrect length check\)/);
  p = write('cut.gz', gz.subarray(0, gz.length - 3));
  await rejectsNaming(readIdxFile(p), p, /corrupt or truncated gzip stream \(unexpected end of file\)/);
  p = write('cut-header.gz', gz.subarray(0, 12));
  await rejectsNaming(readIdxFile(p), p, /corrupt or truncated gzip stream \(unexpected end of file\)/);
  p = write('garbage.gz', Buffer.concat([gz, Buffer.from('not gzip')]));
  await rejectsNaming(readIdxFile(p), p, /corrupt or truncated gzip stream/);
});

// ---- the file itself: empty, not a file, unreadable ----

test('empty file, raw and as an empty gzip', async () => {
  let p = write('empty', new Uint8Array(0));
  await rejectsNaming(readIdxFile(p), p, /empty file \(0 bytes\): not an IDX file$/);
  p = write('empty.gz', gzipSync(new Uint8Array(0)));
  await rejectsNaming(readIdxFile(p), p, /empty file \(0 bytes\)/);
});

test('a directory, a named pipe (no hang), a symlink loop, a dangling symlink, a file as a parent folder', async () => {
  const d = join(dir, 'train-images-idx3-ubyte');
  mkdirSync(d);
  await rejectsNaming(readIdxFile(d), d, /cannot read: is a folder, not a file$/);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  await rejectsNaming(readIdxFile(fifo), fifo, /cannot read: is a named pipe \(FIFO\), not a regular file$/);
  const loop = join(dir, 'loop');
  symlinkSync(loop, loop);
  await rejectsNaming(readIdxFile(loop), loop, /cannot read: symlink loop \(ELOOP\)/);
  const ab = [join(dir, 'loop-a'), join(dir, 'loop-b')];
  symlinkSync(ab[1], ab[0]);
  symlinkSync(ab[0], ab[1]);
  await rejectsNaming(readIdxFile(ab[0]), ab[0], /symlink loop \(ELOOP\)/);
  const dangling = join(dir, 'dangling');
  symlinkSync(join(dir, 'gone'), dangling);
  await rejectsNaming(readIdxFile(dangling), dangling, /cannot read: no such file$/);
  const parentIsFile = join(write('plain', idxBytes([2])), 'labels');
  await rejectsNaming(readIdxFile(parentIsFile), parentIsFile, /cannot read: a parent of the path is a file, not a folder \(ENOTDIR\)$/);
});

test('unreadable file (chmod 000), read by a non-root user: permission denied', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'clw-perm-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  chmodSync(d, 0o755);
  const p = join(d, 'train-labels-idx1-ubyte');
  writeFileSync(p, idxBytes([5]));
  chmodSync(p, 0o000);
  const script = `require(${JSON.stringify(join(__dirname, '../../src/engine/data/idx.ts'))}).readIdxFile(${JSON.stringify(p)})
    .then(() => console.log(JSON.stringify({ ok: true })), (e) => console.log(JSON.stringify({ name: e.name, message: e.message })))`;
  let out: { ok?: boolean; name?: string; message?: string };
  if (process.getuid?.() === 0) {
    // root reads mode-000 files, so the reader runs as 'nobody' (uid 65534) in a child process
    t.diagnostic('running as root: reading as uid 65534 in a child process');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { uid: 65534, gid: 65534, cwd: join(__dirname, '../..'), encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.error, undefined);
    out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
  } else {
    const e = await readIdxFile(p).then(() => null, (err: Error) => err);
    out = e ? { name: e.name, message: e.message } : { ok: true };
  }
  assert.equal(out.name, 'DatasetError', JSON.stringify(out));
  assert.equal(out.message, `${p}: cannot read: permission denied (EACCES): the file is not readable by this user`);
});

// ---- the dataset: shapes, counts and labels across the four files ----

function resolvedSet(files: Record<(typeof FILE_ROLES)[number], Uint8Array>, gz = false): ResolvedDataset {
  const d = join(dir, `set${k++}`);
  mkdirSync(d);
  const paths = {} as ResolvedDataset['files'];
  for (const role of FILE_ROLES) {
    paths[role] = join(d, STANDARD_FILE_NAMES[role] + (gz ? '.gz' : ''));
    writeFileSync(paths[role], gz ? gzipSync(files[role]) : files[role]);
  }
  return { name: 'idx', source: 'path', dir: d, files: paths };
}

test('images not 3-D, labels not 1-D: named with the shape found', async () => {
  const flat = idxDataset();
  flat.trainImages = idxBytes([20, 16]);
  let r = resolvedSet(flat);
  await rejectsNaming(loadDataset(r, 'idx'), r.files.trainImages, /expected images with 3 dimensions \(count x height x width\), header says 20x16$/);
  const color = idxDataset();
  color.testImages = idxBytes([10, 4, 4, 3]);
  r = resolvedSet(color, true);
  await rejectsNaming(loadDataset(r, 'idx'), r.files.testImages, /expected images with 3 dimensions .* header says 10x4x4x3$/);
  const labels2d = idxDataset();
  labels2d.testLabels = idxBytes([10, 1], { fill: () => 0 });
  r = resolvedSet(labels2d);
  await rejectsNaming(loadDataset(r, 'idx'), r.files.testLabels, /expected labels with 1 dimension \(count\), header says 10x1$/);
  // an images file given as labels: 3-D labels
  const swapped = idxDataset();
  swapped.trainLabels = swapped.trainImages;
  r = resolvedSet(swapped);
  await rejectsNaming(loadDataset(r, 'idx'), r.files.trainLabels, /expected labels with 1 dimension \(count\), header says 20x4x4$/);
});

test('image and label counts that disagree, in train and in test; train and test image sizes that disagree', async () => {
  let r = resolvedSet(idxDataset({ trainLabelsN: 21 }));
  await rejectsNaming(loadDataset(r, 'idx'), r.files.trainLabels, new RegExp(`: 21 labels, but ${esc(r.files.trainImages)} has 20 images$`));
  const test10 = idxDataset();
  test10.testLabels = idxBytes([9], { fill: (i) => i % 3 });
  r = resolvedSet(test10, true);
  await rejectsNaming(loadDataset(r, 'idx'), r.files.testLabels, /: 9 labels, but .* has 10 images$/);
  r = resolvedSet(idxDataset({ testH: 5 }));
  await rejectsNaming(loadDataset(r, 'idx'), r.files.testImages, /test images are 5x4, but the training images .* are 4x4$/);
});

test('labels out of range: beyond a built-in dataset\'s 10 classes; test labels beyond the training classes of an idx dataset', async () => {
  const eleven = idxDataset({ classes: 10 });
  eleven.testLabels = idxBytes([10], { fill: (i) => (i === 7 ? 200 : i) });
  let r = { ...resolvedSet(eleven), name: 'mnist' };
  await rejectsNaming(loadDataset(r, 'mnist'), r.files.testLabels, /label 200 at index 7 is out of range: the dataset has 10 classes \(0\.\.9\)$/);
  r = { ...resolvedSet(idxDataset({ classes: 12 }), true), name: 'fashion-mnist' };
  await rejectsNaming(loadDataset(r, 'fashion-mnist'), r.files.trainLabels, /label 10 at index 10 is out of range: the dataset has 10 classes/);
  const unseen = idxDataset({ classes: 3 });
  unseen.testLabels = idxBytes([10], { fill: (i) => (i === 4 ? 9 : i % 3) });
  r = resolvedSet(unseen);
  await rejectsNaming(loadDataset(r, 'idx'), r.files.testLabels, new RegExp(`label 9 at index 4 is out of range \\(the training labels in ${esc(r.files.trainLabels)} have 3 classes, 0\\.\\.2\\)$`));
});

test('parseIdx on bytes: the same checks without a file system', () => {
  assert.throws(() => parseIdx(new Uint8Array(0), 'mem'), /^DatasetError: mem: empty file/);
  assert.throws(() => parseIdx(idxBytes([2, 2], { magicPrefix: [1, 0] }), 'mem'), /mem: not an IDX file: magic starts 01 00/);
  assert.throws(() => parseIdx(idxBytes([4e9, 4e9], { data: new Uint8Array(0) }), 'mem'), /mem: absurd dimensions/);
  assert.throws(() => parseIdx(Buffer.concat([idxBytes([3]), Buffer.alloc(1)]), 'mem'), /mem: trailing bytes: .* \(1 extra\)/);
  assert.deepEqual(parseIdx(idxBytes([2, 1]), 'mem').dims, [2, 1]);
});

test('resolution: a folder where a data file should be, and a file where the data folder should be', async () => {
  const d = join(dir, `folder-for-file${k++}`);
  mkdirSync(d);
  const set = idxDataset();
  for (const role of FILE_ROLES) {
    if (role === 'trainLabels') mkdirSync(join(d, STANDARD_FILE_NAMES[role]));
    else writeFileSync(join(d, STANDARD_FILE_NAMES[role]), set[role]);
  }
  const opts = { env: {}, cacheDir: join(dir, 'no-cache'), systemDirs: [], resolvePackage: () => null, allowDownload: false };
  await assert.rejects(resolveDataset({ dataset: 'idx', path: d }, opts), (e: unknown) => {
    assert.ok(e instanceof DatasetError);
    assert.ok(e.message.includes(`path: ${d} (incomplete: missing train-labels-idx1-ubyte[.gz])`), e.message);
    return true;
  });
  const file = write('not-a-folder', idxBytes([2]));
  await assert.rejects(resolveDataset({ dataset: 'idx', path: file }, opts), (e: unknown) => {
    assert.ok(e instanceof DatasetError);
    assert.ok(e.message.includes(`path: ${file} (not a folder)`), e.message);
    return true;
  });
});
