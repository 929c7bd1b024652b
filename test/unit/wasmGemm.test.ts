// The direct SIMD matrix product on wasm (src/engine/backend/wasmGemm.ts, registered as BatchMatMul and
// _FusedMatMul by wasmKernels.ts): against tfjs's cpu backend over shapes and all four transpose
// combinations, bitwise against XNNPACK for the forward product, delegation of what it does not
// handle, row-chunk invariance, the same bits on a worker thread, and MLP / small-CNN gradients.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from '../../src/engine/backend/index';
import { setWasmSimdKernelsEnabled } from '../../src/engine/backend/wasmKernels';
import { directGemmCalls } from '../../src/engine/backend/wasmGemm';
import { buildModel } from '../../src/engine/models/build';
import type { ResolvedModelSpec as ModelSpec } from '../../src/protocol/experiment';
import type { TF, Tensor, Tensor2D, Tensor4D } from '../../src/engine/models/types';
import { assertSameBits, inWasmWorker, builtin as builtinOn, fma32, on as onBackend, randoms, relErr, size, withFma } from '../helpers/kernels';

let tf: TF;
before(async () => {
  tf = (await loadBackend('wasm')).tf;
});

const on = (backend: 'cpu' | 'wasm', f: () => Tensor[]) => onBackend(tf, backend, f);
const builtin = <T>(f: () => T): T => builtinOn(tf, f);

/** The values of tensors made by f on wasm (tidied). */
function run(f: () => Tensor | Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const r = f();
    return (Array.isArray(r) ? r : [r]).map((t) => t.dataSync() as Float32Array);
  });
}

/** [a shape, b shape] of op(a)·op(b) = [m, k]·[k, n] stored as the transposes ask. */
function operandShapes(m: number, k: number, n: number, tA: boolean, tB: boolean, lead: number[] = []): [number[], number[]] {
  return [[...lead, ...(tA ? [k, m] : [m, k])], [...lead, ...(tB ? [n, k] : [k, n])]];
}

test('the direct GEMM matches cpu over dense-layer and odd shapes, all four transpose combinations, rank 3 with batch 1', async () => {
  const dims: [number, number, number][] = [
    [64, 784, 400], // the MLP's first layer (k in chunks of terms)
    [64, 400, 10], // its output layer (10 columns: a block of 8, then 2 single columns)
    [1, 5, 3],
    [7, 13, 37],
    [33, 29, 21],
    [64, 1600, 128], // the small CNN's dense layer
    [5, 1, 6], // one term
    [1, 300, 1],
  ];
  let seed = 10;
  for (const [m, k, n] of dims) {
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const lead of m === 7 || m === 1 ? [[], [1]] : [[]]) {
        const [sa, sb] = operandShapes(m, k, n, tA, tB, lead);
        const av = randoms(size(sa), (seed += 2));
        const bv = randoms(size(sb), seed + 1);
        const f = () => [tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), tA, tB)];
        const label = `[${m},${k}]x[${k},${n}] tA=${tA} tB=${tB} lead=[${lead}]`;
        const [ref] = await on('cpu', f);
        const calls = directGemmCalls().gemm;
        const [got] = await on('wasm', f);
        assert.equal(directGemmCalls().gemm, calls + 1, `${label}: the direct GEMM ran`);
        const e = relErr(ref, got);
        assert.ok(e <= 1e-5, `${label}: relative error ${e.toExponential(2)}`);
        const shape = tf.tidy(() => tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), tA, tB).shape);
        assert.deepEqual(shape, [...lead, m, n], `${label}: shape`);
      }
    }
  }
});

test('without the SIMD module, products (transposed ones through XNNPACK after explicit transposes) still match cpu', async () => {
  const previous = setWasmSimdKernelsEnabled(false);
  try {
    let seed = 100;
    for (const [m, k, n] of [[64, 400, 10], [7, 13, 37]] as [number, number, number][]) {
      for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const [sa, sb] = operandShapes(m, k, n, tA, tB);
        const av = randoms(size(sa), (seed += 2));
        const bv = randoms(size(sb), seed + 1);
        const f = () => [tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), tA, tB)];
        const [ref] = await on('cpu', f);
        const calls = directGemmCalls().gemm;
        const [got] = await on('wasm', f);
        assert.equal(directGemmCalls().gemm, calls, 'no direct GEMM');
        const e = relErr(ref, got);
        assert.ok(e <= 1e-5, `[${m},${k}]x[${k},${n}] tA=${tA} tB=${tB}: relative error ${e.toExponential(2)}`);
      }
    }
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
});

