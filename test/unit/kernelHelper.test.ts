// The kernel helper (src/engine/backend/kernelHelper.ts): a second thread computing parts of the
// engine's kernel calls in the threaded binary's shared wasm memory. The binary is chosen once per
// process, so each configuration runs in a child process: real MNIST, real steps, a hash of the
// weights, and what the helper did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { cutInTwo } from '../../src/engine/backend/kernelHelper';
import { WA, withSharedMemoryImport, assembleModule, i32, get, ADD } from '../../src/engine/backend/wasmAsm';

const root = join(__dirname, '..', '..');

// Trains a small MLP for a few steps through the engine's loop, with the helper or without, and
// returns the loss, a hash of the weights and the helper's part count. SHARED=0 keeps the
// non-threaded binary (a memory that is not shared: no helper).
const child = `
const { createHash } = require('node:crypto');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
process.env.CLW_WASM_SHARED = '0'; // this script chooses the binary itself
const { prepareWasmThreads, afterWasmStart } = require('./src/engine/backend/wasmThreads.ts');
const { loadBackend } = require('./src/engine/backend/index.ts');
const { startKernelHelper, runParts } = require('./src/engine/backend/kernelHelper.ts');
const { gemmModule } = require('./src/engine/backend/wasmGemm.ts');
const { buildModel } = require('./src/engine/models/build.ts');
const { loadTaskData, normalisedImages } = require('./src/engine/data/scenarios/taskData.ts');
const { buildHead } = require('./src/engine/train/head.ts');
const loop = require('./src/engine/train/loop.ts');
(async () => {
  const prep = process.env.SHARED === '1' ? prepareWasmThreads(tf, wasm, 1, { evenForOne: true }) : {};
  let b;
  try { b = await loadBackend('wasm'); } finally { if ('restore' in prep) prep.restore(); }
  if (process.env.SHARED === '1') afterWasmStart(b.tf, wasm);
  const shared = require('./src/engine/backend/wasmAsm.ts').backendMemory(b.tf.backend()).buffer instanceof SharedArrayBuffer;
  const helper = process.env.HELPER === '1' ? await startKernelHelper(b.tf.backend()) : null;
  const d = await loadTaskData({ dataset: 'mnist', train: 256, test: 10 }, 0, 1, { allowDownload: false });
  const head = buildHead('domain-il', [d]);
  const set = { images: normalisedImages(d.train.images, null, 784, d.mean, d.std), labels: Int32Array.from(d.train.labels), tasks: new Int32Array(d.train.n), n: d.train.n, shape: [28, 28, 1] };
  const spec = { type: 'mlp', hidden: [96, 64] };
  const training = { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 1, evalEvery: 1000, evalSamples: 10, iterations: 4 };
  const model = buildModel(b.tf, spec, [28, 28, 1], head.outputs, 0);
  const experiment = { name: 't', seed: 0, tasks: [], scenario: 'domain-il', model: spec, training, strategy: { name: 'naive' }, landscape: false };
  const env = loop.createStrategyEnv({ tf: b.tf, model, head, experiment, tasks: [set], strategyName: 'naive', log: () => {} });
  const optimizer = loop.createOptimizer(b.tf, training);
  const losses = [];
  await loop.runPhases({ tf: b.tf, env, strategy: {}, optimizer, phases: [[0]], training, seed: 0, observers: [{ stepDone: (s) => losses.push(s.loss) }], kernelHelper: helper });
  const h = createHash('sha256');
  for (const p of model.params) h.update(Buffer.from(p.variable.dataSync().buffer));
  let trap = null;
  let after = null;
  if (helper) {
    // A part that reads outside the memory: the error reaches this thread, and the helper goes on.
    const { engageKernelHelper } = require('./src/engine/backend/kernelHelper.ts');
    const mod = gemmModule(b.tf.backend(), { K: 4, COLS: 4, ARS: 16, APS: 4, ORS: 16, OCS: 4, bias: false, relu: false });
    engageKernelHelper(helper);
    try { runParts(mod, 'gemm', [[0, 0, 0, 0, 0], [0x7ffffff0, 0, 0, 0x7ffffff0, 1]]); } catch (e) { trap = e.message; }
    const x = b.tf.tensor2d(Float32Array.from({ length: 64 * 32 }, (_, i) => (i % 7) - 3), [64, 32]);
    const w = b.tf.tensor2d(Float32Array.from({ length: 32 * 16 }, (_, i) => (i % 5) - 2), [32, 16]);
    const split = b.tf.matMul(x, w).dataSync();
    engageKernelHelper(null);
    const whole = b.tf.matMul(x, w).dataSync();
    after = Buffer.from(split.buffer).equals(Buffer.from(whole.buffer)) && whole.some((v) => v !== 0);
    await helper.dispose();
  }
  console.log(JSON.stringify({ shared, helper: !!helper, parts: helper ? helper.parts() : 0, losses, hash: h.digest('hex'), trap, after }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

interface ChildResult { shared: boolean; helper: boolean; parts: number; losses: number[]; hash: string; trap: string | null; after: boolean | null }

function run(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // No process.exit in the child: it must end by itself (the helper and the pool are unref'd).
    execFile(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', child], { cwd: root, env: { ...process.env, ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child ${JSON.stringify(env)} failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult);
    });
  });
}

test('cutInTwo: halves (or the helper\'s share) on a multiple, null when a part would be too small', () => {
  assert.equal(cutInTwo(64, 2, 8), 32);
  assert.equal(cutInTwo(65, 2, 8), 32);
  assert.equal(cutInTwo(10, 4), 4);
  assert.equal(cutInTwo(14, 2, 8), null);
  assert.equal(cutInTwo(1, 1), null);
  assert.equal(cutInTwo(313_600, 4, 4096), 156_800);
  // The helper's share moves the cut (this thread keeps the rest), still on a multiple.
  assert.equal(cutInTwo(100, 2, 1, 0.3), 70);
  assert.equal(cutInTwo(784, 2, 8, 0.4), 470);
  assert.equal(cutInTwo(64, 2, 8, 0.9), null);
});

test('withSharedMemoryImport: the module links to a shared memory (and the plain one does not)', () => {
  const bytes = assembleModule([{ exportName: 'f', params: 2, i32Locals: 0, v128Locals: 0, body: [...get(0), ...get(1), ...ADD, ...i32(0), 0x1a, 0x1a] }]);
  const Mem = WA!.Memory as unknown as new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
  const memory = new Mem({ initial: 1, maximum: 4, shared: true });
  assert.ok(memory.buffer instanceof SharedArrayBuffer);
  assert.throws(() => new WA!.Instance(new WA!.Module(bytes), { env: { memory } }));
  const instance = new WA!.Instance(new WA!.Module(withSharedMemoryImport(bytes)), { env: { memory } });
  assert.equal(typeof (instance.exports as { f?: unknown }).f, 'function');
});

test('the helper computes parts of the products and Adam in the shared wasm memory: the same bits as one thread; its errors reach the caller', async () => {
  const [alone, withHelper, plain] = await Promise.all([run({ SHARED: '1', HELPER: '0' }), run({ SHARED: '1', HELPER: '1' }), run({ SHARED: '0', HELPER: '1' })]);
  assert.equal(alone.shared, true, 'the threaded binary has a shared memory');
  assert.equal(withHelper.helper, true);
  // 4 steps x (3 forward + 5 gradient products + 6 Adam updates, the small ones whole) cut in two.
  assert.ok(withHelper.parts >= 4 * 8, `the helper ran ${withHelper.parts} parts`);
  assert.equal(withHelper.losses.length, 4);
  assert.ok(withHelper.losses.every((l) => Number.isFinite(l) && l > 0));
  assert.deepEqual(withHelper.losses, alone.losses);
  assert.equal(withHelper.hash, alone.hash, 'the helper does not change a bit');
  assert.equal(plain.shared, false);
  assert.equal(plain.helper, false, 'no helper over a memory that is not shared');
  assert.equal(plain.hash, alone.hash, 'the threaded binary on one thread gives the non-threaded binary\'s bits');
  assert.match(withHelper.trap ?? '', /kernel helper: .*(out of bounds|memory access)/i);
  assert.equal(withHelper.after, true, 'after a failed part the helper computes again (the same bits as this thread alone)');
});

test('an MLP run on 2 cores trains with the kernel helper and writes the R and curves it writes on 1 core, bit for bit', async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'clw-helper-run-'));
  try {
    const file = join(dir, 'mlp.cl.json');
    const spec = {
      name: 'mlp', seed: 3, model: { type: 'mlp', hidden: [128, 64] }, landscape: false, scenario: 'domain-il',
      tasks: [{ dataset: 'mnist', train: 320, test: 200 }, { dataset: 'fashion-mnist', train: 320, test: 200 }],
      training: { epochs: 1, batchSize: 64, evalEvery: 2, evalSamples: 100 },
    };
    writeFileSync(file, JSON.stringify(spec));
    const runCli = (threads: string) =>
      new Promise<{ result: { accuracyMatrix: number[][]; curves?: unknown }; stderr: string }>((resolve, reject) => {
        execFile(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'run', file, '--out', join(dir, `t${threads}`), '--json', '--no-download'], { cwd: root, env: { ...process.env, CLW_THREADS: threads }, timeout: 120_000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`run (CLW_THREADS=${threads}) failed: ${err.message}\n${stderr}`));
          else resolve({ result: JSON.parse(stdout.trim().split('\n').pop()!), stderr });
        });
      });
    const two = await runCli('2');
    const one = await runCli('1');
    const cores = (await import('node:os')).availableParallelism();
    if (cores >= 2) assert.match(two.stderr, /the engine's kernels on 2 threads \(shared wasm memory\)/);
    assert.doesNotMatch(one.stderr, /kernels on 2 threads/);
    assert.equal(two.result.accuracyMatrix.length, 2);
    assert.ok(two.result.accuracyMatrix[0][0] > 0.5, `MNIST learnt: ${two.result.accuracyMatrix[0][0]}`);
    assert.deepEqual(two.result.accuracyMatrix, one.result.accuracyMatrix);
    assert.ok(Array.isArray(two.result.curves) && two.result.curves.length > 2, 'curve points were written');
    assert.deepEqual(two.result.curves, one.result.curves);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
