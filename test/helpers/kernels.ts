// Shared helpers of the wasm kernel tests (wasmKernels, wasmConv, wasmGemm): seeded values, runs on
// the cpu reference backend, tfjs's own kernels ('builtin' mode), error and bit comparisons.
import assert from 'node:assert/strict';
import { registerWasmTrainingKernels } from '../../src/engine/backend/wasmKernels';
import type { TF, Tensor } from '../../src/engine/models/types';

/** Deterministic uniform(-1, 1) values (rounded to multiples of 1/quantize when given). */
export function randoms(n: number, seed: number, quantize = 0): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = (s / 4294967296) * 2 - 1;
    out[i] = quantize ? Math.round(v * quantize) / quantize : v;
  }
  return out;
}

export const size = (shape: number[]) => shape.reduce((p, q) => p * q, 1);

/** Runs f on a backend inside a tidy and returns its tensors' values (the wasm backend is re-activated after). */
export async function on(tf: TF, backend: 'cpu' | 'wasm', f: () => Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const ts = tf.tidy(f);
  const values = ts.map((t) => t.dataSync() as Float32Array);
  tf.dispose(ts);
  await tf.setBackend('wasm');
  return values;
}

/** f on wasm with tfjs's own kernels ('builtin' mode), then the engine's restored. */
export function builtin<T>(tf: TF, f: () => T): T {
  registerWasmTrainingKernels(tf, { mode: 'builtin' });
  try {
    return f();
  } finally {
    registerWasmTrainingKernels(tf, { mode: 'fast' });
  }
}

/** Max |ref - got| relative to max |ref|; every value of got must be finite. */
export function relErr(ref: Float32Array, got: Float32Array): number {
  assert.equal(got.length, ref.length, 'sizes differ');
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    assert.ok(Number.isFinite(got[i]), `non-finite value at ${i}`);
    d = Math.max(d, Math.abs(ref[i] - got[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return d / Math.max(m, 1e-12);
}

export function assertSameBits(a: Float32Array, b: Float32Array, label: string): void {
  assert.equal(a.length, b.length, `${label}: sizes differ`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) assert.fail(`${label}: element ${i} differs (${a[i]} vs ${b[i]})`);
  }
}
