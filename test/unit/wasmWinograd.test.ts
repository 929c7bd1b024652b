// The Winograd F(2x2, 3x3) and F(4x4, 3x3) convolutions on wasm (src/engine/backend/wasmWinograd.ts),
// called directly on the wasm backend's heap: against tfjs's cpu backend (valid, same, explicit and the
// input gradient's pad 2; odd and even output sizes; tiles wholly in the padding; bias and relu; batch 1
// and 3) with fused multiply-add on and off, chunk invariance, determinism, the same bits on a worker
// thread, where it applies and which tile it picks, and its fallback signal.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from '../../src/engine/backend/index';
import type { HeapBackend, HeapTensor } from '../../src/engine/backend/wasmAsm';
import type { DirectConvGeometry } from '../../src/engine/backend/wasmConv';
import { setWasmSimdKernelsEnabled } from '../../src/engine/backend/wasmKernels';
import {
  setWinogradEnabled, setWinogradTile, winogradApplies, winogradConv2d, winogradKernelCalls, winogradTileSize,
} from '../../src/engine/backend/wasmWinograd';
import type { TF, Tensor } from '../../src/engine/models/types';
import { assertSameBits, inWasmWorker, on as onBackend, randoms, relErr, size, withFma } from '../helpers/kernels';

let tf: TF;
before(async () => {
  tf = (await loadBackend('wasm')).tf;
});

type Pad = 'valid' | 'same' | number[][];
interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  p: Pad;
  bias?: boolean;
  relu?: boolean;
}

/** The geometry tfjs computes for a stride-1 conv of the case. */
function geometry(c: Case): DirectConvGeometry {
  return tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, c.p as 'valid', undefined, false, 'channelsLast');
}

/** The Winograd kernel's output on the wasm backend's heap, copied out. */
function winograd(c: Case, xv: Float32Array, wv: Float32Array, bv: Float32Array): Float32Array {
  const backend = tf.backend() as unknown as HeapBackend;
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const w = tf.tensor4d(wv, c.f);
    const b = c.bias ? tf.tensor1d(bv) : null;
    const out = winogradConv2d(backend, x as HeapTensor, w as HeapTensor, b as HeapTensor | null, !!c.relu, geometry(c));
    assert.ok(out, 'the SIMD modules are available');
    const values = (backend.typedArrayFromHeap(out) as Float32Array).slice();
    backend.disposeData(out.dataId);
    return values;
  });
}

/** The same convolution on tfjs's cpu backend. */
async function reference(c: Case, xv: Float32Array, wv: Float32Array, bv: Float32Array): Promise<Float32Array> {
  const [ref] = await onBackend(tf, 'cpu', (): Tensor[] => {
    const x = tf.tensor4d(xv, c.x);
    const w = tf.tensor4d(wv, c.f);
    return [
      tf.fused.conv2d({
        x, filter: w, strides: 1, pad: c.p as 'valid', bias: c.bias ? tf.tensor1d(bv) : undefined, activation: c.relu ? 'relu' : 'linear',
      }),
    ];
  });
  return ref;
}

const cases: Case[] = [
  { x: [3, 13, 13, 32], f: [3, 3, 32, 64], p: 'valid', bias: true, relu: true }, // the small CNN's second layer (11x11: odd)
  { x: [1, 11, 11, 64], f: [3, 3, 64, 32], p: [[0, 0], [2, 2], [2, 2], [0, 0]] }, // its input gradient (13x13 from pad 2)
  { x: [3, 6, 6, 8], f: [3, 3, 8, 4], p: 'valid', relu: true }, // 4x4: even, no partial tile
  { x: [1, 9, 8, 8], f: [3, 3, 8, 12], p: 'same', bias: true }, // odd rows, even columns
  { x: [3, 10, 7, 16], f: [3, 3, 16, 8], p: [[0, 0], [2, 1], [0, 3], [0, 0]], bias: true, relu: true }, // asymmetric pads
  { x: [1, 3, 4, 12], f: [3, 3, 12, 16], p: [[0, 0], [3, 4], [4, 3], [0, 0]] }, // whole tiles in the padding
  { x: [3, 5, 5, 8], f: [3, 3, 8, 4], p: 'same', relu: true }, // a 3x3 patch of tiles, all touching the padding
  { x: [1, 14, 9, 8], f: [3, 3, 8, 8], p: 'same' }, // 14 rows: whole tiles of 2 (and of 4 but the last)
];

