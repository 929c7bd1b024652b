// Paths between solutions in weight space, evaluated at K points, and their loss barriers:
// the straight line theta_0 -> theta_1 and the quadratic Bezier curve of bezier.ts.
//
// Barrier per task (Frankle et al. 2020, "Linear Mode Connectivity and the Lottery Ticket
// Hypothesis"; Mirzadeh et al. 2021, "Linear Mode Connectivity in Multitask and Continual
// Learning"): max over t of loss(t) - [(1-t) loss(0) + t loss(1)].

import { abortError as cancelled, yieldToLoop } from '../cancel';
import { maxInnerMeanLoss, type PathEvaluation, type SolutionRef, type BezierTraining } from '../../protocol/landscape';
import type { PointEvaluator, TaskOutcome } from './compute';
import { linspace } from './compute';
import { bezierPoint } from './bezier';
import { norm, sub } from './vector';

const abortError = (): Error => cancelled('landscape');

export interface EvaluateManyOptions {
  /** Evaluations in flight (a pool's size); above 1 evaluateAt must be async and copy theta. */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
}

/**
 * Evaluates `count` points: fill(k, buffer) writes point k into a buffer of `n` values (one buffer
 * per lane, reused), evaluateAt scores it. Results in point order; the first failure is rethrown
 * after the in-flight points settle.
 */
export async function evaluateMany(count: number, n: number, fill: (k: number, out: Float32Array) => void, evaluateAt: PointEvaluator, opts: EvaluateManyOptions = {}): Promise<TaskOutcome[][]> {
  const { signal } = opts;
  if (signal?.aborted) throw abortError();
  const out: TaskOutcome[][] = new Array(count);
  const lanes = Math.max(1, Math.min(Math.floor(opts.concurrency ?? 1), count));
  let next = 0;
  let done = 0;
  let failure: { error: unknown } | null = null;
  opts.onProgress?.(0, count);
  const lane = async () => {
    const buffer = new Float32Array(n);
    while (next < count && !failure) {
      const k = next++;
      try {
        await yieldToLoop(); // lets cancel messages through
        if (signal?.aborted) throw abortError();
        fill(k, buffer);
        out[k] = await evaluateAt(buffer);
        opts.onProgress?.(++done, count);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure) throw (failure as { error: unknown }).error;
  if (signal?.aborted) throw abortError();
  return out;
}

/**
 * Loss barrier of one curve: max_k loss[k] - [(1 - t_k) loss[0] + t_k loss[K-1]], with t the
 * path parameter (t[0] = 0, t[K-1] = 1), and where it is attained. NaN when any value is.
 */
export function lossBarrier(t: readonly number[], loss: readonly number[]): { barrier: number; at: number } {
  if (t.length !== loss.length || t.length < 2) throw new Error(`lossBarrier: needs >= 2 points with one loss each (got ${t.length} t, ${loss.length} losses)`);
  const K = t.length;
  const t0 = t[0];
  const t1 = t[K - 1];
  const l0 = loss[0];
  const l1 = loss[K - 1];
  let barrier = -Infinity;
  let at = t0;
  for (let k = 0; k < K; k++) {
    if (!Number.isFinite(loss[k])) return { barrier: NaN, at: t[k] };
    const s = (t[k] - t0) / (t1 - t0);
    const excess = loss[k] - ((1 - s) * l0 + s * l1);
    if (excess > barrier) {
      barrier = excess;
      at = t[k];
    }
  }
  return { barrier, at };
}

/** A path theta(t), t in [0, 1], written into `out` (float64 arithmetic, rounded once). */
export interface WeightPath {
  kind: 'line' | 'bezier';
  theta0: Float32Array;
  theta1: Float32Array;
  at(t: number, out: Float32Array): Float32Array;
}

/** theta_0 + t (theta_1 - theta_0): bitwise theta_0 at t = 0 and theta_1 at t = 1. */
export function linePath(theta0: Float32Array, theta1: Float32Array): WeightPath {
  if (theta0.length !== theta1.length) throw new Error(`linePath: the endpoints have ${theta0.length} and ${theta1.length} values`);
  const d = sub(theta1, theta0);
  return {
    kind: 'line',
    theta0,
    theta1,
    at(t, out) {
      for (let i = 0; i < out.length; i++) out[i] = theta0[i] + t * d[i];
      return out;
    },
  };
}

/** The quadratic Bezier curve with control point `control` (bezier.ts). */
export function bezierPath(theta0: Float32Array, control: Float64Array | Float32Array, theta1: Float32Array): WeightPath {
  if (theta0.length !== theta1.length || control.length !== theta0.length) throw new Error('bezierPath: the endpoints and the control point differ in length');
  return { kind: 'bezier', theta0, theta1, at: (t, out) => bezierPoint(out, theta0, control, theta1, t) };
}

export interface EvaluatePathOptions extends EvaluateManyOptions {
  path: WeightPath;
  /** Points along the path, endpoints included (default 25). */
  points?: number;
  label: string;
  from: SolutionRef;
  to: SolutionRef;
  taskCount: number;
  evaluateAt: PointEvaluator;
  bezier?: BezierTraining;
}

/** Every task's loss and accuracy at K evenly spaced t, and the per-task barriers. */
export async function evaluatePath(opts: EvaluatePathOptions): Promise<PathEvaluation> {
  const { path, taskCount } = opts;
  const t = linspace([0, 1], opts.points ?? 25);
  if (t.length < 2) throw new Error('a path needs at least 2 points');
  const outs = await evaluateMany(t.length, path.theta0.length, (k, buf) => path.at(t[k], buf), opts.evaluateAt, opts);
  for (const o of outs) if (!Array.isArray(o) || o.length !== taskCount) throw new Error(`evaluateAt returned ${o?.length} outcomes, expected ${taskCount}`);
  const loss = Array.from({ length: taskCount }, (_, task) => outs.map((o) => o[task].loss));
  const accuracy = Array.from({ length: taskCount }, (_, task) => outs.map((o) => o[task].accuracy));
  const barriers = loss.map((l) => lossBarrier(t, l));
  const meanLoss = t.map((_, k) => loss.reduce((sum, l) => sum + l[k], 0) / taskCount);
  return {
    kind: path.kind,
    label: opts.label,
    from: opts.from,
    to: opts.to,
    distance: norm(sub(path.theta1, path.theta0)),
    t,
    loss,
    accuracy,
    barrier: barriers.map((b) => b.barrier),
    barrierT: barriers.map((b) => b.at),
    meanLoss,
    meanBarrier: lossBarrier(t, meanLoss).barrier,
    ...(opts.bezier ? { bezier: opts.bezier } : {}),
  };
}

/** The barriers table printed by the CLI: one row per path; per-task barriers, the mean loss's barrier and its max inside the path. */
export function barrierTable(paths: readonly PathEvaluation[], tasks: readonly string[]): string {
  const num = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : String(x));
  const header = ['path', 'distance', ...tasks.map((t) => `barrier ${t}`), 'barrier mean', 'max inner mean loss'];
  const rows = paths.map((p) => [
    p.label,
    p.distance.toFixed(3),
    ...p.barrier.map(num),
    num(p.meanBarrier),
    num(maxInnerMeanLoss(p)),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
