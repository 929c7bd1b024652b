import type { NormalisedExperiment, Scenario } from './experiment';

/** 2: phases, head, per-task classes and units, alternate (task-IL/class-IL) accuracy. 1 is read as sequential domain-IL. */
export const RESULT_FORMAT_VERSION = 2;

export type RunStatus = 'running' | 'completed' | 'cancelled' | 'failed';
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TaskInfo {
  index: number;
  label: string;
  dataset: string;
  /** Where the data came from (resolution chain step) and the folder. */
  source: string;
  dir: string;
  trainSize: number;
  testSize: number;
  /** Number of classes of this task. */
  classes: number;
  /** The dataset's label ids kept in this task, in target order (e.g. [2, 3] for Split-MNIST's second task). */
  classIds: number[];
  /** The output unit of each class (classIds[k] is trained and scored on unit units[k]). */
  units: number[];
  /** Pixel permutation seed (Permuted-MNIST) and rotation in degrees (Rotated-MNIST), when applied. */
  permutation?: number;
  rotation?: number;
}

/** How the output layer serves the tasks (engine/train/head.ts). */
export interface HeadInfo {
  scenario: Scenario;
  /** Output units allocated up front (the parameter vector keeps its length across tasks). */
  outputs: number;
}

export interface Metrics {
  /** Mean of the last row of R. */
  acc: number | null;
  /** mean_{j<T-1} R[T-1][j] - R[j][j]  (Lopez-Paz & Ranzato 2017). */
  bwt: number | null;
  /** mean_{j>=1} R[j-1][j] - b_j  (Lopez-Paz & Ranzato 2017). */
  fwt: number | null;
  /** mean_{j<T-1} max_{l<T-1} R[l][j] - R[T-1][j]  (Chaudhry et al. 2018). */
  forgetting: number | null;
  /** Per-task forgetting f_j (null for the last task). */
  forgettingPerTask: (number | null)[];
  /** Mean of the diagonal R[j][j]: how well each task was learned when it was current. */
  learningAccuracy: number | null;
  /**
   * Intransigence (Chaudhry et al. 2018): mean_j R*_j - R[j][j], with R* the accuracies of a joint
   * reference run. Present only where such a reference was given.
   */
  intransigence?: number | null;
}

export interface CurvePoint {
  /** Global training step (0 = before training). */
  step: number;
  /** Index of the phase being trained at this point (-1 = before training); a phase is a task unless the strategy is joint or cumulative. */
  trainingTask: number;
  epoch: number;
  /** Accuracy (fraction) on each task's curve subset. */
  accuracy: number[];
  loss: number[];
}

export interface EnvironmentInfo {
  backend: BackendName;
  tfjsVersion: string;
  nodeVersion: string;
  platform: string;
  arch: string;
  cpus: number;
  threads: number;
  simd?: boolean;
}

export interface Timing {
  startedAt: string;
  finishedAt?: string;
  totalMs: number;
  dataMs: number;
  trainMs: number;
  evalMs: number;
  landscapeMs: number;
  /** Training throughput over the whole run (images per second of training time). */
  trainImagesPerSecond: number;
}

export interface LandscapeGrid {
  task: number;
  /** loss[b][a]: row = beta index, column = alpha index. */
  loss: number[][];
  accuracy: number[][];
}

export interface LandscapeResult {
  /** Task indexes whose optima span the plane (theta_A = after task optima[0], theta_B = after optima[1]). */
  optima: [number, number];
  /** Grid coordinates in units of |theta_B - theta_A|. */
  alphas: number[];
  betas: number[];
  /** |theta_B - theta_A| (L2, over all trainable parameters). */
  distance: number;
  /** 'point': axis 2 runs through a third model's weights (LandscapeResult.thirdPoint). */
  secondAxis: 'trajectory-pca' | 'random' | 'point';
  /**
   * The third model the plane runs through when secondAxis is 'point' (another run's end weights,
   * or this run's), at its plane coordinates: it lies in the plane (off-plane distance ~0).
   */
  thirdPoint?: { run: string; phase: number; alpha: number; beta: number };
  /** Fraction of the trajectory's variance (about its mean) that the plane explains. */
  explainedVariance: number;
  grids: LandscapeGrid[];
  /** 1D curve theta_A + t (theta_B - theta_A). loss[task][k], accuracy[task][k]. */
  line: { t: number[]; loss: number[][]; accuracy: number[][] };
  /** Trajectory checkpoints projected onto the plane. */
  trajectory: { step: number; task: number; alpha: number; beta: number }[];
  samples: number;
  parameterCount: number;
  timeMs: number;
  /**
   * Self-check: theta_A and theta_B evaluated directly (weights restored from the snapshots) next
   * to the grid's values at (0,0) and (1,0) (null when those coordinates are not grid points).
   */
  anchors?: { which: 'A' | 'B'; alpha: number; direct: { loss: number[]; accuracy: number[] }; grid: { loss: number[]; accuracy: number[] } | null }[];
}

