// The strategy interface: what a continual-learning method may change in the shared training loop
// (engine/train/loop.ts), in the spirit of Avalanche's plugins. Hooks get what they need as
// arguments and return what they change; a strategy keeps only its own state (anchors,
// importances, a memory buffer). One file per strategy in this folder, one line in registry.ts.
import type * as tfjs from '@tensorflow/tfjs';
import type { NormalisedExperiment, Scenario } from '../../protocol/experiment';
import type { ClassifierModel, TF } from '../models/types';
import type { HeadLayout } from '../train/head';
import type { TrainImages } from '../data/pixels';

/**
 * A task's training data on the JS heap (targets are output units). The images are the dataset's
 * bytes, normalised when read (or, from tests and tools, already normalised floats): read them with
 * copyImage/gatherImages/imageRange (engine/data/pixels.ts), never index them directly.
 */
export interface TrainSet {
  images: TrainImages; // n * h * w * c
  /** Output unit (the head's target) of each example. */
  labels: Int32Array;
  /** Task index of each example (a phase may mix tasks: joint, cumulative). */
  tasks: Int32Array;
  n: number;
  shape: [number, number, number];
}

/** One training batch. The loop owns the tensors of the batches it makes and disposes them. */
export interface TrainBatch {
  x: tfjs.Tensor4D;
  /** Target units, int32 [n]. */
  y: tfjs.Tensor1D;
  /** Task of each example (selects its mask in task-IL). */
  tasks: Int32Array;
  /** Additive logit mask [n, outputs] (0 = allowed, a large negative = masked), or null for none. */
  mask: tfjs.Tensor2D | null;
  /** Indexes of the examples into the phase's TrainSet (replayed examples: -1). */
  indices: Int32Array;
}

/** Gradients aligned with model.params (gradients[k] belongs to model.params[k].variable). */
export type Gradients = tfjs.Tensor[];

/** What the loop offers every hook: the model, the head, the data, and shared maths. */
export interface StrategyEnv {
  tf: TF;
  model: ClassifierModel;
  head: HeadLayout;
  experiment: NormalisedExperiment;
  /** Training data of every task (targets already mapped to units). */
  tasks: TrainSet[];
  /** A seeded generator private to the strategy (its own stream of the experiment's seed). */
  rng: () => number;
  /** Logits of `model` (default: the live model) on a batch, with the batch's mask added. */
  logits(batch: TrainBatch, model?: ClassifierModel): tfjs.Tensor2D;
  /** Mean softmax cross-entropy of (masked) logits against the batch's targets. */
  crossEntropy(logits: tfjs.Tensor2D, batch: TrainBatch): tfjs.Scalar;
  /**
   * Gradients of a loss of the live model's parameters (default loss: the batch's masked
   * cross-entropy). The caller disposes them.
   */
  gradients(batch: TrainBatch, loss?: (logits: tfjs.Tensor2D) => tfjs.Scalar): Gradients;
  /**
   * A batch from stored examples (a memory buffer): images [n * pixels], targets, tasks. The mask
   * follows the head's training rule for those tasks with `seenTasks` seen (ctx.seenTasks).
   */
  makeBatch(images: Float32Array, labels: Int32Array, tasks: Int32Array, seenTasks: readonly number[]): TrainBatch;
  /** Disposes a batch made by makeBatch. */
  disposeBatch(batch: TrainBatch): void;
  /** A frozen copy of the live model's current weights (distillation teachers, iCaRL). */
  snapshotModel(): ClassifierModel;
  /** Current weights as one flat vector per parameter (copies). */
  readWeights(): Float32Array[];
  log(message: string): void;
}

/** A phase of training: the tasks whose data it trains on (one task, unless joint/cumulative). */
export interface PhaseContext {
  /** Phase index = row of R. */
  phase: number;
  /** Tasks trained in this phase. */
  tasks: number[];
  /** The phase's training data (the union of its tasks'). */
  train: TrainSet;
  /** Tasks trained in earlier phases and this one (class-IL masks, memory sampling). */
  seenTasks: number[];
}

export interface StepContext extends PhaseContext {
  /** Global step, 1-based after the step. */
  step: number;
}

export interface Strategy {
  /** Before the first step of a phase: snapshots, buffer bookkeeping. */
  beforePhase?(ctx: PhaseContext): void | Promise<void>;
  /**
   * The batch to train on: the loop's batch, or a bigger one (replay adds remembered examples).
   * A returned new batch is disposed by the loop, as is the original.
   */
  augmentBatch?(batch: TrainBatch, ctx: StepContext): TrainBatch;
  /**
   * The classification term in place of the masked softmax cross-entropy (iCaRL's binary
   * cross-entropy, LwF's 1/t-weighted cross-entropy), inside the gradient tape. Default: CE.
   */
  classificationLoss?(logits: tfjs.Tensor2D, batch: TrainBatch, ctx: StepContext): tfjs.Scalar;
  /**
   * Extra loss terms, computed inside the gradient tape from the batch's logits (regularisers,
   * distillation). Return a scalar to add to the cross-entropy, or null.
   */
  penalty?(logits: tfjs.Tensor2D, batch: TrainBatch, ctx: StepContext): tfjs.Scalar | null;
  /**
   * Gradient surgery before the optimizer applies them (A-GEM's projection). Returns the gradients
   * to apply; any tensor it replaces it must dispose, any it returns the loop disposes.
   */
  adjustGradients?(grads: Gradients, batch: TrainBatch, ctx: StepContext): Gradients;
  /** After the optimizer step, with the gradients that were applied (SI's path integral). */
  afterStep?(grads: Gradients, batch: TrainBatch, ctx: StepContext): void;
  /** After the last step of a phase and before its evaluation: importances, anchors, buffer updates. */
  afterPhase?(ctx: PhaseContext): void | Promise<void>;
  /**
   * Scores for classification at evaluation time, [n, outputs] (argmax = prediction; the reported
   * loss stays the model's cross-entropy). iCaRL's nearest-mean-of-exemplars classifier uses it.
   */
  scores?(x: tfjs.Tensor4D): tfjs.Tensor2D;
  dispose?(): void;
}

export type HyperparameterType = 'number' | 'integer' | 'string' | 'boolean';

export interface Hyperparameter {
  type: HyperparameterType;
  default: number | string | boolean;
  description: string;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  enum?: readonly string[];
  /** One line per enum value, for hovers. */
  enumDescriptions?: readonly string[];
}

/** How a strategy arranges the tasks into training phases (rows of R). */
export type PhasePlan = 'sequential' | 'joint' | 'cumulative';

/** One registry entry: the method, its paper and hyperparameters (which feed the schema), and its factory. */
export interface StrategyDefinition {
  name: string;
  /** One line for hovers and the panel: what the method does. */
  summary: string;
  /** "Kirkpatrick et al. 2017, Overcoming catastrophic forgetting in neural networks, PNAS" (empty for baselines). */
  paper: string;
  hyperparameters: Readonly<Record<string, Hyperparameter>>;
  /** Default 'sequential'. */
  phases?: PhasePlan;
  /** Scenarios the method applies to (default: all three). */
  scenarios?: readonly Scenario[];
  /** `params` holds every hyperparameter, defaults filled in. */
  create(env: StrategyEnv, params: Readonly<Record<string, number | string | boolean>>): Strategy;
}

/** Disposes every tensor of a list (gradients, snapshots). */
export function disposeAll(tensors: readonly (tfjs.Tensor | null | undefined)[]): void {
  for (const t of tensors) t?.dispose();
}
