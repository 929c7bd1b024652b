// Worker-thread entry of the landscape evaluator pool (pool.ts); bundled to dist/landscapeWorker.js.
//
// Each worker loads its own tfjs (wasm or cpu backend: never tfjs-node, whose native addon is
// process-wide), builds its own copy of the model and evaluation sets once, then answers points:
// theta (Float32Array) in, one TaskOutcome per task out, computed by the same modelEvaluator the
// main thread uses, so the floats are bitwise those of an in-process evaluation on the same backend.
// For a run's evaluations (train/evalLanes.ts) it also computes units: it claims (task, batch)
// units from the job's shared counter and writes their partial sums (train/evalUnits.ts unitSums,
// the main thread's function) into the job's shared memory, until no unit is left.

import { parentPort, threadId } from 'node:worker_threads';
import { loadBackend } from '../backend';
import { buildModel } from '../models/build';
import { memoryTracer } from '../memoryTrace';
import type { ClassifierModel, EvalSet, TF } from '../models/types';
import { disposeMasks, maskTensors, unitSums, unpackUnit, type HostEvalSet } from '../train/evalUnits';
import { modelEvaluator, type PointEvaluator } from './compute';
import type { PoolReply, PoolRequest } from './pool';
import { writeParameters } from './vector';

if (!parentPort) {
  console.error('landscapeWorker.js is a worker thread of the landscape evaluator pool; it is not run by hand.');
  process.exit(1);
}
const port = parentPort;

let evaluate: PointEvaluator | null = null;
let replica: { tf: TF; model: ClassifierModel; hostSets: HostEvalSet[] } | null = null;
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
      replica = { tf, model, hostSets: msg.hostSets };
      trace = memoryTracer(tf);
      trace(`evaluation pool worker ${threadId} ready`);
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
    return;
  }
  if (msg.type === 'units') {
    let reply: PoolReply;
    try {
      reply = { type: 'unitsDone', id: msg.id, computed: scoreUnits(msg) };
    } catch (e) {
      reply = { type: 'evalError', id: msg.id, message: message(e) };
    }
    port.postMessage(reply);
  }
}

/** Claims units until none is left; returns how many this worker computed. */
function scoreUnits(job: Extract<PoolRequest, { type: 'units' }>): number {
  if (!replica) throw new Error('evaluation before initialisation');
  const { tf, model, hostSets } = replica;
  const next = new Int32Array(job.next);
  const sums = new Float32Array(job.sums);
  const done = new Int32Array(job.done);
  const count = job.units.length / 3;
  writeParameters(tf, model, job.theta);
  const masks = job.requests.map((r) => maskTensors(tf, r));
  let computed = 0;
  try {
    for (let k = Atomics.add(next, 0, 1); k < count; k = Atomics.add(next, 0, 1)) {
      const unit = unpackUnit(job.units, k);
      const set = hostSets[job.requests[unit.request].set];
      if (!set) throw new Error(`unit ${k} reads set ${job.requests[unit.request].set}, this worker holds ${hostSets.length}`);
      const b = unitSums(tf, model, set, unit, masks[unit.request]);
      sums.set([b.correct, b.loss, b.correctAlternate], 3 * k);
      Atomics.store(done, k, job.lane + 1);
      computed++;
    }
  } finally {
    masks.forEach(disposeMasks);
  }
  if (++evaluated === 1) trace?.(`evaluation worker ${threadId} first units`);
  return computed;
}