test('the forward product (BatchMatMul, _FusedMatMul with bias and linear/relu) is bitwise XNNPACK\'s with unfused multiply-add, and its documented order with fused', async () => {
  await withFma(false, forwardProducts);
  // Fused: out = [relu](bias or 0, then acc = fma(a, b, acc) over k in order).
  await withFma(true, () => {
    for (const [m, k, n] of [[37, 29, 21], [64, 784, 40]] as [number, number, number][]) {
      const av = randoms(m * k, m + k);
      const bv = randoms(k * n, n);
      const biasv = randoms(n, k);
      const [got] = run(() => tf.fused.matMul({ a: tf.tensor2d(av, [m, k]), b: tf.tensor2d(bv, [k, n]), bias: tf.tensor1d(biasv), activation: 'relu' }));
      const ref = new Float32Array(m * n);
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < n; c++) {
          let acc = biasv[c];
          for (let p = 0; p < k; p++) acc = fma32(acc, av[r * k + p], bv[p * n + c]);
          ref[r * n + c] = acc > 0 ? acc : 0;
        }
      }
      assertSameBits(ref, got, `fused [${m},${k}]x[${k},${n}]`);
    }
  });
});

function forwardProducts(): void {
  const dims: [number, number, number][] = [[64, 784, 400], [64, 400, 10], [1, 5, 3], [37, 29, 21], [250, 1600, 128]];
  let seed = 200;
  let negatives = 0;
  for (const [m, k, n] of dims) {
    const a = tf.tensor2d(randoms(m * k, (seed += 3)), [m, k]);
    const b = tf.tensor2d(randoms(k * n, seed + 1), [k, n]);
    const bias = tf.tensor1d(randoms(n, seed + 2));
    const ops: [string, () => Tensor][] = [
      ['matMul', () => tf.matMul(a, b)],
      ['fused linear + bias', () => tf.fused.matMul({ a, b, bias, activation: 'linear' })],
      ['fused relu + bias', () => tf.fused.matMul({ a, b, bias, activation: 'relu' })],
      ['fused relu', () => tf.fused.matMul({ a, b, activation: 'relu' })],
    ];
    for (const [name, f] of ops) {
      const calls = directGemmCalls().gemm;
      const [got] = run(f);
      assert.equal(directGemmCalls().gemm, calls + 1, `${name} [${m},${k}]x[${k},${n}]: the direct GEMM ran`);
      assertSameBits(got, builtin(() => run(f))[0], `${name} [${m},${k}]x[${k},${n}]`);
    }
    // relu zeroes what linear leaves negative, and nothing else.
    const [lin] = run(() => tf.fused.matMul({ a, b, bias }));
    const [rel] = run(() => tf.fused.matMul({ a, b, bias, activation: 'relu' }));
    negatives += lin.filter((v) => v < 0).length;
    lin.forEach((v, i) => assert.equal(rel[i], v > 0 ? v : 0));
    tf.dispose([a, b, bias]);
  }
  assert.ok(negatives > 1000, 'relu had outputs to zero');
}

test('configurations the direct GEMM does not handle give bitwise what the built-in kernels give', () => {
  const a3 = tf.tensor3d(randoms(2 * 6 * 5, 300), [2, 6, 5]);
  const b3 = tf.tensor3d(randoms(2 * 5 * 7, 301), [2, 5, 7]);
  const a = tf.tensor2d(randoms(6 * 5, 302), [6, 5]);
  const b = tf.tensor2d(randoms(5 * 7, 303), [5, 7]);
  const ai = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32');
  const bi = tf.tensor2d([1, -1, 2, 0, 3, 1], [3, 2], 'int32');
  const bias7 = tf.tensor1d(randoms(7, 304));
  const cases: [string, () => Tensor][] = [
    ['batched (batch 2)', () => tf.matMul(a3, b3)],
    ['batched, transposed', () => tf.matMul(a3, b3.transpose([0, 2, 1]), false, true)],
    ['fused elu', () => tf.fused.matMul({ a, b, bias: bias7, activation: 'elu' })],
    ['fused leakyrelu', () => tf.fused.matMul({ a, b, bias: bias7, activation: 'leakyrelu', leakyreluAlpha: 0.1 })],
    ['fused relu6', () => tf.fused.matMul({ a, b, bias: bias7, activation: 'relu6' })],
    ['fused, batched', () => tf.fused.matMul({ a: a3, b: b3, activation: 'relu' })],
  ];
  for (const [label, f] of cases) {
    const calls = directGemmCalls().gemm;
    const got = run(f)[0];
    // (the transpose in 'batched, transposed' is not a product)
    assert.equal(directGemmCalls().gemm, calls, `${label}: delegated`);
    assertSameBits(got, builtin(() => run(f))[0], label);
  }
  // int32: tfjs's wasm backend has no integer product; the same error either way.
  const message = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  const err = message(() => tf.matMul(ai, bi));
  assert.match(err, /float32/);
  assert.equal(builtin(() => message(() => tf.matMul(ai, bi))), err);
  tf.dispose([a3, b3, a, b, ai, bi, bias7]);
});

