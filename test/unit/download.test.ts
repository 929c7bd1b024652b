// Verified downloads against a local HTTP server (127.0.0.1) serving small generated IDX files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { downloadVerified as download, type DownloadOptions, type DownloadProgress } from '../../src/engine/data/download';
import { DatasetError, readIdxFile } from '../../src/engine/data/idx';
import { idxBytes } from '../helpers/idx';

const fill = (i: number) => (i * 7) % 256;
const raw = idxBytes([50, 28, 28], { fill });
const gz = gzipSync(raw);
const sha = createHash('sha256').update(raw).digest('hex');
const rawSmall = idxBytes([10], { fill });
const shaSmall = createHash('sha256').update(rawSmall).digest('hex');

let base = '';
const sockets = new Set<import('node:net').Socket>();
const server = http.createServer((req, res) => {
  const url = req.url ?? '';
  if (url === '/data/train-images-idx3-ubyte.gz') {
    res.writeHead(200, { 'content-length': gz.length, 'content-type': 'application/octet-stream' });
    // in several chunks so progress is reported along the way
    const parts = 4;
    const step = Math.ceil(gz.length / parts);
    let i = 0;
    const next = () => {
      if (i >= gz.length) return res.end();
      res.write(gz.subarray(i, i + step));
      i += step;
      setTimeout(next, 5);
    };
    next();
  } else if (url === '/raw/labels') {
    res.writeHead(200, { 'content-length': rawSmall.length });
    res.end(rawSmall);
  } else if (url === '/moved') {
    res.writeHead(302, { location: '/moved-again' });
    res.end();
  } else if (url === '/moved-again') {
    res.writeHead(301, { location: `${base}/data/train-images-idx3-ubyte.gz` });
    res.end();
  } else if (url === '/loop') {
    res.writeHead(302, { location: '/loop' });
    res.end();
  } else if (url === '/truncated.gz') {
    res.writeHead(200, { 'content-length': gz.length + 5000 });
    res.write(gz, () => setTimeout(() => res.socket?.destroy(), 20));
  } else if (url === '/cut-gzip.gz') {
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    res.writeHead(200, { 'content-length': cut.length });
    res.end(cut);
  } else if (url === '/stall.gz') {
    res.writeHead(200, { 'content-length': gz.length });
    res.write(gz.subarray(0, 100)); // then nothing
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  }
});
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

/** The local server allowed as a mirror; no retries (those are tested in downloadFaults.test.ts). */
const downloadVerified = (url: string, dest: string, sha256: string, onProgress?: (p: DownloadProgress) => void, o: DownloadOptions = {}) =>
  download(url, dest, sha256, onProgress, { allowedOrigins: [base], retries: 0, ...o });

const root = mkdtempSync(join(tmpdir(), 'clw-dl-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `cache${n++}`, 'mnist');
const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

async function rejectsWith(p: Promise<unknown>, re: RegExp, name = 'DatasetError') {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DatasetError, `expected DatasetError, got ${String(e)}`);
    assert.equal(e.name, name);
    assert.match(e.message, re);
    return true;
  });
}

test('downloads, reports progress, verifies the content hash, stores the file atomically', async () => {
  const dir = freshDir();
  const dest = join(dir, 'train-images-idx3-ubyte.gz');
  const progress: DownloadProgress[] = [];
  const r = await downloadVerified(`${base}/data/train-images-idx3-ubyte.gz`, dest, sha, (p) => progress.push(p), { progressIntervalMs: 0 });
  assert.equal(r.path, dest);
  assert.equal(r.gzip, true);
  assert.equal(r.bytes, gz.length);
  assert.equal(r.contentBytes, raw.length);
  assert.equal(r.sha256, sha);
  assert.deepEqual(listing(dir), ['train-images-idx3-ubyte.gz']); // no temp file left
  assert.deepEqual(readFileSync(dest), gz); // stored as downloaded
  assert.deepEqual(gunzipSync(readFileSync(dest)), raw);
  assert.deepEqual((await readIdxFile(dest)).dims, [50, 28, 28]);
  assert.ok(progress.length >= 3, `progress calls: ${progress.length}`);
  assert.ok(progress.every((p) => p.file === 'train-images-idx3-ubyte.gz' && p.totalBytes === gz.length));
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].receivedBytes >= progress[i - 1].receivedBytes);
  assert.equal(progress[0].receivedBytes, 0);
  assert.equal(progress[progress.length - 1].receivedBytes, gz.length);
});

