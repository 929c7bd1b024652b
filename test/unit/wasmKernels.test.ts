// The engine's wasm training kernels against tfjs's cpu backend (the reference), on random inputs.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from '../../src/engine/backend/index';
import {
  registerWasmTrainingKernels,
  setWasmSimdKernelsEnabled,
  WASM_TRAINING_KERNELS,
} from '../../src/engine/backend/wasmKernels';
import type { TF, Tensor, Tensor4D, Variable } from '../../src/engine/models/types';
import { on as onBackend, randoms, relErr, size } from '../helpers/kernels';

let tf: TF;
before(async () => {
  tf = (await loadBackend('wasm')).tf;
});

const on = (backend: 'cpu' | 'wasm', f: () => Tensor[]) => onBackend(tf, backend, f);

const TOL = 1e-4;

async function compare(label: string, f: () => Tensor[]): Promise<void> {
  const ref = await on('cpu', f);
  const got = await on('wasm', f);
  ref.forEach((r, i) => {
    const e = relErr(r, got[i]);
    assert.ok(e <= TOL, `${label} output ${i}: relative error ${e.toExponential(2)} > ${TOL}`);
  });
}

test('the training kernels are registered on wasm, once', () => {
  for (const name of WASM_TRAINING_KERNELS) {
    const k = tf.getKernel(name, 'wasm') as unknown as { kernelFunc: Record<symbol, unknown> } | undefined;
    assert.ok(k, `${name} is registered`);
    assert.match(String(k.kernelFunc[Symbol.for('continual-workbench.wasmKernel')]), /^fast:/, `${name} is the engine's`);
  }
  assert.deepEqual(registerWasmTrainingKernels(tf), [], 'a second registration changes nothing');
});

type ConvCase = { x: number[]; f: number[]; s: number; p: 'valid' | 'same' };
const convCases: ConvCase[] = [
  // first layer of the small CNN (direct SIMD filter gradient: 1 input channel, 32 outputs)
  { x: [8, 28, 28, 1], f: [3, 3, 1, 32], s: 1, p: 'valid' },
  // second layer (XNNPACK paths)
  { x: [4, 13, 13, 32], f: [3, 3, 32, 64], s: 1, p: 'valid' },
  { x: [1, 9, 9, 3], f: [3, 3, 3, 16], s: 2, p: 'valid' },
  { x: [3, 8, 7, 3], f: [3, 3, 3, 5], s: 2, p: 'same' },
  { x: [2, 8, 9, 2], f: [3, 3, 2, 32], s: 1, p: 'same' },
  { x: [1, 10, 10, 1], f: [5, 4, 1, 16], s: 2, p: 'same' },
  { x: [2, 8, 8, 6], f: [4, 4, 6, 7], s: 1, p: 'same' },
  { x: [2, 11, 10, 8], f: [2, 2, 8, 4], s: 2, p: 'valid' },
];

function convGrads(c: ConvCase, seed: number) {
  const xv = randoms(size(c.x), seed);
  const fv = randoms(size(c.f), seed + 1);
  return () => {
    const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
    const f = tf.tensor4d(fv, c.f as [number, number, number, number]);
    const yShape = tf.conv2d(x, f, c.s, c.p).shape;
    const w = tf.tensor(randoms(size(yShape), seed + 2), yShape);
    const g = tf.grads((a: Tensor, b: Tensor) => tf.conv2d(a as Tensor4D, b as Tensor4D, c.s, c.p).mul(w).sum());
    return g([x, f]);
  };
}

test('Conv2DBackpropInput and Conv2DBackpropFilter match cpu (valid/same, strides 1/2, batch 1 and more)', async () => {
  let seed = 10;
  for (const c of convCases) await compare(`conv2d ${JSON.stringify(c)}`, convGrads(c, (seed += 3)));
});

