// Verified downloads of dataset files.
//
// The body is streamed to a temp file in the destination folder, then the content is hashed
// (gunzipped first when it starts with the gzip magic 1f 8b) and compared with the expected SHA-256
// of the DECOMPRESSED IDX content; only then is the temp file renamed into place (atomic on one
// file system), so the destination only ever holds verified files. The file is stored exactly as
// downloaded (the mirrors serve .gz, so the cache holds .gz files; every reader accepts raw or .gz).
//
// Downloads come only from allowed origins (the built-in mirrors unless told otherwise), checked
// again after every redirect. Every failure removes the temp file and throws a DownloadError (a
// DatasetError) naming the URL and what happened. Transient failures (5xx, 408, 429, timeouts,
// stalls, resets, interrupted transfers) are retried a bounded number of times with backoff;
// permanent ones (404, 403, checksum, corrupt gzip, too large, refused origin, disk full) are not.
// A cancelled download throws a DownloadError whose `name` is 'AbortError'.

import http from 'node:http';
import https from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { MIRROR_ORIGINS } from './datasets';
import { DatasetError } from './idx';

export interface DownloadProgress {
  /** File name being downloaded (e.g. 'train-images-idx3-ubyte.gz'). */
  file: string;
  receivedBytes: number;
  /** From Content-Length; null when the server does not say. */
  totalBytes: number | null;
}

export interface DownloadOptions {
  signal?: AbortSignal;
  /** Inactivity timeout of the body (no bytes for this long: a stalled transfer), ms. Default 30000. */
  timeoutMs?: number;
  /** Timeout for connecting and receiving the response headers, per request, ms. Default timeoutMs. */
  connectTimeoutMs?: number;
  /** Redirects followed at most. Default 5. */
  maxRedirects?: number;
  /** Minimum interval between progress callbacks, ms (the first and last are always sent). Default 200. */
  progressIntervalMs?: number;
  /** Origins (scheme://host[:port]) allowed, for the URL and every redirect. Default MIRROR_ORIGINS. */
  allowedOrigins?: readonly string[];
  /** Largest body accepted, bytes as transferred. Default 2 GiB. */
  maxBytes?: number;
  /** Largest content accepted after gunzip, bytes (a gzip bomb stops here). Default 2 GiB. */
  maxContentBytes?: number;
  /** Further attempts after a transient failure. Default 3. */
  retries?: number;
  /** Delay before retry number `retry` (1-based), ms. Default 1 s, 2 s, 4 s, ... at most 30 s. */
  backoffMs?: (retry: number) => number;
  /** Waits `ms` (rejecting when `signal` aborts); injectable so tests do not wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Opens the (new) temp file for writing; injectable so tests can make writes fail. Default open(path, 'wx'). */
  openTemp?: (path: string) => Promise<FileHandle>;
}

export interface DownloadResult {
  /** Final path (= dest). */
  path: string;
  /** URL after redirects. */
  url: string;
  /** Bytes stored (as downloaded). */
  bytes: number;
  /** Bytes of content after gunzip (= bytes when not compressed). */
  contentBytes: number;
  gzip: boolean;
  /** SHA-256 of the content (equals the expected one). */
  sha256: string;
  /** Attempts made (1 when the first succeeded). */
  attempts: number;
}

/** What went wrong with a download. */
export type DownloadFailure =
  | 'http' // an HTTP error status
  | 'timeout' // no response (connect or headers) in time
  | 'stalled' // the body stopped arriving
  | 'network' // connection refused, reset, DNS
  | 'interrupted' // the connection closed before the whole body
  | 'checksum' // the content is not the expected one
  | 'gzip' // corrupt or truncated gzip
  | 'too-large' // more bytes than the file can have
  | 'refused' // an origin that is not an allowed mirror
  | 'disk' // cannot write the file (disk full, read-only, permissions)
  | 'cancelled';