test('a raw (not gzipped) body is hashed as is', async () => {
  const dir = freshDir();
  const r = await downloadVerified(`${base}/raw/labels`, join(dir, 'labels'), shaSmall);
  assert.equal(r.gzip, false);
  assert.deepEqual(listing(dir), ['labels']);
});

test('follows redirects (relative and absolute)', async () => {
  const dir = freshDir();
  const dest = join(dir, 'x.gz');
  const r = await downloadVerified(`${base}/moved`, dest, sha);
  assert.equal(r.url, `${base}/data/train-images-idx3-ubyte.gz`);
  assert.deepEqual(listing(dir), ['x.gz']);
});

test('redirect loop is bounded', async () => {
  const dir = freshDir();
  await rejectsWith(downloadVerified(`${base}/loop`, join(dir, 'x.gz'), sha, undefined, { maxRedirects: 3 }), /more than 3 redirects/);
  assert.deepEqual(listing(dir), []);
});

test('SHA-256 mismatch leaves no file', async () => {
  const dir = freshDir();
  const wrong = 'ab'.repeat(32);
  await rejectsWith(
    downloadVerified(`${base}/data/train-images-idx3-ubyte.gz`, join(dir, 'train-images-idx3-ubyte.gz'), wrong),
    new RegExp(`SHA-256 mismatch: content \\(after gunzip\\) hashes to ${sha}, expected ${wrong}`),
  );
  assert.deepEqual(listing(dir), []);
});

test('truncated body (Content-Length larger than the body) leaves no file', async () => {
  const dir = freshDir();
  await rejectsWith(downloadVerified(`${base}/truncated.gz`, join(dir, 't.gz'), sha), /truncated\.gz failed: .*connection closed after \d+ of \d+ bytes|truncated: received/);
  assert.deepEqual(listing(dir), []);
});

test('truncated gzip stream (complete HTTP body) leaves no file', async () => {
  const dir = freshDir();
  await rejectsWith(downloadVerified(`${base}/cut-gzip.gz`, join(dir, 'c.gz'), sha), /corrupt or truncated gzip stream/);
  assert.deepEqual(listing(dir), []);
});

test('404 is a clear error and leaves no file', async () => {
  const dir = freshDir();
  await rejectsWith(downloadVerified(`${base}/nothing-here.gz`, join(dir, 'n.gz'), sha), new RegExp(`download of ${base}/nothing-here\\.gz failed: HTTP 404 Not Found`));
  assert.deepEqual(listing(dir), []);
});

test('connection refused is a DatasetError', async () => {
  const dir = freshDir();
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  await rejectsWith(downloadVerified(`http://127.0.0.1:${port}/x.gz`, join(dir, 'x.gz'), sha, undefined, { allowedOrigins: [`http://127.0.0.1:${port}`] }), /failed: .*ECONNREFUSED/);
  assert.deepEqual(listing(dir), []);
});

test('idle timeout leaves no file', async () => {
  const dir = freshDir();
  await rejectsWith(downloadVerified(`${base}/stall.gz`, join(dir, 's.gz'), sha, undefined, { timeoutMs: 150 }), /timeout/);
  assert.deepEqual(listing(dir), []);
});

test('abort mid-body throws AbortError and leaves no file', async () => {
  const dir = freshDir();
  const ac = new AbortController();
  const p = downloadVerified(`${base}/stall.gz`, join(dir, 's.gz'), sha, (pr) => {
    if (pr.receivedBytes > 0) ac.abort();
  }, { progressIntervalMs: 0, signal: ac.signal });
  await rejectsWith(p, /cancelled/, 'AbortError');
  assert.deepEqual(listing(dir), []);
  // already aborted: nothing is even created
  await rejectsWith(downloadVerified(`${base}/data/train-images-idx3-ubyte.gz`, join(dir, 'y.gz'), sha, undefined, { signal: AbortSignal.abort() }), /cancelled/, 'AbortError');
});
