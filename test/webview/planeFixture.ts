// A comparison of four strategies (naive, EWC, replay, joint) and a plane + paths outcome built by
// hand on two quadratic bowls, so every coordinate and number the cards show is known.
import type { Comparison } from '../../src/protocol/compare';
import type { MultiRunPlaneResult, PathEvaluation, PathsResult, ProjectedRun } from '../../src/protocol/landscape';
import type { PlaneJobOutcome } from '../../src/protocol/planeMessages';
import { compareRun, groupOf } from './comparison';

export function fourStrategies(): Comparison {
  const runs = [
    compareRun('Naive', 0, 0, [[0.98, 0.1], [0.23, 0.9]]),
    compareRun('EWC', 1, 0, [[0.98, 0.1], [0.61, 0.87]]),
    compareRun('Replay', 2, 0, [[0.97, 0.1], [0.85, 0.88]]),
    compareRun('Joint', 3, 0, [[0.97, 0.9]], { strategy: 'joint' }),
  ];
  return {
    formatVersion: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    title: 'Four strategies',
    runs,
    groups: runs.map((r, k) => groupOf(runs, r.label.split(' ·')[0], [k])),
    axes: [],
    sweepSeries: [],
    unreadable: [],
    warnings: [],
  };
}

export const folder = (label: string) => `/ws/results/${label}-0`;
const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, k) => a + ((b - a) * k) / (n - 1));
export const THIRD = { alpha: 0.5, beta: 0.8 };
/** Loss of task 0 (bowl at θ_A) and task 1 (bowl at θ_B), both low at the joint solution too. */
export const bowl = (task: number, a: number, b: number) => 0.03 + Math.min(2 * ((a - task) ** 2 + b ** 2), 2 * ((a - THIRD.alpha) ** 2 + (b - THIRD.beta) ** 2) + 0.05);

function run(label: string, shares: ProjectedRun['shares'], ends: [number, number, number][]): ProjectedRun {
  const init = { alpha: -0.35, beta: -0.3 };
  const pts = [init, ...ends.map(([alpha, beta]) => ({ alpha, beta }))];
  const trajectory = pts.flatMap((p, k) => (k === 0 ? [{ ...p, step: 0, phase: -1 }] : [0.5, 1].map((f) => ({ alpha: pts[k - 1].alpha + f * (p.alpha - pts[k - 1].alpha), beta: pts[k - 1].beta + f * (p.beta - pts[k - 1].beta), step: 100 * (k - 1) + 100 * f, phase: k - 1 }))));
  return {
    run: folder(label),
    label: `${label}-0`,
    shares,
    trajectory: trajectory.map((t) => ({ ...t, offPlane: 0, offPlaneRelative: 0 })),
    ends: ends.map(([alpha, beta, off], phase) => ({ phase, alpha, beta, offPlane: off, offPlaneRelative: off / 12.5 })),
  };
}

/** Each end evaluated at its weights (higher by 0.05 per unit off the plane) and at its projection. */
function anchorsOf(runs: ProjectedRun[]): MultiRunPlaneResult['anchors'] {
  return runs.flatMap((r) =>
    r.ends.map((e) => {
      const inPlane = [0, 1].map((t) => bowl(t, e.alpha, e.beta));
      return { run: r.run, phase: e.phase, alpha: e.alpha, beta: e.beta, offPlane: e.offPlane, direct: { loss: inPlane.map((l) => l + 0.05 * e.offPlane), accuracy: [0, 0] }, inPlane: { loss: inPlane, accuracy: [0, 0] }, grid: null };
    }),
  );
}

export function planeResult(): MultiRunPlaneResult {
  const alphas = linspace(-0.5, 1.5, 21);
  const betas = linspace(-0.5, 1.5, 21).map((m) => m * THIRD.beta);
  const runs = [
    run('Naive', 'theta-A', [[0, 0, 0], [1, 0, 0]]),
    run('Joint', 'init', [[THIRD.alpha, THIRD.beta, 0]]),
    run('EWC', 'theta-A', [[0, 0, 0], [0.62, 0.31, 2.1]]),
    run('Replay', 'init', [[0.08, -0.04, 0.9], [0.74, 0.18, 3.4]]),
  ];
  const grids = [0, 1].map((task) => ({ task, loss: betas.map((b) => alphas.map((a) => bowl(task, a, b))), accuracy: betas.map((b) => alphas.map((a) => Math.exp(-bowl(task, a, b)))) }));
  return {
    formatVersion: 1,
    reference: folder('Naive'),
    points: [
      { run: folder('Naive'), phase: 0, label: 'A' },
      { run: folder('Naive'), phase: 1, label: 'B' },
      { run: folder('Joint'), phase: 0, label: 'Joint-0' },
    ],
    third: THIRD,
    distance: 12.5,
    alphas,
    betas,
    grids,
    runs,
    anchors: anchorsOf(runs),
    samples: 500,
    parameterCount: 21840,
    tasks: ['MNIST', 'Fashion-MNIST'],
    createdAt: '2026-01-01T00:00:00.000Z',
    timeMs: 41000,
  };
}

function path(label: string, kind: PathEvaluation['kind'], to: string, toLabel: string, end: [number, number], bump: number, barrier: number[]): PathEvaluation {
  const t = linspace(0, 1, 11);
  const loss = [0, 1].map((task) => t.map((s) => bowl(task, s * end[0], s * end[1]) + bump * 4 * s * (1 - s)));
  return { kind, label, from: { run: folder('Naive'), phase: 0, label: 'A' }, to: { run: to, phase: 0, label: toLabel }, distance: 12.5 * Math.hypot(end[0], end[1]), t, loss, accuracy: loss.map((l) => l.map((v) => Math.exp(-v))), barrier, barrierT: [0.5, 0.5], meanLoss: t.map((_, k) => (loss[0][k] + loss[1][k]) / 2), meanBarrier: (barrier[0] + barrier[1]) / 2 };
}

export function pathsResult(): PathsResult {
  const bezier = path('Bezier A → B', 'bezier', folder('Naive'), 'B', [1, 0], -0.3, [0.0123, 0.0089]);
  bezier.bezier = { steps: 300, batchSize: 64, learningRate: 0.01, seed: 0, tasks: [0, 1], trainLoss: [1, 0.5], lossEvery: 10, controlShift: 4.2, timeMs: 9000 };
  return {
    formatVersion: 1,
    reference: folder('Naive'),
    optima: [0, 1],
    samples: 500,
    parameterCount: 21840,
    tasks: ['MNIST', 'Fashion-MNIST'],
    paths: [path('A → B', 'line', folder('Naive'), 'B', [1, 0], 0.4, [0.6123, 0.5871]), path('A → Joint-0', 'line', folder('Joint'), 'Joint-0', [THIRD.alpha, THIRD.beta], 0.05, [0.0312, 0.0456]), bezier],
    createdAt: '2026-01-01T00:00:00.000Z',
    timeMs: 60000,
  };
}

export function planeOutcome(): PlaneJobOutcome {
  return { status: 'completed', paths: pathsResult(), plane: planeResult(), files: ['/ws/results/Naive-0/paths-0-1-abc.json', '/ws/results/Naive-0/plane-0-1-Joint-0-def.json'], reopened: { paths: false, plane: false }, totalMs: 101000 };
}