/** A failed download: a DatasetError that also says which URL, what kind of failure, and whether retrying may help. */
export class DownloadError extends DatasetError {
  constructor(
    message: string,
    readonly url: string,
    readonly kind: DownloadFailure,
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const MAX_DEFAULT = 2 ** 31;
/** A `.part` file untouched this long belongs to a download that died (a live one writes, or times out, much sooner). */
const STALE_PART_MS = 10 * 60_000;

function abortError(url: string): DownloadError {
  const e = new DownloadError(`download of ${url} cancelled`, url, 'cancelled', false);
  e.name = 'AbortError';
  return e;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const errCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;
const duration = (ms: number) => (ms < 1000 ? `${ms} ms` : `${ms / 1000} s`);

/** Network error codes worth a retry (the server or the path may recover); DNS failures and unreachable networks are not. */
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);
/** Write errors: the disk, not the network. */
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EACCES', 'EPERM', 'EIO']);

function diskError(url: string, where: string, e: unknown): DownloadError {
  const code = errCode(e);
  const what = code === 'ENOSPC' || code === 'EDQUOT' ? `disk full (${code})` : code === 'EROFS' ? 'read-only file system (EROFS)' : errText(e);
  return new DownloadError(`download of ${url} failed: cannot write ${where}: ${what}`, url, 'disk', false, { cause: e });
}

/** The default wait: a timer, cut short (rejecting) by the signal. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const defaultBackoffMs = (retry: number) => Math.min(30_000, 1000 * 2 ** (retry - 1));

function originOf(s: string): string {
  try {
    return new URL(s).origin;
  } catch {
    throw new DatasetError(`download: '${s}' in the allowed origins is not a URL`);
  }
}

interface Req {
  url: string;
  connectTimeoutMs: number;
  maxRedirects: number;
  allowed: Set<string>;
  signal?: AbortSignal;
}

/** One GET; resolves on the response headers, or fails after connectTimeoutMs without them. */
function get(url: URL, r: Req): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    let timer: NodeJS.Timeout | undefined = undefined;
    const req = mod.get(url, { signal: r.signal, headers: { 'user-agent': 'continual-workbench', accept: '*/*' } }, (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    timer = setTimeout(() => {
      const via = url.href !== r.url ? ` (redirected to ${url.href})` : '';
      const e = new DownloadError(
        `download of ${r.url} failed: no response within ${duration(r.connectTimeoutMs)} (timeout connecting or waiting for the first byte)${via}`,
        r.url,
        'timeout',
        true,
      );
      req.destroy(e);
    }, r.connectTimeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function checkOrigin(start: string, url: URL, r: Req) {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DownloadError(`download of ${start} refused: unsupported protocol ${url.protocol}${url.href !== start ? ` (redirected to ${url.href})` : ''}`, start, 'refused', false);
  }
  if (!r.allowed.has(url.origin)) {
    const how = url.href === start ? '' : `redirected to ${url.href}, whose origin `;
    throw new DownloadError(
      `download of ${start} refused: ${how}${url.origin} is not a known dataset mirror (allowed: ${[...r.allowed].join(', ') || 'none'})`,
      start,
      'refused',
      false,
    );
  }
}

/** Follows redirects (bounded, each checked against the allowed origins); resolves on a 2xx response. */
async function getFollowing(start: string, r: Req) {
  let url = new URL(start);
  for (let hops = 0; ; hops++) {
    checkOrigin(start, url, r);
    const res = await get(url, r);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hops >= r.maxRedirects) throw new DownloadError(`download of ${start} failed: more than ${r.maxRedirects} redirects (last to ${res.headers.location})`, start, 'http', false);
      try {
        url = new URL(res.headers.location, url);
      } catch {
        throw new DownloadError(`download of ${start} failed: invalid redirect location '${res.headers.location}'`, start, 'http', false);
      }
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      const via = url.href !== start ? ` (redirected to ${url.href})` : '';
      const transient = status >= 500 || status === 408 || status === 429;
      throw new DownloadError(`download of ${start} failed: HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}${via}`, start, 'http', transient);
    }
    return { res, url: url.href };
  }
}

/** SHA-256 of a file's content, gunzipped when it starts with the gzip magic; stops (throwing) past maxContentBytes. */
export async function hashFileContent(path: string, maxContentBytes = Infinity): Promise<{ sha256: string; contentBytes: number; gzip: boolean }> {
  const fh = await open(path, 'r');
  let gzip = false;
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    gzip = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
  const hash = createHash('sha256');
  let contentBytes = 0;
  let over = false;
  const sink = async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) {
      contentBytes += c.length;
      if (contentBytes > maxContentBytes) {
        over = true;
        throw new ContentTooLarge(maxContentBytes);
      }
      hash.update(c);
    }
  };
  try {
    if (gzip) await pipeline(createReadStream(path), createGunzip(), sink);
    else await pipeline(createReadStream(path), sink);
  } catch (e) {
    // the pipeline may report the stop as an abort of its other streams
    if (over) throw new ContentTooLarge(maxContentBytes);
    throw e;
  }
  return { sha256: hash.digest('hex'), contentBytes, gzip };
}

class ContentTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`content larger than ${limit} bytes`);
  }
}

/** Removes `.<file>.*.part` temp files in `dir` left by downloads that died (killed process), untouched for olderThanMs. */
export async function removeStaleParts(dir: string, file: string, olderThanMs = STALE_PART_MS, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(`.${file}.`) || !n.endsWith('.part')) continue;
    const p = join(dir, n);
    const st = await stat(p).catch(() => null);
    if (st?.isFile() && now - st.mtimeMs > olderThanMs && (await unlink(p).then(() => true, () => false))) removed.push(p);
  }
  return removed;
}

interface Attempt {
  url: string;
  dest: string;
  expected: string;
  onProgress?: (p: DownloadProgress) => void;
  req: Req;
  timeoutMs: number;
  interval: number;
  maxBytes: number;
  maxContentBytes: number;
  openTemp: (path: string) => Promise<FileHandle>;
}

/** One try: request, stream to a fresh temp file, verify, rename. Leaves no temp file behind on failure. */
async function attemptOnce(a: Attempt, attempts: number): Promise<DownloadResult> {
  const { url, dest, req: r } = a;
  const { signal } = r;
  const file = basename(dest);
  const dir = dirname(dest);
  await mkdir(dir, { recursive: true }).catch((e) => {
    throw diskError(url, dir, e);
  });
  const tmp = join(dir, `.${file}.${randomBytes(6).toString('hex')}.part`);
  const fh = await a.openTemp(tmp).catch((e: unknown) => {
    throw diskError(url, tmp, e);
  });
  let done = false;
  try {
    let res: http.IncomingMessage;
    let finalUrl: string;
    try {
      ({ res, url: finalUrl } = await getFollowing(url, r));
    } catch (e) {
      if (signal?.aborted) throw abortError(url);
      if (e instanceof DownloadError) throw e;
      const code = errCode(e);
      throw new DownloadError(`download of ${url} failed: ${errText(e)}`, url, 'network', code !== undefined && TRANSIENT_NET.has(code), { cause: e });
    }

    const lenHeader = res.headers['content-length'];
    const totalBytes = lenHeader !== undefined && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;
    if (totalBytes !== null && totalBytes > a.maxBytes) {
      res.destroy();
      throw new DownloadError(`download of ${url} refused: the server announces ${totalBytes} bytes, more than the ${a.maxBytes} this file can have`, url, 'too-large', false);
    }
    let received = 0;
    let last = -Infinity;
    const report = (force: boolean) => {
      const t = Date.now();
      if (!a.onProgress || (!force && t - last < a.interval)) return;
      last = t;
      a.onProgress({ file, receivedBytes: received, totalBytes });
    };
    let failure: DownloadError | null = null;
    const after = () => (totalBytes !== null ? `after ${received} of ${totalBytes} bytes` : `after ${received} bytes`);
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        failure = new DownloadError(`download of ${url} failed: stalled: no data for ${duration(a.timeoutMs)} ${after()} (timeout)`, url, 'stalled', true);
        res.destroy(failure);
      }, a.timeoutMs);
    };
    report(true);
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        if (received > a.maxBytes) {
          failure = new DownloadError(`download of ${url} failed: the body exceeds ${a.maxBytes} bytes, more than this file can have; stopped`, url, 'too-large', false);
          return cb(failure);
        }
        arm();
        report(false);
        cb(null, chunk);
      },
    });
    arm();
    try {
      await pipeline(res, counter, fh.createWriteStream({ flush: true }), { signal }); // closes fh
    } catch (e) {
      if (signal?.aborted) throw abortError(url);
      if (failure) throw failure;
      if (DISK_CODES.has(errCode(e) ?? '')) throw diskError(url, tmp, e);
      throw new DownloadError(`download of ${url} failed: interrupted: connection closed ${after()} (${errText(e)})`, url, 'interrupted', true, { cause: e });
    } finally {
      clearTimeout(idle);
    }
    report(true);
    if (totalBytes !== null && received !== totalBytes && !res.headers['content-encoding']) {
      throw new DownloadError(`download of ${url} failed: interrupted: received ${received} of ${totalBytes} bytes`, url, 'interrupted', true);
    }

    let content: Awaited<ReturnType<typeof hashFileContent>>;
    try {
      content = await hashFileContent(tmp, a.maxContentBytes);
    } catch (e) {
      if (e instanceof ContentTooLarge) {
        throw new DownloadError(`download of ${url} failed: the content inflates to more than ${e.limit} bytes, more than this file can have (a gzip bomb?); stopped`, url, 'too-large', false);
      }
      throw new DownloadError(`download of ${url} failed: corrupt or truncated gzip stream (${errText(e)})`, url, 'gzip', false, { cause: e });
    }
    if (signal?.aborted) throw abortError(url);
    if (content.sha256 !== a.expected) {
      throw new DownloadError(
        `download of ${url} failed: SHA-256 mismatch: content${content.gzip ? ' (after gunzip)' : ''} hashes to ${content.sha256}, expected ${a.expected}; the file was discarded`,
        url,
        'checksum',
        false,
      );
    }
    await fh.close().catch(() => {});
    await rename(tmp, dest).catch((e) => {
      throw diskError(url, dest, e);
    });
    done = true;
    return { path: dest, url: finalUrl, bytes: received, contentBytes: content.contentBytes, gzip: content.gzip, sha256: content.sha256, attempts };
  } finally {
    if (!done) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    }
  }
}

