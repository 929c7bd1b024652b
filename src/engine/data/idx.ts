// IDX reader (the MNIST file format: http://yann.lecun.com/exdb/mnist/, "FILE FORMATS").
// Layout: 2 zero bytes, 1 type byte, 1 byte ndim, ndim big-endian uint32 sizes, then the data.
// Only unsigned bytes (type 0x08) are supported; that is what image and label files use.
// Every problem is a DatasetError naming the file and what is wrong: never a crash, never a
// silently wrong shape, never an allocation of a size only the header claims (the claimed size is
// checked against the real length, or capped while inflating, before anything that big exists).

import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { constants as zlibConstants, gunzip, gunzipSync } from 'node:zlib';

/** A data problem (missing, malformed, truncated, unverifiable) that the user can act on. */
export class DatasetError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatasetError';
  }
}

export interface IdxArray {
  /** Sizes of each dimension, outermost first (e.g. [60000, 28, 28]). */
  dims: number[];
  /** Row-major data, exactly the product of dims bytes (a view, no copy). */
  data: Uint8Array;
}

export interface IdxReadOptions {
  /** Largest data size (bytes after the header, after gunzip) accepted; default MAX_IDX_BYTES. */
  maxBytes?: number;
}

/** Default limit of an IDX file's data: 2 GiB (MNIST's training images are 47 MB, EMNIST's largest 550 MB). */
export const MAX_IDX_BYTES = 2 ** 31;
/** Decompressed bytes inflated beyond the header's claim before a gzip file is rejected as having trailing data. */
const INFLATE_SLACK = 1 << 20;
/** Largest IDX header: 4-byte magic and 255 dimensions. */
const MAX_HEADER = 4 + 4 * 255;

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const hex = (b: number) => b.toString(16).padStart(2, '0');
const mib = (n: number) => (n >= 2 ** 30 ? `${+(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${+(n / 2 ** 20).toFixed(1)} MiB` : `${n}-byte`);

interface IdxHeader {
  dims: number[];
  headerBytes: number;
  /** Data bytes the header claims (the product of dims, checked against maxBytes). */
  dataBytes: number;
}

/**
 * Checks the magic, type, dimension count and dimensions of an IDX header. `head` holds at least
 * the first min(totalBytes, 1024) bytes; `totalBytes` is the file's real (decompressed) length.
 * The product of the dims is computed exactly (BigInt), so 4e9 x 4e9 is an error, not an overflow.
 */
