// What the quadratic regularisers (l2, ewc, online-ewc, si, mas) share: weight anchors, the
// penalty scale * sum_terms sum_i importance_i (theta_i - anchor_i)^2 over model.params, running
// sums of importances, and per-example importances (squared or absolute gradients, one example at
// a time, with the head's mask). Each method differs only in how it fills the terms.
import type * as tfjs from '@tensorflow/tfjs';
import type { ClassifierModel, TF } from '../models/types';
import { disposeAll, type PhaseContext, type Strategy, type StrategyEnv, type TrainBatch } from './types';
import { gatherImages } from '../data/pixels';

/** One quadratic term: an anchor theta* and per-weight importances (null: every weight counts 1, as in L2). */
export interface QuadraticTerm {
  anchor: tfjs.Tensor[];
  importance: tfjs.Tensor[] | null;
}

/** A regulariser that shows the terms its penalty sums (inspection and tests). */
export interface RegularisedStrategy extends Strategy {
  terms(): readonly QuadraticTerm[];
}

/** A copy of the live weights, aligned with model.params, kept until disposed. */
export function snapshotWeights(model: ClassifierModel): tfjs.Tensor[] {
  return model.params.map((p) => p.variable.clone());
}

/** scale * sum over terms and weights of importance * (theta - anchor)^2, or null with no terms. */
export function quadraticPenalty(tf: TF, model: ClassifierModel, terms: readonly QuadraticTerm[], scale: number): tfjs.Scalar | null {
  if (terms.length === 0) return null;
  return tf.tidy(() => {
    const parts: tfjs.Scalar[] = [];
    for (const term of terms) {
      model.params.forEach((p, k) => {
        const drift = tf.square(tf.sub(p.variable, term.anchor[k]));
        parts.push(tf.sum(term.importance ? tf.mul(term.importance[k], drift) : drift));
      });
    }
    return tf.mul(tf.addN(parts), scale) as tfjs.Scalar;
  });
}

export function disposeTerm(term: QuadraticTerm): void {
  disposeAll(term.anchor);
  disposeAll(term.importance ?? []);
}

/** One term anchored at the latest end weights (l2, online-ewc, si, mas), and its hooks. */
export interface LatestAnchor extends RegularisedStrategy {
  penalty(): tfjs.Scalar | null;
  /** Anchors at the live weights; `update` turns the old importances (null at first) into the new, owning both. */
  reanchor(update: (old: tfjs.Tensor[] | null) => tfjs.Tensor[] | null): void;
  dispose(): void;
}

export function latestAnchor(tf: TF, model: ClassifierModel, scale: number): LatestAnchor {
  let term: QuadraticTerm | null = null;
  return {
    penalty: () => quadraticPenalty(tf, model, term ? [term] : [], scale),
    reanchor(update) {
      const importance = update(term?.importance ?? null);
      disposeAll(term?.anchor ?? []);
      term = { anchor: snapshotWeights(model), importance };
    },
    terms: () => (term ? [term] : []),
    dispose() {
      if (term) disposeTerm(term);
      term = null;
    },
  };
}

/** decay * running + added, per weight tensor (running null: added). Disposes both inputs. */
export function accumulate(tf: TF, running: tfjs.Tensor[] | null, added: tfjs.Tensor[], decay = 1): tfjs.Tensor[] {
  if (!running) return added;
  const next = tf.tidy(() => running.map((r, k) => tf.add(tf.mul(r, decay), added[k])));
  disposeAll(running);
  disposeAll(added);
  return next;
}

/** `count` distinct indices of 0..n-1 chosen by `rng` (partial Fisher-Yates; all of them if count >= n). */
export function sampleIndices(n: number, count: number, rng: () => number): Int32Array {
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  const k = Math.min(n, Math.max(0, Math.floor(count)));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (n - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, k);
}

const IMPORTANCE_CHUNK = 256;

/** Example i of a batch as a batch of one (its tensors are slices the caller disposes). */
function exampleOf(batch: TrainBatch, i: number): TrainBatch {
  return {
    x: batch.x.slice([i, 0, 0, 0], [1, -1, -1, -1]),
    y: batch.y.slice([i], [1]),
    tasks: batch.tasks.subarray(i, i + 1),
    mask: batch.mask ? batch.mask.slice([i, 0], [1, -1]) : null,
    indices: batch.indices.subarray(i, i + 1),
  };
}

/**
 * Mean over `count` examples of the phase (seeded choice by env.rng) of reduce(gradient of `loss`
 * on that ONE example), per weight. The default loss is the masked cross-entropy with the true
 * label, so reduce = square gives the empirical Fisher diagonal. Gradients are per example, not
 * per batch: the square of a mean is not the mean of squares.
 */
export function perExampleImportance(
  env: StrategyEnv,
  ctx: PhaseContext,
  count: number,
  reduce: 'square' | 'abs',
  loss?: (logits: tfjs.Tensor2D, batch: TrainBatch) => tfjs.Scalar,
): tfjs.Tensor[] {
  const { tf, model } = env;
  const set = ctx.train;
  const picked = sampleIndices(set.n, count, env.rng);
  const pixels = set.shape[0] * set.shape[1] * set.shape[2];
  let sum = model.params.map((p) => tf.zeros(p.shape));
  try {
    // Examples are uploaded in chunks, so a large count (a full pass) needs no giant batch.
    for (let from = 0; from < picked.length; from += IMPORTANCE_CHUNK) {
      const chunk = picked.subarray(from, from + IMPORTANCE_CHUNK);
      const images = gatherImages(set.images, pixels, chunk);
      const batch = env.makeBatch(images, Int32Array.from(chunk, (i) => set.labels[i]), Int32Array.from(chunk, (i) => set.tasks[i]), ctx.seenTasks);
      try {
        for (let i = 0; i < chunk.length; i++) {
          const one = exampleOf(batch, i);
          const grads = env.gradients(one, loss ? (logits) => loss(logits, one) : undefined);
          const next = tf.tidy(() => sum.map((s, k) => tf.add(s, reduce === 'square' ? tf.square(grads[k]) : tf.abs(grads[k]))));
          disposeAll([...grads, ...sum, one.x, one.y, one.mask]);
          sum = next;
        }
      } finally {
        env.disposeBatch(batch);
      }
    }
    return tf.tidy(() => sum.map((s) => tf.div(s, Math.max(1, picked.length))));
  } finally {
    disposeAll(sum);
  }
}
