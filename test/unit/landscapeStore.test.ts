import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng, gaussian } from '../../src/engine/random';
import { decodeFloat16, encodeFloat16, float16Bits, float16Value, readWeightStore, roundTo, writeWeightStore, type WeightStore } from '../../src/engine/landscape/store';
import type { ParameterLayout } from '../../src/engine/landscape/vector';

test('float16 bits: known values, rounding half to even, overflow, subnormals', () => {
  assert.equal(float16Bits(1), 0x3c00);
  assert.equal(float16Bits(-2), 0xc000);
  assert.equal(float16Bits(65504), 0x7bff);
  assert.equal(float16Bits(65520), 0x7c00); // rounds up to infinity
  assert.equal(float16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(float16Bits(2 ** -26), 0); // below half of it
  assert.equal(float16Bits(0.1), 0x2e66);
  assert.equal(float16Bits(1 + 2 ** -11), 0x3c00); // a tie rounds to the even mantissa
  assert.equal(float16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.ok(Number.isNaN(float16Value(float16Bits(NaN))));
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(float16Bits(float16Value(h)), h, `bits ${h} round-trip`);
});

function fixture(n: number, dtype: WeightStore['dtype']): WeightStore {
  const rng = createRng(7);
  const vec = (s: number) => Float32Array.from({ length: n }, () => s * gaussian(rng));
  const layout: ParameterLayout[] = [
    { name: 'w', kind: 'dense-kernel' as ParameterLayout['kind'], shape: [n - 4, 1], offset: 0, size: n - 4 },
    { name: 'b', kind: 'bias', shape: [4], offset: n - 4, size: 4 },
  ];
  const init = vec(0.1);
  const taskEnd = [vec(0.1), vec(0.2), vec(0.05)];
  const trajectory = [{ step: 0, phase: -1, theta: init }];
  let step = 0;
  for (let p = 0; p < 3; p++) {
    for (let k = 0; k < 3; k++) trajectory.push({ step: (step += 5), phase: p, theta: vec(0.1) });
    trajectory.push({ step: (step += 2), phase: p, theta: taskEnd[p] });
  }
  return { layout, init, taskEnd, trajectory, dtype, bytes: 0 };
}

test('weight store round-trip: float32 bitwise, float16 checkpoints within half an ulp, endpoints exact and stored once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clw-store-'));
  try {
    const n = 1000;
    for (const dtype of ['float32', 'float16'] as const) {
      const store = fixture(n, dtype);
      const info = writeWeightStore(dir, store);
      const width = dtype === 'float16' ? 2 : 4;
      // init + 3 ends in float32, 9 intermediate checkpoints in dtype; init/end checkpoints are references.
      assert.equal(info.bytes, 4 * 4 * n + 9 * width * n);
      assert.equal(statSync(join(dir, 'weights.bin')).size, info.bytes);
      assert.equal(info.checkpoints, 13);
      const back = readWeightStore(dir);
      assert.equal(back.dtype, dtype);
      assert.equal(back.bytes, info.bytes);
      assert.deepEqual(back.layout, store.layout);
      assert.deepEqual(back.init, store.init);
      assert.deepEqual(back.taskEnd, store.taskEnd);
      assert.deepEqual(back.trajectory.map((c) => [c.step, c.phase]), store.trajectory.map((c) => [c.step, c.phase]));
      let worst = 0;
      store.trajectory.forEach((c, k) => {
        const r = back.trajectory[k].theta;
        if (dtype === 'float32' || c.theta === store.init || store.taskEnd.includes(c.theta)) {
          assert.deepEqual(r, c.theta, `checkpoint ${k} exact`);
          return;
        }
        assert.deepEqual(r, roundTo('float16', c.theta), 'reads back what roundTo predicts');
        for (let i = 0; i < n; i++) {
          const x = c.theta[i];
          const err = Math.abs(r[i] - x);
          // Half an ulp: 2^-11 relative for normal numbers, 2^-25 absolute below 2^-14.
          assert.ok(err <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `checkpoint ${k}[${i}]: ${x} -> ${r[i]}`);
          worst = Math.max(worst, err / Math.abs(x));
        }
      });
      if (dtype === 'float16') assert.ok(worst > 0, 'float16 does round');
    }
    assert.deepEqual(readdirSync(dir).sort(), ['weights.bin', 'weights.json'], 'no temp files left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readWeightStore refuses a missing store and a data file that does not match its index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clw-store-'));
  try {
    assert.throws(() => readWeightStore(dir), /no stored weights/);
    writeWeightStore(dir, fixture(100, 'float16'));
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(10));
    assert.throws(() => readWeightStore(dir), /not the size its index states/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('decodeFloat16 inverts encodeFloat16 on values that are float16 already', () => {
  const v = Float32Array.from([0, -0, 1, -1.5, 0.000061035156, 2 ** -24, 65504]);
  assert.deepEqual(decodeFloat16(encodeFloat16(v)), v);
});
