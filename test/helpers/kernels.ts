// Shared helpers of the wasm kernel tests (wasmKernels, wasmConv, wasmGemm, wasmWinograd*): seeded
// values, runs on the cpu reference backend, tfjs's own kernels ('builtin' mode), error and bit
// comparisons, the same computation on a worker thread.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { registerWasmTrainingKernels } from '../../src/engine/backend/wasmKernels';
import { setWasmFmaEnabled } from '../../src/engine/backend/wasmAsm';
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

const bits32 = new Float32Array(1);
const word32 = new Uint32Array(bits32.buffer);
/** The float32 next to r (a float32, finite, nonzero or zero) in the direction of `toward`. */
function nextFloat32(r: number, toward: number): number {
  if (r === 0) return toward > 0 ? 1.401298464324817e-45 : -1.401298464324817e-45;
  bits32[0] = r;
  word32[0] += (toward > r) === (r > 0) ? 1 : -1;
  return bits32[0];
}

/**
 * The float32 fused multiply-add round32(c + a * b) with one rounding, exactly: a * b of two float32
 * values is exact in float64; the float64 sum's rounding error (TwoSum) decides the float32 rounding
 * where the float64 sum sits on a float32 midpoint (where rounding twice could differ).
 */
export function fma32(c: number, a: number, b: number): number {
  const p = a * b;
  const s = c + p;
  const r = Math.fround(s);
  if (r === s || !Number.isFinite(s)) return r;
  const bb = s - c;
  const e = c - (s - bb) + (p - bb);
  const other = nextFloat32(r, s);
  if (s - r !== other - s || e === 0) return r; // not a midpoint, or an exact tie (fround: to even)
  return e > 0 ? Math.max(r, other) : Math.min(r, other);
}

/** One multiply-accumulate step of the kernels in the given mode: fused, or a rounded product then a rounded sum. */
export const multiplyAdd = (fused: boolean) => (fused ? fma32 : (c: number, a: number, b: number) => Math.fround(c + Math.fround(a * b)));

/** f with the kernels' fused multiply-add on or off, then the previous mode restored. */
export async function withFma<T>(enabled: boolean, f: () => T | Promise<T>): Promise<T> {
  const previous = setWasmFmaEnabled(enabled);
  try {
    return await f();
  } finally {
    setWasmFmaEnabled(previous);
  }
}

/**
 * Runs `body` in a fresh worker thread on its own wasm backend and resolves with what it returns
 * (posted back, structured-cloned). `body` sees `tf`, `workerData` and `src(path)`, which requires
 * src/engine/<path> (TypeScript, through tsx): the tests' check that another thread computes the
 * same bits.
 */
export function inWasmWorker<T>(body: string, workerData: unknown): Promise<T> {
  const engine = join(__dirname, '..', '..', 'src', 'engine');
  const code = `
    require('tsx/cjs');
    const { parentPort, workerData } = require('node:worker_threads');
    const src = (p) => require(require('node:path').join(${JSON.stringify(engine)}, p));
    src('backend/index.ts').loadBackend('wasm').then(({ tf }) => {
      parentPort.postMessage(((tf, workerData, src) => { ${body} })(tf, workerData, src));
    });
  `;
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData });
    worker.once('message', (m: T) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
