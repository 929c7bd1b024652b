// IDX reader (the MNIST file format: http://yann.lecun.com/exdb/mnist/, "FILE FORMATS").
// Layout: 2 zero bytes, 1 type byte, 1 byte ndim, ndim big-endian uint32 sizes, then the data.
// Only unsigned bytes (type 0x08) are supported; that is what image and label files use.
// Every problem is a DatasetError naming the file and what is wrong: never a crash, never a
// silently wrong shape.

import { readFile } from 'node:fs/promises';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';

const gunzipAsync = promisify(gunzip);

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

/**
 * Parses raw (decompressed) IDX bytes. `file` names the source in error messages.
 * Throws DatasetError on a bad magic, unsupported type, zero dimensions, truncation or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const fail = (what: string): never => {
    throw new DatasetError(`${file}: ${what}`);
  };
  if (bytes.length < 4) fail(`not an IDX file: ${bytes.length} bytes, shorter than the 4-byte magic`);
  if (isGzip(bytes)) fail('gzip-compressed data where raw IDX was expected (decompress first, or use readIdxFile)');
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`not an IDX file: magic starts ${hex(bytes[0])} ${hex(bytes[1])}, expected 00 00`);
  }
  const type = bytes[2];
  const ndim = bytes[3];
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
  if (bytes.length < headerBytes) {
    fail(`truncated: the header needs ${headerBytes} bytes for ${ndim} dimensions, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const shape = dims.join('x');
  if (dims.some((d) => d === 0)) fail(`IDX header has a zero dimension (${shape})`);
  for (const d of dims) size *= d;
  if (!Number.isSafeInteger(size) || size > 2 ** 32) fail(`IDX header dimensions ${shape} are implausibly large`);
  const have = bytes.length - headerBytes;
  if (have < size) fail(`truncated: header says ${shape} = ${size} bytes of data, file has ${have}`);
  if (have > size) fail(`trailing bytes: header says ${shape} = ${size} bytes of data, file has ${have} (${have - size} extra)`);
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, size) };
}

/** Decompresses when the bytes are gzip (by magic, whatever the file name says). */
export async function maybeGunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    return await gunzipAsync(bytes);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new DatasetError(`${file}: corrupt or truncated gzip stream (${msg})`, { cause: e });
  }
}

/** Reads an IDX file, raw or gzip-compressed (detected by the 1f 8b magic). */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : e instanceof Error ? e.message : String(e);
    throw new DatasetError(`${path}: cannot read: ${what}`, { cause: e });
  }
  return parseIdx(await maybeGunzip(bytes, path), path);
}
