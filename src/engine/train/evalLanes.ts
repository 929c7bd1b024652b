// A run's evaluations (the baseline, curve points, rows of R) on both cores.
//
// An evaluation is cut into units, (task, batch of rows) (evalUnits.ts). The main thread and the
// worker(s) of an evaluation pool (landscape/pool.ts, started once per run with the run's
// evaluation sets as bytes in shared memory) claim units from one shared counter, each computing
// a unit's partial sums with the same function at the same weights (the worker gets them per
// evaluation), and write them into shared memory. The sums are combined in task/batch order in
// float32, as evaluateModel accumulates them, so the outcome is bitwise the same on 1 or 2 cores
// and whatever the timing. A strategy with its own classifier (`scores`, e.g. iCaRL) is scored on
// the main thread alone (the workers have no strategy). A worker failure fails the evaluation
// with its message: no unit is ever left out of a sum.
//
// Measured on 2 cores (small CNN, a row of R = 2 x 10,000 images in 1000-image units): the main
// thread alone 3.3-3.9 s, with 1 worker 1.77-1.79 s, with 2 workers (3 threads) 1.94-2.05 s: hence
// one worker. The default experiment's evaluations: 18-25 s before, ~10 s with the worker.
import type * as tfjs from '@tensorflow/tfjs';
import type { ResolvedModelSpec } from '../../protocol/experiment';
import { throwIfAborted, yieldToLoop } from '../cancel';
import type { ClassifierModel, TF } from '../models/types';
import { createEvaluatorPool, sharedHostSet, type EvaluatorPool } from '../landscape/pool';
import { readParameters } from '../landscape/vector';
import type { BatchSums, EvalOutcome } from './evaluate';
import { combineUnits, disposeMasks, maskTensors, packUnits, planUnits, unitSums, type EvalRequest, type HostEvalSet } from './evalUnits';

export interface EvalLanesOptions {
  tf: TF;
  /** The live model: the main thread evaluates it as it is; the workers get its weights per evaluation. */
  model: ClassifierModel;
  /** The spec the model was built from (the workers build their replicas from it). */
  spec: ResolvedModelSpec;
  /** Every set the run evaluates (test and curve sets); put in shared memory once. */
  sets: HostEvalSet[];
  /** Rows per unit (the evaluation batch size). */
  batchSize: number;
  /** Worker threads beside the main thread (0: the main thread alone). */
  workers: number;
  /** Worker entry (default: the landscape pool's, landscape/worker.ts). */
  workerScript?: string;
  startTimeoutMs?: number;
}

export interface EvaluateOptions {
  signal?: AbortSignal;
  /** The strategy's classifier: the whole evaluation runs on the main thread. */
  scores?: (x: tfjs.Tensor4D) => tfjs.Tensor2D;
  /** Called once per request, in order, when its first unit is claimed (by any lane), before the main thread's next unit. */
  before?: (request: number) => void;
}

export interface EvalLanes {
  /** Worker threads evaluating beside the main thread. */
  readonly workers: number;
  /** The sets, in shared memory (requests index them). */
  readonly sets: HostEvalSet[];
  /** Scores every request at the model's current weights; one outcome per request, in order. */
  evaluate(requests: EvalRequest[], opts?: EvaluateOptions): Promise<EvalOutcome[]>;
  /** Units computed so far on the main thread and by the workers (for measurements and tests). */
  readonly computed: { main: number; workers: number };
  /** Terminates the workers (an evaluation in flight rejects). */
  dispose(): Promise<void>;
}

/**
 * Starts the lanes: with `workers` > 0 the pool's workers load tfjs and build their replicas now
 * (once per run). Throws if they cannot start; the caller may then use workers: 0.
 */
