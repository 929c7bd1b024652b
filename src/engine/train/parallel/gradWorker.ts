// Worker-thread entry of data-parallel training (dataParallel.ts); bundled to dist/gradWorker.js.
//
// Each worker loads its own tfjs on the wasm (or cpu) backend and its own replica of the model.
// Per step it reads the weights the main thread published in the shared parameter buffer, computes
// the gradients of its rows of the batch (lane.ts: the same maths as the main thread's lane) and
// writes them into its own shared gradient buffer; the main thread reduces them in lane order.

import { parentPort } from 'node:worker_threads';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBackend } from '../../backend';
import { buildModel } from '../../models/build';
import type { ClassifierModel, TF } from '../../models/types';
import type { GradReply, GradRequest } from './dataParallel';
import { laneGradients, parameterOffsets, readFlat, writeFlat } from './lane';

if (!parentPort) {
  console.error('gradWorker.js is a worker thread of data-parallel training; it is not run by hand.');
  process.exit(1);
}
const port = parentPort;

interface Replica {
  tf: TF;
  model: ClassifierModel;
  inputShape: [number, number, number];
  offsets: number[];
  params: Float32Array;
  grads: Float32Array;
}

let replica: Replica | null = null;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function reply(msg: GradReply): void {
  port.postMessage(msg);
}

port.on('message', (msg: GradRequest) => {
  void handle(msg);
});

async function handle(msg: GradRequest): Promise<void> {
  if (msg.type === 'init') {
    try {
      const { tf } = await loadBackend(msg.backend);
      const model = buildModel(tf, msg.spec, msg.inputShape, msg.outputs, 0); // weights come from the shared buffer each step
      const { offsets, total } = parameterOffsets(model);
      const params = new Float32Array(msg.params);
      const grads = new Float32Array(msg.grads);
      if (params.length !== total || grads.length !== total) throw new Error(`shared buffers hold ${params.length}/${grads.length} values, the model has ${total} parameters`);
      replica = { tf, model, inputShape: msg.inputShape, offsets, params, grads };
      reply({ type: 'ready', backend: tf.getBackend(), parameterCount: total });
    } catch (e) {
      reply({ type: 'initError', message: message(e) });
    }
    return;
  }
  if (msg.type === 'step') {
    try {
      if (!replica) throw new Error('data-parallel worker: a step before initialisation');
      const { loss, copyMs, computeMs } = laneStep(replica, msg);
      reply({ type: 'grads', id: msg.id, loss, copyMs, computeMs });
    } catch (e) {
      reply({ type: 'stepError', id: msg.id, message: message(e) });
    }
  }
}

function laneStep(r: Replica, msg: Extract<GradRequest, { type: 'step' }>): { loss: number; copyMs: number; computeMs: number } {
  const { tf, model, offsets, params } = r;
  const t0 = performance.now();
  const n = msg.labels.length;
  const [h, w, c] = r.inputShape;
  const weights = readFlat(tf, model.params, offsets, params);
  model.params.forEach((p, k) => p.variable.assign(weights[k]));
  tf.dispose(weights);
  const x = tf.tensor4d(msg.images, [n, h, w, c]);
  const y = tf.tensor1d(msg.labels, 'int32');
  const mask = msg.mask ? tf.tensor2d(msg.mask, [n, model.outputs]) : null;
  let out: { value: tfjs.Scalar; grads: tfjs.Tensor[] } | null = null;
  try {
    const t1 = performance.now();
    out = laneGradients(tf, model, x, y, mask, msg.batchSize);
    const loss = out.value.dataSync()[0];
    const t2 = performance.now();
    writeFlat(out.grads, offsets, r.grads);
    return { loss, copyMs: t1 - t0 + performance.now() - t2, computeMs: t2 - t1 };
  } finally {
    x.dispose();
    y.dispose();
    mask?.dispose();
    if (out) {
      out.value.dispose();
      for (const g of out.grads) g.dispose();
    }
  }
}
