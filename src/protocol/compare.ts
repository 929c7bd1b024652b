// Comparison of runs: what the compare panel, `continual-workbench compare` and compare.html show.
// Built by engine/compare (pure, from result files); the webview only renders it. Runs that differ
// only in their seed form a group, summarised as mean ± standard error of the mean over the seeds
// that completed (failed or cancelled seeds are listed and excluded, never averaged in as zero).
import type { RunStatus } from './result';
import type { SweepAxis, SweepValue } from './sweep';

/** Mean ± SEM over the members that have a value (engine/metrics/aggregate.ts meanSem). */
export interface MeanSemValue {
  mean: number | null;
  /** Sample SD (n - 1) / sqrt(n); null for fewer than 2 values. */
  sem: number | null;
  n: number;
  /** Members without a value (excluded run, undefined metric). */
  missing: number;
}

export type CompareMetric = 'acc' | 'bwt' | 'fwt' | 'forgetting' | 'learningAccuracy';

/** One run in the comparison. */
export interface CompareRun {
  /** Stable id: the run folder's path relative to the common root of the compared runs. */
  id: string;
  /** Absolute path of its result.json. */
  resultFile: string;
  /** Short label ("EWC λ=1000 · seed 2"). */
  label: string;
  /** Group this run belongs to (index into Comparison.groups). */
  group: number;
  seed: number;
  status: RunStatus;
  /** Why it is excluded from its group's statistics (not completed); absent when included. */
  excluded?: string;
  /** Sweep parameters (dotted path -> value) when it came from a sweep. */
  params?: Record<string, SweepValue>;
  strategy: string;
  scenario: string;
  /** Task labels of the run (column headers of R). */
  tasks: string[];
  /** R[i][j] as fractions, rows so far. */
  accuracyMatrix: number[][];
  metrics: Record<CompareMetric, number | null>;
  forgettingPerTask: (number | null)[];
  /** Per-task accuracy curves: step and accuracy[task] per point (from result.curves). */
  curves: { step: number; accuracy: number[] }[];
  taskBoundaries: number[];
}

/** Runs identical but for their seed. */
export interface CompareGroup {
  label: string;
  /** What distinguishes this group from the others (strategy, swept params...), by field. */
  params: Record<string, SweepValue>;
  /** Indices into Comparison.runs of every member (excluded ones too). */
  members: number[];
  /** Members that count (completed). */
  included: number[];
  metrics: Record<CompareMetric, MeanSemValue>;
  forgettingPerTask: MeanSemValue[];
  /** Element-wise mean ± SEM of R over the included members (same shape as theirs). */
  accuracyMatrix: MeanSemValue[][];
  /** Curves on the members' common steps: accuracy[task] as mean ± SEM. */
  curves: { step: number; accuracy: MeanSemValue[] }[];
  taskBoundaries: number[];
}

/** A metric against one swept hyperparameter (seeds averaged): one series per group of the other axes. */
export interface SweepSeries {
  /** The swept path on the x axis. */
  path: string;
  /** True where the numeric values span at least a decade (log x axis). */
  log: boolean;
  metric: CompareMetric;
  series: { label: string; points: { x: SweepValue; value: MeanSemValue }[] }[];
}

export interface Comparison {
  formatVersion: 1;
  createdAt: string;
  /** Title: the sweep's name, or "N runs". */
  title: string;
  runs: CompareRun[];
  groups: CompareGroup[];
  /** Swept axes other than the seed (empty when the runs are not one sweep). */
  axes: SweepAxis[];
  sweepSeries: SweepSeries[];
  /** Runs that were asked for but could not be read (path and reason). */
  unreadable: { path: string; reason: string }[];
  /** Comparable runs share their tasks; when they do not, R is still shown per run and this says why. */
  warnings: string[];
}
