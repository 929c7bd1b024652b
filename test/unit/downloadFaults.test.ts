// Download faults against a local HTTP server (127.0.0.1): server errors, refused origins, timeouts,
// stalls, interrupted transfers, bad content, a full disk. Each ends in a DownloadError naming the
// URL and what happened, retried only when transient (backoff through an injected sleep, so no test
// waits for real), and leaves no file a later run would trust. Timeouts of a few ms only pace stalls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DownloadError, defaultSleep, downloadVerified, type DownloadFailure, type DownloadOptions } from '../../src/engine/data/download';
import { resolveDataset } from '../../src/engine/data/resolve';
import { DATASETS, FILE_ROLES, MIRROR_ORIGINS, STANDARD_FILE_NAMES, type DatasetInfo } from '../../src/engine/data/datasets';
import { idxBytes, idxGzipBomb } from '../helpers/idx';

const raw = idxBytes([20, 28, 28], { fill: (i) => (i * 13) % 256 });
const gz = gzipSync(raw);
const sha = createHash('sha256').update(raw).digest('hex');
// incompressible: more than the 64 KB disk of the disk-full test, even gzipped
const noise = idxBytes([300, 28, 28], { data: randomBytes(300 * 28 * 28) });
const noiseGz = gzipSync(noise);
const noiseSha = createHash('sha256').update(noise).digest('hex');

const hits = new Map<string, number>();
const hit = (path: string) => hits.get(path) ?? 0;
const sockets = new Set<Socket>();
let base = '';
let port = 0;
let bomb: Buffer = Buffer.alloc(0);

const server = http.createServer((req, res) => {
  const path = req.url ?? '';
  const n = (hits.get(path) ?? 0) + 1;
  hits.set(path, n);
  const ok = (body: Buffer = gz) => res.writeHead(200, { 'content-length': body.length }).end(body);
  const status = /^\/status\/(\d+)/.exec(path);
  if (status) return void res.writeHead(Number(status[1]), { 'content-type': 'text/plain' }).end('no');
  // fails transiently the first time (per path), then serves the file
  if (path.startsWith('/flaky-503/')) return n === 1 ? void res.writeHead(503).end() : ok();
  if (path.startsWith('/flaky-reset/')) {
    if (n > 1) return ok();
    res.writeHead(200, { 'content-length': gz.length });
    return void res.write(gz.subarray(0, gz.length >> 1), () => res.socket?.destroy());
  }
  // two mirrors of an incompressible dataset (the disk-full test)
  if (/^\/m[12]\//.test(path)) return ok(noiseGz);
  switch (path.replace(/\?.*/, '')) {
    case '/data.gz':
      return ok();
    case '/noise.gz':
      return ok(noiseGz);
    case '/bomb.gz':
      return ok(bomb);
    case '/corrupt.gz': {
      const bad = Buffer.from(gz);
      bad[bad.length - 8] ^= 0xff; // CRC32
      return ok(bad);
    }
    case '/to-other-origin':
      // localhost is the same server, but not the allowed origin http://127.0.0.1:<port>
      return void res.writeHead(302, { location: `http://localhost:${port}/other-origin-target` }).end();
    case '/via-allowed-then-other':
      return void res.writeHead(301, { location: '/to-other-origin' }).end();
    case '/to-ftp':
      return void res.writeHead(302, { location: 'ftp://127.0.0.1/data.gz' }).end();
    case '/silent':
      return; // never answers
    case '/hangup':
      return void req.socket.destroy(); // closes without a response
    case '/stall':
      res.writeHead(200, { 'content-length': gz.length });
      return void res.write(gz.subarray(0, 100)); // then nothing
    case '/reset-mid-body':
      res.writeHead(200, { 'content-length': gz.length });
      return void res.write(gz.subarray(0, gz.length >> 1), () => res.socket?.destroy());
    case '/length-longer-than-body':
      // announces more than it sends, then closes cleanly (FIN)
      res.writeHead(200, { 'content-length': gz.length + 5000 });
      return void res.write(gz, () => res.socket?.end());
    case '/announces-huge':
      res.writeHead(200, { 'content-length': 10_000_000 });
      return void res.flushHeaders();
    case '/endless': {
      // chunked, no length: streams until the client hangs up
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 7);
      const t = setInterval(() => res.write(chunk), 1);
      return void res.on('close', () => clearInterval(t));
    }
    default:
      return void res.writeHead(404).end();
  }
});
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

