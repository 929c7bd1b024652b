// The direct SIMD convolution and bias add on wasm (src/engine/backend/wasmConv.ts, registered as
// Conv2D / FusedConv2D / Add by wasmKernels.ts): against tfjs's cpu backend, against a JS model of
// its documented summation order and against XNNPACK (both bitwise), delegation of what it does not
// handle, chunk invariance, the same bits on a worker thread, and a small CNN's gradients.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from '../../src/engine/backend/index';
import { DIRECT_CONV_MAX_TAPS, directKernelCalls } from '../../src/engine/backend/wasmConv';
import { buildModel } from '../../src/engine/models/build';
import type { TF, Tensor, Tensor4D } from '../../src/engine/models/types';
import { assertSameBits, inWasmWorker, builtin as builtinOn, fma32, multiplyAdd, on as onBackend, randoms, relErr, size, withFma } from '../helpers/kernels';
import { wasmFmaEnabled } from '../../src/engine/backend/wasmAsm';
import { setWinogradEnabled, winogradKernelCalls } from '../../src/engine/backend/wasmWinograd';
import { setWinogradFilterGradEnabled, winogradFilterGradCalls } from '../../src/engine/backend/wasmWinogradGrad';

let tf: TF;
before(async () => {
  tf = (await loadBackend('wasm')).tf;
});

const on = (backend: 'cpu' | 'wasm', f: () => Tensor[]) => onBackend(tf, backend, f);
const builtin = <T>(f: () => T): T => builtinOn(tf, f);

type Pad = 'valid' | 'same' | number[][];
interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  s: number | [number, number];
  p: Pad;
  bias?: boolean;
  act?: 'linear' | 'relu';
}

/** Top and left padding of a case (tfjs's 'same': the smaller half before). */
function padding(c: ConvCase, OH: number, OW: number): [number, number] {
  const [, H, W] = c.x;
  const [KH, KW] = c.f;
  const [SH, SW] = typeof c.s === 'number' ? [c.s, c.s] : c.s;
  if (c.p === 'valid') return [0, 0];
  if (c.p === 'same') return [Math.floor(Math.max(0, (OH - 1) * SH + KH - H) / 2), Math.floor(Math.max(0, (OW - 1) * SW + KW - W) / 2)];
  return [c.p[1][0], c.p[2][0]];
}

/**
 * The kernel's documented arithmetic in JS: per output, acc = bias or 0; acc += x * w over
 * (kh, kw, ci) in that order, padding skipped (XNNPACK adds its zeros: the same sums), each step
 * `mac` (fused, or a rounded product then a rounded sum); then relu (acc < 0 ? 0 : acc).
 */
function referenceConv(
  c: ConvCase, xv: Float32Array, wv: Float32Array, bv: Float32Array | null, outShape: number[], mac: (c: number, a: number, b: number) => number,
): Float32Array {
  const [N, H, W, CI] = c.x;
  const [KH, KW, , CO] = c.f;
  const [, OH, OW] = outShape;
  const [SH, SW] = typeof c.s === 'number' ? [c.s, c.s] : c.s;
  const [top, left] = padding(c, OH, OW);
  const out = new Float32Array(N * OH * OW * CO);
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let co = 0; co < CO; co++) {
          let acc = bv ? bv[co] : 0;
          for (let kh = 0; kh < KH; kh++) {
            for (let kw = 0; kw < KW; kw++) {
              for (let ci = 0; ci < CI; ci++) {
                const ih = oh * SH + kh - top;
                const iw = ow * SW + kw - left;
                const xval = ih >= 0 && ih < H && iw >= 0 && iw < W ? xv[((n * H + ih) * W + iw) * CI + ci] : 0;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W) acc = mac(acc, xval, wv[((kh * KW + kw) * CI + ci) * CO + co]);
              }
            }
          }
          if (c.act === 'relu' && acc < 0) acc = 0;
          out[((n * OH + oh) * OW + ow) * CO + co] = acc;
        }
      }
    }
  }
  return out;
}

