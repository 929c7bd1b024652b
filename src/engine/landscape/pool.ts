// A pool of worker threads evaluating loss-landscape points in parallel (computeLandscape with
// `concurrency: pool.size`).
//
// Each worker (worker.ts, bundled to dist/landscapeWorker.js) holds its own tfjs on the wasm (or
// cpu) backend and its own copy of the model (same ResolvedModelSpec); the evaluation sets are sent
// once in shared memory (SharedArrayBuffer, one copy for all workers; each worker's backend holds
// them as tensors), and it evaluates the points it is sent with modelEvaluator: on the same backend
// and batch size the results are bitwise those of the in-process evaluator. Never use it with the
// 'tensorflow' backend in the main thread (tfjs-node is multi-threaded already, and its floats
// differ from wasm's).
//
// Optionally the calling thread evaluates too (`local`): one more lane, run synchronously on the
// main thread. Measured on 2 cores (7x7 grid, small CNN, 2 x 1000 images): 2 workers with the main
// thread only coordinating ran x1.84-2.07 the in-process speed, 1 worker + the main thread
// x1.60-1.83 (a worker's result waits while the main thread evaluates), hence the default of
// availableParallelism() workers and no local lane.
//
// The same workers also compute a run's evaluation units (train/evalLanes.ts: `hostSets`, the
// evaluation sets as bytes in shared memory, and scoreUnits): every worker and the main thread
// claim (task, batch) units from one shared counter and write each unit's partial sums into shared
// memory; the caller combines them in unit order (train/evalUnits.ts).

import { existsSync } from 'node:fs';
import { runCores } from '../cores';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResolvedModelSpec } from '../../protocol/experiment';
import type { EvalSet } from '../models/types';
import type { EvalRequest, HostEvalSet } from '../train/evalUnits';
import type { PointEvaluator, TaskOutcome } from './compute';

export interface PoolEvalSet {
  /** [n, h, w, c] float32 images, flattened (normalised as for the in-process evaluation). */
  images: Float32Array;
  /** [n] int32 targets (output units). */
  labels: Int32Array;
  /** Additive logit mask [outputs] the task is scored with (task-IL/class-IL heads). */
  mask?: Float32Array;
}

export interface EvaluatorPoolOptions {
  spec: ResolvedModelSpec;
  inputShape: [number, number, number];
  outputs: number;
  /** One set per task, in task order (posted to the workers once, in shared memory). */
  sets: PoolEvalSet[];
  /** Evaluation sets as bytes for scoreUnits (posted once; shared memory, never copied). */
  hostSets?: HostEvalSet[];
  /** Evaluation batch size: the same as the in-process evaluator's for identical results. */
  batchSize: number;
  /** Worker threads (default: runCores() - 1 when `local` is given, else runCores(); at least 1; engine/cores.ts). */
  workers?: number;
  /**
   * Worker entry. Default: dist/landscapeWorker.js beside the bundle, or worker.ts (run with
   * `--import tsx`) when this module runs from its TypeScript source.
   */
  workerScript?: string;
  /** tfjs backend in the workers (default 'wasm'); must be the main thread's for identical results. */
  backend?: 'wasm' | 'cpu';
  /** An in-thread evaluator (e.g. modelEvaluator) used as one more lane: size = workers + 1. */
  local?: PointEvaluator;
  /** How long a worker may take to load tfjs and build its model (default 60 s). */
  startTimeoutMs?: number;
  /** What the workers do, in error messages (default 'landscape'). */
  label?: string;
}

export interface EvaluatorPool {
  /** Evaluates every task at theta (copied: the caller may reuse the buffer once this returns). */
  evaluateAt(theta: Float32Array): Promise<TaskOutcome[]>;
  /** Evaluations that run at once: pass as computeLandscape's `concurrency`. */
  size: number;
  /**
   * Every worker claims and computes units of `job` until none are left (the caller may claim
   * units from the same counter meanwhile); resolves with the units each worker computed. Needs
   * `hostSets` and no evaluateAt pending.
   */
  scoreUnits(job: UnitsJob): Promise<number[]>;
  /** Terminates the workers; pending evaluations reject. */
  dispose(): Promise<void>;
}

