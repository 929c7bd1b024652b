// Image transforms that turn one dataset into several tasks: a fixed pixel permutation
// (Permuted-MNIST) and a rotation (Rotated-MNIST). They work on the raw bytes before
// normalisation, as torchvision does on PIL images.
import { createRng, deriveSeed, shuffleInPlace } from '../../random';

/** The fixed permutation of `pixels` positions for a seed: out[p] = in[perm[p]]. */
export function pixelPermutation(pixels: number, seed: number): Int32Array {
  const perm = new Int32Array(pixels);
  for (let i = 0; i < pixels; i++) perm[i] = i;
  return shuffleInPlace(perm, createRng(deriveSeed(seed, 'pixel-permutation')));
}

/** Applies one permutation to every image (n images of `pixels` bytes); returns new bytes. */
export function permuteImages(images: Uint8Array, pixels: number, perm: Int32Array): Uint8Array {
  const out = new Uint8Array(images.length);
  for (let base = 0; base < images.length; base += pixels) {
    for (let p = 0; p < pixels; p++) out[base + p] = images[base + perm[p]];
  }
  return out;
}

/**
 * Rotates every h x w image by `degrees` counter-clockwise about its centre, bilinear, with black
 * outside the source (torchvision's rotate with bilinear interpolation); returns new bytes.
 */
export function rotateImages(images: Uint8Array, height: number, width: number, degrees: number): Uint8Array {
  const pixels = height * width;
  const out = new Uint8Array(images.length);
  const rad = (degrees * Math.PI) / 180;
  const cos = Math.cos(rad);
  const sin = Math.sin(rad);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  // Where each output pixel samples the input: the same for every image.
  const x0 = new Int32Array(pixels);
  const y0 = new Int32Array(pixels);
  const fx = new Float64Array(pixels);
  const fy = new Float64Array(pixels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      const p = y * width + x;
      x0[p] = Math.floor(sx);
      y0[p] = Math.floor(sy);
      fx[p] = sx - x0[p];
      fy[p] = sy - y0[p];
    }
  }
  const at = (img: number, x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : images[img + y * width + x]);
  for (let img = 0; img < images.length; img += pixels) {
    for (let p = 0; p < pixels; p++) {
      const x = x0[p];
      const y = y0[p];
      const a = fx[p];
      const b = fy[p];
      const v = (1 - a) * (1 - b) * at(img, x, y) + a * (1 - b) * at(img, x + 1, y) + (1 - a) * b * at(img, x, y + 1) + a * b * at(img, x + 1, y + 1);
      out[img + p] = Math.round(v);
    }
  }
  return out;
}

/** Indexes of the examples whose label is one of `classes`, in order. */
export function examplesOfClasses(labels: Uint8Array, classes: readonly number[]): Int32Array {
  const keep = new Uint8Array(256);
  for (const c of classes) keep[c] = 1;
  let n = 0;
  for (let i = 0; i < labels.length; i++) n += keep[labels[i]];
  const out = new Int32Array(n);
  for (let i = 0, k = 0; i < labels.length; i++) if (keep[labels[i]]) out[k++] = i;
  return out;
}
