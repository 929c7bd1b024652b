// What a run will cost, estimated from the experiment alone (no tfjs: the editor runs this on every
// keystroke): the model's parameters, the memory the run holds at its peak, and the time it takes
// at the measured throughput. The validator refuses what cannot fit in memory and warns about runs
// that take days (semantic.ts).
import { totalmem } from 'node:os';
import type { ResolvedModelSpec, NormalisedExperiment } from '../../protocol/experiment';
import { formatCount } from '../../protocol/format';
import { DATASETS, isBuiltinDataset } from '../data/datasets';
import { convOutputSize } from '../models/build';
import { MODEL_PRESETS } from './defaults';
import { BUILTIN_CLASS_COUNTS, type TaskSize } from './clamps';

/** What the machine offers; tests inject it. */
export interface ResourceEnvironment {
  /** Bytes of memory the run may use. */
  totalMemoryBytes: number;
}

export function defaultResourceEnvironment(): ResourceEnvironment {
  return { totalMemoryBytes: totalmem() };
}

// ---------------------------------------------------------------------------------------------
// The model: parameters and multiply-accumulates, layer by layer as models/build.ts builds it

export interface LayerCost {
  /** Weights and biases. */
  parameters: number;
  /** Multiply-accumulates of the forward pass for one image. */
  macs: number;
  /** Values the layer outputs for one image (the activations kept for the backward pass). */
  outputs: number;
}

/**
 * The layers of the model buildModel builds for these inputs: valid convs (+ max-pool), then the
 * dense layers and the output layer. Null when the conv stack does not fit the image.
 */
export function modelLayers(spec: ResolvedModelSpec, inputShape: readonly [number, number, number], outputs: number): LayerCost[] | null {
  const layers: LayerCost[] = [];
  let flat: number;
  if (spec.type === 'cnn') {
    let [h, w, c] = inputShape;
    for (const conv of spec.conv) {
      const oh = h - conv.kernel + 1;
      const ow = w - conv.kernel + 1;
      if (oh < 1 || ow < 1) return null;
      const fanIn = conv.kernel * conv.kernel * c;
      const pool = conv.pool ?? 1;
      const ph = pool > 1 ? Math.floor(oh / pool) : oh;
      const pw = pool > 1 ? Math.floor(ow / pool) : ow;
      if (ph < 1 || pw < 1) return null;
      layers.push({ parameters: fanIn * conv.filters + conv.filters, macs: oh * ow * conv.filters * fanIn, outputs: oh * ow * conv.filters + (pool > 1 ? ph * pw * conv.filters : 0) });
      [h, w, c] = [ph, pw, conv.filters];
    }
    const out = convOutputSize([...inputShape], spec.conv);
    if ('error' in out) return null;
    flat = out.shape[0] * out.shape[1] * out.shape[2];
  } else {
    flat = inputShape[0] * inputShape[1] * inputShape[2];
  }
  let width = flat;
  for (const units of [...(spec.type === 'cnn' ? spec.dense : spec.hidden), outputs]) {
    layers.push({ parameters: width * units + units, macs: width * units, outputs: units });
    width = units;
  }
  return layers;
}

/** The parameter count buildModel's model will have (= ClassifierModel.parameterCount). */
export function parameterCount(spec: ResolvedModelSpec, inputShape: readonly [number, number, number], outputs: number): number | null {
  const layers = modelLayers(spec, inputShape, outputs);
  return layers ? layers.reduce((n, l) => n + l.parameters, 0) : null;
}

/** Floating-point operations to train on one image: forward (2 per multiply-accumulate) + backward (about twice the forward). */
export function trainingFlopsPerImage(layers: readonly LayerCost[]): number {
  return 3 * 2 * layers.reduce((n, l) => n + l.macs, 0);
}

// The measured throughput, in one place. /work/shared/DESIGN.md, "Performance anchors" (2-core
// machine, tfjs 4.22 wasm SIMD, our training kernels, one thread): ~1,200 img/s training the
// small CNN preset on 28x28 images. Its training cost is 3 x 2 x 2,631,040 MACs = 15.8 MFLOP per
// image, so the engine does ~18.9 GFLOP/s of useful work (DESIGN quotes ~19). Other models are
// estimated at the same FLOP rate (the 784-400-400 MLP measures ~4,500 img/s, ~13 GFLOP/s: the
// estimate is optimistic for small matmuls, by less than 2x).
export const MEASURED_SMALL_CNN_IMAGES_PER_SECOND = 1200;
const SMALL_CNN_LAYERS = modelLayers(MODEL_PRESETS['small-cnn'], [28, 28, 1], 10)!;
/** Effective FLOP/s of training and evaluation on the wasm backend. */
export const EFFECTIVE_FLOPS_PER_SECOND = MEASURED_SMALL_CNN_IMAGES_PER_SECOND * trainingFlopsPerImage(SMALL_CNN_LAYERS);