test('conv gradients match cpu with the JS fallbacks (SIMD module off)', async () => {
  const previous = setWasmSimdKernelsEnabled(false);
  try {
    await compare('conv2d first layer, JS', convGrads(convCases[0], 99));
    await compare('conv2d stride 2 same, JS', convGrads(convCases[5], 98));
    await compare('conv2d second layer, JS', convGrads(convCases[1], 97));
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
});

test('fused conv2d + bias + relu (as the models use it) matches cpu', async () => {
  const xv = randoms(4 * 12 * 12 * 3, 5);
  const fv = randoms(3 * 3 * 3 * 16, 6);
  const bv = randoms(16, 7);
  await compare('fused conv2d', () => {
    const x = tf.tensor4d(xv, [4, 12, 12, 3]);
    const f = tf.tensor4d(fv, [3, 3, 3, 16]);
    const b = tf.tensor1d(bv);
    const g = tf.grads((a: Tensor, k: Tensor, c: Tensor) =>
      tf.maxPool(tf.fused.conv2d({ x: a as Tensor4D, filter: k as Tensor4D, bias: c, strides: 1, pad: 'same', activation: 'relu' }), 2, 2, 'valid').square().sum(),
    );
    return g([x, f, b]);
  });
});

type PoolCase = { x: number[]; k: number; s: number; p: 'valid' | 'same' };
const poolCases: PoolCase[] = [
  { x: [4, 26, 26, 32], k: 2, s: 2, p: 'valid' }, // the small CNN's first pool (windows tile the input)
  { x: [2, 9, 9, 8], k: 3, s: 3, p: 'valid' }, // 3x3 windows tiling the input
  { x: [2, 11, 11, 64], k: 2, s: 2, p: 'valid' }, // its second (drops the last row and column)
  { x: [2, 7, 7, 8], k: 3, s: 2, p: 'same' }, // overlapping windows + padding
  { x: [1, 7, 6, 4], k: 3, s: 1, p: 'same' },
  { x: [3, 6, 6, 3], k: 2, s: 2, p: 'valid' }, // channels not a multiple of 4 (JS path)
  { x: [2, 7, 7, 5], k: 3, s: 2, p: 'same' },
];

function poolGrad(c: PoolCase, seed: number) {
  // Quantised and relu'd: many ties (zeros, equal values) in a window, as after a relu.
  const xv = randoms(size(c.x), seed, 4);
  return () => {
    const x = tf.relu(tf.tensor4d(xv, c.x as [number, number, number, number]));
    const yShape = tf.maxPool(x, c.k, c.s, c.p).shape;
    const w = tf.tensor(randoms(size(yShape), seed + 1), yShape);
    return [tf.grad((a: Tensor) => tf.maxPool(a as Tensor4D, c.k, c.s, c.p).mul(w).sum())(x)];
  };
}

test('MaxPoolGrad matches cpu, ties included (first maximum of a window wins)', async () => {
  let seed = 40;
  for (const c of poolCases) await compare(`maxPool ${JSON.stringify(c)}`, poolGrad(c, (seed += 2)));
  const previous = setWasmSimdKernelsEnabled(false);
  try {
    for (const c of poolCases.slice(0, 4)) await compare(`maxPool JS ${JSON.stringify(c)}`, poolGrad(c, (seed += 2)));
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
});

test('BatchMatMul with transposed operands matches cpu', async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[64, 128], [1600, 128], false, true], // dense input gradient
    [[64, 1600], [64, 128], true, false], // dense weight gradient
    [[5, 7], [9, 5], true, true],
    [[3, 7], [5, 7], false, true],
    [[7, 3], [7, 5], true, false],
    [[1, 6, 4], [1, 6, 3], true, false], // single product with a batch dimension of 1
    [[2, 6, 4], [2, 6, 3], true, false], // batched: the built-in
  ];
  let seed = 70;
  for (const [sa, sb, ta, tb] of cases) {
    const av = randoms(size(sa), (seed += 2));
    const bv = randoms(size(sb), seed + 1);
    await compare(`matMul ${sa} ${sb} ${ta} ${tb}`, () => [tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), ta, tb)]);
  }
});

test('Sum over leading axes (bias gradients) matches cpu; other reductions unchanged', async () => {
  const v = randoms(8 * 26 * 26 * 32, 80);
  const w = randoms(5 * 6 * 7, 81);
  await compare('sum', () => {
    const x = tf.tensor4d(v, [8, 26, 26, 32]);
    const y = tf.tensor3d(w, [5, 6, 7]);
    return [tf.sum(x, [0, 1, 2]), tf.sum(x, [0, 1, 2], true), tf.sum(y, 0), tf.sum(y, [0, 1]), tf.sum(y, 2), tf.sum(y, [1, 2]), tf.sum(y)];
  });
  const previous = setWasmSimdKernelsEnabled(false);
  try {
    await compare('sum JS', () => [tf.sum(tf.tensor4d(v, [8, 26, 26, 32]), [0, 1, 2])]);
  } finally {
    setWasmSimdKernelsEnabled(previous);
  }
});

test('Identity shares data safely (clone, dispose, variables)', () => {
  const a = tf.tensor1d([1, 2, 3]);
  const b = a.clone();
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  const v = tf.variable(b);
  v.assign(tf.tensor1d([4, 5, 6]));
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(v.dataSync()), [4, 5, 6]);
  tf.dispose([b, v]);
});

test('Cast to the same dtype shares data (no copy); other casts convert', () => {
  const a = tf.tensor1d([1.5, -2.25, 3]);
  const b = tf.cast(a, 'float32');
  assert.equal(b.dataId, a.dataId, 'a same-dtype cast shares the data');
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1.5, -2.25, 3]);
  const i = tf.cast(b, 'int32');
  assert.equal(i.dtype, 'int32');
  assert.notEqual(i.dataId, b.dataId);
  assert.deepEqual(Array.from(i.dataSync()), [1, -2, 3]);
  const f = tf.cast(tf.tensor1d([7, 8], 'int32'), 'float32');
  assert.deepEqual(Array.from(f.dataSync()), [7, 8]);
  // relu's gradient (dy * cast(step(x))) is unchanged.
  const x = tf.tensor1d([-1, 0.5, 2]);
  const g = tf.grad((t: Tensor) => tf.sum(tf.mul(tf.relu(t), tf.tensor1d([3, 4, 5]))))(x);
  assert.deepEqual(Array.from(g.dataSync()), [0, 4, 5]);
  tf.dispose([b, i, f, x, g]);
});

