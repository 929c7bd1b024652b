// Training-step throughput of the small CNN (the engine's default model) on the active backend:
// with the engine's wasm training kernels against tfjs's built-in kernels, measured in the same run
// (machines are shared and noisy: compare the ratio), plus a matmul GFLOP/s ceiling.

import type { TF, Tensor, Tensor2D, Tensor4D, Variable } from '../models/types';
import { registerWasmTrainingKernels } from '../backend/wasmKernels';

type tfScalar = ReturnType<TF['scalar']>;

export interface KernelBenchOptions {
  /** Images per training step (default 64). */
  batchSize?: number;
  /** Timed steps per measurement round (default 8). */
  steps?: number;
  /** Untimed steps before each round (default 2). */
  warmup?: number;
  /** Measurement rounds, alternating the two kernel sets (default 2). */
  rounds?: number;
  /** Also measure tfjs's built-in wasm kernels (default true; wasm backend only). */
  compareBuiltin?: boolean;
  /** Profile one step per kernel (default true). */
  profile?: boolean;
  /** Square matmul size for the GFLOP/s figure (default 512; 0 skips it). */
  matmulSize?: number;
  /** Stop starting new steps after this many seconds per kernel set (default 20). */
  maxSeconds?: number;
  seed?: number;
}

export interface KernelProfileEntry {
  kernel: string;
  /** Milliseconds in this kernel during one training step (sum over its calls). */
  ms: number;
  calls: number;
}

export interface KernelBenchResult {
  backend: string;
  batchSize: number;
  /** Training images per second with the engine's kernels (median step time). */
  imagesPerSecond: number;
  msPerStep: number;
  /** Fastest step seen (less sensitive to other load on the machine). */
  bestMsPerStep: number;
  timedSteps: number;
  /** The same with tfjs's built-in wasm kernels (null when not measured). */
  builtinImagesPerSecond: number | null;
  builtinMsPerStep: number | null;
  /** imagesPerSecond / builtinImagesPerSecond. */
  speedup: number | null;
  /** Loss of the first and last measured step with the engine's kernels (a sanity check: it falls). */
  firstLoss: number;
  lastLoss: number;
  /** Per-kernel time of one step with the engine's kernels, largest first. */
  profile: KernelProfileEntry[];
  /** Single matmul throughput (n x n @ n x n), GFLOP/s; null when skipped. */
  matmulGflops: number | null;
  matmulSize: number;
  totalSeconds: number;
}

/** Floating-point operations of one training image in the small CNN (forward + both gradients). */
export const SMALL_CNN_TRAIN_FLOPS_PER_IMAGE = (() => {
  const conv1 = 26 * 26 * 32 * 9 * 2;
  const conv2 = 11 * 11 * 64 * 288 * 2;
  const dense = (1600 * 128 + 128 * 10) * 2;
  // forward, filter gradient and input gradient of everything but conv1's input
  return conv1 * 2 + conv2 * 3 + dense * 3;
})();

export async function benchTrainingStep(tf: TF, opts: KernelBenchOptions = {}): Promise<KernelBenchResult> {
  const started = Date.now();
  const batch = opts.batchSize ?? 64;
  const backend = tf.getBackend();
  const isWasm = backend === 'wasm';
  const slow = backend === 'cpu';
  const steps = opts.steps ?? (slow ? 1 : 8);
  const warmup = opts.warmup ?? (slow ? 0 : 2);
  const rounds = opts.rounds ?? (slow ? 1 : 2);
  const maxMs = (opts.maxSeconds ?? 20) * 1000;
  const compare = isWasm && (opts.compareBuiltin ?? true);
  const net = smallCnn(tf, batch, opts.seed ?? 1);
  const times: Record<'fast' | 'builtin', number[]> = { fast: [], builtin: [] };
  const losses: number[] = [];
  const spent = { fast: 0, builtin: 0 };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of compare ? (['builtin', 'fast'] as const) : (['fast'] as const)) {
        if (spent[mode] > maxMs) continue;
        if (isWasm) registerWasmTrainingKernels(tf, { mode });
        for (let i = 0; i < warmup; i++) net.step();
        for (let i = 0; i < steps && spent[mode] <= maxMs; i++) {
          const t0 = performance.now();
          const loss = net.step();
          const dt = performance.now() - t0;
          spent[mode] += dt;
          times[mode].push(dt);
          if (mode === 'fast') losses.push(loss);
        }
      }
    }
    if (isWasm) registerWasmTrainingKernels(tf, { mode: 'fast' });
    const profile = opts.profile ?? true ? await profileStep(tf, net.step) : [];
    const fastMs = median(times.fast);
    const builtinMs = compare ? median(times.builtin) : null;
    const size = opts.matmulSize ?? 512;
    return {
      backend,
      batchSize: batch,
      imagesPerSecond: (batch * 1000) / fastMs,
      msPerStep: fastMs,
      bestMsPerStep: Math.min(...times.fast),
      timedSteps: times.fast.length,
      builtinImagesPerSecond: builtinMs === null ? null : (batch * 1000) / builtinMs,
      builtinMsPerStep: builtinMs,
      speedup: builtinMs === null ? null : builtinMs / fastMs,
      firstLoss: losses[0],
      lastLoss: losses[losses.length - 1],
      profile,
      matmulGflops: size > 0 ? benchMatMul(tf, size) : null,
      matmulSize: size,
      totalSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    if (isWasm) registerWasmTrainingKernels(tf, { mode: 'fast' });
    net.dispose();
  }
}