/**
 * Downloads `url` to `dest` and verifies the SHA-256 of its (decompressed) content, retrying
 * transient failures. `dest`'s folder is created when missing. Throws DownloadError (a DatasetError)
 * on any failure, leaving no file.
 */
export async function downloadVerified(
  url: string,
  dest: string,
  expectedSha256OfContent: string,
  onProgress?: (p: DownloadProgress) => void,
  opts: DownloadOptions = {},
): Promise<DownloadResult> {
  const { signal } = opts;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const retries = Math.max(0, opts.retries ?? 3);
  const backoff = opts.backoffMs ?? defaultBackoffMs;
  const sleep = opts.sleep ?? defaultSleep;
  if (signal?.aborted) throw abortError(url);
  try {
    new URL(url);
  } catch {
    throw new DownloadError(`download: invalid URL '${url}'`, url, 'refused', false);
  }
  const req: Req = {
    url,
    connectTimeoutMs: opts.connectTimeoutMs ?? timeoutMs,
    maxRedirects: opts.maxRedirects ?? 5,
    allowed: new Set((opts.allowedOrigins ?? MIRROR_ORIGINS).map(originOf)),
    signal,
  };
  checkOrigin(url, new URL(url), req); // before any file or connection
  const a: Attempt = {
    url,
    dest,
    expected: expectedSha256OfContent.toLowerCase(),
    onProgress,
    req,
    timeoutMs,
    interval: opts.progressIntervalMs ?? 200,
    maxBytes: opts.maxBytes ?? MAX_DEFAULT,
    maxContentBytes: opts.maxContentBytes ?? MAX_DEFAULT,
    openTemp: opts.openTemp ?? ((p) => open(p, 'wx')),
  };
  await removeStaleParts(dirname(dest), basename(dest));
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptOnce(a, attempt);
    } catch (e) {
      const err = e instanceof DownloadError ? e : new DownloadError(`download of ${url} failed: ${errText(e)}`, url, 'network', false, { cause: e });
      if (err.kind === 'cancelled' || !err.transient || attempt > retries) {
        if (attempt === 1 || err.kind === 'cancelled') throw err;
        const final = new DownloadError(`${err.message} (gave up after ${attempt} attempts)`, url, err.kind, err.transient, { cause: err });
        throw final;
      }
      try {
        await sleep(backoff(attempt), signal);
      } catch {
        throw abortError(url);
      }
      if (signal?.aborted) throw abortError(url);
    }
  }
}