test('unsupported configurations throw a clear error', () => {
  const x = tf.zeros([1, 4, 4, 2]);
  const dy = tf.zeros([1, 2, 2, 3]);
  assert.throws(
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] }),
    /Conv2DBackpropFilter on wasm: only dataFormat 'NHWC'/,
  );
  tf.dispose([x, dy]);
});

/** The small CNN (scaled down in batch) as plain ops over variables. */
function smallCnn(seed: number) {
  const shapes: [string, number[], number][] = [
    ['w1', [3, 3, 1, 32], 9], ['b1', [32], 9], ['w2', [3, 3, 32, 64], 288], ['b2', [64], 288],
    ['w3', [1600, 128], 1600], ['b3', [128], 1600], ['w4', [128, 10], 128], ['b4', [10], 128],
  ];
  const values = shapes.map(([, shape, fanIn], i) => randoms(size(shape), seed + i).map((v) => v / Math.sqrt(fanIn)));
  const make = () => shapes.map(([name, shape], i) => tf.variable(tf.tensor(values[i], shape), true, `${name}_${seed}_${Math.random()}`));
  const loss = (vars: Variable[], x: Tensor4D, y: Tensor) => {
    const [w1, b1, w2, b2, w3, b3, w4, b4] = vars as unknown as Tensor[];
    let h = tf.fused.conv2d({ x, filter: w1 as Tensor4D, bias: b1, strides: 1, pad: 'valid', activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h, filter: w2 as Tensor4D, bias: b2, strides: 1, pad: 'valid', activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    let z = tf.reshape(h, [x.shape[0], 1600]) as unknown as Tensor;
    z = tf.fused.matMul({ a: z as never, b: w3 as never, bias: b3, activation: 'relu' });
    z = tf.fused.matMul({ a: z as never, b: w4 as never, bias: b4 });
    return tf.losses.softmaxCrossEntropy(y, z) as ReturnType<TF['scalar']>;
  };
  return { make, loss };
}

test('the whole small CNN: every parameter gradient matches cpu', async () => {
  const net = smallCnn(200);
  const xv = randoms(3 * 28 * 28, 300).map((v) => (v + 1) / 2);
  const labels = [3, 7, 1];
  const grads = () => {
    const vars = net.make();
    const x = tf.tensor4d(xv, [3, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();
    const { grads: g } = tf.variableGrads(() => net.loss(vars, x, y), vars);
    const out = vars.map((v) => g[v.name]);
    tf.dispose(vars);
    return out;
  };
  await compare('small CNN gradients', grads);
});

test('a few Adam steps of the small CNN on wasm reduce the loss on fixed data', async () => {
  await tf.setBackend('wasm');
  const net = smallCnn(400);
  const vars = net.make();
  const n = 16;
  const x = tf.tensor4d(randoms(n * 28 * 28, 500).map((v) => (v + 1) / 2), [n, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7) % 10), 'int32'), 10).toFloat();
  const opt = tf.train.adam(3e-3);
  const losses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const l = opt.minimize(() => net.loss(vars, x, y), true, vars)!;
    losses.push(l.dataSync()[0]);
    l.dispose();
  }
  opt.dispose();
  tf.dispose([x, y, ...vars]);
  assert.ok(losses.every(Number.isFinite), `finite losses: ${losses}`);
  assert.ok(losses[losses.length - 1] < losses[0] * 0.7, `loss fell: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
});

test("'builtin' mode restores tfjs's own kernels (Conv2D, FusedConv2D and Add included); 'fast' brings the engine's back", () => {
  const tag = (name: string) =>
    (tf.getKernel(name, 'wasm') as unknown as { kernelFunc: Record<symbol, unknown> } | undefined)?.kernelFunc[Symbol.for('continual-workbench.wasmKernel')];
  try {
    const changed = registerWasmTrainingKernels(tf, { mode: 'builtin' });
    for (const name of ['Conv2D', 'FusedConv2D', 'Add']) {
      assert.ok(changed.includes(name), `${name} changed`);
      assert.ok(tf.getKernel(name, 'wasm'), `${name} is registered`);
      assert.equal(tag(name), undefined, `${name} is tfjs's own`);
    }
  } finally {
    registerWasmTrainingKernels(tf, { mode: 'fast' });
  }
  for (const name of WASM_TRAINING_KERNELS) assert.match(String(tag(name)), /^fast:/, `${name} is the engine's again`);
});