/** f with the tile size forced, then the automatic choice restored. */
function withTile<T>(m: 0 | 2 | 4, f: () => T): T {
  const previous = setWinogradTile(m);
  try {
    return f();
  } finally {
    setWinogradTile(previous as 0 | 2 | 4);
  }
}

// Measured max errors: F(2x2) 1.1e-6, F(4x4) 7e-6 (a direct sum ~1e-7): the transforms add roundings.
const tolerance = { 2: 5e-6, 4: 5e-5 };
for (const m of [2, 4] as const) {
  for (const fused of [true, false]) {
    test(`F(${m}x${m}, 3x3) matches tfjs's cpu conv2d within float32 rounding (valid, same, pad 2, asymmetric pads, odd/even outputs, bias, relu, batch 1 and 3; fused multiply-add ${fused ? 'on' : 'off'})`, async () => {
      await withFma(fused, async () => {
        let seed = m * 1000 + (fused ? 0 : 500);
        for (const c of cases) {
          const xv = randoms(size(c.x), seed++);
          const wv = randoms(size(c.f), seed++);
          const bv = randoms(c.f[3], seed++);
          const label = JSON.stringify(c);
          assert.ok(winogradApplies(geometry(c)), `${label}: applies`);
          const ref = await reference(c, xv, wv, bv);
          const calls = winogradKernelCalls();
          const got = withTile(m, () => winograd(c, xv, wv, bv));
          assert.equal(winogradKernelCalls(), calls + 1, `${label}: counted`);
          const e = relErr(ref, got);
          assert.ok(e <= tolerance[m], `${label}: relative error ${e.toExponential(2)} against cpu`);
        }
      });
    });
  }
}

test('an image gives the same bits in a batch of 6 as in two batches of 3 or alone (tile blocks span images at other offsets), and twice the same bits (both tile sizes)', () => {
  for (const m of [2, 4] as const) withTile(m, () => chunkInvariance(m));
});

function chunkInvariance(tile: number): void {
  const forward: Case = { x: [6, 13, 13, 32], f: [3, 3, 32, 64], p: 'valid', bias: true, relu: true };
  const inputGrad: Case = { x: [6, 11, 11, 64], f: [3, 3, 64, 32], p: [[0, 0], [2, 2], [2, 2], [0, 0]] };
  let seed = 900 + tile;
  for (const c of [forward, inputGrad]) {
    const xv = randoms(size(c.x), seed++);
    const wv = randoms(size(c.f), seed++);
    const bv = randoms(c.f[3], seed++);
    const label = `F(${tile}x${tile}) ${JSON.stringify(c.x)}`;
    const whole = winograd(c, xv, wv, bv);
    assertSameBits(winograd(c, xv, wv, bv), whole, `${label}: run twice`);
    const half: Case = { ...c, x: [3, c.x[1], c.x[2], c.x[3]] };
    const n = size(half.x);
    const first = winograd(half, xv.subarray(0, n), wv, bv);
    const second = winograd(half, xv.subarray(n), wv, bv);
    assertSameBits(first, whole.subarray(0, first.length), `${label}: images 0-2 alone`);
    assertSameBits(second, whole.subarray(first.length), `${label}: images 3-5 alone`);
    // One image alone (a block of fewer tiles than the capacity).
    const one: Case = { ...c, x: [1, c.x[1], c.x[2], c.x[3]] };
    const m = size(one.x);
    const last = winograd(one, xv.subarray(5 * m), wv, bv);
    assertSameBits(last, whole.subarray(5 * last.length), `${label}: image 5 alone`);
  }
}