test('row-chunk invariance: 1000 rows give bitwise the outputs of 4 x 250 (an MLP\'s logits, and every transpose form)', () => {
  const spec: ModelSpec = { type: 'mlp', hidden: [400, 400] };
  const model = buildModel(tf, spec, [28, 28, 1], 10, 3);
  const x = tf.tensor4d(randoms(1000 * 784, 50).map((v) => (v + 1) / 2), [1000, 28, 28, 1]);
  const calls = directGemmCalls().gemm;
  const whole = tf.tidy(() => model.forward(x).dataSync() as Float32Array);
  assert.equal(directGemmCalls().gemm, calls + 3, 'all three layers ran directly');
  const parts = tf.tidy(
    () => tf.concat([0, 250, 500, 750].map((s) => model.forward(x.slice([s, 0, 0, 0], [250, -1, -1, -1]) as Tensor4D)), 0).dataSync() as Float32Array,
  );
  assertSameBits(whole, parts, 'MLP logits, 1000 vs 4 x 250');
  // Output rows i of op(a)·op(b) from rows (or, transposed, columns) i of a only; odd chunk sizes.
  const w = tf.tensor2d(randoms(37 * 19, 51), [37, 19]);
  const wt = w.transpose() as Tensor2D;
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const rows = (s: number, len: number) => {
      const a = tf.tensor2d(randoms(1000 * 37, 52).subarray(s * 37, (s + len) * 37), [len, 37]);
      return tf.matMul(tA ? a.transpose() : a, tB ? wt : w, tA, tB);
    };
    const one = run(() => rows(0, 101))[0];
    const split = run(() => tf.concat([rows(0, 37), rows(37, 64)], 0))[0];
    assertSameBits(one, split, `tA=${tA} tB=${tB}: 101 vs 37 + 64 rows`);
  }
  tf.dispose([x, w, wt, ...model.params.map((p) => p.variable)]);
});

test('a worker thread computes the same bits (same code)', async () => {
  const av = randoms(64 * 400, 60);
  const bv = randoms(400 * 10, 61);
  const cv = randoms(10, 62);
  const f = () => {
    const a = tf.tensor2d(av, [64, 400]);
    const b = tf.tensor2d(bv, [400, 10]);
    return [tf.fused.matMul({ a, b, bias: tf.tensor1d(cv), activation: 'relu' }), tf.matMul(a, b.transpose(), false, true), tf.matMul(a, a, true, false)];
  };
  const main = await on('wasm', f);
  const fromWorker = await inWasmWorker<Float32Array[]>(
    `const { av, bv, cv } = workerData;
    const a = tf.tensor2d(av, [64, 400]);
    const b = tf.tensor2d(bv, [400, 10]);
    const ys = [tf.fused.matMul({ a, b, bias: tf.tensor1d(cv), activation: 'relu' }), tf.matMul(a, b.transpose(), false, true), tf.matMul(a, a, true, false)];
    return ys.map((y) => y.dataSync());`,
    { av, bv, cv },
  );
  main.forEach((v, i) => assertSameBits(v, fromWorker[i], `product ${i}: main thread vs worker`));
});

/** Every parameter gradient of one cross-entropy step of a model (built from its seed on the active backend). */
function gradients(spec: ModelSpec, xv: Float32Array, labels: number[]) {
  return (): Tensor[] => {
    const model = buildModel(tf, spec, [28, 28, 1], 10, 5);
    const vars = model.params.map((p) => p.variable);
    const x = tf.tensor4d(xv, [labels.length, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();
    const { grads: g } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forward(x)) as ReturnType<TF['scalar']>, vars);
    const out = vars.map((v) => g[v.name]);
    tf.dispose(vars);
    return out;
  };
}

for (const [name, spec, batch, products] of [
  // forward x3, dx x2 (not the input's), dW x3
  ['MLP 784-400-400-10', { type: 'mlp', hidden: [400, 400] }, 19, 8],
  // the dense layers: forward x2, dx x2 (the first one's is conv2's dy), dW x2
  ['small CNN', { type: 'cnn', conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128] }, 6, 6],
] as [string, ModelSpec, number, number][]) {
  test(`${name} training step: every parameter gradient matches cpu; the same seed gives the same bits${spec.type === 'mlp' ? '; weight gradients (unfused multiply-add) are bitwise the XNNPACK products' : ''}`, async () => {
    const xv = randoms(batch * 784, 70).map((v) => (v + 1) / 2);
    const labels = Array.from({ length: batch }, (_, i) => (i * 7) % 10);
    const f = gradients(spec, xv, labels);
    const ref = await on('cpu', f);
    const calls = directGemmCalls().gemm;
    const got = await on('wasm', f);
    assert.equal(directGemmCalls().gemm, calls + products, 'every product of the step ran directly');
    const again = await on('wasm', f);
    ref.forEach((r, i) => {
      const e = relErr(r, got[i]);
      assert.ok(e <= 1e-4, `gradient ${i}: relative error ${e.toExponential(2)}`);
      assertSameBits(got[i], again[i], `gradient ${i}, second run`);
    });
    if (spec.type === 'mlp') {
      // Weight gradients: the same sums in the same order as XNNPACK after explicit transposes (the
      // engine's products before this kernel). Bias gradients are Sums, whose JS fallback differs.
      await withFma(false, async () => {
        const unfused = await on('wasm', f);
        const previous = setWasmSimdKernelsEnabled(false);
        try {
          const viaXnnpack = await on('wasm', f);
          for (let i = 0; i < got.length; i += 2) assertSameBits(unfused[i], viaXnnpack[i], `weight gradient ${i} vs XNNPACK`);
        } finally {
          setWasmSimdKernelsEnabled(previous);
        }
      });
    }
  });
}
