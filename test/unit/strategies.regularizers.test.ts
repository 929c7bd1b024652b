// The quadratic regularisers (l2, ewc, online-ewc, si, mas) on real MNIST and Fashion-MNIST
// subsets with the wasm backend: each method's defining property, checked against float64 maths.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import type { ClassifierModel, EvalSet, TF } from '../../src/engine/models/types';
import { resolveDataset } from '../../src/engine/data/resolve';
import { loadDataset } from '../../src/engine/data/load';
import { stratifiedSubset } from '../../src/engine/data/subset';
import { deriveSeed } from '../../src/engine/random';
import { createOptimizer, createStrategyEnv, planPhases, runPhases, type LoopObserver } from '../../src/engine/train/loop';
import { buildHead, type HeadLayout } from '../../src/engine/train/head';
import { evaluateModel } from '../../src/engine/train/evaluate';
import type { NormalisedExperiment, ResolvedModelSpec, Scenario, TrainingSpec } from '../../src/protocol/experiment';
import type { PhaseContext, StrategyDefinition, StrategyEnv, TrainSet } from '../../src/engine/strategies/types';
import { quadraticPenalty, type QuadraticTerm, type RegularisedStrategy } from '../../src/engine/strategies/quadraticPenalty';
import { l2 } from '../../src/engine/strategies/l2';
import { ewc } from '../../src/engine/strategies/ewc';
import { onlineEwc } from '../../src/engine/strategies/onlineEwc';
import { si } from '../../src/engine/strategies/si';
import { mas } from '../../src/engine/strategies/mas';
import { naive } from '../../src/engine/strategies/naive';

type Dataset = 'mnist' | 'fashion-mnist';
/** A task's examples before the head maps labels to units. */
interface RawTask {
  images: Float32Array;
  labels: Int32Array;
  test: { images: Float32Array; labels: Int32Array };
}

let tf: TF;
let raw: RawTask[];

/** A seeded stratified subset of a dataset, normalised as the runner does. */
async function loadTask(dataset: Dataset, train: number, testN: number, index: number): Promise<RawTask> {
  const data = await loadDataset(await resolveDataset({ dataset }, { allowDownload: false }), dataset);
  const pixels = data.train.height * data.train.width;
  const pick = (split: typeof data.train, idx: Int32Array) => {
    const images = new Float32Array(idx.length * pixels);
    idx.forEach((i, k) => {
      for (let p = 0; p < pixels; p++) images[k * pixels + p] = (split.images[i * pixels + p] / 255 - data.mean) / data.std;
    });
    return { images, labels: Int32Array.from(idx, (i) => split.labels[i]) };
  };
  const tr = pick(data.train, stratifiedSubset(data.train.labels, train, deriveSeed(7, `train/${index}`)));
  return { ...tr, test: pick(data.test, stratifiedSubset(data.test.labels, testN, deriveSeed(7, `test/${index}`))) };
}

before(async () => {
  tf = (await loadBackend('wasm')).tf;
  raw = [await loadTask('mnist', 600, 300, 0), await loadTask('fashion-mnist', 600, 300, 1)];
});

const tenClasses = Array.from({ length: 10 }, (_, k) => k);
const shape: [number, number, number] = [28, 28, 1];

interface Setup {
  env: StrategyEnv;
  model: ClassifierModel;
  head: HeadLayout;
  strategy: RegularisedStrategy;
  training: TrainingSpec;
  ctx(task: number): PhaseContext;
  run(phases: number[][], observers?: LoopObserver[]): Promise<void>;
  dispose(): void;
}

