// Synchronous data-parallel training on worker threads: one run's step on several cores.
//
// The batch is cut into lanes of contiguous rows. Each lane computes the gradients of its rows'
// share of the batch's mean masked cross-entropy (lane.ts, divided by the FULL batch size) on its
// own tfjs wasm instance: the first lanes on the calling thread, the last `workers` lanes on worker
// threads (gradWorker.ts) whose model replicas read the live weights from a SharedArrayBuffer the
// main thread fills before every step. The lanes' gradients are summed on the main thread in lane
// order (0, 1, ...), never in arrival order, so a seed gives one result whatever the timing; the
// strategy's adjustGradients, the optimizer and afterStep then run once, on the main thread, on the
// reduced gradients exactly as in loop.ts's trainStep. The lanes, not where they run, decide the
// sums' order: 2 lanes give the same bits on 0, 1 or 2 workers.
//
// Measured on 2 cores (2 lanes, 1 worker, against both lanes on one thread): small CNN batch 64
// x1.28-1.35 with the FMA/Winograd kernels; the MLP x0.73-0.83 (its step is too short for the
// serial part: weights out, gradients back, Adam), so it keeps one lane (docs/performance.md).
//
// Penalties that read the logits (LwF, DER) and replaced classification losses (iCaRL) would have
// to run in the lanes; this module does not ship them there, so such strategies keep the
// single-thread step (canTrainDataParallel). A penalty of the parameters alone can be added on the
// main side (`extraLoss`), its gradients added after the lanes' sum.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as tfjs from '@tensorflow/tfjs';
import type { ResolvedModelSpec } from '../../../protocol/experiment';
import type { ClassifierModel, TF } from '../../models/types';
import { disposeAll, type Gradients, type StepContext, type Strategy, type StrategyEnv, type TrainBatch } from '../../strategies/types';
import { laneGradients, laneRows, parameterOffsets, readFlat, writeFlat } from './lane';

// Messages between dataParallel.ts and gradWorker.ts.
export type GradRequest =
  | {
      type: 'init';
      spec: ResolvedModelSpec;
      inputShape: [number, number, number];
      outputs: number;
      backend: 'wasm' | 'cpu';
      /** Float32 weights, model.params order, written by the main thread before each step. */
      params: SharedArrayBuffer;
      /** Float32 gradients of this worker's lane, same layout, written by the worker. */
      grads: SharedArrayBuffer;
    }
  | {
      type: 'step';
      id: number;
      /** This lane's rows: images [n*h*w*c], targets [n], additive mask [n*outputs] or null. */
      images: Float32Array;
      labels: Int32Array;
      mask: Float32Array | null;
      /** Size of the whole batch (every lane divides its loss by it). */
      batchSize: number;
    };

export type GradReply =
  | { type: 'ready'; backend: string; parameterCount: number }
  | { type: 'initError'; message: string }
  | { type: 'grads'; id: number; loss: number; copyMs: number; computeMs: number }
  | { type: 'stepError'; id: number; message: string };

export interface DataParallelOptions {
  tf: TF;
  /** The live model (the optimizer updates it; the workers copy its weights every step). */
  model: ClassifierModel;
  /** The spec the model was built from (the workers build their replicas from it). */
  spec: ResolvedModelSpec;
  /**
   * Lanes a batch is cut into. The result depends on the lanes (the order of the float sums), not
   * on where they run: keep it fixed (e.g. 2) so that a seed gives one result on any core count.
   */
  lanes: number;
  /** Worker threads (0..lanes) computing the last lanes; the calling thread computes the others first. */
  workers: number;
  /** Backend in the workers: the main thread's ('wasm'; 'cpu' for tests). */
  backend?: 'wasm' | 'cpu';
  /** Worker entry (default: dist/gradWorker.js beside the bundle, or gradWorker.ts from source). */
  workerScript?: string;
  /** How long a worker may take to load tfjs and build its replica (default 60 s). */
  startTimeoutMs?: number;
}

export interface LaneGradients {
  /** The batch's loss: the lanes' shares summed in lane order, plus the extra loss. */
  loss: number;
  /** Reduced gradients aligned with model.params; the caller disposes them. */
  grads: Gradients;
}