test.before(async () => {
  bomb = await idxGzipBomb(idxBytes([20, 28, 28], { data: new Uint8Array(0) }), 50 * 2 ** 20);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
test.after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const root = mkdtempSync(join(tmpdir(), 'clw-dlf-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let k = 0;
const freshDir = () => join(root, `c${k++}`, 'mnist');
/** Every file under `dir`, recursively (temp files included). */
const filesUnder = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name)) : [];

/** Options for the local server, with backoff waits recorded instead of waited. */
function local(o: DownloadOptions = {}) {
  const waits: number[] = [];
  const opts: DownloadOptions = { allowedOrigins: [base], sleep: async (ms) => void waits.push(ms), ...o };
  return { opts, waits };
}

async function fails(p: Promise<unknown>, url: string, kind: DownloadFailure, re: RegExp, name = 'DatasetError'): Promise<DownloadError> {
  let err: DownloadError | undefined;
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DownloadError, `expected DownloadError, got ${String(e)}`);
    assert.equal(e.name, name);
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.url, url);
    assert.ok(e.message.includes(url), `message does not name ${url}: ${e.message}`);
    assert.match(e.message, re);
    err = e;
    return true;
  });
  return err as DownloadError;
}

// ---- HTTP status ----

test('transient HTTP statuses (500, 502, 503, 408, 429) are retried with backoff, then reported; no file left', async () => {
  for (const code of [500, 502, 503, 408, 429]) {
    const dir = freshDir();
    const url = `${base}/status/${code}`;
    const { opts, waits } = local({ retries: 3 });
    const e = await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts), url, 'http', new RegExp(`failed: HTTP ${code} .*\\(gave up after 4 attempts\\)$`));
    assert.equal(e.transient, true);
    assert.equal(hit(`/status/${code}`), 4, `${code}: 1 try + 3 retries`);
    assert.deepEqual(waits, [1000, 2000, 4000], 'exponential backoff');
    assert.deepEqual(filesUnder(dir), []);
  }
});

test('permanent HTTP statuses (404, 403, 410) are not retried', async () => {
  for (const code of [404, 403, 410]) {
    const dir = freshDir();
    const url = `${base}/status/${code}`;
    const { opts, waits } = local({ retries: 3 });
    const e = await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts), url, 'http', new RegExp(`failed: HTTP ${code} [A-Z]\\w+`));
    assert.equal(e.transient, false);
    assert.doesNotMatch(e.message, /attempts/);
    assert.equal(hit(`/status/${code}`), 1);
    assert.deepEqual(waits, []);
    assert.deepEqual(filesUnder(dir), []);
  }
});

test('a 503 then a good response: succeeds on the retry, one backoff', async () => {
  const dir = freshDir();
  const { opts, waits } = local({ backoffMs: (n) => 7 * n });
  const r = await downloadVerified(`${base}/flaky-503/a`, join(dir, 'x.gz'), sha, undefined, opts);
  assert.equal(r.attempts, 2);
  assert.deepEqual(waits, [7]);
  assert.deepEqual(readdirSync(dir), ['x.gz']);
});

// ---- where from: the allowlist ----

test('downloads only from the known mirrors by default: a local URL is refused before any request', async () => {
  assert.deepEqual([...MIRROR_ORIGINS].sort(), ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com', 'https://ossci-datasets.s3.amazonaws.com']);
  const dir = freshDir();
  const url = `${base}/data.gz?default-allowlist`;
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha), url, 'refused', /refused: http:\/\/127\.0\.0\.1:\d+ is not a known dataset mirror \(allowed: https:\/\/ossci-datasets/);
  assert.equal(hit('/data.gz?default-allowlist'), 0);
  assert.equal(existsSync(dir), false, 'nothing created');
});