/** A model, head and strategy over the two tasks (MNIST, Fashion-MNIST) in a scenario. */
function setup(def: StrategyDefinition, over: Record<string, number> = {}, opts: { scenario?: Scenario; hidden?: number[]; seed?: number; training?: Partial<TrainingSpec> } = {}): Setup {
  const scenario = opts.scenario ?? 'domain-il';
  const seed = opts.seed ?? 1;
  const head = buildHead(scenario, [{ classIds: tenClasses, domain: 'mnist' }, { classIds: tenClasses, domain: 'fashion-mnist' }]);
  const tasks: TrainSet[] = raw.map((t, i) => ({ images: t.images, labels: Int32Array.from(t.labels, (c) => head.units[i][c]), tasks: new Int32Array(t.labels.length).fill(i), n: t.labels.length, shape }));
  const modelSpec: ResolvedModelSpec = { type: 'mlp', hidden: opts.hidden ?? [16] };
  const params: Record<string, number> = {};
  for (const [k, h] of Object.entries(def.hyperparameters)) params[k] = over[k] ?? (h.default as number);
  const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 1, evalEvery: 100, evalSamples: 100, iterations: 20, ...opts.training };
  const experiment: NormalisedExperiment = {
    name: 'regularisers',
    seed,
    tasks: [{ dataset: 'mnist' }, { dataset: 'fashion-mnist' }],
    scenario,
    model: modelSpec,
    training,
    strategy: { name: def.name, ...params },
    landscape: false,
  };
  const model = buildModel(tf, modelSpec, shape, head.outputs, seed);
  const env = createStrategyEnv({ tf, model, head, experiment, tasks, strategyName: def.name, log: () => {} });
  const strategy = def.create(env, params) as RegularisedStrategy;
  const optimizer = createOptimizer(tf, training);
  return {
    env,
    model,
    head,
    strategy,
    training,
    ctx: (task) => ({ phase: task, tasks: [task], train: tasks[task], seenTasks: Array.from({ length: task + 1 }, (_, i) => i) }),
    run: (phases, observers = []) => runPhases({ tf, env, strategy, optimizer, phases, training, seed, observers }),
    dispose() {
      strategy.dispose?.();
      optimizer.dispose();
      model.dispose();
    },
  };
}

const values = (ts: readonly { dataSync(): ArrayLike<number> }[]) => ts.map((t) => Float64Array.from(t.dataSync()));
const weightsOf = (model: ClassifierModel) => values(model.params.map((p) => p.variable));
const indexOf = (model: ClassifierModel, name: string) => model.params.findIndex((p) => p.name === name);

/** sum over terms and weights of importance * (theta - anchor)^2, in float64. */
function quadratic(theta: Float64Array[], terms: { anchor: Float64Array[]; importance: Float64Array[] | null }[]): number {
  let s = 0;
  for (const t of terms) theta.forEach((w, k) => w.forEach((x, i) => (s += (t.importance ? t.importance[k][i] : 1) * (x - t.anchor[k][i]) ** 2)));
  return s;
}
const read = (terms: readonly QuadraticTerm[]) => terms.map((t) => ({ anchor: values(t.anchor), importance: t.importance ? values(t.importance) : null }));

function penaltyValue(s: Setup): number {
  const p = tf.tidy(() => s.strategy.penalty?.(tf.zeros([1, s.head.outputs]), null as never, { ...s.ctx(1), step: 0 }) ?? tf.scalar(0));
  const v = p.dataSync()[0];
  p.dispose();
  return v;
}

/** Moves every weight by seeded noise of the given size. */
function perturb(model: ClassifierModel, size: number, seed: number) {
  let state = seed;
  for (const p of model.params) {
    const w = p.variable.dataSync().slice();
    for (let i = 0; i < w.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      w[i] += (state / 2 ** 32 - 0.5) * 2 * size;
    }
    p.variable.assign(tf.tensor(w, p.shape));
  }
}

const close = (got: number, want: number, rel = 1e-4) => assert.ok(Math.abs(got - want) <= rel * Math.max(1e-12, Math.abs(want)), `${got} vs ${want}`);