/** The weights a run kept for recomputing its landscape (engine/landscape/store.ts), beside result.json. */
export interface WeightsInfo {
  /** Index file, relative to the run folder; its data file is weights.bin beside it. */
  file: string;
  /** Size of the data file. */
  bytes: number;
  /** Trajectory checkpoints kept over the whole run (initial and phase-end weights included). */
  checkpoints: number;
  /** Encoding of the checkpoints between phase ends (initial and phase-end weights are float32). */
  dtype: 'float16' | 'float32';
  parameterCount: number;
  /** Phases whose end weights are kept (every phase of a completed run). */
  phases: number;
}

export interface RunError {
  message: string;
  phase: 'validate' | 'data' | 'model' | 'train' | 'evaluate' | 'landscape' | 'write' | 'trainer';
}

export interface RunResult {
  formatVersion: number;
  runId: string;
  status: RunStatus;
  error?: RunError;
  experiment: NormalisedExperiment;
  experimentFile?: string;
  tasks: TaskInfo[];
  /**
   * The tasks trained in each phase: [[0], [1], ...] for sequential strategies, [[0, 1, ...]] for
   * joint training, [[0], [0, 1], ...] for cumulative. Row i of R is measured after phase i.
   */
  phases: number[][];
  head: HeadInfo;
  /** R[i][j] (fraction): accuracy on task j's full test set after training phase i (task i). Rows so far. */
  accuracyMatrix: number[][];
  /**
   * The same rows scored in the other incremental scenario where one run gives both (Mammoth
   * reports both): task-IL accuracy of a class-IL run (the task's own units), class-IL accuracy of a
   * task-IL run (every unit seen so far).
   */
  alternateAccuracy?: { scenario: 'task-il' | 'class-il'; accuracyMatrix: number[][] };
  /** Mean cross-entropy on task j's test set after training task i. */
  lossMatrix: number[][];
  /** b_j: accuracy of the untrained (seeded) model on task j. */
  randomInitAccuracy: number[];
  metrics: Metrics;
  curves: CurvePoint[];
  /** Global step at which each task's training started. */
  taskBoundaries: number[];
  totalSteps: number;
  landscape: LandscapeResult | null;
  /** Stored weights: present when the run kept them, so any plane can be recomputed after it. */
  weights?: WeightsInfo;
  environment: EnvironmentInfo | null;
  timing: Timing;
  /**
   * What the engine changed in what the experiment asked for (e.g. a subset larger than the data,
   * cut to what there is), in order; `field` names the setting ("tasks[0].train"). Absent: none.
   */
  notes?: { message: string; field?: string }[];
}

/** Reads an older result as the current format (format 1: sequential phases, one shared head). */
export function upgradeResult(r: RunResult): RunResult {
  if (r.formatVersion >= RESULT_FORMAT_VERSION) return r;
  const outputs = Math.max(0, ...r.tasks.map((t) => t.classes ?? 0));
  return {
    ...r,
    formatVersion: RESULT_FORMAT_VERSION,
    phases: r.phases ?? r.experiment.tasks.map((_, i) => [i]),
    head: r.head ?? { scenario: 'domain-il', outputs },
    tasks: r.tasks.map((t) => ({ ...t, classIds: t.classIds ?? Array.from({ length: t.classes }, (_, k) => k), units: t.units ?? Array.from({ length: t.classes }, (_, k) => k) })),
  };
}
