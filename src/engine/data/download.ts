// Verified downloads of dataset files.
//
// The body is streamed to a temp file in the destination folder, then the content is hashed
// (gunzipped first when it starts with the gzip magic 1f 8b) and compared with the expected SHA-256
// of the DECOMPRESSED IDX content; only then is the temp file renamed into place (atomic on one
// file system). The file is stored exactly as downloaded (the mirrors serve .gz, so the cache holds
// .gz files; every reader accepts raw or .gz). Any failure (HTTP error, redirect loop, timeout,
// truncated body, corrupt gzip, hash mismatch, abort) removes the temp file and throws a
// DatasetError; a cancelled download throws a DatasetError whose `name` is 'AbortError'.

import http from 'node:http';
import https from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
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
  /** Idle timeout of the connection (no bytes for this long), ms. Default 30000. */
  timeoutMs?: number;
  /** Redirects followed at most. Default 5. */
  maxRedirects?: number;
  /** Minimum interval between progress callbacks, ms (the first and last are always sent). Default 200. */
  progressIntervalMs?: number;
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
}

function abortError(url: string): DatasetError {
  const e = new DatasetError(`download of ${url} cancelled`);
  e.name = 'AbortError';
  return e;
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** One GET; resolves on the response headers. */
function get(url: URL, timeoutMs: number, state: { timedOut: boolean }, signal?: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { signal, headers: { 'user-agent': 'continual-workbench', accept: '*/*' } }, resolve);
    req.setTimeout(timeoutMs, () => {
      state.timedOut = true;
      req.destroy(new Error(`no data for ${timeoutMs / 1000} s (timeout)`));
    });
    req.on('error', reject);
  });
}

/** Follows redirects (bounded); resolves on a 2xx response. */
async function getFollowing(
  start: string,
  o: Required<Pick<DownloadOptions, 'timeoutMs' | 'maxRedirects'>> & { signal?: AbortSignal; state: { timedOut: boolean } },
) {
  let url: URL;
  try {
    url = new URL(start);
  } catch {
    throw new DatasetError(`download: invalid URL '${start}'`);
  }
  for (let hops = 0; ; hops++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DatasetError(`download of ${start}: unsupported protocol ${url.protocol}`);
    const res = await get(url, o.timeoutMs, o.state, o.signal);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hops >= o.maxRedirects) throw new DatasetError(`download of ${start}: more than ${o.maxRedirects} redirects (last to ${res.headers.location})`);
      url = new URL(res.headers.location, url);
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      const via = url.href !== start ? ` (redirected to ${url.href})` : '';
      throw new DatasetError(`download of ${start} failed: HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}${via}`);
    }
    return { res, url: url.href };
  }
}

/** SHA-256 of a file's content, gunzipped when it starts with the gzip magic. */
export async function hashFileContent(path: string): Promise<{ sha256: string; contentBytes: number; gzip: boolean }> {
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
  const sink = async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) {
      hash.update(c);
      contentBytes += c.length;
    }
  };
  if (gzip) await pipeline(createReadStream(path), createGunzip(), sink);
  else await pipeline(createReadStream(path), sink);
  return { sha256: hash.digest('hex'), contentBytes, gzip };
}

/**
 * Downloads `url` to `dest` and verifies the SHA-256 of its (decompressed) content.
 * `dest`'s folder is created when missing. Throws DatasetError on any failure, leaving no file.
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
  const maxRedirects = opts.maxRedirects ?? 5;
  const interval = opts.progressIntervalMs ?? 200;
  const file = basename(dest);
  const expected = expectedSha256OfContent.toLowerCase();
  if (signal?.aborted) throw abortError(url);

  const dir = dirname(dest);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${file}.${randomBytes(6).toString('hex')}.part`);
  const fh = await open(tmp, 'wx');
  let done = false;
  const state = { timedOut: false };
  try {
    let res: http.IncomingMessage;
    let finalUrl: string;
    try {
      ({ res, url: finalUrl } = await getFollowing(url, { timeoutMs, maxRedirects, signal, state }));
    } catch (e) {
      if (signal?.aborted) throw abortError(url);
      if (e instanceof DatasetError) throw e;
      throw new DatasetError(`download of ${url} failed: ${errText(e)}`, { cause: e });
    }

    const lenHeader = res.headers['content-length'];
    const totalBytes = lenHeader !== undefined && /^\d+$/.test(lenHeader) ? Number(lenHeader) : null;
    let received = 0;
    let last = -Infinity;
    const report = (force: boolean) => {
      const t = Date.now();
      if (!onProgress || (!force && t - last < interval)) return;
      last = t;
      onProgress({ file, receivedBytes: received, totalBytes });
    };
    report(true);
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        received += chunk.length;
        report(false);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(res, counter, fh.createWriteStream({ flush: true }), { signal }); // closes fh
    } catch (e) {
      if (signal?.aborted) throw abortError(url);
      const after = totalBytes !== null ? `after ${received} of ${totalBytes} bytes` : `after ${received} bytes`;
      const why = state.timedOut ? `no data for ${timeoutMs / 1000} s (timeout) ${after}` : `connection closed ${after}`;
      throw new DatasetError(`download of ${url} failed: ${why} (${errText(e)})`, { cause: e });
    }
    report(true);
    if (totalBytes !== null && received !== totalBytes && !res.headers['content-encoding']) {
      throw new DatasetError(`download of ${url} failed: truncated: received ${received} of ${totalBytes} bytes`);
    }

    let content: Awaited<ReturnType<typeof hashFileContent>>;
    try {
      content = await hashFileContent(tmp);
    } catch (e) {
      throw new DatasetError(`download of ${url}: corrupt or truncated gzip stream (${errText(e)})`, { cause: e });
    }
    if (signal?.aborted) throw abortError(url);
    if (content.sha256 !== expected) {
      throw new DatasetError(
        `download of ${url}: SHA-256 mismatch: content${content.gzip ? ' (after gunzip)' : ''} hashes to ${content.sha256}, expected ${expected}; the file was discarded`,
      );
    }
    await fh.close().catch(() => {});
    await rename(tmp, dest);
    done = true;
    return { path: dest, url: finalUrl, bytes: received, contentBytes: content.contentBytes, gzip: content.gzip, sha256: content.sha256 };
  } finally {
    if (!done) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    }
  }
}
