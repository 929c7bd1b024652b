// Backend selection: 'auto' falls back from tfjs-node (absent here) to wasm; explicit choices that
// cannot load throw a clear error; repeated calls return the same backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadBackend } from '../../src/engine/backend/index';

function tfjsNodeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
const tfjsVersion = (require('@tensorflow/tfjs/package.json') as { version: string }).version;

test("'tensorflow' throws a clear error when @tensorflow/tfjs-node is not installed", async (t) => {
  if (tfjsNodeInstalled()) return t.skip('@tensorflow/tfjs-node is installed on this machine');
  await assert.rejects(loadBackend('tensorflow'), (e: Error) => {
    assert.match(e.message, /'tensorflow' backend needs @tensorflow\/tfjs-node, which is not installed/);
    assert.match(e.message, /npm install @tensorflow\/tfjs-node/);
    assert.match(e.message, /'wasm'/);
    return true;
  });
});

test("'auto' falls back to wasm and says why", async (t) => {
  if (tfjsNodeInstalled()) return t.skip('@tensorflow/tfjs-node is installed on this machine');
  const { tf, info, notes } = await loadBackend('auto');
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(notes.length, 1);
  assert.match(notes[0], /^tensorflow: .*tfjs-node/);
  assert.equal(info.tfjsVersion, tfjsVersion);
  assert.equal(info.nodeVersion, process.versions.node);
  assert.equal(info.platform, process.platform);
  assert.equal(info.arch, process.arch);
  assert.equal(info.cpus, os.cpus().length);
  assert.equal(info.threads, 1);
  assert.equal(typeof info.simd, 'boolean');
  // the training kernel wasm lacks is there
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  // it computes
  assert.deepEqual(Array.from(tf.tensor1d([1, 2, 3]).sum().dataSync()), [6]);
});

test('calling again returns the same backend; switching and back works', async () => {
  const a = await loadBackend('auto');
  const b = await loadBackend('auto');
  assert.equal(a, b);
  const w1 = await loadBackend('wasm');
  const w2 = await loadBackend('wasm');
  assert.equal(w1, w2);
  assert.equal(w1.tf, a.tf);
  const c = await loadBackend('cpu');
  assert.equal(c.info.backend, 'cpu');
  assert.equal(c.tf.getBackend(), 'cpu');
  assert.deepEqual(Array.from(c.tf.tensor1d([1, 2]).add(1).dataSync()), [2, 3]);
  const again = await loadBackend('auto');
  assert.equal(again, a);
  assert.equal(again.tf.getBackend(), a.info.backend);
});

test('an unknown backend name is rejected', async () => {
  await assert.rejects(loadBackend('gpu' as never), /Unknown backend 'gpu'/);
});

// Emscripten's glue adds an uncaughtException and an unhandledRejection handler that rethrow from
// its minified code (so errors print as one-line noise, and an unhandled rejection kills the
// process); the loader removes what it added. Counted in fresh processes: in this one wasm may be
// loaded already. Node's own 'exit' handler (top-level await) comes and goes, so it is not counted.
const HANDLER_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
type Counts = Record<(typeof HANDLER_EVENTS)[number], number>;

/** Runs `load` (CommonJS, with tsx) in a fresh Node process; listener counts before and after, and whether a listener set before survived. */
function countsAroundLoad(load: string): { before: Counts; after: Counts; ownKept: boolean } {
  const script = `
    const events = ${JSON.stringify(HANDLER_EVENTS)};
    const counts = () => Object.fromEntries(events.map((e) => [e, process.listenerCount(e)]));
    const own = () => {};
    for (const e of events) process.on(e, own);
    const before = counts();
    (async () => {
      ${load}
      const after = counts();
      const ownKept = events.every((e) => process.listeners(e).includes(own));
      process.stdout.write(JSON.stringify({ before, after, ownKept }));
    })().catch((e) => { console.error(e); process.exit(2); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..', '..'), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('the wasm glue, loaded without the loader, adds process handlers (so the next test can fail)', () => {
  const { before, after } = countsAroundLoad(`
    const tf = require('@tensorflow/tfjs');
    require('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
    await tf.ready();`);
  for (const e of HANDLER_EVENTS) assert.ok(after[e] > before[e], `${e}: ${before[e]} -> ${after[e]}`);
});

test('loading wasm through the loader leaves the process handlers as they were', () => {
  const index = require.resolve('../../src/engine/backend/index');
  const { before, after, ownKept } = countsAroundLoad(`
    const { loadBackend } = require(${JSON.stringify(index)});
    const { tf } = await loadBackend('wasm');
    if (tf.getBackend() !== 'wasm') throw new Error('wasm did not load: ' + tf.getBackend());`);
  assert.deepEqual(after, before);
  assert.ok(ownKept, 'handlers set before the load are kept');
});
