// The Winograd filter gradient F(3x3, 2x2) / F(3x3, 4x4) on wasm (src/engine/backend/wasmWinogradGrad.ts),
// called directly on the wasm backend's heap: against tfjs's cpu Conv2DBackpropFilter (valid, same,
// explicit and asymmetric pads, tiles wholly in the padding, odd and even outputs, batch 1, 3 and 64,
// 8-64 input and 4-64 output channels) with fused multiply-add on and off, on the small CNN's second
// layer at realistic magnitudes, determinism, the same bits on a worker thread, where it applies, which
// tile it picks, and its fallback signal.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from '../../src/engine/backend/index';
import type { HeapBackend, HeapTensor } from '../../src/engine/backend/wasmAsm';
import type { DirectConvGeometry } from '../../src/engine/backend/wasmConv';
import { setWasmSimdKernelsEnabled } from '../../src/engine/backend/wasmKernels';
import {
  setWinogradFilterGradEnabled, setWinogradFilterGradTile, winogradFilterGrad, winogradFilterGradApplies, winogradFilterGradCalls,
  winogradFilterGradTile,
} from '../../src/engine/backend/wasmWinogradGrad';
import type { TF, Tensor } from '../../src/engine/models/types';
import { assertSameBits, inWasmWorker, on as onBackend, randoms, relErr, size, withFma } from '../helpers/kernels';

let tf: TF;
before(async () => {
  tf = (await loadBackend('wasm')).tf;
});

type Pad = 'valid' | 'same' | number[][];
interface Case {
  /** x [N, H, W, CI] */
  x: [number, number, number, number];
  /** output channels */
  co: number;
  p: Pad;
}

const filterShape = (c: Case): [number, number, number, number] => [3, 3, c.x[3], c.co];

/** The geometry tfjs computes for a stride-1 conv of the case. */
function geometry(c: Case): DirectConvGeometry {
  return tf.backend_util.computeConv2DInfo(c.x, filterShape(c), 1, 1, c.p as 'valid', undefined, false, 'channelsLast');
}

const dyShape = (c: Case): number[] => {
  const g = geometry(c);
  return [g.batchSize, g.outHeight, g.outWidth, g.outChannels];
};

/** The Winograd filter gradient on the wasm backend's heap, copied out. */
function winograd(c: Case, xv: Float32Array, dyv: Float32Array): Float32Array {
  const backend = tf.backend() as unknown as HeapBackend;
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const dy = tf.tensor(dyv, dyShape(c));
    const out = winogradFilterGrad(backend, x as HeapTensor, dy as HeapTensor, geometry(c));
    assert.ok(out, 'the SIMD modules are available');
    assert.deepEqual(out.shape, filterShape(c));
    const values = (backend.typedArrayFromHeap(out) as Float32Array).slice();
    backend.disposeData(out.dataId);
    return values;
  });
}

/** The same filter gradient on tfjs's cpu backend (float64 sums, rounded once). */
async function reference(c: Case, xv: Float32Array, dyv: Float32Array): Promise<Float32Array> {
  const [ref] = await onBackend(tf, 'cpu', (): Tensor[] => [
    tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, c.x), dy: tf.tensor(dyv, dyShape(c)) }, {
      strides: 1, pad: c.p, dataFormat: 'NHWC', filterShape: filterShape(c),
    }) as Tensor,
  ]);
  return ref;
}

/** The exact filter gradient (float64 sums, rounded once to float32, as the cpu kernel's), for batches too slow on cpu. */
function exact(c: Case, xv: Float32Array, dyv: Float32Array): Float32Array {
  const g = geometry(c);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const sums = new Float64Array(9 * CI * CO);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const d = ((n * OH + oh) * OW + ow) * CO;
        for (let k = 0; k < 9; k++) {
          const ih = oh + Math.floor(k / 3) - g.padInfo.top;
          const iw = ow + (k % 3) - g.padInfo.left;
          if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
          const xo = ((n * H + ih) * W + iw) * CI;
          for (let ci = 0; ci < CI; ci++) {
            const xc = xv[xo + ci];
            const o = (k * CI + ci) * CO;
            for (let co = 0; co < CO; co++) sums[o + co] += xc * dyv[d + co];
          }
        }
      }
    }
  }
  return Float32Array.from(sums);
}