// ---------------------------------------------------------------------------------------------
// Memory and time of a run

const FLOAT = 4;
/** Images per evaluation batch (runner.ts evaluates 1000 at a time). */
const EVAL_BATCH = 1000;
/** Landscape worker threads on a 2-core machine (runner.ts landscapeEvaluator), each with its own model and evaluation sets. */
const LANDSCAPE_WORKERS = 2;
/** Bytes a recorded curve point takes beyond its numbers (object, arrays, JSON text). */
const CURVE_POINT_OVERHEAD = 200;

/** Extra float32 copies of the weights a strategy keeps (anchors, importances, snapshots, reference gradients). */
const STRATEGY_WEIGHT_COPIES: Readonly<Record<string, number>> = {
  l2: 1, // anchor
  ewc: 2, // anchor + Fisher
  'online-ewc': 2,
  si: 4, // anchor, importance, path integral, previous weights
  mas: 2,
  agem: 1, // reference gradient
  lwf: 1, // frozen model
  icarl: 1,
  der: 0,
};

/** The part of the memory that is the model itself (weights, gradients, optimizer moments). */
export const MODEL_STATE = 'weights, gradients and optimizer state';

/** One part of the memory a run needs: what it is, its bytes, and the field that drives it (JSON pointer). */
export interface MemoryPart {
  what: string;
  bytes: number;
  pointer: string;
}

export interface RunEstimate {
  parameters: number;
  /** Peak bytes, the sum of `parts`. */
  memoryBytes: number;
  parts: MemoryPart[];
  /** Optimizer steps over the run. */
  steps: number;
  /** Images trained on over the run. */
  trainImages: number;
  /** Images evaluated over the run (curves, rows of R, landscape). */
  evalImages: number;
  /** Training FLOPs + evaluation FLOPs. */
  flops: number;
  trainFlops: number;
  seconds: number;
  /** Which parts of the run the estimate could not see (datasets sized only at run time). */
  unknown: string[];
}

/** What the run shape depends on that is not in the experiment: each task's size (undefined = unknown) and the phases. */
export interface RunShape {
  sizes: readonly (TaskSize | undefined)[];
  phases: readonly (readonly number[])[];
}

const IMAGE_SHAPE: [number, number, number] = [28, 28, 1];

/** The input shape: the built-in datasets' (every one is 28x28x1); idx images are sized at run time, 28x28 assumed. */
export function inputShapeOf(ex: NormalisedExperiment): [number, number, number] {
  const builtin = ex.tasks.find((t) => isBuiltinDataset(t.dataset));
  if (builtin && isBuiltinDataset(builtin.dataset)) {
    const d = DATASETS[builtin.dataset];
    return [d.height, d.width, 1];
  }
  return IMAGE_SHAPE;
}

/** The output units the head will allocate (train/head.ts buildHead), from the classes the tasks name. */
export function outputUnitsOf(ex: NormalisedExperiment): number {
  const classesOf = (t: NormalisedExperiment['tasks'][number]): number[] =>
    t.classes ?? Array.from({ length: isBuiltinDataset(t.dataset) ? DATASETS[t.dataset].classes : 10 }, (_, k) => k);
  if (ex.scenario === 'domain-il') return ex.tasks.reduce((m, t) => Math.max(m, classesOf(t).length), 1);
  if (ex.scenario === 'task-il') return Math.max(1, ex.tasks.reduce((n, t) => n + classesOf(t).length, 0));
  const units = new Set<string>();
  for (const t of ex.tasks) for (const c of classesOf(t)) units.add(`${t.dataset}|${t.path ?? ''}|${t.permutation ?? ''}|${t.rotation ?? ''}|${c}`);
  return Math.max(1, units.size);
}

/** The model field that drives its size. */
function modelPointer(ex: NormalisedExperiment): string {
  if (ex.model.preset) return '/model';
  return ex.model.type === 'mlp' ? '/model/hidden' : '/model';
}