/** Per-kernel time of one step: the least of 3 profiled steps, kernel by kernel (noise only adds). */
async function profileStep(tf: TF, step: () => number): Promise<KernelProfileEntry[]> {
  let best: { name: string; ms: number }[] = [];
  for (let r = 0; r < 3; r++) {
    const info = await tf.profile(() => {
      step();
    });
    const ks = info.kernels.map((k) => ({ name: k.name, ms: Number(k.kernelTimeMs) }));
    if (r === 0 || ks.length !== best.length) best = ks;
    else best = best.map((b, i) => (ks[i].name === b.name && ks[i].ms < b.ms ? ks[i] : b));
  }
  const agg = new Map<string, KernelProfileEntry>();
  for (const k of best) {
    const e = agg.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0 };
    e.ms += Number.isFinite(k.ms) ? k.ms : 0;
    e.calls++;
    agg.set(k.name, e);
  }
  return [...agg.values()].sort((a, b) => b.ms - a.ms);
}

function benchMatMul(tf: TF, n: number): number {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 3);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 4);
  try {
    const run = () => tf.tidy(() => tf.matMul(a, b)).dataSync();
    run();
    const reps = Math.max(3, Math.min(20, Math.round(4e9 / (2 * n ** 3)))); // ~4 GFLOP in all
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      run();
      ts.push(performance.now() - t0);
    }
    return (2 * n ** 3) / (median(ts) * 1e6);
  } finally {
    a.dispose();
    b.dispose();
  }
}

function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The small CNN (NHWC 28x28x1: conv3x3 32 + relu, maxpool 2, conv3x3 64 + relu, maxpool 2, dense 128
 * + relu, dense 10, softmax cross-entropy) from plain ops over variables, trained with Adam on a
 * fixed random batch, the way the engine's models and training loop use tfjs.
 */
function smallCnn(tf: TF, batch: number, seed: number) {
  let state = seed >>> 0 || 1;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const param = (shape: number[], fanIn: number): Variable => {
    const size = shape.reduce((p, q) => p * q, 1);
    const bound = 1 / Math.sqrt(fanIn);
    const v = new Float32Array(size);
    for (let i = 0; i < size; i++) v[i] = (rand() * 2 - 1) * bound;
    return tf.variable(tf.tensor(v, shape, 'float32'), true);
  };
  const w1 = param([3, 3, 1, 32], 9);
  const b1 = param([32], 9);
  const w2 = param([3, 3, 32, 64], 288);
  const b2 = param([64], 288);
  const w3 = param([1600, 128], 1600);
  const b3 = param([128], 1600);
  const w4 = param([128, 10], 128);
  const b4 = param([10], 128);
  const vars = [w1, b1, w2, b2, w3, b3, w4, b4];
  const pixels = new Float32Array(batch * 28 * 28);
  for (let i = 0; i < pixels.length; i++) pixels[i] = rand();
  const labels = new Int32Array(batch);
  for (let i = 0; i < batch; i++) labels[i] = Math.floor(rand() * 10);
  const x = tf.tensor4d(pixels, [batch, 28, 28, 1]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat());
  const optimizer = tf.train.adam(1e-3);
  const as4 = (v: Variable) => v as unknown as Tensor4D;
  const as2 = (v: Variable) => v as unknown as Tensor2D;
  const loss = (): Tensor => {
    let h: Tensor4D = tf.fused.conv2d({ x, filter: as4(w1), strides: 1, pad: 'valid', bias: b1, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.fused.conv2d({ x: h, filter: as4(w2), strides: 1, pad: 'valid', bias: b2, activation: 'relu' });
    h = tf.maxPool(h, 2, 2, 'valid');
    let z: Tensor2D = tf.reshape(h, [batch, 1600]);
    z = tf.fused.matMul({ a: z, b: as2(w3), bias: b3, activation: 'relu' }) as Tensor2D;
    z = tf.fused.matMul({ a: z, b: as2(w4), bias: b4 }) as Tensor2D;
    return tf.losses.softmaxCrossEntropy(y, z);
  };
  return {
    step(): number {
      const l = optimizer.minimize(loss as () => tfScalar, true, vars);
      const v = l ? l.dataSync()[0] : NaN;
      l?.dispose();
      return v;
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([x, y, ...vars]);
    },
  };
}