export interface DataParallelTrainer {
  /** Lanes a batch is cut into. */
  readonly lanes: number;
  readonly workers: number;
  /**
   * Gradients of the batch's mean masked cross-entropy at the live weights, plus those of
   * `extraLoss` (a function of the parameters only, computed on the calling thread).
   */
  gradients(batch: TrainBatch, extraLoss?: () => tfjs.Scalar | null): Promise<LaneGradients>;
  /** Milliseconds spent so far in each part of gradients() on the calling thread (for measurements). */
  readonly timings: StepTimings;
  /** Workers that have not exited yet. */
  liveWorkers(): number;
  /** Terminates the workers (resolves once they have exited); a pending step rejects. */
  dispose(): Promise<void>;
}

export interface StepTimings {
  steps: number;
  /** Weights into the shared buffer, batch rows out to the workers. */
  publish: number;
  /** The calling thread's lanes. */
  local: number;
  /** Waiting for the workers after the local lanes. */
  wait: number;
  /** Lane-order sum and the gradient tensors. */
  reduce: number;
  /** Summed over the workers: copying weights in and gradients out, and computing their lanes. */
  workerCopy: number;
  workerCompute: number;
}

/** Worker entry used by default: dist/gradWorker.js beside the bundle, gradWorker.ts from source. */
export function defaultGradWorkerScript(): string {
  return __filename.endsWith('.ts') ? join(__dirname, 'gradWorker.ts') : join(__dirname, 'gradWorker.js');
}

/** A TypeScript entry needs tsx's CommonJS hook in the worker (as the landscape pool's does). */
function workerExecArgv(script: string): string[] {
  if (!/\.[cm]?ts$/.test(script)) return [];
  try {
    return ['--require', require.resolve('tsx/cjs')];
  } catch {
    throw new Error(`the data-parallel worker ${script} is TypeScript and needs tsx (tsx/cjs), which cannot be resolved`);
  }
}

