// Comparisons built by hand for the compare layout's tests: two groups of three seeds (one seed of
// the second failed: excluded), group statistics computed here from the runs (mean, SEM = sample SD
// / √n), independently of the engine.
import type { CompareGroup, CompareMetric, CompareRun, Comparison, MeanSemValue, SweepSeries } from '../../src/protocol/compare';

/** Mean ± SEM of the numbers (nulls counted as missing). */
export function stat(values: (number | null)[]): MeanSemValue {
  const xs = values.filter((v): v is number => typeof v === 'number');
  const n = xs.length;
  if (!n) return { mean: null, sem: null, n: 0, missing: values.length };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sem = n < 2 ? null : Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) / Math.sqrt(n);
  return { mean, sem, n, missing: values.length - n };
}

const TASKS = ['MNIST', 'Fashion-MNIST'];

/** A completed two-task run whose R is [[a00, a01], [a10, a11]]. */
export function compareRun(label: string, group: number, seed: number, R: number[][], extra: Partial<CompareRun> = {}): CompareRun {
  const last = R[R.length - 1];
  const b = [0.1, 0.1];
  const complete = R.length === 2;
  const metrics: Record<CompareMetric, number | null> = complete
    ? { acc: (last[0] + last[1]) / 2, bwt: R[1][0] - R[0][0], fwt: R[0][1] - b[1], forgetting: R[0][0] - R[1][0], learningAccuracy: (R[0][0] + R[1][1]) / 2 }
    : { acc: null, bwt: null, fwt: null, forgetting: null, learningAccuracy: null };
  return {
    id: `${label}-${seed}`,
    resultFile: `/ws/results/${label}-${seed}/result.json`,
    label: `${label} · seed ${seed}`,
    group,
    seed,
    status: 'completed',
    strategy: label.toLowerCase(),
    scenario: 'domain-il',
    tasks: TASKS,
    accuracyMatrix: R,
    metrics,
    forgettingPerTask: complete ? [R[0][0] - R[1][0], null] : [null, null],
    curves: [
      { step: 0, accuracy: [0.1, 0.1] },
      { step: 100, accuracy: [R[0][0], R[0][1]] },
      ...(complete ? [{ step: 200, accuracy: [R[1][0], R[1][1]] }] : []),
    ],
    taskBoundaries: [0, 100],
    ...extra,
  };
}

/** The group of `members` (indices into runs), statistics over the completed ones. */
export function groupOf(runs: CompareRun[], label: string, members: number[]): CompareGroup {
  const included = members.filter((i) => !runs[i].excluded);
  const inc = included.map((i) => runs[i]);
  const metric = (m: CompareMetric) => stat(inc.map((r) => r.metrics[m]));
  const rows = Math.max(...inc.map((r) => r.accuracyMatrix.length));
  const steps = inc[0].curves.map((c) => c.step).filter((s) => inc.every((r) => r.curves.some((c) => c.step === s)));
  return {
    label,
    params: { 'strategy.name': label.toLowerCase() },
    members,
    included,
    metrics: { acc: metric('acc'), bwt: metric('bwt'), fwt: metric('fwt'), forgetting: metric('forgetting'), learningAccuracy: metric('learningAccuracy') },
    forgettingPerTask: [0, 1].map((j) => stat(inc.map((r) => r.forgettingPerTask[j]))),
    accuracyMatrix: Array.from({ length: rows }, (_, i) => [0, 1].map((j) => stat(inc.map((r) => r.accuracyMatrix[i]?.[j] ?? null)))),
    curves: steps.map((step) => ({ step, accuracy: [0, 1].map((t) => stat(inc.map((r) => r.curves.find((c) => c.step === step)!.accuracy[t]))) })),
    taskBoundaries: [0, 100],
  };
}

/** Naive (seeds 0-2) and EWC (seeds 0-2, seed 2 failed after task 0): 6 runs, 2 groups. */
export function twoGroups(): Comparison {
  const runs: CompareRun[] = [
    compareRun('Naive', 0, 0, [[0.981, 0.092], [0.231, 0.902]]),
    compareRun('Naive', 0, 1, [[0.987, 0.088], [0.262, 0.897]]),
    compareRun('Naive', 0, 2, [[0.979, 0.104], [0.207, 0.911]]),
    compareRun('EWC', 1, 0, [[0.983, 0.095], [0.611, 0.874]]),
    compareRun('EWC', 1, 1, [[0.985, 0.091], [0.652, 0.869]]),
    compareRun('EWC', 1, 2, [[0.982, 0.097]], { status: 'failed', excluded: 'failed: out of memory' }),
  ];
  return {
    formatVersion: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    title: 'Naive vs EWC',
    runs,
    groups: [groupOf(runs, 'Naive', [0, 1, 2]), groupOf(runs, 'EWC', [3, 4, 5])],
    axes: [],
    sweepSeries: [],
    unreadable: [],
    warnings: [],
  };
}

/** A sweep of `path` over `values` (metric acc), one series, seeds averaged (n per point). */
export function sweepSeries(path: string, values: number[], log: boolean, n: number[]): SweepSeries {
  return {
    path,
    log,
    metric: 'acc',
    series: [
      {
        label: 'EWC',
        points: values.map((x, k) => ({ x, value: stat(Array.from({ length: n[k] }, (_, s) => 0.5 + 0.05 * k + 0.01 * s)) })),
      },
    ],
  };
}