test('a redirect to another origin is refused, also after an allowed redirect; the target is never requested', async () => {
  for (const path of ['/to-other-origin', '/via-allowed-then-other']) {
    const dir = freshDir();
    const url = `${base}${path}`;
    const { opts, waits } = local();
    await fails(
      downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts),
      url,
      'refused',
      new RegExp(`refused: redirected to http://localhost:${port}/other-origin-target, whose origin http://localhost:${port} is not a known dataset mirror`),
    );
    assert.deepEqual(waits, []);
    assert.deepEqual(filesUnder(dir), []);
  }
  assert.equal(hit('/other-origin-target'), 0);
});

test('a redirect to a non-HTTP protocol is refused', async () => {
  const dir = freshDir();
  const url = `${base}/to-ftp`;
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, local().opts), url, 'refused', /refused: unsupported protocol ftp: \(redirected to ftp:\/\/127\.0\.0\.1\/data\.gz\)/);
  assert.deepEqual(filesUnder(dir), []);
});

// ---- time: no answer, stalled body ----

test('no response (connect / first byte) times out, is retried, then reported', async () => {
  const dir = freshDir();
  const url = `${base}/silent`;
  const { opts, waits } = local({ connectTimeoutMs: 20, retries: 1 });
  const e = await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts), url, 'timeout', /no response within 20 ms \(timeout connecting or waiting for the first byte\) \(gave up after 2 attempts\)$/);
  assert.equal(e.transient, true);
  assert.equal(hit('/silent'), 2);
  assert.equal(waits.length, 1);
  assert.deepEqual(filesUnder(dir), []);
});

test('a stalled transfer (some bytes, then nothing) hits the inactivity timeout, is retried, then reported', async () => {
  const dir = freshDir();
  const url = `${base}/stall`;
  const { opts } = local({ timeoutMs: 20, connectTimeoutMs: 60_000, retries: 2 });
  await fails(
    downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts),
    url,
    'stalled',
    new RegExp(`stalled: no data for 20 ms after \\d+ of ${gz.length} bytes \\(timeout\\) \\(gave up after 3 attempts\\)$`),
  );
  assert.equal(hit('/stall'), 3);
  assert.deepEqual(filesUnder(dir), []);
});

// ---- interrupted transfers ----

test('the server resets the connection mid-body, every time: retried, then reported', async () => {
  const dir = freshDir();
  const url = `${base}/reset-mid-body`;
  const { opts } = local({ retries: 2 });
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts), url, 'interrupted', new RegExp(`interrupted: .*of ${gz.length} bytes.*\\(gave up after 3 attempts\\)$`));
  assert.equal(hit('/reset-mid-body'), 3);
  assert.deepEqual(filesUnder(dir), []);
});

test('the server resets once mid-body: the retry downloads the whole verified file', async () => {
  const dir = freshDir();
  const r = await downloadVerified(`${base}/flaky-reset/a`, join(dir, 'x.gz'), sha, undefined, local().opts);
  assert.equal(r.attempts, 2);
  assert.equal(r.bytes, gz.length);
  assert.deepEqual(readdirSync(dir), ['x.gz']);
});

test('Content-Length longer than the body, then a clean close: interrupted, not trusted', async () => {
  const dir = freshDir();
  const url = `${base}/length-longer-than-body`;
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, local({ retries: 0 }).opts), url, 'interrupted', new RegExp(`interrupted: .*${gz.length} of ${gz.length + 5000} bytes`));
  assert.deepEqual(filesUnder(dir), []);
});

