// The experiment file (*.cl.json) as the engine sees it. schemas/experiment.schema.json is the
// contract for the file on disk; these types describe it after validation and normalisation.

export type DatasetName = 'mnist' | 'fashion-mnist' | 'idx';

export interface TaskSpec {
  dataset: DatasetName;
  /** Folder holding the four IDX files (raw or .gz); required for 'idx', optional override otherwise. */
  path?: string;
  /** Number of training examples (stratified, seeded subset); all when absent. */
  train?: number;
  /** Number of test examples (stratified, seeded subset); all when absent. */
  test?: number;
  /** Display name of the task; defaults to the dataset's name (or its classes, e.g. "0/1"). */
  label?: string;
  /** Keep only these classes of the dataset (original label ids), e.g. [0, 1] for Split-MNIST's first task. */
  classes?: number[];
  /** Seed of a fixed pixel permutation applied to every image (Permuted-MNIST); absent = no permutation. */
  permutation?: number;
  /** Rotate every image by this many degrees (Rotated-MNIST, bilinear, about the image centre). */
  rotation?: number;
}

export interface ConvLayerSpec {
  filters: number;
  kernel: number;
  /** Max-pool size after this conv (1 or absent = no pooling). */
  pool?: number;
}

export type ModelSpec =
  | { preset: 'small-cnn' | 'mlp' }
  | { type: 'mlp'; hidden: number[] }
  | { type: 'cnn'; conv: ConvLayerSpec[]; dense: number[] };

/** A model spec with the preset expanded. */
export type ResolvedModelSpec =
  | { type: 'mlp'; hidden: number[]; preset?: string }
  | { type: 'cnn'; conv: ConvLayerSpec[]; dense: number[]; preset?: string };

export interface TrainingSpec {
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** Evaluate every task's (curve) test subset every this many steps. */
  evalEvery: number;
  /** Test examples per task used for the curves (the rows of R always use the whole test set). */
  evalSamples: number;
  /**
   * Optimizer steps per task instead of epochs (the published protocols count iterations); batches
   * cycle through seeded shuffles of the task's data. Absent: `epochs` passes over the data.
   */
  iterations?: number;
}

/** The strategy by name with its hyperparameters (engine/strategies/registry.ts lists them). */
export interface StrategySpec {
  name: string;
  [hyperparameter: string]: string | number | boolean;
}

/** The three scenarios of van de Ven & Tolias (2019). */
export type Scenario = 'task-il' | 'domain-il' | 'class-il';

export type BenchmarkName = 'split-mnist' | 'split-fashion-mnist' | 'permuted-mnist' | 'rotated-mnist';

/** A standard benchmark, expanded into `tasks` when the experiment is normalised. */
export interface BenchmarkSpec {
  name: BenchmarkName;
  scenario: Scenario;
  /** Number of tasks (split: up to 5, default 5; permuted: default 10; rotated: the number of angles, default 5). */
  tasks?: number;
  /** Permuted-MNIST only: seed of the permutations; default: the experiment's seed. */
  seed?: number;
  /** Rotated-MNIST: one angle per task in degrees (default 0, 45, 90, 135, 180 for 5 tasks). */
  angles?: number[];
  /** Training / test examples per task (stratified, seeded subsets); all when absent. */
  train?: number;
  test?: number;
}

export interface LandscapeSpec {
  /** Points per axis of the G x G grid. */
  grid: number;
  /** Evaluation examples per task (seeded, fixed subset of the test set). */
  samples: number;
  /** Grid range along axis 1, in units of |theta_B - theta_A|. */
  alphaRange: [number, number];
  /** Grid range along axis 2, in units of |theta_B - theta_A|. */
  betaRange: [number, number];
  /** How axis 2 is chosen. */
  secondAxis: 'trajectory-pca' | 'random';
  /** Save a trajectory checkpoint every this many training steps. */
  checkpointEvery: number;
  /** Points on the 1D line theta_A -> theta_B (over alphaRange). */
  linePoints: number;
  /** Which task optima span the plane: indexes into tasks; default first and last. */
  optima: [number, number];
}

/** The experiment as written (optional fields may be absent). */
export interface ExperimentSpec {
  $schema?: string;
  name?: string;
  seed?: number;
  /** Either tasks (with `scenario`) or a benchmark. */
  tasks?: TaskSpec[];
  benchmark?: BenchmarkSpec;
  scenario?: Scenario;
  model?: ModelSpec;
  training?: Partial<TrainingSpec>;
  strategy?: StrategySpec;
  landscape?: Partial<LandscapeSpec> | false;
}

/** The experiment with every default filled in: what a run actually did. */
export interface NormalisedExperiment {
  name: string;
  seed: number;
  /** The task sequence (a benchmark is expanded into it). */
  tasks: TaskSpec[];
  scenario: Scenario;
  /** The benchmark the tasks came from, as given (display and provenance). */
  benchmark?: BenchmarkSpec;
  model: ResolvedModelSpec;
  training: TrainingSpec;
  strategy: StrategySpec;
  landscape: LandscapeSpec | false;
}