function convOp(c: ConvCase, xv: Float32Array, wv: Float32Array, bv: Float32Array) {
  return (): Tensor[] => {
    const x = tf.tensor4d(xv, c.x);
    const w = tf.tensor4d(wv, c.f);
    if (!c.bias && !c.act) return [tf.conv2d(x, w, c.s, c.p as 'valid')];
    return [tf.fused.conv2d({ x, filter: w, bias: c.bias ? tf.tensor1d(bv) : undefined, strides: c.s, pad: c.p as 'valid', activation: c.act ?? 'linear' })];
  };
}

const cases: ConvCase[] = [
  { x: [37, 12, 11, 1], f: [3, 3, 1, 32], s: 1, p: 'valid' }, // the first layer's shape, small images
  { x: [1, 28, 28, 1], f: [3, 3, 1, 32], s: 1, p: 'valid', bias: true, act: 'relu' },
  { x: [37, 9, 10, 2], f: [3, 3, 2, 16], s: 1, p: 'same', bias: true },
  { x: [1, 9, 9, 3], f: [5, 5, 3, 64], s: 2, p: 'same', act: 'relu' },
  { x: [37, 10, 9, 4], f: [5, 5, 4, 16], s: 2, p: 'valid', bias: true, act: 'relu' },
  { x: [2, 8, 8, 1], f: [3, 3, 1, 32], s: [1, 2], p: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  { x: [3, 7, 9, 3], f: [3, 3, 3, 8], s: 1, p: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: true, act: 'relu' }, // 2 vectors per block
  { x: [2, 7, 7, 2], f: [3, 3, 2, 12], s: 2, p: 'same', bias: true }, // 1 vector per block (12 = 3 x 4)
  { x: [37, 6, 7, 1], f: [3, 3, 1, 4], s: 1, p: 'valid', act: 'relu' },
  { x: [4, 13, 13, 32], f: [3, 3, 32, 64], s: 1, p: 'valid', bias: true, act: 'relu' }, // the second layer
  { x: [3, 11, 11, 64], f: [3, 3, 64, 32], s: 1, p: [[0, 0], [2, 2], [2, 2], [0, 0]] }, // the second layer's input gradient
  // Windows wholly in the padding (first rows, last columns), a 1-pixel-wide interior.
  { x: [2, 5, 6, 1], f: [3, 3, 1, 16], s: [2, 1], p: [[0, 0], [4, 0], [3, 5], [0, 0]], bias: true, act: 'relu' },
  { x: [1, 3, 2, 2], f: [3, 3, 2, 16], s: 1, p: 'same' }, // no interior column at all
];

test('the direct conv matches cpu and, bitwise, its documented summation order (fused multiply-add, and unfused: XNNPACK\'s bits) (Cin 1-4 and 32, Cout 4-64, kernels 3/5, strides 1/2, valid/same/explicit pads, batch 1 and 37)', async (t) => {
  assert.ok(wasmFmaEnabled(), 'fused multiply-add is on by default (relaxed SIMD)');
  // Winograd takes the 3x3 stride-1 layers with 8+ input channels by default (wasmWinograd.test.ts).
  const winograd = setWinogradEnabled(false);
  t.after(() => setWinogradEnabled(winograd));
  for (const fused of [true, false]) {
    await withFma(fused, async () => {
      let seed = 1;
      for (const c of cases) {
        const xv = randoms(size(c.x), seed++);
        const wv = randoms(size(c.f), seed++);
        const bv = randoms(c.f[3], seed++);
        const label = `${JSON.stringify(c)}, fma ${fused}`;
        const [ref] = await on('cpu', convOp(c, xv, wv, bv));
        const calls = directKernelCalls().conv;
        const [got] = await on('wasm', convOp(c, xv, wv, bv));
        assert.equal(directKernelCalls().conv, calls + 1, `${label}: the direct kernel ran`);
        const e = relErr(ref, got);
        assert.ok(e <= 1e-5, `${label}: relative error ${e.toExponential(2)} against cpu`);
        const outShape = tf.tidy(() => convOp(c, xv, wv, bv)()[0].shape);
        assertSameBits(referenceConv(c, xv, wv, c.bias ? bv : null, outShape, multiplyAdd(fused)), got, `${label} against the documented order`);
        if (!fused) {
          const [xnn] = builtin(() => tf.tidy(convOp(c, xv, wv, bv)).map((t) => t.dataSync() as Float32Array));
          assertSameBits(xnn, got, `${label} against XNNPACK`);
        }
      }
    });
  }
});

test('with fused multiply-add on, the kernels round once: a sum that two roundings get wrong comes out right', async () => {
  // acc = 1 + 2^-23 (bias), x * w = 2^-24 - 2^-70: just below the float32 midpoint 1 + 2^-23 + 2^-24.
  // Fused: 1 + 2^-23. A rounded product (2^-24) then a rounded sum (a tie, to even): 1 + 2^-22.
  const x = [1 + 2 ** -23];
  const w = [2 ** -24 * (1 - 2 ** -23), 0, 0, 0];
  const b = [1 + 2 ** -23, 0, 0, 0];
  const conv = () =>
    tf.tidy(() => tf.fused.conv2d({ x: tf.tensor4d(x, [1, 1, 1, 1]), filter: tf.tensor4d(w, [1, 1, 1, 4]), bias: tf.tensor1d(b), strides: 1, pad: 'valid' }).dataSync()[0]);
  assert.equal(await withFma(true, conv), 1 + 2 ** -23);
  assert.equal(await withFma(false, conv), 1 + 2 ** -22);
  assert.equal(fma32(b[0], x[0], w[0]), 1 + 2 ** -23);
});

/** dW in the kernel's documented order: per image, a f32 sum over output pixels in order; dW += it image by image. */
function referenceFilterGrad(
  c: ConvCase, xv: Float32Array, dyv: Float32Array, outShape: number[], mac: (c: number, a: number, b: number) => number,
): Float32Array {
  const [N, H, W, CI] = c.x;
  const [KH, KW, , CO] = c.f;
  const [, OH, OW] = outShape;
  const [SH, SW] = typeof c.s === 'number' ? [c.s, c.s] : c.s;
  const [top, left] = padding(c, OH, OW);
  const f = Math.fround;
  const dw = new Float32Array(KH * KW * CI * CO);
  for (let n = 0; n < N; n++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        for (let ci = 0; ci < CI; ci++) {
          for (let co = 0; co < CO; co++) {
            let acc = 0;
            for (let oh = 0; oh < OH; oh++) {
              for (let ow = 0; ow < OW; ow++) {
                const ih = oh * SH + kh - top;
                const iw = ow * SW + kw - left;
                const xval = ih >= 0 && ih < H && iw >= 0 && iw < W ? xv[((n * H + ih) * W + iw) * CI + ci] : 0;
                acc = mac(acc, xval, dyv[((n * OH + oh) * OW + ow) * CO + co]);
              }
            }
            const i = ((kh * KW + kw) * CI + ci) * CO + co;
            dw[i] = f(dw[i] + acc);
          }
        }
      }
    }
  }
  return dw;
}