/** Strategies whose step the lanes can compute: the loss is the plain masked cross-entropy. */
export function canTrainDataParallel(strategy: Strategy): boolean {
  return !strategy.penalty && !strategy.classificationLoss;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface Pending {
  id: number;
  resolve(loss: number): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  grads: Float32Array;
  pending: Pending | null;
}

export async function createDataParallel(opts: DataParallelOptions): Promise<DataParallelTrainer> {
  const { tf, model } = opts;
  const lanes = Math.floor(opts.lanes);
  const workers = Math.floor(opts.workers);
  if (!(lanes >= 1) || !(workers >= 0) || workers > lanes) throw new Error(`createDataParallel: ${opts.workers} workers for ${opts.lanes} lanes (need 1 <= lanes, 0 <= workers <= lanes)`);
  const localLanes = lanes - workers;
  const script = opts.workerScript ?? defaultGradWorkerScript();
  if (workers > 0 && !existsSync(script)) {
    throw new Error(`data-parallel worker script not found: ${script}` + (script.endsWith('gradWorker.js') ? ' (build it with `npm run build`)' : ''));
  }
  const { offsets, total } = parameterOffsets(model);
  const [h, w, c] = model.inputShape;
  const pixels = h * w * c;
  const paramsBuffer = new SharedArrayBuffer(total * 4);
  const paramsView = new Float32Array(paramsBuffer);

  const slots: Slot[] = [];
  let broken: Error | null = null;
  let disposed = false;
  let busy = false;
  let nextId = 1;
  let exited = 0;
  const timings: StepTimings = { steps: 0, publish: 0, local: 0, wait: 0, reduce: 0, workerCopy: 0, workerCompute: 0 };

  const terminateAll = () => Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));
  const fail = (error: Error) => {
    if (broken) return;
    broken = error;
    for (const s of slots) {
      const p = s.pending;
      s.pending = null;
      p?.reject(error);
    }
    void terminateAll();
  };

  const execArgv = workers > 0 ? workerExecArgv(script) : [];
  const init = (grads: SharedArrayBuffer): GradRequest => ({
    type: 'init',
    spec: opts.spec,
    inputShape: model.inputShape,
    outputs: model.outputs,
    backend: opts.backend ?? 'wasm',
    params: paramsBuffer,
    grads,
  });
  const started = Array.from({ length: workers }, (_, index) => {
    const gradsBuffer = new SharedArrayBuffer(total * 4);
    let worker: Worker;
    try {
      worker = new Worker(script, { execArgv, stdout: false, stderr: false });
    } catch (e) {
      return Promise.reject(new Error(`worker ${index}: ${errorMessage(e)}`));
    }
    const slot: Slot = { worker, grads: new Float32Array(gradsBuffer), pending: null };
    slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const limit = opts.startTimeoutMs ?? 60_000;
      const timer = setTimeout(() => reject(new Error(`worker ${index} did not start within ${limit / 1000} s`)), limit);
      worker.on('message', (msg: GradReply) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          if (msg.parameterCount !== total) {
            reject(new Error(`worker ${index} built a model of ${msg.parameterCount} parameters, the live model has ${total}`));
            return;
          }
          ready = true;
          worker.unref(); // an idle pool never keeps the process alive
          resolve();
        } else if (msg.type === 'initError') {
          clearTimeout(timer);
          reject(new Error(`worker ${index}: ${msg.message}`));
        } else {
          const p = slot.pending;
          if (!p || p.id !== msg.id) return; // settled already (failed or disposed)
          slot.pending = null;
          worker.unref();
          if (msg.type === 'grads') {
            timings.workerCopy += msg.copyMs;
            timings.workerCompute += msg.computeMs;
            p.resolve(msg.loss);
          }
          else p.reject(new Error(`data-parallel worker ${index}: ${msg.message}`));
        }
      });
      worker.on('error', (e) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`worker ${index}: ${errorMessage(e)}`));
        else fail(new Error(`data-parallel worker ${index} failed: ${errorMessage(e)}`));
      });
      worker.on('exit', (code) => {
        exited++;
        clearTimeout(timer);
        if (!ready) reject(new Error(`worker ${index} exited with code ${code} before it was ready`));
        else if (!disposed) fail(new Error(`data-parallel worker ${index} exited unexpectedly (code ${code})`));
      });
      worker.postMessage(init(gradsBuffer));
    });
  });
  const results = await Promise.allSettled(started);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    disposed = true;
    await terminateAll();
    throw new Error(`data-parallel workers failed to start: ${errorMessage(failed.reason)}`);
  }

  const post = (slot: Slot, msg: Extract<GradRequest, { type: 'step' }>): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      slot.pending = { id: msg.id, resolve, reject };
      slot.worker.ref();
      const transfer: ArrayBuffer[] = [msg.images.buffer as ArrayBuffer, msg.labels.buffer as ArrayBuffer];
      if (msg.mask) transfer.push(msg.mask.buffer as ArrayBuffer);
      slot.worker.postMessage(msg, transfer);
    });

  async function gradients(batch: TrainBatch, extraLoss?: () => tfjs.Scalar | null): Promise<LaneGradients> {
    if (broken) throw broken;
    if (busy) throw new Error('data-parallel: one step at a time');
    busy = true;
    let t = performance.now();
    const lap = (part: Exclude<keyof StepTimings, 'steps'>) => {
      const now = performance.now();
      timings[part] += now - t;
      t = now;
    };
    try {
      const n = batch.y.shape[0];
      const first = localLanes; // lane of worker 0: the calling thread computes lanes 0..localLanes-1
      const rows = Array.from({ length: lanes }, (_, lane) => laneRows(n, lanes, lane));
      // The workers read the live weights (whatever changed them since the last step).
      writeFlat(model.params.map((p) => p.variable), offsets, paramsView);
      const remote: (Promise<number> | null)[] = slots.map(() => null);
      if (workers > 0 && rows.slice(first).some(([a, b]) => b > a)) {
        const xs = batch.x.dataSync() as Float32Array;
        const ys = batch.y.dataSync() as Int32Array;
        const ms = batch.mask ? (batch.mask.dataSync() as Float32Array) : null;
        const outputs = model.outputs;
        const id = nextId++;
        slots.forEach((slot, k) => {
          const [a, b] = rows[first + k];
          if (b <= a) return;
          remote[k] = post(slot, {
            type: 'step',
            id,
            images: xs.slice(a * pixels, b * pixels),
            labels: ys.slice(a, b),
            mask: ms ? ms.slice(a * outputs, b * outputs) : null,
            batchSize: n,
          });
        });
      }
      // Handled here too: if a local lane throws, a worker's later failure is not an unhandled rejection.
      for (const p of remote) p?.catch(() => undefined);
      lap('publish');
      // Lanes are summed in lane order (float addition is not associative): the local lanes
      // (0, 1, ...) as they are computed, then the workers' lanes once they have answered. The sum
      // is tensor adds on the backend (float32, correctly rounded): no read-back of the local lanes.
      let loss = 0;
      let sum: tfjs.Tensor[] | null = null;
      const accumulate = (lane: tfjs.Tensor[], laneLoss: number) => {
        loss += laneLoss;
        if (!sum) {
          sum = lane;
          return;
        }
        const previous: tfjs.Tensor[] = sum;
        sum = previous.map((a, k) => tf.add(a, lane[k]));
        disposeAll(previous);
        disposeAll(lane);
      };
      try {
        for (let lane = 0; lane < localLanes; lane++) {
          const [a, b] = rows[lane];
          if (b <= a) continue;
          // Runs here while the workers run theirs.
          let value = 0;
          const grads = tf.tidy(() => {
            const x = tf.slice(batch.x, [a, 0, 0, 0], [b - a, h, w, c]) as tfjs.Tensor4D;
            const y = tf.slice(batch.y, [a], [b - a]) as tfjs.Tensor1D;
            const mask = batch.mask ? (tf.slice(batch.mask, [a, 0], [b - a, model.outputs]) as tfjs.Tensor2D) : null;
            const r = laneGradients(tf, model, x, y, mask, n);
            value = r.value.dataSync()[0];
            return r.grads;
          });
          accumulate(grads, value);
        }
        lap('local');
        const remoteLoss = await Promise.all(remote.map((p) => p ?? Promise.resolve(0)));
        if (broken) throw broken;
        lap('wait');
        slots.forEach((slot, k) => {
          const [a, b] = rows[first + k];
          if (b > a) accumulate(readFlat(tf, model.params, offsets, slot.grads), remoteLoss[k]);
        });
      } catch (e) {
        if (sum) disposeAll(sum);
        throw e;
      }
      let grads: Gradients = sum ?? model.params.map((p) => tf.zeros(p.shape));
      lap('reduce');
      timings.steps++;
      if (extraLoss) {
        const extra = extraGradients(tf, model, extraLoss);
        if (extra) {
          loss += extra.value;
          const added = grads.map((g, k) => tf.add(g, extra.grads[k]));
          disposeAll(grads);
          disposeAll(extra.grads);
          grads = added;
        }
      }
      return { loss, grads };
    } finally {
      busy = false;
    }
  }

  return {
    lanes,
    workers,
    timings,
    gradients,
    liveWorkers: () => slots.length - exited,
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      fail(new Error('data-parallel training disposed'));
      await terminateAll();
    },
  };
}