test('the connection closes before any response, and a refused connection: network errors, retried', async () => {
  let dir = freshDir();
  let url = `${base}/hangup`;
  const { opts, waits } = local({ retries: 1 });
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts), url, 'network', /failed: socket hang up \(gave up after 2 attempts\)$/);
  assert.equal(hit('/hangup'), 2);
  assert.deepEqual(filesUnder(dir), []);
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  dir = freshDir();
  url = `http://127.0.0.1:${closedPort}/x.gz`;
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, { ...opts, allowedOrigins: [`http://127.0.0.1:${closedPort}`] }), url, 'network', /ECONNREFUSED.*\(gave up after 2 attempts\)$/);
  assert.equal(waits.length, 2);
  assert.deepEqual(filesUnder(dir), []);
});

// ---- content: checksum, gzip, size ----

test('wrong checksum: not retried, nothing kept', async () => {
  const dir = freshDir();
  const url = `${base}/data.gz?checksum`;
  const { opts, waits } = local();
  const wrong = 'cd'.repeat(32);
  await fails(downloadVerified(url, join(dir, 'x.gz'), wrong, undefined, opts), url, 'checksum', new RegExp(`SHA-256 mismatch: content \\(after gunzip\\) hashes to ${sha}, expected ${wrong}; the file was discarded$`));
  assert.equal(hit('/data.gz?checksum'), 1);
  assert.deepEqual(waits, []);
  assert.deepEqual(filesUnder(dir), []);
});

test('corrupt gzip (bad CRC): not retried, nothing kept', async () => {
  const dir = freshDir();
  const url = `${base}/corrupt.gz`;
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, local().opts), url, 'gzip', /corrupt or truncated gzip stream \(incorrect data check\)$/);
  assert.equal(hit('/corrupt.gz'), 1);
  assert.deepEqual(filesUnder(dir), []);
});

test('a body bigger than the file can be: refused from Content-Length, or stopped at the cap without one', async () => {
  let dir = freshDir();
  let url = `${base}/announces-huge`;
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, local({ maxBytes: 100_000 }).opts), url, 'too-large', /refused: the server announces 10000000 bytes, more than the 100000 this file can have$/);
  assert.deepEqual(filesUnder(dir), []);
  dir = freshDir();
  url = `${base}/endless`;
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, local({ maxBytes: 100_000 }).opts), url, 'too-large', /the body exceeds 100000 bytes, more than this file can have; stopped$/);
  assert.equal(hit('/endless'), 1, 'not retried');
  assert.deepEqual(filesUnder(dir), []);
});

test('a gzip bomb (50 MB of zeros in a few KB) stops inflating at the expected content size', async () => {
  const dir = freshDir();
  const url = `${base}/bomb.gz`;
  assert.ok(bomb.length < 200_000);
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, local({ maxContentBytes: raw.length }).opts), url, 'too-large', new RegExp(`inflates to more than ${raw.length} bytes`));
  assert.deepEqual(filesUnder(dir), []);
});

// ---- the disk ----