test('the direct filter gradient (Conv2DBackpropFilter) matches cpu and, bitwise, its documented order (fused and unfused), over the same geometries', async (t) => {
  // Winograd takes the 3x3 stride-1 filter gradients by default (wasmWinogradGrad.test.ts).
  const winograd = setWinogradFilterGradEnabled(false);
  t.after(() => setWinogradFilterGradEnabled(winograd));
  for (const fused of [true, false]) {
    await withFma(fused, async () => {
      let seed = 100;
      for (const c of cases) {
        const xv = randoms(size(c.x), seed++);
        const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as Tensor4D, tf.zeros(c.f) as Tensor4D, c.s, c.p as 'valid').shape);
        const dyv = randoms(size(outShape), seed++);
        const label = `${JSON.stringify(c)}, fma ${fused}`;
        const dW = (): Tensor[] => [
          tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor4d(xv, c.x), dy: tf.tensor(dyv, outShape) }, {
            strides: c.s, pad: c.p, dataFormat: 'NHWC', filterShape: c.f,
          }) as Tensor,
        ];
        const [ref] = await on('cpu', dW);
        const calls = directKernelCalls().filterGrad;
        const [got] = await on('wasm', dW);
        assert.equal(directKernelCalls().filterGrad, calls + 1, `${label}: the direct kernel ran`);
        const e = relErr(ref, got);
        assert.ok(e <= 1e-5, `${label}: relative error ${e.toExponential(2)} against cpu`);
        assertSameBits(referenceFilterGrad(c, xv, dyv, outShape, multiplyAdd(fused)), got, `${label} against the documented order`);
      }
    });
  }
  // Not handled (10 output channels): the XNNPACK composition, bitwise as in 'builtin' mode.
  const x = tf.tensor4d(randoms(2 * 9 * 9 * 3, 120), [2, 9, 9, 3]);
  const dy = tf.tensor4d(randoms(2 * 9 * 9 * 10, 121), [2, 9, 9, 10]);
  const run = () => tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 10] }) as Tensor).dataSync() as Float32Array);
  const calls = directKernelCalls().filterGrad;
  const got = run();
  assert.equal(directKernelCalls().filterGrad, calls, 'Cout 10: delegated');
  assertSameBits(got, builtin(run), 'Cout 10');
  tf.dispose([x, dy]);
});