/** One evaluation's units, shared by every lane: claimed from `next`, their sums written to `sums`. */
export interface UnitsJob {
  /** The weights to evaluate (copied: the caller may reuse the buffer once this returns). */
  theta: Float32Array;
  requests: EvalRequest[];
  /** evalUnits.packUnits: [request, start, size] per unit. */
  units: Int32Array;
  /** Int32 [1]: the next unit to claim (Atomics.add); a lane stops at units.length / 3. */
  next: SharedArrayBuffer;
  /** Float32 [3 * units]: each unit's correct, loss and alternate-correct sums. */
  sums: SharedArrayBuffer;
  /** Int32 [units]: 1 + the lane (worker index + 1) that wrote the unit's sums, 0 = not computed. */
  done: SharedArrayBuffer;
}

// Messages between pool.ts and worker.ts.
export type PoolRequest =
  | {
      type: 'init';
      spec: ResolvedModelSpec;
      inputShape: [number, number, number];
      outputs: number;
      sets: PoolEvalSet[];
      hostSets: HostEvalSet[];
      batchSize: number;
      backend: 'wasm' | 'cpu';
    }
  | { type: 'eval'; id: number; theta: Float32Array }
  | ({ type: 'units'; id: number; lane: number } & UnitsJob);

export type PoolReply =
  | { type: 'ready'; backend: string; parameterCount: number }
  | { type: 'initError'; message: string }
  | { type: 'result'; id: number; outs: TaskOutcome[] }
  | { type: 'unitsDone'; id: number; computed: number }
  | { type: 'evalError'; id: number; message: string };

/**
 * The worker entry used by default. Bundled, this code is in dist/<bundle>.js (CJS) and the worker
 * is dist/landscapeWorker.js; from source (tests under `node --import tsx`) this file is pool.ts
 * and the worker is worker.ts.
 */
export function defaultWorkerScript(): string {
  return __filename.endsWith('.ts') ? join(__dirname, 'worker.ts') : join(__dirname, 'landscapeWorker.js');
}

/**
 * Node options a worker needs to run its script. A TypeScript entry needs tsx's CommonJS hook:
 * on Node 20, `--import tsx` in a worker's execArgv does not apply to the worker's entry file
 * ("Unknown file extension .ts"), `--require tsx/cjs` does.
 */
function workerExecArgv(script: string): string[] {
  if (!/\.[cm]?ts$/.test(script)) return []; // not the parent's execArgv (it may hold options workers reject)
  let hook: string;
  try {
    hook = require.resolve('tsx/cjs');
  } catch {
    throw new Error(`the landscape worker ${script} is TypeScript and needs tsx (tsx/cjs), which cannot be resolved`);
  }
  return ['--require', hook];
}

/** A copy of `values` in shared memory: posted to a worker, it is shared, not copied. */
function sharedCopy<T extends Float32Array | Int32Array>(values: T): T {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  const Ctor = values.constructor as { new (buffer: SharedArrayBuffer): T };
  const out = new Ctor(new SharedArrayBuffer(values.byteLength));
  out.set(values);
  return out;
}

/** A byte set in shared memory (levels are 1 KB: copied). */
export function sharedHostSet(s: HostEvalSet): HostEvalSet {
  let bytes = s.bytes;
  if (!(bytes.buffer instanceof SharedArrayBuffer)) {
    bytes = new Uint8Array(new SharedArrayBuffer(s.bytes.byteLength));
    bytes.set(s.bytes);
  }
  return { bytes, levels: s.levels, labels: sharedCopy(s.labels) };
}

/** The sets with their arrays in shared memory (one copy for every worker instead of one each). */
export function sharedPoolSets(sets: PoolEvalSet[]): PoolEvalSet[] {
  return sets.map((s) => ({ images: sharedCopy(s.images), labels: sharedCopy(s.labels), ...(s.mask ? { mask: sharedCopy(s.mask) } : {}) }));
}