export async function createEvalLanes(opts: EvalLanesOptions): Promise<EvalLanes> {
  const { tf, model, batchSize } = opts;
  const sets = opts.sets.map(sharedHostSet);
  const backend = tf.getBackend();
  if (opts.workers > 0 && backend !== 'wasm' && backend !== 'cpu') throw new Error(`evaluation workers need the wasm or cpu backend, not ${backend}`);
  const pool: EvaluatorPool | null =
    opts.workers > 0
      ? await createEvaluatorPool({
          label: 'evaluation',
          spec: opts.spec,
          inputShape: model.inputShape,
          outputs: model.outputs,
          sets: [],
          hostSets: sets,
          batchSize,
          backend: backend as 'wasm' | 'cpu',
          workers: opts.workers,
          workerScript: opts.workerScript,
          startTimeoutMs: opts.startTimeoutMs,
        })
      : null;
  const computed = { main: 0, workers: 0 };
  let busy = false;

  async function evaluate(requests: EvalRequest[], eo: EvaluateOptions = {}): Promise<EvalOutcome[]> {
    if (busy) throw new Error('evaluation lanes: one evaluation at a time');
    requests.forEach((r, i) => {
      if (!sets[r.set]) throw new Error(`evaluation: request ${i} reads set ${r.set} of ${sets.length}`);
    });
    busy = true;
    try {
      return await run(requests, eo);
    } finally {
      busy = false;
    }
  }

  async function run(requests: EvalRequest[], eo: EvaluateOptions): Promise<EvalOutcome[]> {
    const units = planUnits(requests, sets, batchSize);
    const count = units.length;
    const next = new Int32Array(new SharedArrayBuffer(4));
    const sums = new Float32Array(new SharedArrayBuffer(12 * Math.max(1, count)));
    const done = new Int32Array(new SharedArrayBuffer(4 * Math.max(1, count)));
    // First unit of each request: a request is announced (before) once a lane has claimed it.
    const first = requests.map((_, r) => units.findIndex((u) => u.request === r));
    let announced = 0;
    const announce = (claimed: number) => {
      while (announced < requests.length && (first[announced] < 0 || first[announced] < claimed)) {
        const r = announced++; // not inside `before?.(...)`: without a callback its arguments are never evaluated
        eo.before?.(r);
      }
    };
    let remote: Promise<number[]> | null = null;
    let remoteError: Error | null = null;
    const masks: ReturnType<typeof maskTensors>[] = [];
    try {
      if (pool && !eo.scores && count > 1) {
        const job = { theta: readParameters(tf, model), requests, units: packUnits(units), next: next.buffer as SharedArrayBuffer, sums: sums.buffer as SharedArrayBuffer, done: done.buffer as SharedArrayBuffer };
        remote = pool.scoreUnits(job).catch((e: unknown) => {
          remoteError = e instanceof Error ? e : new Error(String(e));
          throw remoteError;
        });
        remote.catch(() => undefined); // awaited below; a failure is also seen between units
      }
      for (;;) {
        announce(Math.min(Atomics.load(next, 0), count));
        throwIfAborted(eo.signal);
        if (remoteError) throw remoteError;
        const k = Atomics.add(next, 0, 1);
        if (k >= count) break;
        announce(k + 1);
        throwIfAborted(eo.signal);
        const unit = units[k];
        const r = requests[unit.request];
        masks[unit.request] ??= maskTensors(tf, r);
        const b = unitSums(tf, model, sets[r.set], unit, masks[unit.request], eo.scores);
        sums.set([b.correct, b.loss, b.correctAlternate], 3 * k);
        Atomics.store(done, k, 1);
        computed.main++;
        // Lets a cancel (and the worker's answer) in between units.
        await yieldToLoop();
      }
      announce(count + 1);
      if (remote) computed.workers += (await remote).reduce((a, b) => a + b, 0);
      throwIfAborted(eo.signal);
      const outs: BatchSums[] = units.map((_, k) => {
        if (Atomics.load(done, k) === 0) throw new Error(`evaluation: unit ${k} (request ${units[k].request}, rows ${units[k].start}..${units[k].start + units[k].size}) was not computed`);
        return { correct: sums[3 * k], loss: sums[3 * k + 1], correctAlternate: sums[3 * k + 2] };
      });
      return combineUnits(requests, sets, units, outs);
    } catch (e) {
      // No lane claims another unit; the worker's current unit is waited for, so the pool is idle again.
      Atomics.store(next, 0, count);
      if (remote) await remote.catch(() => undefined);
      throw e;
    } finally {
      masks.forEach((m) => m && disposeMasks(m));
    }
  }

  return {
    workers: pool ? opts.workers : 0,
    sets,
    evaluate,
    computed,
    dispose: async () => {
      await pool?.dispose();
    },
  };
}