const cases: Case[] = [
  { x: [3, 13, 13, 32], co: 64, p: 'valid' }, // the small CNN's second layer (11x11 dy: odd)
  { x: [64, 9, 9, 8], co: 16, p: 'valid' }, // batch 64 (7x7 dy)
  { x: [1, 6, 6, 8], co: 4, p: 'valid' }, // 4x4 dy: even, no partial tile
  { x: [3, 9, 8, 8], co: 16, p: 'same' }, // odd rows, even columns
  { x: [2, 14, 9, 64], co: 64, p: 'same' }, // 64 in and out
  { x: [1, 11, 11, 64], co: 32, p: [[0, 0], [2, 2], [2, 2], [0, 0]] }, // pad 2 (13x13 dy)
  { x: [3, 10, 7, 16], co: 8, p: [[0, 0], [2, 1], [0, 3], [0, 0]] }, // asymmetric pads
  { x: [1, 3, 4, 12], co: 16, p: [[0, 0], [3, 4], [4, 3], [0, 0]] }, // whole tiles in the padding
  { x: [3, 5, 5, 8], co: 4, p: 'same' }, // a 3x3 patch of tiles, all touching the padding
];

/** f with the tile size forced, then the automatic choice restored. */
function withTile<T>(m: 0 | 2 | 4, f: () => T): T {
  const previous = setWinogradFilterGradTile(m);
  try {
    return f();
  } finally {
    setWinogradFilterGradTile(previous as 0 | 2 | 4);
  }
}

// Measured max errors over these cases (FMA on and off): F(3x3, 2x2) 4.4e-7, F(3x3, 4x4) 3.1e-6 (the
// transforms add roundings; a direct float32 sum ~2-4e-7).
const tolerance = { 2: 2e-6, 4: 2e-5 };
test('F(3x3, 2x2) and F(3x3, 4x4) match tfjs\'s cpu Conv2DBackpropFilter within float32 rounding (valid, same, pad 2, asymmetric pads, tiles in the padding, odd/even outputs, batch 1, 3 and 64; fused multiply-add on and off)', async () => {
  let seed = 100;
  for (const c of cases) {
    const xv = randoms(size(c.x), seed++);
    const dyv = randoms(size(dyShape(c)), seed++);
    const label = JSON.stringify(c);
    assert.ok(winogradFilterGradApplies(geometry(c)), `${label}: applies`);
    const ref = await reference(c, xv, dyv);
    for (const m of [2, 4] as const) {
      for (const fused of [true, false]) {
        await withFma(fused, () => {
          const calls = winogradFilterGradCalls();
          const got = withTile(m, () => winograd(c, xv, dyv));
          assert.equal(winogradFilterGradCalls(), calls + 1, `${label}: counted`);
          const e = relErr(ref, got);
          assert.ok(e <= tolerance[m], `${label} F(3x3, ${m}x${m}) fma ${fused}: relative error ${e.toExponential(2)} against cpu`);
        });
      }
    }
  }
});

test('the small CNN\'s second layer at batch 64 and training magnitudes (x a relu output, dy ~1e-3): within 1e-4 of the output scale, and twice the same bits', async () => {
  const c: Case = { x: [64, 13, 13, 32], co: 64, p: 'valid' };
  const xv = randoms(size(c.x), 7).map((v) => Math.max(0, v + 0.2));
  const dyv = randoms(size(dyShape(c)), 8).map((v) => v * 1e-3);
  assert.equal(winogradFilterGradTile(geometry(c)), 4, 'F(3x3, 4x4) at 11x11');
  // The cpu kernel takes ~35 s on this batch: the exact sums instead, checked against it on one image.
  const one: Case = { ...c, x: [1, 13, 13, 32] };
  const oneX = xv.subarray(0, size(one.x));
  const oneDy = dyv.subarray(0, size(dyShape(one)));
  assert.ok(relErr(await reference(one, oneX, oneDy), exact(one, oneX, oneDy)) <= 1e-7, 'the exact sums are the cpu kernel\'s');
  const ref = exact(c, xv, dyv);
  for (const fused of [true, false]) {
    await withFma(fused, () => {
      const got = winograd(c, xv, dyv);
      const e = relErr(ref, got);
      // Measured 2.0e-6 (FMA on), 2.6e-6 (off); the brief's bound for training is 1e-4.
      assert.ok(e <= 1e-4 && e <= 2e-5, `fma ${fused}: relative error ${e.toExponential(2)} against cpu`);
      assertSameBits(winograd(c, xv, dyv), got, `fma ${fused}: run twice`);
    });
  }
});