test('the unfused first layer of a training step, Relu(Add(Conv2D)), gives bitwise what the built-in kernels give (unfused multiply-add)', async () => {
  const xv = randoms(5 * 28 * 28, 20);
  const wv = randoms(9 * 32, 21);
  const bv = randoms(32, 22);
  const layer = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xv, [5, 28, 28, 1]);
      return tf.relu(tf.add(tf.conv2d(x, tf.tensor4d(wv, [3, 3, 1, 32]), 1, 'valid'), tf.tensor1d(bv))).dataSync() as Float32Array;
    });
  assertSameBits(await withFma(false, layer), builtin(layer), 'unfused layer');
});

test('configurations the direct conv does not handle give bitwise what the built-in kernels give', () => {
  const run = (f: () => Tensor) => tf.tidy(() => f().dataSync() as Float32Array);
  const x = tf.tensor4d(randoms(2 * 9 * 9 * 3, 30), [2, 9, 9, 3]);
  const w10 = tf.tensor4d(randoms(3 * 3 * 3 * 10, 31), [3, 3, 3, 10]); // Cout not a multiple of 4
  const w16 = tf.tensor4d(randoms(3 * 3 * 3 * 16, 32), [3, 3, 3, 16]);
  const b16 = tf.tensor1d(randoms(16, 33));
  const alpha = tf.tensor1d(randoms(16, 34).map((v) => Math.abs(v) / 4));
  const big = tf.tensor4d(randoms(1 * 4 * 4 * 300, 35), [1, 4, 4, 300]); // more taps than DIRECT_CONV_MAX_TAPS
  const wBig = tf.tensor4d(randoms(3 * 3 * 300 * 8, 36), [3, 3, 300, 8]);
  assert.ok(3 * 3 * 300 > DIRECT_CONV_MAX_TAPS);
  const delegated: [string, () => Tensor][] = [
    ['Cout 10', () => tf.conv2d(x, w10, 1, 'same')],
    ['dilation 2', () => tf.conv2d(x, w16, 1, 'valid', 'NHWC', 2)],
    ['elu', () => tf.fused.conv2d({ x, filter: w16, bias: b16, strides: 1, pad: 'same', activation: 'elu' })],
    ['leakyrelu', () => tf.fused.conv2d({ x, filter: w16, bias: b16, strides: 1, pad: 'valid', activation: 'leakyrelu', leakyreluAlpha: 0.1 })],
    ['prelu', () => tf.fused.conv2d({ x, filter: w16, bias: b16, strides: 1, pad: 'valid', activation: 'prelu', preluActivationWeights: alpha })],
    ['too many taps', () => tf.conv2d(big, wBig, 1, 'same')],
  ];
  for (const [label, f] of delegated) {
    const calls = directKernelCalls().conv;
    const got = run(f);
    assert.equal(directKernelCalls().conv, calls, `${label}: delegated`);
    assertSameBits(got, builtin(() => run(f)), label);
  }
  tf.dispose([x, w10, w16, b16, alpha, big, wBig]);
});