test('EWC: zero at the anchor, (lambda/2) sum F (theta - theta*)^2 for a hand-set Fisher, and F is the per-example squared gradient', async () => {
  const s = setup(ewc, { lambda: 300, fisherSamples: 40 });
  try {
    // Hand-set anchor and Fisher, through the penalty helper EWC uses.
    const theta = weightsOf(s.model);
    const anchor = theta.map((w, k) => w.map((x, i) => x + Math.sin(k + i)));
    const fisher = theta.map((w, k) => w.map((_, i) => Math.abs(Math.cos(3 * k + i))));
    const term = { anchor: anchor.map((a, k) => tf.tensor(Float32Array.from(a), s.model.params[k].shape)), importance: fisher.map((f, k) => tf.tensor(Float32Array.from(f), s.model.params[k].shape)) };
    const handSet = quadraticPenalty(tf, s.model, [term], 300 / 2)!;
    close(handSet.dataSync()[0], (300 / 2) * quadratic(theta, read([term])));
    tf.dispose([handSet, ...term.anchor, ...term.importance]);

    // The strategy after a phase: zero at its anchor, the formula elsewhere.
    assert.equal(s.strategy.penalty?.(tf.zeros([1, 10]), null as never, { ...s.ctx(0), step: 0 }) ?? null, null, 'no penalty before a task ends');
    await s.run([[0]]);
    assert.equal(penaltyValue(s), 0);
    perturb(s.model, 0.05, 5);
    const terms = read(s.strategy.terms());
    close(penaltyValue(s), (300 / 2) * quadratic(weightsOf(s.model), terms));

    // Output bias u: d(-log p_y)/db_u = p_u - [u = y], so F_u = mean over examples of (p_u - [u = y])^2
    // (a per-batch Fisher would square the batch mean instead). fisherSamples = n uses every example.
    const all = setup(ewc, { fisherSamples: raw[0].labels.length });
    try {
      await all.strategy.afterPhase?.(all.ctx(0));
      const probs = tf.tidy(() => tf.softmax(all.model.forward(tf.tensor4d(raw[0].images, [raw[0].labels.length, ...shape]))).dataSync());
      const want = new Float64Array(10);
      raw[0].labels.forEach((y, i) => {
        for (let u = 0; u < 10; u++) want[u] += (probs[i * 10 + u] - (u === y ? 1 : 0)) ** 2 / raw[0].labels.length;
      });
      const got = values(all.strategy.terms()[0].importance!)[indexOf(all.model, 'dense2/bias')];
      want.forEach((w, u) => close(got[u], w, 1e-3));
    } finally {
      all.dispose();
    }
  } finally {
    s.dispose();
  }
});

test('EWC keeps one penalty per task; online EWC one running Fisher gamma * F_old + F_new at the latest anchor', async () => {
  const s = setup(ewc, { lambda: 100, fisherSamples: 30 });
  const ends: Float64Array[][] = [];
  try {
    await s.run(planPhases('sequential', 2), [{ phaseEnded: () => void ends.push(weightsOf(s.model)) }]);
    const terms = read(s.strategy.terms());
    assert.equal(terms.length, 2, 'two tasks, two terms');
    assert.deepEqual(terms.map((t) => t.anchor), ends, 'each task anchored at its own end weights');
    assert.ok(terms.every((t) => t.importance!.every((f) => f.every((x) => x >= 0))) && terms[0].importance![0].some((x) => x > 0));
    perturb(s.model, 0.02, 9);
    close(penaltyValue(s), (100 / 2) * quadratic(weightsOf(s.model), terms));
  } finally {
    s.dispose();
  }

  // Same seed, gamma 0.5 and 0: the first task's Fisher is the same in both (nothing to decay yet), so
  // both train the second task identically, and gamma = 0 leaves F_new alone.
  const fishers = async (gamma: number) => {
    const o = setup(onlineEwc, { lambda: 100, gamma, fisherSamples: 30 });
    const after: { anchor: Float64Array[]; importance: Float64Array[] | null }[][] = [];
    try {
      await o.run(planPhases('sequential', 2), [{ phaseEnded: () => void after.push(read(o.strategy.terms())) }]);
      assert.deepEqual(after.map((t) => t.length), [1, 1], 'one term throughout');
      assert.deepEqual(after[1][0].anchor, weightsOf(o.model), 'anchored at the latest weights');
      return { first: after[0][0].importance!, last: after[1][0].importance! };
    } finally {
      o.dispose();
    }
  };
  const decayed = await fishers(0.5);
  const fresh = await fishers(0);
  decayed.last.forEach((f, k) => f.forEach((x, i) => assert.ok(Math.abs(x - (0.5 * decayed.first[k][i] + fresh.last[k][i])) <= 1e-6 + 1e-4 * x, `F[${k}][${i}]`)));
});

