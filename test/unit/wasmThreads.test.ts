// tfjs-backend-wasm's threaded build under Node (src/engine/backend/wasmThreads.ts). The wasm
// binary is chosen once per process, so each configuration trains in a child process: a few real
// steps on real MNIST, reporting the thread count and a hash of the weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

const child = `
const { createHash } = require('node:crypto');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
process.env.CLW_WASM_SHARED = '0'; // this script chooses the thread count itself
const { prepareWasmThreads, afterWasmStart } = require('./src/engine/backend/wasmThreads.ts');
const { loadBackend } = require('./src/engine/backend/index.ts');
const { buildModel } = require('./src/engine/models/build.ts');
const { loadTaskData, normalisedImages } = require('./src/engine/data/scenarios/taskData.ts');
const { buildHead } = require('./src/engine/train/head.ts');
const loop = require('./src/engine/train/loop.ts');
(async () => {
  const threads = Number(process.env.THREADS);
  const prep = prepareWasmThreads(tf, wasm, threads, { evenForOne: true });
  let b;
  try { b = await loadBackend('wasm'); } finally { if ('restore' in prep) prep.restore(); }
  const started = afterWasmStart(b.tf, wasm);
  const d = await loadTaskData({ dataset: 'mnist', train: 192, test: 10 }, 0, 1, { allowDownload: false });
  const head = buildHead('domain-il', [d]);
  const set = { images: normalisedImages(d.train.images, null, 784, d.mean, d.std), labels: Int32Array.from(d.train.labels), tasks: new Int32Array(d.train.n), n: d.train.n, shape: [28, 28, 1] };
  const spec = { type: 'cnn', conv: [{ filters: 8, kernel: 3, pool: 2 }], dense: [32] };
  const training = { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 1, evalEvery: 1000, evalSamples: 10 };
  const model = buildModel(b.tf, spec, [28, 28, 1], head.outputs, 0);
  const env = loop.createStrategyEnv({ tf: b.tf, model, head, experiment: { name: 't', seed: 0, tasks: [], scenario: 'domain-il', model: spec, training, strategy: { name: 'naive' }, landscape: false }, tasks: [set], strategyName: 'naive', log: () => {} });
  const opt = loop.createOptimizer(b.tf, training);
  const order = loop.epochOrder(set.n, 0, 0, 0);
  let loss = 0;
  for (let s = 0; s < 3; s++) {
    const batch = loop.makeBatch(b.tf, head, [0], set, order, s * 64, 64);
    loss = loop.trainStep(b.tf, env, opt, {}, batch, { phase: 0, tasks: [0], train: set, seenTasks: [0], step: s + 1 });
    loop.disposeBatch(batch);
  }
  const h = createHash('sha256');
  for (const p of model.params) h.update(Buffer.from(p.variable.dataSync().buffer));
  console.log(JSON.stringify({ skipped: prep.skipped ?? null, threads: started, loss, hash: h.digest('hex') }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function run(threads: number): Promise<{ skipped: string | null; threads: number; loss: number; hash: string }> {
  return new Promise((resolve, reject) => {
    // No process.exit in the child: it must end by itself (the pool's workers are unref'd).
    execFile(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', child], { cwd: root, env: { ...process.env, THREADS: String(threads) }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child (${threads} threads) failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

test('the threaded wasm build starts 2 threads under Node, trains, lets the process exit, and gives the bits it gives on 1 thread', async () => {
  const two = await run(2);
  const one = await run(1);
  assert.equal(two.skipped, null);
  assert.equal(two.threads, 2, 'setThreadsCount(2) took effect');
  assert.equal(one.threads, 1);
  assert.ok(Number.isFinite(two.loss) && two.loss > 0);
  assert.equal(two.hash, one.hash, 'the thread count does not change the result');
});