/** A 64 KB tmpfs, or null when it cannot be mounted (not root, no mount). */
function smallDisk(): string | null {
  const d = mkdtempSync(join(tmpdir(), 'clw-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d], { stdio: 'ignore' });
    return d;
  } catch {
    rmSync(d, { recursive: true, force: true });
    return null;
  }
}
function unmount(d: string) {
  execFileSync('umount', [d], { stdio: 'ignore' });
  rmSync(d, { recursive: true, force: true });
}

const disk = smallDisk();
test.after(() => disk && unmount(disk)); // at the top level: runs even when the test is filtered out
const diskFullName = disk
  ? 'disk full (a 64 KB tmpfs): a clean error, not retried, the partial temp file removed'
  : 'disk full (INJECTED: writes to /dev/full, tmpfs could not be mounted): a clean error, not retried, the partial temp file removed';

test(diskFullName, async () => {
  const url = `${base}/noise.gz`;
  assert.ok(noiseGz.length > 64 * 1024);
  let dir: string;
  let opts: DownloadOptions;
  if (disk) {
    dir = join(disk, 'mnist');
    opts = local().opts;
  } else {
    dir = freshDir();
    // the temp file is created as usual, but written through /dev/full (every write: ENOSPC)
    opts = local({ openTemp: async (p) => (await (await open(p, 'wx')).close(), open('/dev/full', 'w')) }).opts;
  }
  const e = await fails(downloadVerified(url, join(dir, 'train-images-idx3-ubyte.gz'), noiseSha, undefined, opts), url, 'disk', /failed: cannot write .*\.part: disk full \(ENOSPC\)$/);
  assert.equal(e.transient, false);
  assert.equal(hit('/noise.gz'), 1);
  assert.deepEqual(filesUnder(disk ?? dir), []);

  // through resolution: the other mirror is not tried (it would fill the same disk)
  if (!disk) return;
  const registry: Record<string, DatasetInfo> = {
    mnist: {
      ...DATASETS.mnist,
      files: Object.fromEntries(FILE_ROLES.map((r) => [r, { name: STANDARD_FILE_NAMES[r], sha256: noiseSha, bytes: noise.length }])) as DatasetInfo['files'],
    },
  };
  const before = hits.size;
  await assert.rejects(
    resolveDataset(
      { dataset: 'mnist' },
      { env: {}, cacheDir: disk, systemDirs: [], resolvePackage: () => null, registry, mirrors: { mnist: [`${base}/m1/`, `${base}/m2/`] }, allowedOrigins: [base], download: { sleep: async () => {} } },
    ),
    (err: unknown) => err instanceof Error && /disk full \(ENOSPC\)/.test(err.message),
  );
  assert.equal(hit('/m1/train-images-idx3-ubyte.gz'), 1);
  assert.equal(hit('/m2/train-images-idx3-ubyte.gz'), 0, 'second mirror not tried');
  assert.ok(hits.size >= before);
  assert.deepEqual(filesUnder(disk), []);
});

// ---- cancellation and leftovers ----

test('cancel during the backoff: AbortError at once, no further attempt, nothing left', async () => {
  const dir = freshDir();
  const ac = new AbortController();
  const url = `${base}/status/500?cancel`;
  const opts: DownloadOptions = {
    allowedOrigins: [base],
    signal: ac.signal,
    sleep: (ms, signal) => {
      ac.abort();
      return defaultSleep(ms, signal);
    },
  };
  await fails(downloadVerified(url, join(dir, 'x.gz'), sha, undefined, opts), url, 'cancelled', /cancelled$/, 'AbortError');
  assert.equal(hit('/status/500?cancel'), 1);
  assert.deepEqual(filesUnder(dir), []);
});

test('temp files of a download that died (killed process) are removed; a live one is left alone; .part files are never found as data', async () => {
  const dir = freshDir();
  mkdirSync(dir, { recursive: true });
  const dead = join(dir, '.x.gz.0123456789ab.part');
  const live = join(dir, '.x.gz.ba9876543210.part');
  writeFileSync(dead, gz.subarray(0, 500));
  writeFileSync(live, gz.subarray(0, 500));
  const hourAgo = new Date(Date.now() - 3600_000);
  utimesSync(dead, hourAgo, hourAgo);
  await downloadVerified(`${base}/data.gz?stale`, join(dir, 'x.gz'), sha, undefined, local().opts);
  assert.deepEqual(readdirSync(dir).sort(), ['.x.gz.ba9876543210.part', 'x.gz']);
  // a cache folder holding only temp files of the four files is not a dataset
  const cache = join(root, `c${k++}`);
  mkdirSync(join(cache, 'mnist'), { recursive: true });
  for (const r of FILE_ROLES) writeFileSync(join(cache, 'mnist', `.${STANDARD_FILE_NAMES[r]}.gz.0123456789ab.part`), gz);
  await assert.rejects(resolveDataset({ dataset: 'mnist' }, { env: {}, cacheDir: cache, systemDirs: [], resolvePackage: () => null, allowDownload: false }), /cache: .* \(no IDX files\)/);
});
