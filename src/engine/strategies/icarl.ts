// iCaRL: Rebuffi et al. 2017, iCaRL: Incremental classifier and representation learning, CVPR.
// Class-IL only. As in the paper (and van de Ven & Tolias's re-implementation, except where noted):
//  - Memory: at most `memorySize` exemplars, m = floor(memorySize / classes seen) per class. After
//    each phase the earlier classes' sets keep their first m (herding order), and each new class
//    gets m exemplars chosen by herding on L2-normalised features: one at a time, the example that
//    brings the running mean of the chosen ones closest to the class mean (normalised, as van de
//    Ven's code; the running mean is not re-normalised).
//  - Training: every batch also carries exemplars of the earlier classes (a seeded shuffled cycle
//    through the memory), round(b * |memory| / |phase data|) of them per b new examples, so the
//    mix is that of training on the union of new data and memory (the paper's Algorithm 3).
//  - Loss: the paper's binary cross-entropy over the units seen so far, summed over units and
//    averaged over the batch; targets are one-hot for the new classes and, for the earlier
//    classes, the sigmoid outputs of the model as it was before this phase (the teacher), for
//    every example (new and replayed); no temperature (van de Ven's code divides the teacher's
//    outputs by T = 2 here). It replaces the softmax cross-entropy (classificationLoss).
//  - Classification: nearest mean of exemplars, scores = -||f(x)/|f(x)| - mu_c||^2, mu_c the
//    normalised mean of class c's normalised exemplar features, f the model's features (the input
//    of its output layer). Means follow the current weights (recomputed at the first scoring after
//    a step). While a phase trains, its new classes (no exemplars yet) use a seeded sample of m of
//    their training examples, so curves can score them. Before any class has a mean: the model's
//    own outputs.
import type * as tfjs from '@tensorflow/tfjs';
import type { ClassifierModel, TF } from '../models/types';
import { MASKED_LOGIT } from '../train/head';
import { shuffleInPlace } from '../random';
import { concatBatches } from './replay';
import type { PhaseContext, Strategy, StrategyDefinition, StrategyEnv } from './types';
import { gatherImages } from '../data/pixels';

/** Divides each row of a [n, dim] matrix by its L2 norm (zero rows stay zero), in place. */
export function normaliseRows(rows: Float32Array, n: number, dim: number): Float32Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += rows[i * dim + j] ** 2;
    const scale = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j++) rows[i * dim + j] *= scale;
  }
  return rows;
}

/** The normalised mean of L2-normalised rows (a class's prototype). */
export function classMean(rows: Float32Array, n: number, dim: number): Float32Array {
  const mean = new Float32Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += rows[i * dim + j] / n;
  return normaliseRows(mean, 1, dim);
}

/**
 * Herding (Rebuffi et al. 2017, Algorithm 4): indexes of `count` rows of `features` (n x dim,
 * L2-normalised), in selection order; the k-th is the row that brings the mean of the first k
 * closest to the class mean (ties: the lowest index).
 */
export function herding(features: Float32Array, n: number, dim: number, count: number): Int32Array {
  const mu = classMean(features, n, dim);
  const chosen = new Int32Array(Math.min(count, n));
  const taken = new Uint8Array(n);
  const sum = new Float64Array(dim);
  const target = new Float64Array(dim);
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) sq[i] += features[i * dim + j] ** 2;
  for (let k = 0; k < chosen.length; k++) {
    // ||mu - (sum + f_i)/(k+1)|| is smallest where ||(k+1) mu - sum - f_i||^2 = |target|^2 - 2 target.f_i + |f_i|^2 is.
    for (let j = 0; j < dim; j++) target[j] = (k + 1) * mu[j] - sum[j];
    let best = -1;
    let bestDist = Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      let dot = 0;
      const row = i * dim;
      for (let j = 0; j < dim; j++) dot += target[j] * features[row + j];
      const d = sq[i] - 2 * dot;
      if (d < bestDist) {
        bestDist = d;
        best = i;
      }
    }
    chosen[k] = best;
    taken[best] = 1;
    for (let j = 0; j < dim; j++) sum[j] += features[best * dim + j];
  }
  return chosen;
}

/**
 * Nearest-mean-of-exemplars scores [n, outputs]: -||f/|f| - mu_u||^2 for units with a mean,
 * MASKED_LOGIT for the others. `means[u]` is unit u's normalised mean, or null.
 */