test('SI: zero importance for weights that never moved, positive for those that moved', async () => {
  // Task-IL: while MNIST trains, Fashion's output units are masked, get exactly zero gradient and
  // stay where they are under Adam.
  const s = setup(si, {}, { scenario: 'task-il', training: { iterations: 30 } });
  try {
    const before = weightsOf(s.model);
    await s.run([[0]]);
    const after = weightsOf(s.model);
    const omega = values(s.strategy.terms()[0].importance!);
    let moved = 0;
    let positive = 0;
    after.forEach((w, k) =>
      w.forEach((x, i) => {
        if (x === before[k][i]) {
          assert.equal(omega[k][i], 0, `${s.model.params[k].name}[${i}] never moved`);
        } else {
          moved++;
          if (omega[k][i] > 0) positive++;
        }
      }),
    );
    const bias = indexOf(s.model, 'dense2/bias');
    for (let u = 10; u < 20; u++) assert.equal(after[bias][u], before[bias][u], `Fashion unit ${u} is masked`);
    for (let u = 0; u < 10; u++) assert.ok(omega[bias][u] > 0, `MNIST unit ${u}: Omega ${omega[bias][u]}`);
    assert.ok(moved > 0 && positive === moved, `${positive} of ${moved} moved weights have Omega > 0`);
  } finally {
    s.dispose();
  }
});

test('MAS: importance is non-negative, mean |d||logits||^2/dtheta|, and zero for weights that do not affect the outputs', async () => {
  const s = setup(mas, { samples: raw[0].labels.length }, { scenario: 'task-il' });
  try {
    // Hidden unit 3 feeds no output: its incoming weights and bias cannot change the logits.
    const out = s.model.params[indexOf(s.model, 'dense2/kernel')];
    const cut = out.variable.dataSync().slice();
    cut.fill(0, 3 * s.head.outputs, 4 * s.head.outputs);
    out.variable.assign(tf.tensor(cut, out.shape));
    await s.strategy.afterPhase?.(s.ctx(0));
    const omega = values(s.strategy.terms()[0].importance!);
    assert.ok(omega.every((o) => o.every((x) => x >= 0)));
    const [kernel1, bias1, kernel2, bias2] = ['dense1/kernel', 'dense1/bias', 'dense2/kernel', 'dense2/bias'].map((n) => omega[indexOf(s.model, n)]);
    const hidden = 16;
    for (let i = 0; i < 784; i++) assert.equal(kernel1[i * hidden + 3], 0);
    assert.equal(bias1[3], 0);
    for (let u = 10; u < 20; u++) {
      assert.equal(bias2[u], 0, `masked unit ${u}`);
      for (let j = 0; j < hidden; j++) assert.equal(kernel2[j * s.head.outputs + u], 0);
    }
    // Output bias u: d||z||^2/db_u = 2 z_u, so Omega_u = mean |2 z_u| over the examples.
    const logits = tf.tidy(() => s.model.forward(tf.tensor4d(raw[0].images, [raw[0].labels.length, ...shape])).dataSync());
    for (let u = 0; u < 10; u++) {
      let want = 0;
      for (let i = 0; i < raw[0].labels.length; i++) want += Math.abs(2 * logits[i * s.head.outputs + u]) / raw[0].labels.length;
      close(bias2[u], want, 1e-3);
    }
  } finally {
    s.dispose();
  }
});