test('a bias Add (either order, rank 2 and 4) matches the built-in bitwise; other Adds are the built-in', () => {
  const run = (f: () => Tensor) => tf.tidy(() => f().dataSync() as Float32Array);
  const x4 = tf.tensor4d(randoms(3 * 5 * 6 * 32, 40), [3, 5, 6, 32]);
  const b32 = tf.tensor1d(randoms(32, 41));
  const x2 = tf.tensor2d(randoms(7 * 12, 42), [7, 12]);
  const b12 = tf.tensor1d(randoms(12, 43));
  const x3 = tf.tensor2d(randoms(5 * 6, 44), [5, 6]);
  const b6 = tf.tensor1d(randoms(6, 45)); // C % 4 != 0: the built-in
  const ints = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], 'int32');
  const intBias = tf.tensor1d([1, 2, 3, 4], 'int32');
  const adds: [string, () => Tensor][] = [
    ['x4 + b', () => tf.add(x4, b32)],
    ['b + x4', () => tf.add(b32, x4)],
    ['x2 + b', () => tf.add(x2, b12)],
    ['C = 6', () => tf.add(x3, b6)],
    ['same shapes', () => tf.add(x4, x4)],
    ['int32', () => tf.add(ints, intBias).toFloat()],
  ];
  for (const [i, [label, f]] of adds.entries()) {
    const calls = directKernelCalls().biasAdd;
    const got = run(f);
    assert.equal(directKernelCalls().biasAdd, calls + (i < 3 ? 1 : 0), `${label}: ${i < 3 ? 'the SIMD bias add ran' : 'delegated'}`);
    assertSameBits(got, builtin(() => run(f)), label);
  }
  const direct = run(() => tf.add(x4, b32));
  const xs = x4.dataSync();
  const bs = b32.dataSync();
  for (let i = 0; i < direct.length; i++) assert.equal(direct[i], Math.fround(xs[i] + bs[i % 32]));
  tf.dispose([x4, b32, x2, b12, x3, b6, ints, intBias]);
});