export function nearestMeanScores(tf: TF, features: tfjs.Tensor2D, means: readonly (Float32Array | null)[]): tfjs.Tensor2D {
  return tf.tidy(() => {
    const dim = features.shape[1];
    const matrix = new Float32Array(means.length * dim);
    const unknown = new Float32Array(means.length);
    means.forEach((m, u) => (m ? matrix.set(m, u * dim) : (unknown[u] = MASKED_LOGIT)));
    const mu = tf.tensor2d(matrix, [means.length, dim]);
    const f = tf.div(features, tf.maximum(tf.norm(features, 2, 1, true), 1e-12));
    // ||f - mu||^2 = |f|^2 - 2 f.mu + |mu|^2
    const d2 = tf.add(tf.sub(tf.sum(tf.square(f), 1, true), tf.mul(2, tf.matMul(f, mu, false, true))), tf.sum(tf.square(mu), 1));
    return tf.add(tf.neg(d2), tf.tensor1d(unknown)) as tfjs.Tensor2D;
  });
}

/** A class's stored examples (images n * pixels, their tasks), in herding order. */
interface ExemplarSet {
  images: Float32Array;
  tasks: Int32Array;
  count: number;
}

export interface IcarlStrategy extends Strategy {
  /** Exemplars held per unit (class). */
  exemplarCounts(): Record<number, number>;
  /** A copy of one unit's exemplar images, in herding order. */
  exemplarImages(unit: number): Float32Array;
}