/** Gradients of a parameter-only loss on the calling thread (null when it returns null). */
function extraGradients(tf: TF, model: ClassifierModel, loss: () => tfjs.Scalar | null): { value: number; grads: tfjs.Tensor[] } | null {
  let absent = false;
  const vars = model.params.map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => {
    const v = loss();
    if (v) return v;
    absent = true;
    return tf.scalar(0);
  }, vars);
  const out = model.params.map((p) => grads[p.variable.name]);
  const v = value.dataSync()[0];
  value.dispose();
  if (absent) {
    disposeAll(out);
    return null;
  }
  return { value: v, grads: out };
}

/**
 * One optimizer step on data-parallel gradients, as loop.ts's trainStep does it on one thread:
 * the strategy's adjustGradients, optimizer.applyGradients, afterStep. Returns the batch's loss.
 */
export async function dataParallelStep(
  trainer: DataParallelTrainer,
  env: StrategyEnv,
  optimizer: tfjs.Optimizer,
  strategy: Strategy,
  batch: TrainBatch,
  ctx: StepContext,
): Promise<number> {
  if (!canTrainDataParallel(strategy)) throw new Error('dataParallelStep: the strategy changes the loss inside the tape (penalty/classificationLoss); use the single-thread step');
  const { model } = env;
  const { loss, grads: raw } = await trainer.gradients(batch);
  const grads = strategy.adjustGradients ? strategy.adjustGradients(raw, batch, ctx) : raw;
  const named: tfjs.NamedTensorMap = {};
  model.params.forEach((p, k) => (named[p.variable.name] = grads[k]));
  optimizer.applyGradients(named);
  strategy.afterStep?.(grads, batch, ctx);
  disposeAll(grads);
  if (grads !== raw) disposeAll(raw);
  return loss;
}