test('L2: the penalty is (lambda/2)|theta - theta*|^2 and its gradient lambda (theta - theta*) pulls every weight towards the anchor', async () => {
  const s = setup(l2, { lambda: 0.5 });
  try {
    await s.strategy.afterPhase?.(s.ctx(0));
    const anchor = weightsOf(s.model);
    assert.equal(penaltyValue(s), 0);
    perturb(s.model, 0.1, 3);
    const theta = weightsOf(s.model);
    close(penaltyValue(s), 0.25 * quadratic(theta, [{ anchor, importance: null }]));
    const { value, grads } = tf.variableGrads(() => s.strategy.penalty!(tf.zeros([1, 10]), null as never, { ...s.ctx(1), step: 0 })!);
    value.dispose();
    s.model.params.forEach((p, k) => {
      const g = grads[p.variable.name].dataSync();
      theta[k].forEach((x, i) => {
        assert.ok(Math.abs(g[i] - 0.5 * (x - anchor[k][i])) <= 1e-6, `${p.name}[${i}]`);
        // A small step against the gradient brings the weight nearer its anchor.
        assert.ok(Math.abs(x - 0.1 * g[i] - anchor[k][i]) < Math.abs(x - anchor[k][i]) || x === anchor[k][i]);
      });
    });
    tf.dispose(Object.values(grads));
  } finally {
    s.dispose();
  }
});

test('every regulariser holds the tensor count constant across steps and frees everything it kept', async () => {
  for (const def of [l2, ewc, onlineEwc, si, mas]) {
    const start = tf.memory().numTensors;
    const s = setup(def, { fisherSamples: 10, samples: 10 }, { scenario: 'task-il', training: { iterations: 15 } });
    const counts = new Map<number, number>();
    await s.run(planPhases('sequential', 2), [{ stepDone: (info) => void (info.phase === 1 && counts.set(info.step, tf.memory().numTensors)) }]);
    assert.equal(counts.get(17), counts.get(27), `${def.name}: tensors at step 17 vs 27`);
    s.dispose();
    assert.equal(tf.memory().numTensors, start, `${def.name}: tensors left after dispose`);
  }
});

test('EWC keeps MNIST better than naive fine-tuning after Fashion-MNIST (same seed, real data)', async () => {
  const test0: EvalSet = { images: tf.tensor4d(raw[0].test.images, [raw[0].test.labels.length, ...shape]), labels: tf.tensor1d(raw[0].test.labels, 'int32') };
  const accuracyOnMnist = async (def: StrategyDefinition) => {
    const s = setup(def, {}, { hidden: [64], training: { iterations: undefined, epochs: 3 } });
    const rows: number[] = [];
    try {
      await s.run(planPhases('sequential', 2), [{ phaseEnded: () => void rows.push(evaluateModel(tf, s.model, test0).accuracy) }]);
      return rows;
    } finally {
      s.dispose();
    }
  };
  try {
    const [naiveFirst, naiveAfter] = await accuracyOnMnist(naive);
    const [ewcFirst, ewcAfter] = await accuracyOnMnist(ewc);
    assert.equal(ewcFirst, naiveFirst, 'same seed, same first task');
    assert.ok(naiveAfter < naiveFirst - 0.1, `naive forgets: ${naiveFirst} -> ${naiveAfter}`);
    assert.ok(ewcAfter > naiveAfter + 0.05, `EWC ${ewcAfter} vs naive ${naiveAfter} on MNIST after Fashion-MNIST`);
  } finally {
    tf.dispose([test0.images, test0.labels]);
  }
});