test('a worker thread computes the same bits (same code, same order of the sums)', async () => {
  const c: Case = { x: [5, 13, 13, 32], co: 64, p: 'same' };
  const xv = randoms(size(c.x), 70);
  const dyv = randoms(size(dyShape(c)), 71);
  const main = winograd(c, xv, dyv);
  const fromWorker = await inWasmWorker<Float32Array>(
    `const { xv, dyv, c, dyShape, g } = workerData;
    const backend = tf.backend();
    const out = src('backend/wasmWinogradGrad.ts').winogradFilterGrad(backend, tf.tensor4d(xv, c.x), tf.tensor(dyv, dyShape), g);
    return backend.typedArrayFromHeap(out).slice();`,
    { xv, dyv, c, dyShape: dyShape(c), g: geometry(c) },
  );
  assertSameBits(main, fromWorker, 'main thread vs worker');
});

test('the Winograd filter gradient applies to 3x3 stride-1 convolutions with channels in vectors of 4 and outputs at least 2x2, unless turned off; the tile with fewer products', () => {
  const g = (over: Partial<Case> & { f?: [number, number]; s?: number; d?: number }): DirectConvGeometry => {
    const c: Case = { x: [2, 13, 13, 32], co: 64, p: 'valid', ...over };
    const [kh, kw] = over.f ?? [3, 3];
    return tf.backend_util.computeConv2DInfo(c.x, [kh, kw, c.x[3], c.co], over.s ?? 1, over.d ?? 1, c.p as 'valid', undefined, false, 'channelsLast');
  };
  assert.ok(winogradFilterGradApplies(g({})), 'the second layer');
  assert.ok(winogradFilterGradApplies(g({ p: 'same' })), 'same padding');
  assert.ok(winogradFilterGradApplies(g({ x: [2, 13, 13, 4], co: 4 })), '4 in, 4 out');
  assert.ok(!winogradFilterGradApplies(g({ x: [2, 28, 28, 1], co: 32 })), 'the first layer (1 input channel)');
  assert.ok(!winogradFilterGradApplies(g({ x: [2, 13, 13, 34] })), 'input channels not a multiple of 4');
  assert.ok(!winogradFilterGradApplies(g({ co: 10 })), 'output channels not a multiple of 4');
  assert.ok(!winogradFilterGradApplies(g({ f: [5, 5] })), '5x5');
  assert.ok(!winogradFilterGradApplies(g({ s: 2 })), 'stride 2');
  assert.ok(!winogradFilterGradApplies(g({ d: 2 })), 'dilation 2');
  assert.ok(!winogradFilterGradApplies(g({ x: [2, 3, 13, 32] })), 'one output row');
  const previous = setWinogradFilterGradEnabled(false);
  try {
    assert.ok(!winogradFilterGradApplies(g({})), 'turned off');
  } finally {
    setWinogradFilterGradEnabled(previous);
  }
  // 4x4 tiles where they need fewer products: 11x11 (9 tiles x 36 < 36 x 16); not 2x2 or 5x5 (equal).
  assert.equal(winogradFilterGradTile(g({})), 4, '11x11 dy');
  assert.equal(winogradFilterGradTile(g({ x: [2, 4, 4, 32] })), 2, '2x2 dy');
  assert.equal(winogradFilterGradTile(g({ x: [2, 7, 7, 32] })), 2, '5x5 dy');
  assert.equal(withTile(2, () => winogradFilterGradTile(g({}))), 2, 'forced 2x2 tiles');
});

test('winogradFilterGrad returns null when the SIMD modules are off (the caller falls back)', () => {
  const c: Case = { x: [1, 6, 6, 8], co: 4, p: 'valid' };
  const backend = tf.backend() as unknown as HeapBackend;
  const previous = setWasmSimdKernelsEnabled(false);
  try {
    const [x, dy] = [tf.zeros(c.x), tf.zeros(dyShape(c))];
    const calls = winogradFilterGradCalls();
    const out = winogradFilterGrad(backend, x as HeapTensor, dy as HeapTensor, geometry(c));
    tf.dispose([x, dy]);
    assert.equal(out, null);
    assert.equal(winogradFilterGradCalls(), calls, 'not counted');
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
});
