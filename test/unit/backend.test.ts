// Backend selection: 'auto' falls back from tfjs-node (absent here) to wasm; explicit choices that
// cannot load throw a clear error; repeated calls return the same backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
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

test('loading wasm leaves no tfjs process handlers behind', async () => {
  await loadBackend('wasm');
  // Emscripten's glue adds uncaughtException/unhandledRejection handlers that rethrow from its
  // minified code; the loader removes them so errors print normally.
  for (const l of process.listeners('uncaughtException')) assert.doesNotMatch(String(l), /ExitStatus/);
  for (const l of process.listeners('unhandledRejection')) assert.doesNotMatch(String(l), /throw reason/);
});
