// Several runs on one plane: the plane through theta_A, theta_B of a reference run and a third
// model (another run's end weights, e.g. joint training's), as `planar_interpolation` in the
// loss-landscapes package draws it (Li et al. 2018), every task's loss on a G x G grid of it,
// and every selected run's trajectory and end weights projected onto it with their distance off it.
//
// Runs are comparable when they start from the reference's initialisation (bitwise); runs whose
// first phase trains the same tasks must also end it at theta_A bitwise (same seed, model, first
// task). A run whose first phase differs (joint training) shares only the initialisation.

import type { LandscapeGrid } from '../../protocol/result';
import { PLANE3_FORMAT_VERSION, type MultiRunPlaneResult, type PlaneAnchor, type ProjectedRun, type SolutionRef } from '../../protocol/landscape';
import { formPoint, linspace, type PointEvaluator, type TaskOutcome } from './compute';
import { evaluateMany } from './paths';
import { planeThroughThree, projectOntoPlane } from './projection';

/** What a plane or path job needs of a run (a subset of store.ts's WeightStore, plus names). */
export interface RunWeights {
  /** Run folder (as given). */
  name: string;
  /** Legend label (default: the folder's name). */
  label?: string;
  /** The tasks trained in each phase (RunResult.phases). */
  phases: number[][];
  init: Float32Array;
  /** End-of-phase weights, one per phase. */
  taskEnd: Float32Array[];
  trajectory: { step: number; phase: number; theta: Float32Array }[];
}

function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const sameTasks = (a: readonly number[] | undefined, b: readonly number[] | undefined) =>
  !!a && !!b && a.length === b.length && [...a].sort().every((t, i) => t === [...b].sort()[i]);

/**
 * What `other` shares with `reference`: 'theta-A' (same initialisation and the same first phase,
 * ended at the same weights) or 'init' (same initialisation, a different first phase, e.g. joint).
 * Throws a message naming the mismatch otherwise. With `allowInitOnly`, a run that trained the
 * same first task to different weights (e.g. experience replay, which replays within the first
 * task too) is admitted as sharing the initialisation only.
 */
export function comparability(reference: RunWeights, other: RunWeights, allowInitOnly = false): 'theta-A' | 'init' {
  if (other === reference) return 'theta-A';
  if (other.init.length !== reference.init.length) {
    throw new Error(`run ${other.name} has ${other.init.length} parameters, the reference ${reference.name} has ${reference.init.length}: different models cannot share a plane`);
  }
  if (!bitwiseEqual(other.init, reference.init)) {
    throw new Error(`run ${other.name} does not start from the initialisation of ${reference.name} (different seed or model): its weights are not comparable on one plane`);
  }
  if (!sameTasks(other.phases[0], reference.phases[0])) return 'init';
  if (!other.taskEnd[0] || !reference.taskEnd[0]) throw new Error(`run ${!other.taskEnd[0] ? other.name : reference.name} kept no end-of-phase weights for its first phase`);
  if (!bitwiseEqual(other.taskEnd[0], reference.taskEnd[0])) {
    if (allowInitOnly) return 'init';
    throw new Error(`run ${other.name} ended its first task at different weights than ${reference.name} (a different first task, data or training): it does not share theta_A`);
  }
  return 'theta-A';
}

export interface MultiRunPlaneOptions {
  reference: RunWeights;
  /** Phases of the reference whose end weights are theta_A and theta_B (default first and last). */
  optima?: [number, number];
  /** The third point: a run's end weights (default its last phase). */
  third: { run: RunWeights; phase?: number; label?: string };
  /** Runs to project (the reference and the third point's run are always included). */
  runs?: RunWeights[];
  /** Admit runs that share only the initialisation although their first phase trained the same tasks (see comparability). */
  allowInitOnly?: boolean;
  grid: number;
  /** Along u, in units of |u| (default [-0.5, 1.5]). */
  alphaRange?: [number, number];
  /**
   * Along v, in units of |u|. Default: [-0.5, 1.5] times the third point's beta, so its row is a
   * grid row (as beta = 0 is, with theta_A and theta_B on it).
   */
  betaRange?: [number, number];
  taskCount: number;
  evaluateAt: PointEvaluator;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?(done: number, total: number): void;
  samples: number;
  tasks: string[];
}

const labelOf = (r: RunWeights) => r.label ?? r.name.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? r.name;

