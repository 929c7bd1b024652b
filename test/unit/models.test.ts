import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { buildModel, convOutputSize } from '../../src/engine/models/build';
import { loadBackend } from '../../src/engine/backend';

const smallCnn = { type: 'cnn' as const, conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128] };

test('conv stack output size, and where it breaks', () => {
  assert.deepEqual(convOutputSize([28, 28, 1], smallCnn.conv), { shape: [5, 5, 64] });
  const broken = convOutputSize([28, 28, 1], [...smallCnn.conv, { filters: 8, kernel: 3, pool: 2 }, { filters: 8, kernel: 3 }]);
  assert.ok('error' in broken);
  // 28 -> 26 -> 13 -> 11 -> 5 -> 3 -> 1: the fourth 3x3 conv gets a 1x1 input
  assert.equal(broken.layer, 3);
  assert.match(broken.error, /3x3 conv gets a 1x1 input/);
});

test('small-cnn and mlp have the parameter counts of the PyTorch reference', async () => {
  const { tf } = await loadBackend('wasm');
  const cnn = buildModel(tf, smallCnn, [28, 28, 1], 10, 0);
  assert.equal(cnn.parameterCount, 225034); // torch_reference.py: "small: 225034 params"
  assert.deepEqual(cnn.params.map((p) => p.name), ['conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias', 'dense1/kernel', 'dense1/bias', 'dense2/kernel', 'dense2/bias']);
  const mlp = buildModel(tf, { type: 'mlp', hidden: [400, 400] }, [28, 28, 1], 10, 0);
  assert.equal(mlp.parameterCount, 784 * 400 + 400 + 400 * 400 + 400 + 400 * 10 + 10);
  const logits = tf.tidy(() => cnn.forward(tf.zeros([3, 28, 28, 1])));
  assert.deepEqual(logits.shape, [3, 10]);
  logits.dispose();
  cnn.dispose();
  mlp.dispose();
});

test('initialisation is seeded and bounded like PyTorch (U(-1/sqrt(fan_in), 1/sqrt(fan_in)))', async () => {
  const { tf } = await loadBackend('wasm');
  const a = buildModel(tf, smallCnn, [28, 28, 1], 10, 7);
  const b = buildModel(tf, smallCnn, [28, 28, 1], 10, 7);
  const c = buildModel(tf, smallCnn, [28, 28, 1], 10, 8);
  const flat = (m: typeof a) => m.params.map((p) => Array.from(p.variable.dataSync()));
  assert.deepEqual(flat(a), flat(b));
  assert.notDeepEqual(flat(a), flat(c));
  const dense1 = Array.from(a.params[4].variable.dataSync());
  const bound = 1 / Math.sqrt(1600);
  const largest = dense1.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(largest <= bound && largest > 0.99 * bound, `largest |w| ${largest}, bound ${bound}`);
  for (const m of [a, b, c]) m.dispose();
});

test('features are what the output layer reads: the last dense layer applied to them gives forward, bit for bit', async () => {
  const { tf } = await loadBackend('wasm');
  for (const spec of [smallCnn, { type: 'mlp' as const, hidden: [32, 16] }, { type: 'mlp' as const, hidden: [] as number[] }]) {
    const model = buildModel(tf, spec, [28, 28, 1], 10, 5);
    const x = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 9) as tfjs.Tensor4D;
    const [kernel, bias] = model.params.slice(-2).map((p) => p.variable);
    const [features, logits, relogits] = tf.tidy(() => {
      const f = model.features!(x);
      const again = tf.fused.matMul({ a: f, b: kernel as unknown as tfjs.Tensor2D, bias, activation: 'linear' });
      return [f, model.forward(x), again];
    });
    const width = spec.type === 'cnn' ? spec.dense[spec.dense.length - 1] : spec.hidden.length ? spec.hidden[spec.hidden.length - 1] : 784;
    assert.deepEqual(features.shape, [4, width]);
    assert.deepEqual(Array.from(relogits.dataSync()), Array.from(logits.dataSync()));
    if (spec.type === 'cnn' || spec.hidden.length) assert.ok(features.dataSync().every((v) => v >= 0), 'hidden features are post-ReLU');
    tf.dispose([x, features, logits, relogits]);
    model.dispose();
  }
});
