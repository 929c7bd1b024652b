// Training images kept as the dataset's bytes (1 byte a pixel instead of 4) and normalised when a
// batch is made. The normalised value of a pixel depends only on its byte and its dataset's
// mean/std, so a 256-entry float32 table per normalisation gives exactly the values that
// normalising the whole set up front gave: byte * (1 / (255 * std)) - mean / std, computed in
// double and rounded once to float32.

/** Images as bytes with the float32 value of each byte after normalisation. */
export interface PixelBytes {
  /** n * pixels bytes, as loaded (after any permutation or rotation). */
  bytes: Uint8Array;
  /** 256 float32 values per normalisation; example i reads the block `group[i]` (block 0 without `group`). */
  levels: Float32Array;
  /** Which block of `levels` each example uses (sets that join tasks with different normalisations). */
  group?: Uint8Array;
}

/** A training set's images: bytes normalised on demand, or already normalised float32 values. */
export type TrainImages = Float32Array | PixelBytes;

/** The float32 value of every byte 0..255 under (x/255 - mean) / std, in the arithmetic of normalisedImages. */
export function pixelLevels(mean: number, std: number): Float32Array {
  const scale = 1 / (255 * std);
  const shift = mean / std;
  const levels = new Float32Array(256);
  for (let b = 0; b < 256; b++) levels[b] = b * scale - shift;
  return levels;
}

/** Bytes with their dataset's normalisation. */
export function pixelBytes(bytes: Uint8Array, mean: number, std: number): PixelBytes {
  return { bytes, levels: pixelLevels(mean, std) };
}

/** Normalised float images, optionally of a subset (index order). */
export function normalisedImages(images: Uint8Array, indices: Int32Array | null, pixels: number, mean: number, std: number): Float32Array {
  const n = indices ? indices.length : images.length / pixels;
  const out = new Float32Array(n * pixels);
  const levels = pixelLevels(mean, std);
  for (let k = 0; k < n; k++) {
    const src = (indices ? indices[k] : k) * pixels;
    const dst = k * pixels;
    for (let p = 0; p < pixels; p++) out[dst + p] = levels[images[src + p]];
  }
  return out;
}

/** Number of images held. */
export function imageCount(images: TrainImages, pixels: number): number {
  return (images instanceof Float32Array ? images.length : images.bytes.length) / Math.max(1, pixels);
}

/** Writes the normalised image `index` into `out` at `offset` (in values). */
export function copyImage(images: TrainImages, pixels: number, index: number, out: Float32Array, offset: number): void {
  if (images instanceof Float32Array) {
    out.set(images.subarray(index * pixels, (index + 1) * pixels), offset);
    return;
  }
  const { bytes, levels, group } = images;
  const src = index * pixels;
  if (group) {
    const base = 256 * group[index];
    for (let p = 0; p < pixels; p++) out[offset + p] = levels[base + bytes[src + p]];
  } else {
    for (let p = 0; p < pixels; p++) out[offset + p] = levels[bytes[src + p]];
  }
}

/** The normalised images at `indices`, in that order, as one float32 array [indices.length * pixels]. */
export function gatherImages(images: TrainImages, pixels: number, indices: ArrayLike<number>, out = new Float32Array(indices.length * pixels)): Float32Array {
  for (let k = 0; k < indices.length; k++) copyImage(images, pixels, indices[k], out, k * pixels);
  return out;
}

/** The normalised images [start, end) as one float32 array. */
export function imageRange(images: TrainImages, pixels: number, start: number, end: number): Float32Array {
  if (images instanceof Float32Array) return images.slice(start * pixels, end * pixels);
  const out = new Float32Array((end - start) * pixels);
  for (let i = start; i < end; i++) copyImage(images, pixels, i, out, (i - start) * pixels);
  return out;
}

/** One store holding several stores' images in order: bytes stay bytes (one levels block per distinct normalisation). */
export function concatImages(parts: { images: TrainImages; n: number }[], pixels: number): TrainImages {
  const n = parts.reduce((s, p) => s + p.n, 0);
  if (parts.some((p) => p.images instanceof Float32Array)) {
    const out = new Float32Array(n * pixels);
    let at = 0;
    for (const p of parts) {
      out.set(imageRange(p.images, pixels, 0, p.n), at * pixels);
      at += p.n;
    }
    return out;
  }
  const blocks: Float32Array[] = [];
  const blockOf = (levels: Float32Array, b: number) => {
    const block = levels.subarray(256 * b, 256 * (b + 1));
    let k = blocks.findIndex((x) => x.every((v, i) => Object.is(v, block[i])));
    if (k < 0) k = blocks.push(block) - 1;
    return k;
  };
  const bytes = new Uint8Array(n * pixels);
  const group = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    const src = p.images as PixelBytes;
    bytes.set(src.bytes.subarray(0, p.n * pixels), at * pixels);
    if (src.group) {
      const map = new Map<number, number>();
      for (let i = 0; i < p.n; i++) {
        const g = src.group[i];
        let k = map.get(g);
        if (k === undefined) map.set(g, (k = blockOf(src.levels, g)));
        group[at + i] = k;
      }
    } else {
      group.fill(blockOf(src.levels, 0), at, at + p.n);
    }
    at += p.n;
  }
  if (blocks.length > 256) throw new Error(`concatImages: ${blocks.length} normalisations in one set (at most 256)`);
  const levels = new Float32Array(256 * blocks.length);
  blocks.forEach((b, k) => levels.set(b, 256 * k));
  return blocks.length === 1 ? { bytes, levels } : { bytes, levels, group };
}