export async function computeMultiRunPlane(opts: MultiRunPlaneOptions): Promise<MultiRunPlaneResult> {
  const t0 = performance.now();
  const { reference, taskCount } = opts;
  const last = reference.taskEnd.length - 1;
  const optima = opts.optima ?? [0, last];
  for (const p of optima) if (!reference.taskEnd[p]) throw new Error(`the reference run ${reference.name} has no end weights for phase ${p} (it has ${reference.taskEnd.length})`);
  if (optima[0] === optima[1]) throw new Error('theta_A and theta_B must be two different phases');
  const thirdRun = opts.third.run;
  const thirdPhase = opts.third.phase ?? thirdRun.taskEnd.length - 1;
  const thetaC = thirdRun.taskEnd[thirdPhase];
  if (!thetaC) throw new Error(`run ${thirdRun.name} has no end weights for phase ${thirdPhase}`);

  // Every run on the plane must be comparable with the reference (throws with the reason).
  const runs: RunWeights[] = [reference];
  for (const r of [thirdRun, ...(opts.runs ?? [])]) if (!runs.some((x) => x === r || x.name === r.name)) runs.push(r);
  const shares = runs.map((r) => comparability(reference, r, opts.allowInitOnly));

  const thetaA = reference.taskEnd[optima[0]];
  const thetaB = reference.taskEnd[optima[1]];
  const plane = planeThroughThree(thetaA, thetaB, thetaC);
  const third = projectOntoPlane(plane, thetaC);
  const n = thetaA.length;

  const alphas = linspace(opts.alphaRange ?? [-0.5, 1.5], opts.grid);
  const betas = opts.betaRange ? linspace(opts.betaRange, opts.grid) : linspace([-0.5, 1.5], opts.grid).map((m) => m * third.beta);

  const projected: ProjectedRun[] = runs.map((r, k) => ({
    run: r.name,
    label: labelOf(r),
    shares: shares[k],
    trajectory: r.trajectory.map((c) => ({ step: c.step, phase: c.phase, ...projectOntoPlane(plane, c.theta) })),
    ends: r.taskEnd.map((theta, phase) => ({ phase, ...projectOntoPlane(plane, theta) })),
  }));

  // Evaluations: the grid (beta outer, alpha inner), then each run's end weights directly and at
  // the in-plane point of its projected coordinates.
  interface Job { fill(out: Float32Array): void }
  const jobs: Job[] = [];
  for (const b of betas) for (const a of alphas) jobs.push({ fill: (out) => formPoint(out, thetaA, plane.u, plane.v, a, b) });
  const gridJobs = jobs.length;
  const anchorSpecs: { run: RunWeights; phase: number; p: ProjectedRun['ends'][number] }[] = [];
  runs.forEach((r, k) => r.taskEnd.forEach((theta, phase) => {
    const p = projected[k].ends[phase];
    anchorSpecs.push({ run: r, phase, p });
    jobs.push({ fill: (out) => out.set(theta) });
    jobs.push({ fill: (out) => formPoint(out, thetaA, plane.u, plane.v, p.alpha, p.beta) });
  }));
  const outs = await evaluateMany(jobs.length, n, (k, out) => jobs[k].fill(out), opts.evaluateAt, {
    concurrency: opts.concurrency,
    signal: opts.signal,
    onProgress: opts.onProgress,
  });
  for (const o of outs) if (!Array.isArray(o) || o.length !== taskCount) throw new Error(`evaluateAt returned ${o?.length} outcomes, expected ${taskCount}`);

  const G = alphas.length;
  const grids: LandscapeGrid[] = Array.from({ length: taskCount }, (_, task) => ({
    task,
    loss: betas.map((_, bi) => alphas.map((_, ai) => outs[bi * G + ai][task].loss)),
    accuracy: betas.map((_, bi) => alphas.map((_, ai) => outs[bi * G + ai][task].accuracy)),
  }));
  const split = (o: TaskOutcome[]) => ({ loss: o.map((x) => x.loss), accuracy: o.map((x) => x.accuracy) });
  const node = (values: number[], x: number) => values.findIndex((v) => Math.abs(v - x) <= 1e-9 * Math.max(1, Math.abs(x)));
  const anchors: PlaneAnchor[] = anchorSpecs.map((s, k) => {
    const ai = node(alphas, s.p.alpha);
    const bi = node(betas, s.p.beta);
    return {
      run: s.run.name,
      phase: s.phase,
      alpha: s.p.alpha,
      beta: s.p.beta,
      offPlane: s.p.offPlane,
      direct: split(outs[gridJobs + 2 * k]),
      inPlane: split(outs[gridJobs + 2 * k + 1]),
      grid: ai >= 0 && bi >= 0 ? split(outs[bi * G + ai]) : null,
    };
  });

  const ref = (run: RunWeights, phase: number, label: string): SolutionRef => ({ run: run.name, phase, label });
  return {
    formatVersion: PLANE3_FORMAT_VERSION,
    reference: reference.name,
    points: [ref(reference, optima[0], 'A'), ref(reference, optima[1], 'B'), ref(thirdRun, thirdPhase, opts.third.label ?? labelOf(thirdRun))],
    third: { alpha: third.alpha, beta: third.beta },
    distance: plane.distance,
    alphas,
    betas,
    grids,
    runs: projected,
    anchors,
    samples: opts.samples,
    parameterCount: n,
    tasks: opts.tasks,
    createdAt: new Date().toISOString(),
    timeMs: performance.now() - t0,
  };
}
