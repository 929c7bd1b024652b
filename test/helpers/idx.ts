// One builder for IDX test files (LeCun's format: 0x00 0x00 type ndims, big-endian dims, body),
// shared by the reader, resolution, download and fault tests.
import { createGzip, gzipSync } from 'node:zlib';

export const IDX_UBYTE = 0x08;

export interface IdxOptions {
  /** Body bytes; default: byte i is fill(i), or i % 251 without fill. */
  data?: Uint8Array;
  fill?: (i: number) => number;
  /** IDX type code (0x08 unsigned byte is the only one datasets use). */
  type?: number;
  /** Dimension count written in the header, when a test wants it to disagree with dims.length. */
  ndims?: number;
  /** First two bytes of the magic number (always 0 in valid files). */
  magicPrefix?: [number, number];
}

/** The raw bytes of an IDX file with these dimensions. */
export function idxBytes(dims: number[], o: IdxOptions = {}): Buffer {
  const size = dims.reduce((a, b) => a * b, 1);
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[0] = o.magicPrefix?.[0] ?? 0;
  header[1] = o.magicPrefix?.[1] ?? 0;
  header[2] = o.type ?? IDX_UBYTE;
  header[3] = o.ndims ?? dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  const fill = o.fill ?? ((i: number) => i % 251);
  const body = o.data ?? Uint8Array.from({ length: size }, (_, i) => fill(i) & 0xff);
  return Buffer.concat([header, body]);
}

/** The same, gzip-compressed (as the mirrors serve them). */
export function idxGzip(dims: number[], o: IdxOptions = {}): Buffer {
  return gzipSync(idxBytes(dims, o));
}

/** A small, valid dataset's four files: images of h x w, labels i % classes. */
export function idxDataset(o: { h?: number; w?: number; classes?: number; nTrain?: number; nTest?: number; testH?: number; trainLabelsN?: number } = {}) {
  const h = o.h ?? 4;
  const w = o.w ?? 4;
  const classes = o.classes ?? 3;
  const nTrain = o.nTrain ?? 20;
  const nTest = o.nTest ?? 10;
  return {
    trainImages: idxBytes([nTrain, h, w], { fill: (i) => (i * 37) % 256 }),
    trainLabels: idxBytes([o.trainLabelsN ?? nTrain], { fill: (i) => i % classes }),
    testImages: idxBytes([nTest, o.testH ?? h, w], { fill: (i) => (i * 11) % 256 }),
    testLabels: idxBytes([nTest], { fill: (i) => (i + 1) % classes }),
  };
}

/**
 * A gzip bomb: `prefix` (e.g. an IDX header, or nothing) then `zeroBytes` zeros, in one gzip member,
 * compressed as a stream so the test never holds the inflated size (200 MB of zeros is ~200 KB).
 */
export async function idxGzipBomb(prefix: Uint8Array, zeroBytes: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  const write = (b: Uint8Array) => new Promise<void>((resolve) => (gz.write(b) ? resolve() : gz.once('drain', resolve)));
  await write(prefix);
  const zeros = Buffer.alloc(1 << 20);
  for (let left = zeroBytes; left > 0; left -= zeros.length) await write(left >= zeros.length ? zeros : zeros.subarray(0, left));
  gz.end();
  await done;
  return Buffer.concat(out);
}