export function createIcarl(env: StrategyEnv, params: Readonly<Record<string, number | string | boolean>>): IcarlStrategy {
  const { tf, head, model } = env;
  if (head.scenario !== 'class-il') throw new Error(`icarl is a class-incremental method: the scenario is ${head.scenario}, use class-il`);
  const extract = model.features?.bind(model);
  if (!extract) throw new Error('icarl needs the model to expose its features (the input of the output layer)');
  const features: (x: tfjs.Tensor4D) => tfjs.Tensor2D = extract;
  const memorySize = Number(params.memorySize);
  const [h, w, c] = model.inputShape;
  const pixels = h * w * c;

  const memory = new Map<number, ExemplarSet>();
  /** New classes' stand-ins for the means while their phase trains (no exemplars yet). */
  let provisional = new Map<number, ExemplarSet>();
  let means: (Float32Array | null)[] | null = null; // null = stale
  let teacher: ClassifierModel | null = null;
  let oldUnits: number[] = [];
  let seenUnits: number[] = [];
  let replay: { images: Float32Array; labels: Int32Array; tasks: Int32Array; order: Int32Array; next: number } | null = null;

  const unitsOf = (tasks: readonly number[]) => [...new Set(tasks.flatMap((t) => head.units[t]))].sort((a, b) => a - b);
  const perClass = (classes: number) => Math.floor(memorySize / Math.max(1, classes));

  /** L2-normalised features of n images, [n * dim]. */
  function featureRows(images: Float32Array, n: number): { rows: Float32Array; dim: number } {
    const parts: Float32Array[] = [];
    let dim = 0;
    for (let start = 0; start < n; start += 512) {
      const size = Math.min(512, n - start);
      const f = tf.tidy(() => features(tf.tensor4d(images.subarray(start * pixels, (start + size) * pixels), [size, h, w, c])));
      dim = f.shape[1];
      parts.push(f.dataSync() as Float32Array);
      f.dispose();
    }
    const rows = new Float32Array(n * dim);
    parts.reduce((at, p) => (rows.set(p, at), at + p.length), 0);
    return { rows: normaliseRows(rows, n, dim), dim };
  }

  /** The examples of `unit` in a phase's data, copied into a set (in the given index order). */
  function setOf(train: PhaseContext['train'], indices: ArrayLike<number>): ExemplarSet {
    const images = gatherImages(train.images, pixels, indices);
    const tasks = new Int32Array(indices.length);
    for (let k = 0; k < indices.length; k++) tasks[k] = train.tasks[indices[k]];
    return { images, tasks, count: indices.length };
  }

  const examplesOf = (train: PhaseContext['train'], unit: number) => {
    const out: number[] = [];
    for (let i = 0; i < train.n; i++) if (train.labels[i] === unit) out.push(i);
    return Int32Array.from(out);
  };

  function computeMeans(): (Float32Array | null)[] {
    const out: (Float32Array | null)[] = new Array(head.outputs).fill(null);
    for (const [unit, set] of [...memory, ...provisional]) {
      if (!set.count) continue;
      const { rows, dim } = featureRows(set.images, set.count);
      out[unit] = classMean(rows, set.count, dim);
    }
    return out;
  }

  function releaseTeacher() {
    teacher?.dispose();
    teacher = null;
  }

  return {
    beforePhase(ctx) {
      seenUnits = unitsOf(ctx.seenTasks);
      oldUnits = unitsOf(ctx.seenTasks.filter((t) => !ctx.tasks.includes(t)));
      releaseTeacher();
      if (oldUnits.length) teacher = env.snapshotModel();
      // The replay pool: every stored exemplar, visited in seeded shuffled cycles.
      const sets = [...memory].filter(([, s]) => s.count);
      const total = sets.reduce((n, [, s]) => n + s.count, 0);
      replay = null;
      if (total) {
        const images = new Float32Array(total * pixels);
        const labels = new Int32Array(total);
        const tasks = new Int32Array(total);
        let at = 0;
        for (const [unit, s] of sets) {
          images.set(s.images, at * pixels);
          labels.fill(unit, at, at + s.count);
          tasks.set(s.tasks, at);
          at += s.count;
        }
        const order = shuffleInPlace(Int32Array.from({ length: total }, (_, i) => i), env.rng);
        replay = { images, labels, tasks, order, next: 0 };
      }
      const m = perClass(seenUnits.length);
      provisional = new Map();
      for (const unit of unitsOf(ctx.tasks)) {
        if (memory.has(unit)) continue;
        const idx = shuffleInPlace(examplesOf(ctx.train, unit), env.rng).slice(0, m);
        provisional.set(unit, setOf(ctx.train, idx));
      }
      means = null;
    },

    augmentBatch(batch, ctx) {
      if (!replay) return batch;
      const r = replay;
      const total = r.order.length;
      const k = Math.min(total, Math.max(1, Math.round((batch.indices.length * total) / ctx.train.n)));
      const images = new Float32Array(k * pixels);
      const labels = new Int32Array(k);
      const tasks = new Int32Array(k);
      for (let i = 0; i < k; i++) {
        if (r.next === total) {
          shuffleInPlace(r.order, env.rng);
          r.next = 0;
        }
        const j = r.order[r.next++];
        images.set(r.images.subarray(j * pixels, (j + 1) * pixels), i * pixels);
        labels[i] = r.labels[j];
        tasks[i] = r.tasks[j];
      }
      const extra = env.makeBatch(images, labels, tasks, ctx.seenTasks);
      try {
        return concatBatches(tf, batch, extra);
      } finally {
        env.disposeBatch(extra);
      }
    },

    classificationLoss(logits, batch) {
      // Targets: one-hot for the new classes; the teacher's sigmoid for the earlier ones.
      let targets = tf.cast(tf.oneHot(batch.y, head.outputs), 'float32');
      if (teacher && oldUnits.length) {
        const old = new Float32Array(head.outputs);
        for (const u of oldUnits) old[u] = 1;
        const isOld = tf.tensor1d(old);
        targets = tf.add(tf.mul(targets, tf.sub(1, isOld)), tf.mul(tf.sigmoid(teacher.forward(batch.x)), isOld));
      }
      const seen = new Float32Array(head.outputs);
      for (const u of seenUnits) seen[u] = 1;
      // Binary cross-entropy with logits, in the stable form max(z,0) - z t + log(1 + exp(-|z|)).
      const bce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
      return tf.mean(tf.sum(tf.mul(bce, tf.tensor1d(seen)), 1)) as tfjs.Scalar;
    },

    afterStep() {
      means = null;
    },

    afterPhase(ctx) {
      const m = perClass(unitsOf(ctx.seenTasks).length);
      for (const set of memory.values()) {
        // Herding order: the first m are the best m.
        set.count = Math.min(set.count, m);
        set.images = set.images.slice(0, set.count * pixels);
        set.tasks = set.tasks.slice(0, set.count);
      }
      for (const unit of unitsOf(ctx.tasks)) {
        if (memory.has(unit)) continue;
        const idx = examplesOf(ctx.train, unit);
        const { rows, dim } = featureRows(setOf(ctx.train, idx).images, idx.length);
        const picked = herding(rows, idx.length, dim, m);
        memory.set(unit, setOf(ctx.train, Int32Array.from(picked, (p) => idx[p])));
      }
      provisional = new Map();
      means = computeMeans();
    },

    scores(x) {
      means ??= computeMeans();
      const known = means;
      if (known.every((mu) => !mu)) return model.forward(x);
      return tf.tidy(() => nearestMeanScores(tf, features(x), known));
    },

    dispose() {
      releaseTeacher();
      memory.clear();
      provisional.clear();
      replay = null;
    },

    exemplarCounts() {
      return Object.fromEntries([...memory].map(([u, s]) => [u, s.count]));
    },

    exemplarImages(unit) {
      const s = memory.get(unit);
      return s ? s.images.slice(0, s.count * pixels) : new Float32Array(0);
    },
  };
}

export const icarl: StrategyDefinition = {
  name: 'icarl',
  summary: 'Class-IL: replays herded exemplars, distils the old classes with binary cross-entropy, and classifies by the nearest mean of exemplars.',
  paper: 'Rebuffi et al. 2017, iCaRL: Incremental classifier and representation learning, CVPR',
  hyperparameters: {
    memorySize: { type: 'integer', default: 2000, minimum: 1, description: 'Exemplars stored in total, shared equally by the classes seen (floor(memorySize / classes) each).' },
  },
  scenarios: ['class-il'],
  create: createIcarl,
};