/**
 * Estimates a valid experiment's peak memory and run time. Null when the model does not fit the
 * images (semantic.ts reports that). Sizes are upper estimates of what the engine holds at once.
 */
export function estimateRun(ex: NormalisedExperiment, shape: RunShape): RunEstimate | null {
  const input = inputShapeOf(ex);
  const pixels = input[0] * input[1] * input[2];
  const outputs = outputUnitsOf(ex);
  const layers = modelLayers(ex.model, input, outputs);
  if (!layers) return null;
  const P = layers.reduce((n, l) => n + l.parameters, 0);
  const forwardMacs = layers.reduce((n, l) => n + l.macs, 0);
  const activationsPerImage = layers.reduce((n, l) => n + l.outputs, 0) + pixels;
  const unknown: string[] = [];
  ex.tasks.forEach((t, i) => {
    if (!shape.sizes[i]) unknown.push(`tasks[${i}] (${t.dataset})`);
  });
  const size = (i: number): TaskSize => shape.sizes[i] ?? { train: 0, test: 0 };
  const bench = !!ex.benchmark;
  const taskPointer = (i: number, split: 'train' | 'test') => (bench ? `/benchmark` : `/tasks/${i}`) + (ex.tasks[i][split] !== undefined || (bench && ex.benchmark?.[split] !== undefined) ? `/${split}` : '');

  const parts: MemoryPart[] = [];
  const add = (what: string, bytes: number, pointer: string) => {
    // Infinity x 0 (an unbounded model, no copies) is no part.
    if (bytes > 0) parts.push({ what, bytes, pointer });
  };
  const mp = modelPointer(ex);
  // Weights, gradients (raw and adjusted), Adam's two moments; the strategy's copies.
  add(MODEL_STATE, P * FLOAT * (3 + (ex.training.optimizer === 'adam' ? 2 : 0)), mp);
  add(`${ex.strategy.name}'s copies of the weights`, P * FLOAT * (STRATEGY_WEIGHT_COPIES[ex.strategy.name] ?? 0), mp);
  const memorySize = Number(ex.strategy.memorySize);
  if (Number.isFinite(memorySize) && memorySize > 0) add(`${ex.strategy.name}'s memory of ${formatLargeCount(memorySize)} examples`, memorySize * ((pixels + outputs) * FLOAT + 12), '/strategy/memorySize');

  // Activations kept for the backward pass and their gradients; evaluation batches forward only.
  const batch = ex.training.batchSize;
  const largestPhase = shape.phases.reduce((m, p) => Math.max(m, p.reduce((n, t) => n + size(t).train, 0)), 0);
  const trainBatch = Math.min(batch, Math.max(largestPhase, unknown.length ? batch : 0));
  add('activations of a training batch', trainBatch * activationsPerImage * FLOAT * 2 * (memorySize > 0 ? 2 : 1), '/training/batchSize');
  add('activations of an evaluation batch', EVAL_BATCH * layers.reduce((m, l) => Math.max(m, l.outputs), pixels) * FLOAT * 2, mp);

  // Data: each dataset's raw bytes (loaded whole and cached, data/load.ts), each task's normalised
  // float copies, its evaluation sets as tensors (and in each landscape worker).
  const land = ex.landscape;
  const datasets = new Set<string>();
  ex.tasks.forEach((t, i) => {
    const s = size(i);
    if (isBuiltinDataset(t.dataset) && !t.path && !datasets.has(t.dataset)) {
      datasets.add(t.dataset);
      const counts = BUILTIN_CLASS_COUNTS[t.dataset];
      add(`the ${t.dataset} files`, pixels * [...counts.train, ...counts.test].reduce((a, b) => a + b, 0), taskPointer(i, 'train'));
    }
    const evalCopies = FLOAT * (Math.min(ex.training.evalSamples, s.test) * 2 + (land ? Math.min(land.samples, s.test) * (2 + LANDSCAPE_WORKERS) : 0));
    add(`the images of ${bench ? (t.label ?? `task ${i}`) : `tasks[${i}]`}`, pixels * (s.train * FLOAT + s.test * 2 * FLOAT + evalCopies), taskPointer(i, 'train'));
  });
  if (shape.phases.some((p) => p.length > 1)) add('the union of the tasks a phase trains on', largestPhase * pixels * FLOAT, bench ? '/benchmark' : '/tasks');

  // Steps, curve points, trajectory checkpoints.
  const seen = new Set<number>();
  let steps = 0;
  let trainImages = 0;
  shape.phases.forEach((tasks) => {
    const fresh = tasks.filter((t) => !seen.has(t)).length;
    tasks.forEach((t) => seen.add(t));
    const n = tasks.reduce((sum, t) => sum + size(t).train, 0);
    const known = tasks.every((t) => shape.sizes[t]);
    const phaseSteps = ex.training.iterations !== undefined ? ex.training.iterations * Math.max(1, fresh) : known ? Math.ceil(n / batch) * ex.training.epochs : 0;
    steps += phaseSteps;
    trainImages += phaseSteps * (known ? Math.min(batch, n) : batch);
  });
  const curvePoints = Math.floor(steps / ex.training.evalEvery) + shape.phases.length + 1;
  add(`${formatLargeCount(curvePoints)} accuracy-curve points`, curvePoints * (ex.tasks.length * 2 * 8 + CURVE_POINT_OVERHEAD), '/training/evalEvery');
  if (land) {
    // Kept over the whole run, whatever the optima (engine/landscape/store.ts): the plane can be chosen afterwards.
    const checkpoints = Math.floor(steps / land.checkpointEvery) + shape.phases.length + 1;
    add(`${formatLargeCount(checkpoints)} trajectory checkpoints of the weights`, checkpoints * P * FLOAT + checkpoints * checkpoints * 8, '/landscape/checkpointEvery');
  }
  if (land && shape.phases.length >= 2) {
    // Two float64 directions, the grid point buffers, a model in each landscape worker.
    add('the landscape directions and workers', P * (2 * 8 + (1 + LANDSCAPE_WORKERS) * FLOAT * 2), '/landscape');
  }

  // Time: training, curve and row evaluations, landscape grid and line.
  const testImages = (cap: number) => ex.tasks.reduce((n, _, i) => n + Math.min(cap, size(i).test), 0);
  const runImages = curvePoints * testImages(ex.training.evalSamples) + (shape.phases.length + 1) * testImages(Infinity);
  const landscapeImages = land && shape.phases.length >= 2 ? (land.grid * land.grid + land.linePoints) * testImages(land.samples) : 0;
  const evalImages = runImages + landscapeImages;
  const trainFlops = trainImages * trainingFlopsPerImage(layers);
  const flops = trainFlops + evalImages * 2 * forwardMacs;
  // The landscape's points are evaluated by the workers in parallel.
  const seconds = (trainFlops + runImages * 2 * forwardMacs + (landscapeImages * 2 * forwardMacs) / LANDSCAPE_WORKERS) / EFFECTIVE_FLOPS_PER_SECOND;
  const memoryBytes = parts.reduce((n, p) => n + p.bytes, 0);
  return { parameters: P, memoryBytes, parts, steps, trainImages, evalImages, flops, trainFlops, seconds, unknown };
}