function parseIdxHeader(head: Uint8Array, totalBytes: number, file: string, maxBytes: number, totalKnown = true): IdxHeader {
  const fail = (what: string): never => {
    throw new DatasetError(`${file}: ${what}`);
  };
  if (totalBytes === 0) fail('empty file (0 bytes): not an IDX file');
  if (totalBytes < 4) fail(`not an IDX file: ${totalBytes} bytes, shorter than the 4-byte magic`);
  if (isGzip(head)) fail('gzip-compressed data where raw IDX was expected (decompress first, or use readIdxFile)');
  if (head[0] !== 0 || head[1] !== 0) fail(`not an IDX file: magic starts ${hex(head[0])} ${hex(head[1])}, expected 00 00`);
  const type = head[2];
  const ndim = head[3];
  if (type !== 0x08) {
    const known = IDX_TYPES[type];
    fail(
      known
        ? `unsupported IDX data type 0x${hex(type)} (${known}); only 0x08 (unsigned byte) is supported`
        : `not an IDX file: unknown data type 0x${hex(type)} in the magic (expected 0x08, unsigned byte)`,
    );
  }
  if (ndim === 0) fail('IDX header has 0 dimensions');
  const headerBytes = 4 + 4 * ndim;
  if (totalBytes < headerBytes) fail(`truncated: the header needs ${headerBytes} bytes for ${ndim} dimensions, file has ${totalBytes}`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const shape = dims.join('x');
  if (dims.some((d) => d === 0)) fail(`IDX header has a zero dimension (${shape})`);
  const claimed = dims.reduce((p, d) => p * BigInt(d), 1n);
  if (claimed > BigInt(maxBytes)) {
    fail(`absurd dimensions: header says ${shape} = ${claimed} bytes of data, over the ${mib(maxBytes)} limit${totalKnown ? `; file has ${totalBytes - headerBytes}` : ''}`);
  }
  return { dims, headerBytes, dataBytes: Number(claimed) };
}

function checkLength(h: IdxHeader, have: number, file: string) {
  const { dims, dataBytes: size } = h;
  const shape = dims.join('x');
  if (have < size) throw new DatasetError(`${file}: truncated: header says ${shape} = ${size} bytes of data, file has ${have}`);
  if (have > size) throw new DatasetError(`${file}: trailing bytes: header says ${shape} = ${size} bytes of data, file has ${have} (${have - size} extra)`);
}

/**
 * Parses raw (decompressed) IDX bytes. `file` names the source in error messages.
 * Throws DatasetError on a bad magic, unsupported type, zero dimensions, absurd dimensions,
 * truncation or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, file: string, opts: IdxReadOptions = {}): IdxArray {
  const h = parseIdxHeader(bytes, bytes.length, file, opts.maxBytes ?? MAX_IDX_BYTES);
  checkLength(h, bytes.length - h.headerBytes, file);
  return { dims: h.dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + h.headerBytes, h.dataBytes) };
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function corruptGzip(file: string, e: unknown): DatasetError {
  return new DatasetError(`${file}: corrupt or truncated gzip stream (${errText(e)})`, { cause: e });
}

/**
 * The first bytes of a gzip stream's content (at least MAX_HEADER of them, or all when shorter),
 * inflating a prefix of the compressed bytes that doubles until enough: never more than about
 * a thousand times the prefix needed, whatever the stream would inflate to.
 */
function gunzipHead(gz: Uint8Array, file: string): { head: Uint8Array; complete: boolean } {
  for (let take = 4096; ; take *= 2) {
    const all = take >= gz.length;
    let head: Buffer;
    try {
      // A prefix may end mid-stream (no error for that); the whole stream is inflated strictly (CRC, length, truncation).
      head = all ? gunzipSync(gz) : gunzipSync(gz.subarray(0, take), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (e) {
      throw corruptGzip(file, e);
    }
    if (head.length >= MAX_HEADER || all) return { head, complete: all };
  }
}

/**
 * Decompresses when the bytes are gzip (by magic, whatever the file name says), inflating no
 * more than the IDX header claims (plus a small slack to measure trailing bytes): a gzip bomb is
 * rejected after a few MB, not inflated.
 */
export async function maybeGunzip(bytes: Uint8Array, file: string, opts: IdxReadOptions = {}): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  const maxBytes = opts.maxBytes ?? MAX_IDX_BYTES;
  const { head, complete } = gunzipHead(bytes, file);
  // When the whole stream fit in the prefix, head is its complete content: the header is judged on its real length.
  const h = parseIdxHeader(head, head.length, file, maxBytes, complete);
  const expected = h.headerBytes + h.dataBytes;
  const cap = expected + INFLATE_SLACK;
  try {
    return await new Promise<Buffer>((resolve, reject) => gunzip(bytes, { maxOutputLength: cap }, (e, out) => (e ? reject(e) : resolve(out))));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DatasetError(
        `${file}: trailing bytes: header says ${h.dims.join('x')} = ${h.dataBytes} bytes of data, the gzip stream inflates to more than ${cap - h.headerBytes} ` +
          `(stopped inflating at ${cap} bytes: a corrupt file or a gzip bomb)`,
        { cause: e },
      );
    }
    throw corruptGzip(file, e);
  }
}

/** A file-system error as the user should read it. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code}): the file is not readable by this user`;
    case 'ELOOP':
      return 'symlink loop (ELOOP): the path resolves to itself';
    case 'ENOTDIR':
      return 'a parent of the path is a file, not a folder (ENOTDIR)';
    case 'ENAMETOOLONG':
      return 'path too long (ENAMETOOLONG)';
    case 'EIO':
      return 'input/output error (EIO): the disk or network share failed';
    default:
      return errText(e);
  }
}

function kindOf(s: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (s.isDirectory()) return 'is a folder, not a file';
  if (s.isFIFO()) return 'is a named pipe (FIFO), not a regular file';
  if (s.isSocket()) return 'is a socket, not a regular file';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'is a device, not a regular file';
  return 'is not a regular file';
}

/**
 * Reads an IDX file, raw or gzip-compressed (detected by the 1f 8b magic). Only regular files are
 * read (a FIFO would block forever); a raw file's header is checked against its size on disk before
 * its body is read, a gzip file's inflation is capped by its header.
 */
export async function readIdxFile(path: string, opts: IdxReadOptions = {}): Promise<IdxArray> {
  const maxBytes = opts.maxBytes ?? MAX_IDX_BYTES;
  const cannot = (e: unknown): never => {
    throw new DatasetError(`${path}: cannot read: ${describeFsError(e)}`, { cause: e });
  };
  const st = await stat(path).catch(cannot);
  if (!st.isFile()) throw new DatasetError(`${path}: cannot read: ${kindOf(st)}`);
  // A compressed file bigger than the limit cannot be a valid one (gzip never grows data by more than a little).
  if (st.size > maxBytes + MAX_HEADER + INFLATE_SLACK) {
    throw new DatasetError(`${path}: file is ${st.size} bytes, over the ${mib(maxBytes)} limit of an IDX file`);
  }
  const fh = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK).catch(cannot);
  let bytes: Buffer;
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(size, MAX_HEADER));
    await readFully(fh, head, 0).catch(cannot);
    if (!isGzip(head)) {
      // Raw: the header against the real size first, so a lying header never drives a read or an allocation.
      const h = parseIdxHeader(head, size, path, maxBytes);
      checkLength(h, size - h.headerBytes, path);
    }
    bytes = Buffer.alloc(size);
    const got = await readFully(fh, bytes, 0).catch(cannot);
    if (got !== size) throw new DatasetError(`${path}: cannot read: the file shrank from ${size} to ${got} bytes while being read`);
  } finally {
    await fh.close().catch(() => {});
  }
  return parseIdx(await maybeGunzip(bytes, path, opts), path, opts);
}

async function readFully(fh: import('node:fs/promises').FileHandle, buf: Buffer, position: number): Promise<number> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off;
}