test('chunk invariance: a 1000-image batch through the small CNN gives bitwise the logits of 4 x 250', () => {
  const spec = { type: 'cnn' as const, conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128] };
  const model = buildModel(tf, spec, [28, 28, 1], 10, 3);
  const x = tf.tensor4d(randoms(1000 * 784, 50).map((v) => (v + 1) / 2), [1000, 28, 28, 1]);
  const calls = directKernelCalls().conv;
  const winograd = winogradKernelCalls();
  const whole = tf.tidy(() => model.forward(x).dataSync() as Float32Array);
  assert.equal(directKernelCalls().conv, calls + 1, 'the first conv layer ran directly');
  assert.equal(winogradKernelCalls(), winograd + 1, 'the second by Winograd');
  const parts = tf.tidy(() =>
    tf.concat([0, 250, 500, 750].map((s) => model.forward(x.slice([s, 0, 0, 0], [250, -1, -1, -1]) as Tensor4D)), 0).dataSync() as Float32Array,
  );
  assertSameBits(whole, parts, '1000 vs 4 x 250');
  // A padded first layer alone (FusedConv2D; padding makes a copy of the batch), odd chunk sizes.
  const w = tf.tensor4d(randoms(9 * 32, 51), [3, 3, 1, 32]);
  const b = tf.tensor1d(randoms(32, 52));
  const layer = (t: Tensor4D) => tf.fused.conv2d({ x: t, filter: w, bias: b, strides: 1, pad: 'same', activation: 'relu' });
  const first = tf.tidy(() => layer(x.slice([0, 0, 0, 0], [101, -1, -1, -1]) as Tensor4D).dataSync() as Float32Array);
  const split = tf.tidy(() =>
    tf.concat([layer(x.slice([0, 0, 0, 0], [37, -1, -1, -1]) as Tensor4D), layer(x.slice([37, 0, 0, 0], [64, -1, -1, -1]) as Tensor4D)], 0).dataSync() as Float32Array,
  );
  assertSameBits(first, split, '101 vs 37 + 64');
  tf.dispose([x, w, b, ...model.params.map((p) => p.variable)]);
});

test('a worker thread computes the same bits (same code)', async () => {
  const c: ConvCase = { x: [6, 28, 28, 1], f: [3, 3, 1, 32], s: 1, p: 'valid', bias: true, act: 'relu' };
  const xv = randoms(size(c.x), 60);
  const wv = randoms(size(c.f), 61);
  const bv = randoms(32, 62);
  const [main] = await on('wasm', convOp(c, xv, wv, bv));
  const fromWorker = await inWasmWorker<Float32Array>(
    `const { xv, wv, bv } = workerData;
    const y = tf.fused.conv2d({ x: tf.tensor4d(xv, [6, 28, 28, 1]), filter: tf.tensor4d(wv, [3, 3, 1, 32]), bias: tf.tensor1d(bv), strides: 1, pad: 'valid', activation: 'relu' });
    return y.dataSync();`,
    { xv, wv, bv },
  );
  assertSameBits(main, fromWorker, 'main thread vs worker');
});

test('small CNN training step: every parameter gradient matches cpu; the same seed gives the same bits', async () => {
  const spec = { type: 'cnn' as const, conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128] };
  const xv = randoms(6 * 784, 70).map((v) => (v + 1) / 2);
  const labels = [3, 7, 1, 0, 9, 4];
  const grads = () => {
    const model = buildModel(tf, spec, [28, 28, 1], 10, 5);
    const vars = model.params.map((p) => p.variable);
    const x = tf.tensor4d(xv, [6, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();
    const { grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)) as ReturnType<TF['scalar']>, vars);
    const out = vars.map((v) => g[v.name]);
    tf.dispose(vars);
    return out;
  };
  const ref = await on('cpu', grads);
  const calls = directKernelCalls();
  const winograd = winogradKernelCalls();
  const winogradFilterGrads = winogradFilterGradCalls();
  const got = await on('wasm', grads);
  // conv1 forward and filter gradient directly; conv2 forward, its input gradient (a stride-1 convolution of dy) and its filter gradient by Winograd.
  assert.equal(directKernelCalls().conv, calls.conv + 1, 'the direct convolution ran in the step');
  assert.equal(winogradKernelCalls(), winograd + 2, 'Winograd ran in the step');
  assert.equal(directKernelCalls().filterGrad, calls.filterGrad + 1, 'the direct filter gradient ran in the step (conv1)');
  assert.equal(winogradFilterGradCalls(), winogradFilterGrads + 1, 'the Winograd filter gradient ran in the step (conv2)');
  const again = await on('wasm', grads);
  ref.forEach((r, i) => {
    const e = relErr(r, got[i]);
    assert.ok(e <= 1e-4, `gradient ${i}: relative error ${e.toExponential(2)}`);
    assertSameBits(got[i], again[i], `gradient ${i}, second run`);
  });
});