// ---------------------------------------------------------------------------------------------
// In words

/** 1.2 MB, 80 GB, 3.1 TB (decimal units, as disks and `free -h --si` count). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'more than can be counted';
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  if (u === 0) return `${Math.round(v)} bytes`;
  if (v >= 1000) return `${bytes.toExponential(1).replace('e+', 'e')} bytes`;
  return `${v >= 100 ? Math.round(v) : v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** 225,034 parameters; 1.0e10 parameters. */
export function formatLargeCount(n: number): string {
  if (!Number.isFinite(n)) return 'an unbounded number of';
  return n < 1e7 ? formatCount(n) : n.toExponential(1).replace('e+', 'e');
}

/** 40 seconds, 3.2 hours, 2.5 days, 1,600 years. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return 'forever';
  if (s < 90) return `${Math.max(1, Math.round(s))} seconds`;
  if (s < 90 * 60) return `${Math.round(s / 60)} minutes`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} hours`;
  if (s < 365 * 86400) return `${(s / 86400).toFixed(1)} days`;
  const years = s / (365 * 86400);
  return years < 1e7 ? `${formatCount(Math.round(years))} years` : `${years.toExponential(1).replace('e+', 'e')} years`;
}

/** A run longer than this gets a warning with the estimate. */
export const LONG_RUN_SECONDS = 24 * 3600;
/**
 * A run longer than this is refused: the engine has no resume, so it would never finish on this
 * machine; it is a typo (an extra zero or an exponent), not a plan.
 */
export const HARD_CAP_SECONDS = 365 * 86400;