/** The typed arrays behind in-process EvalSets (one host read each, into shared memory), for createEvaluatorPool's `sets`. */
export function poolSetsFromTensors(sets: EvalSet[]): PoolEvalSet[] {
  return sharedPoolSets(
    sets.map((s) => ({
      images: s.images.dataSync() as Float32Array,
      labels: s.labels.dataSync() as Int32Array,
      ...(s.mask ? { mask: s.mask.dataSync() as Float32Array } : {}),
    })),
  );
}

interface Job {
  theta: Float32Array;
  resolve(outs: TaskOutcome[]): void;
  reject(e: Error): void;
}

/** What a worker is busy with: a point (evaluateAt) or its share of an evaluation's units (scoreUnits). */
type SlotJob = (Job & { id: number; kind: 'point' }) | { id: number; kind: 'units'; resolve(computed: number): void; reject(e: Error): void };

interface Slot {
  worker: Worker;
  job: SlotJob | null;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function createEvaluatorPool(opts: EvaluatorPoolOptions): Promise<EvaluatorPool> {
  const parallelism = runCores();
  const count = Math.max(1, Math.floor(opts.workers ?? (opts.local ? parallelism - 1 : parallelism)));
  const script = opts.workerScript ?? defaultWorkerScript();
  const label = opts.label ?? 'landscape';
  if (!existsSync(script)) {
    throw new Error(
      `${label} worker script not found: ${script}` +
        (script.endsWith('landscapeWorker.js') ? ' (build it with `npm run build`)' : ''),
    );
  }
  const execArgv = workerExecArgv(script);
  const [h, w, c] = opts.inputShape;
  opts.sets.forEach((s, i) => {
    if (s.images.length !== s.labels.length * h * w * c) {
      throw new Error(`createEvaluatorPool: sets[${i}] has ${s.images.length} pixel values for ${s.labels.length} labels of ${h}x${w}x${c} images`);
    }
  });
  const taskCount = opts.sets.length;
  const init: PoolRequest = {
    type: 'init',
    spec: opts.spec,
    inputShape: opts.inputShape,
    outputs: opts.outputs,
    sets: sharedPoolSets(opts.sets), // read-only: every worker reads the same memory
    hostSets: (opts.hostSets ?? []).map(sharedHostSet),
    batchSize: opts.batchSize,
    backend: opts.backend ?? 'wasm',
  };

  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 1;
  let broken: Error | null = null; // set when a worker died or the pool was disposed
  let disposed = false;
  let parameterCount = -1;
  let localBusy = false;

  const terminateAll = () => Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));

  /** A worker died: every pending evaluation rejects with its message, the pool stops. */
  const fail = (error: Error) => {
    if (broken) return;
    broken = error;
    for (const s of slots) {
      const job = s.job;
      s.job = null;
      job?.reject(error);
    }
    for (const job of queue.splice(0)) job.reject(error);
    void terminateAll();
  };

  const pump = () => {
    while (queue.length && !broken) {
      const slot = slots.find((s) => !s.job);
      if (slot) {
        const job = queue.shift()!;
        const id = nextId++;
        slot.job = { ...job, id, kind: 'point' };
        slot.worker.ref();
        const msg: PoolRequest = { type: 'eval', id, theta: job.theta };
        slot.worker.postMessage(msg); // copies theta
        continue;
      }
      if (opts.local && !localBusy) {
        runLocal(queue.shift()!);
        continue;
      }
      break;
    }
  };

  const runLocal = (job: Job) => {
    localBusy = true;
    // Next turn of the event loop, so the workers get their points first.
    setImmediate(() => {
      void (async () => {
        try {
          if (broken) throw broken;
          job.resolve(await opts.local!(job.theta));
        } catch (e) {
          job.reject(e instanceof Error ? e : new Error(errorMessage(e)));
        } finally {
          localBusy = false;
          pump();
        }
      })();
    });
  };

  // Start the workers; each answers 'ready' once its backend, sets and model exist.
  const started = Array.from({ length: count }, (_, index) => {
    let worker: Worker;
    try {
      worker = new Worker(script, { execArgv, stdout: false, stderr: false });
    } catch (e) {
      return Promise.reject(new Error(`worker ${index}: ${errorMessage(e)}`));
    }
    const slot: Slot = { worker, job: null };
    slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => reject(new Error(`worker ${index} did not start within ${(opts.startTimeoutMs ?? 60_000) / 1000} s`)), opts.startTimeoutMs ?? 60_000);
      worker.on('message', (msg: PoolReply) => {
        if (msg.type === 'ready') {
          ready = true;
          clearTimeout(timer);
          parameterCount = msg.parameterCount;
          worker.unref();
          resolve();
        } else if (msg.type === 'initError') {
          clearTimeout(timer);
          reject(new Error(`worker ${index}: ${msg.message}`));
        } else if (msg.type === 'result' || msg.type === 'unitsDone' || msg.type === 'evalError') {
          const job = slot.job;
          if (!job || job.id !== msg.id) return; // settled already (pool failed or disposed)
          slot.job = null;
          worker.unref();
          if (msg.type === 'evalError') job.reject(new Error(`${label} worker: ${msg.message}`));
          else if (job.kind === 'point' && msg.type === 'result') job.resolve(msg.outs);
          else if (job.kind === 'units' && msg.type === 'unitsDone') job.resolve(msg.computed);
          else job.reject(new Error(`worker ${index} answered '${msg.type}' to a ${job.kind} request`));
          pump();
        }
      });
      worker.on('error', (e) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`worker ${index}: ${errorMessage(e)}`));
        else fail(new Error(`${label} worker ${index} failed: ${errorMessage(e)}`));
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`worker ${index} exited with code ${code} before it was ready`));
        else if (!disposed) fail(new Error(`${label} worker ${index} exited unexpectedly (code ${code})`));
      });
      worker.postMessage(init);
    });
  });
  const results = await Promise.allSettled(started);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    disposed = true;
    await terminateAll();
    throw new Error(`${label} worker pool failed to start: ${errorMessage(failed.reason)}`);
  }

  return {
    size: count + (opts.local ? 1 : 0),
    evaluateAt(theta: Float32Array): Promise<TaskOutcome[]> {
      if (broken) return Promise.reject(broken);
      if (theta.length !== parameterCount) {
        return Promise.reject(new Error(`evaluateAt: theta has ${theta.length} values, the model has ${parameterCount} parameters`));
      }
      return new Promise<TaskOutcome[]>((resolve, reject) => {
        const check = (outs: TaskOutcome[]) => {
          if (!Array.isArray(outs) || outs.length !== taskCount) reject(new Error(`landscape worker returned ${outs?.length} outcomes for ${taskCount} tasks`));
          else resolve(outs);
        };
        // Copied now: the caller may overwrite its buffer while the point waits in the queue.
        queue.push({ theta: theta.slice(), resolve: check, reject });
        pump();
      });
    },
    scoreUnits(job: UnitsJob): Promise<number[]> {
      if (broken) return Promise.reject(broken);
      if (!opts.hostSets?.length) return Promise.reject(new Error('scoreUnits: the pool was started without hostSets'));
      if (queue.length || slots.some((s) => s.job)) return Promise.reject(new Error('scoreUnits: the workers are busy'));
      if (job.theta.length !== parameterCount) {
        return Promise.reject(new Error(`scoreUnits: theta has ${job.theta.length} values, the model has ${parameterCount} parameters`));
      }
      return Promise.all(
        slots.map(
          (slot, k) =>
            new Promise<number>((resolve, reject) => {
              const id = nextId++;
              slot.job = { id, kind: 'units', resolve, reject };
              slot.worker.ref();
              const msg: PoolRequest = { type: 'units', id, lane: k + 1, ...job };
              slot.worker.postMessage(msg); // copies theta, requests and units; shares the buffers
            }),
        ),
      );
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      fail(new Error(`${label} worker pool disposed`));
      await terminateAll();
    },
  };
}
