// Worker-thread entry of the landscape evaluator pool (pool.ts); bundled to dist/landscapeWorker.js.
//
// Each worker loads its own tfjs (wasm or cpu backend: never tfjs-node, whose native addon is
// process-wide), builds its own copy of the model and evaluation sets once, then answers points:
// theta (Float32Array) in, one TaskOutcome per task out, computed by the same modelEvaluator the
// main thread uses, so the floats are bitwise those of an in-process evaluation on the same backend.

import { parentPort, threadId } from 'node:worker_threads';
import { loadBackend } from '../backend';
import { buildModel } from '../models/build';
import { memoryTracer } from '../memoryTrace';
import type { EvalSet } from '../models/types';
import { modelEvaluator, type PointEvaluator } from './compute';
import type { PoolReply, PoolRequest } from './pool';

if (!parentPort) {
  console.error('landscapeWorker.js is a worker thread of the landscape evaluator pool; it is not run by hand.');
  process.exit(1);
}
const port = parentPort;

let evaluate: PointEvaluator | null = null;
let trace: ((at: string) => void) | null = null; // CLW_MEMORY_TRACE: this worker's share (its wasm heap)
let evaluated = 0;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

port.on('message', (msg: PoolRequest) => {
  void handle(msg);
});

async function handle(msg: PoolRequest): Promise<void> {
  if (msg.type === 'init') {
    try {
      const { tf } = await loadBackend(msg.backend);
      const [h, w, c] = msg.inputShape;
      const sets: EvalSet[] = msg.sets.map((s) => ({
        images: tf.tensor4d(s.images, [s.labels.length, h, w, c]),
        labels: tf.tensor1d(s.labels, 'int32'),
        ...(s.mask ? { mask: tf.tensor1d(s.mask, 'float32') } : {}),
      }));
      const model = buildModel(tf, msg.spec, msg.inputShape, msg.outputs, 0); // weights are overwritten per point
      evaluate = modelEvaluator(tf, model, sets, msg.batchSize);
      trace = memoryTracer(tf);
      trace(`landscape worker ${threadId} ready`);
      const reply: PoolReply = { type: 'ready', backend: tf.getBackend(), parameterCount: model.parameterCount };
      port.postMessage(reply);
    } catch (e) {
      const reply: PoolReply = { type: 'initError', message: message(e) };
      port.postMessage(reply);
    }
    return;
  }
  if (msg.type === 'eval') {
    let reply: PoolReply;
    try {
      if (!evaluate) throw new Error('landscape worker: evaluation before initialisation');
      const outs = await evaluate(msg.theta);
      if (++evaluated === 1) trace?.(`landscape worker ${threadId} first point`);
      reply = { type: 'result', id: msg.id, outs: outs.map((o) => ({ loss: o.loss, accuracy: o.accuracy })) };
    } catch (e) {
      reply = { type: 'evalError', id: msg.id, message: message(e) };
    }
    port.postMessage(reply);
  }
}
