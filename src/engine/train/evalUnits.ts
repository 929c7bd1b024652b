// The units of a run's evaluations: (task, batch of rows) over evaluation sets kept as the
// dataset's bytes in shared memory, normalised one batch at a time (pixels.ts: the same float32
// values as normalising the whole set up front). A unit yields its batch's partial sums
// (evaluate.ts batchSums); sums combined in task/batch order give bitwise the outcome of
// evaluateModel on the normalised set, whichever thread computed each unit. Imported by the main
// thread's lane (evalLanes.ts) and by the worker's (landscape/worker.ts).
import type * as tfjs from '@tensorflow/tfjs';
import type { ClassifierModel, TF } from '../models/types';
import { addBatch, batchSums, emptyTotals, outcomeOf, type BatchSums, type EvalOutcome } from './evaluate';

/** An evaluation set as bytes: [n * pixels] image bytes, 256 normalised float32 levels, [n] int32 targets (output units). */
export interface HostEvalSet {
  bytes: Uint8Array;
  levels: Float32Array;
  labels: Int32Array;
}

/** One set scored with its masks (additive logit masks [outputs]; null = none; alternateMask undefined = not scored). */
export interface EvalRequest {
  set: number;
  mask: Float32Array | null;
  alternateMask?: Float32Array | null;
}

/** Rows [start, start + size) of request `request`'s set. */
export interface EvalUnit {
  request: number;
  start: number;
  size: number;
}

/** Each request's batches in request then row order: the order their sums are combined in. */
export function planUnits(requests: EvalRequest[], sets: HostEvalSet[], batchSize: number): EvalUnit[] {
  const units: EvalUnit[] = [];
  requests.forEach((r, request) => {
    const n = sets[r.set].labels.length;
    for (let start = 0; start < n; start += batchSize) units.push({ request, start, size: Math.min(batchSize, n - start) });
  });
  return units;
}

/** Units packed for a message: [request, start, size] per unit. */
export function packUnits(units: EvalUnit[]): Int32Array {
  const out = new Int32Array(units.length * 3);
  units.forEach((u, k) => out.set([u.request, u.start, u.size], 3 * k));
  return out;
}

export function unpackUnit(packed: Int32Array, k: number): EvalUnit {
  return { request: packed[3 * k], start: packed[3 * k + 1], size: packed[3 * k + 2] };
}

/** Rows [start, start + size) of a set, normalised: [size * pixels] float32. */
export function normalisedRows(set: HostEvalSet, pixels: number, start: number, size: number): Float32Array {
  const out = new Float32Array(size * pixels);
  const { bytes, levels } = set;
  const from = start * pixels;
  for (let p = 0; p < out.length; p++) out[p] = levels[bytes[from + p]];
  return out;
}

/** The request's masks as tensors (dispose with disposeMasks). */
export function maskTensors(tf: TF, r: EvalRequest): { mask: tfjs.Tensor1D | null; alternateMask?: tfjs.Tensor1D | null } {
  const mask = r.mask ? tf.tensor1d(r.mask, 'float32') : null;
  if (r.alternateMask === undefined) return { mask };
  return { mask, alternateMask: r.alternateMask ? tf.tensor1d(r.alternateMask, 'float32') : null };
}

export function disposeMasks(m: { mask: tfjs.Tensor1D | null; alternateMask?: tfjs.Tensor1D | null }): void {
  m.mask?.dispose();
  m.alternateMask?.dispose();
}

/** One unit's partial sums at the model's current weights. */
export function unitSums(
  tf: TF,
  model: ClassifierModel,
  set: HostEvalSet,
  unit: EvalUnit,
  masks: { mask: tfjs.Tensor1D | null; alternateMask?: tfjs.Tensor1D | null },
  scores?: (x: tfjs.Tensor4D) => tfjs.Tensor2D,
): BatchSums {
  const [h, w, c] = model.inputShape;
  const x = tf.tensor4d(normalisedRows(set, h * w * c, unit.start, unit.size), [unit.size, h, w, c]);
  const y = tf.tensor1d(set.labels.slice(unit.start, unit.start + unit.size), 'int32');
  try {
    return batchSums(tf, model, x, y, { ...masks, scores });
  } finally {
    x.dispose();
    y.dispose();
  }
}

/** Every request's outcome from its units' sums (sums[k] of units[k]), combined in unit order. */
export function combineUnits(requests: EvalRequest[], sets: HostEvalSet[], units: EvalUnit[], sums: BatchSums[]): EvalOutcome[] {
  const totals = requests.map(() => emptyTotals());
  units.forEach((u, k) => (totals[u.request] = addBatch(totals[u.request], sums[k])));
  return requests.map((r, i) => outcomeOf(totals[i], sets[r.set].labels.length, r.alternateMask !== undefined));
}