test('a worker thread computes the same bits (same code)', async () => {
  const c: Case = { x: [2, 11, 11, 64], f: [3, 3, 64, 32], p: [[0, 0], [2, 2], [2, 2], [0, 0]], bias: true, relu: true };
  const xv = randoms(size(c.x), 70);
  const wv = randoms(size(c.f), 71);
  const bv = randoms(c.f[3], 72);
  const main = winograd(c, xv, wv, bv);
  const fromWorker = await inWasmWorker<Float32Array>(
    `const { xv, wv, bv, c, g } = workerData;
    const backend = tf.backend();
    const out = src('backend/wasmWinograd.ts').winogradConv2d(backend, tf.tensor4d(xv, c.x), tf.tensor4d(wv, c.f), tf.tensor1d(bv), true, g);
    return backend.typedArrayFromHeap(out).slice();`,
    { xv, wv, bv, c, g: geometry(c) },
  );
  assertSameBits(main, fromWorker, 'main thread vs worker');
});

test('Winograd applies to 3x3 stride-1 convolutions with channels in vectors of 4, at least 8 input channels and outputs at least 2x2, unless turned off; the tile size with fewer products', () => {
  const g = (over: Partial<Case> & { s?: number; d?: number }): DirectConvGeometry => {
    const c: Case = { x: [2, 13, 13, 32], f: [3, 3, 32, 64], p: 'valid', ...over };
    return tf.backend_util.computeConv2DInfo(c.x, c.f, over.s ?? 1, over.d ?? 1, c.p as 'valid', undefined, false, 'channelsLast');
  };
  assert.ok(winogradApplies(g({})), 'the second layer');
  assert.ok(winogradApplies(g({ x: [2, 11, 11, 64], f: [3, 3, 64, 32], p: [[0, 0], [2, 2], [2, 2], [0, 0]] })), 'its input gradient');
  assert.ok(winogradApplies(g({ x: [2, 13, 13, 8], f: [3, 3, 8, 4] })), '8 in, 4 out');
  assert.ok(!winogradApplies(g({ x: [2, 13, 13, 4], f: [3, 3, 4, 64] })), '4 input channels: too short products');
  assert.ok(!winogradApplies(g({ x: [2, 28, 28, 1], f: [3, 3, 1, 32] })), 'the first layer');
  assert.ok(!winogradApplies(g({ x: [2, 13, 13, 34], f: [3, 3, 34, 64] })), 'input channels not a multiple of 4');
  assert.ok(!winogradApplies(g({ f: [3, 3, 32, 10] })), 'output channels not a multiple of 4');
  assert.ok(!winogradApplies(g({ f: [5, 5, 32, 64] })), '5x5');
  assert.ok(!winogradApplies(g({ s: 2 })), 'stride 2');
  assert.ok(!winogradApplies(g({ x: [2, 3, 13, 32] })), 'one output row');
  const previous = setWinogradEnabled(false);
  try {
    assert.ok(!winogradApplies(g({})), 'turned off');
  } finally {
    setWinogradEnabled(previous);
  }
  // F(4x4) where its tiles need fewer products: 11x11 (9 tiles x 36 < 36 x 16), 13x13 (16 x 36 < 49 x 16); not 2x2 or 5x5 (equal).
  assert.equal(winogradTileSize(g({})), 4, '11x11 output');
  assert.equal(winogradTileSize(g({ x: [2, 11, 11, 64], f: [3, 3, 64, 32], p: [[0, 0], [2, 2], [2, 2], [0, 0]] })), 4, '13x13 output');
  assert.equal(winogradTileSize(g({ x: [2, 4, 4, 32] })), 2, '2x2 output');
  assert.equal(winogradTileSize(g({ x: [2, 7, 7, 32] })), 2, '5x5 output');
  assert.equal(withTile(2, () => winogradTileSize(g({}))), 2, 'forced F(2x2)');
});

test('winogradConv2d returns null when the SIMD modules are off (the caller falls back)', () => {
  const c: Case = { x: [1, 6, 6, 8], f: [3, 3, 8, 4], p: 'valid' };
  const backend = tf.backend() as unknown as HeapBackend;
  const previous = setWasmSimdKernelsEnabled(false);
  try {
    const [x, w] = [tf.zeros(c.x), tf.zeros(c.f)];
    const out = winogradConv2d(backend, x as HeapTensor, w as HeapTensor, null, false, geometry(c));
    tf.dispose([x, w]);
    assert.equal(out, null);
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
});
