// The memory-based strategies (replay, A-GEM, DER++) and the replay memory they share: defining
// properties with real tfjs (wasm), and a small real MNIST -> Fashion-MNIST run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import type { ClassifierModel, TF } from '../../src/engine/models/types';
import { createRng, deriveSeed } from '../../src/engine/random';
import { resolveDataset } from '../../src/engine/data/resolve';
import { loadDataset } from '../../src/engine/data/load';
import { stratifiedSubset } from '../../src/engine/data/subset';
import { buildHead, type HeadLayout } from '../../src/engine/train/head';
import { createOptimizer, createStrategyEnv, makeBatch, planPhases, runPhases } from '../../src/engine/train/loop';
import type { NormalisedExperiment, Scenario } from '../../src/protocol/experiment';
import type { Gradients, StrategyDefinition, StrategyEnv, StepContext, TrainSet } from '../../src/engine/strategies/types';
import { createMemory, type ReplayMemory } from '../../src/engine/strategies/memory';
import { naive } from '../../src/engine/strategies/naive';
import { concatBatches, replay } from '../../src/engine/strategies/replay';
import { agem, projectGradients } from '../../src/engine/strategies/agem';
import { der } from '../../src/engine/strategies/der';
import { imageRange } from '../../src/engine/data/pixels';

// ---------------------------------------------------------------------------------------------
// The replay memory

/** A stream of N examples whose one-pixel image is its id (exact in float32), label = id mod 10. */
function idStream(n: number, classOf: (id: number) => number = (id) => id % 10, taskOf: (id: number) => number = () => 0) {
  const images = new Float32Array(n);
  const labels = new Int32Array(n);
  const tasks = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    images[i] = i;
    labels[i] = classOf(i);
    tasks[i] = taskOf(i);
  }
  return { images, labels, tasks };
}

const remembered = (m: ReplayMemory) => Array.from(m.images.subarray(0, m.size));

/** Pearson's chi-square of observed counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const expected = counts.reduce((a, b) => a + b, 0) / counts.length;
  return counts.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
}
const CHI2_9DF_P001 = 27.877; // chi-square critical value, 9 degrees of freedom, p = 0.001

/** Where in the stream remembered items came from: 10 bins of stream position, over many seeded runs. */
function inclusionByPosition(select: (stream: ReturnType<typeof idStream>, seed: number) => number[], n: number, runs: number): number[] {
  const stream = idStream(n);
  const bins = new Array<number>(10).fill(0);
  for (let r = 0; r < runs; r++) for (const id of select(stream, r)) bins[Math.floor((id * 10) / n)]++;
  return bins;
}

test('a reservoir memory holds a uniform sample of the stream (chi-square over stream positions, 200 seeded runs)', () => {
  const N = 10000;
  const capacity = 100;
  const bins = inclusionByPosition((stream, seed) => {
    const m = createMemory({ capacity, pixels: 1, policy: 'reservoir', rng: createRng(deriveSeed(seed, 'reservoir-test')) });
    m.observe(stream);
    assert.equal(m.size, capacity);
    assert.equal(m.seen, N);
    const ids = remembered(m);
    assert.equal(new Set(ids).size, capacity, 'no example twice');
    ids.forEach((id, slot) => assert.equal(m.labels[slot], id % 10, 'label travels with its image'));
    return ids;
  }, N, 200);
  assert.equal(bins.reduce((a, b) => a + b, 0), 200 * capacity);
  const stat = chiSquare(bins);
  console.log(`reservoir: chi-square ${stat.toFixed(2)} (critical ${CHI2_9DF_P001}); inclusions per tenth of the stream ${bins}`);
  assert.ok(stat < CHI2_9DF_P001, `chi-square ${stat.toFixed(2)} >= ${CHI2_9DF_P001}; inclusions per tenth of the stream: ${bins}`);

  // The same test rejects a memory that favours recent examples (always replacing a random row).
  const biased = inclusionByPosition((stream, seed) => {
    const rng = createRng(seed);
    const kept: number[] = [];
    for (let i = 0; i < N; i++) {
      if (kept.length < capacity) kept.push(stream.images[i]);
      else if (rng() < 0.5) kept[Math.floor(rng() * capacity)] = stream.images[i];
    }
    return kept;
  }, N, 200);
  console.log(`a memory favouring recent examples: chi-square ${chiSquare(biased).toFixed(0)}`);
  assert.ok(chiSquare(biased) > 100 * CHI2_9DF_P001, `biased memory chi-square ${chiSquare(biased)}`);
});

test('a reservoir memory keeps every example while it has room, and streams rows in the given order', () => {
  const m = createMemory({ capacity: 10, pixels: 1, policy: 'reservoir', rng: createRng(1) });
  const stream = idStream(20);
  m.observe(stream, [7, 3, 15]);
  assert.deepEqual(remembered(m), [7, 3, 15]);
  assert.deepEqual([...m.labels.subarray(0, 3)], [7, 3, 5]);
  assert.equal(m.seen, 3);
  const s = m.sample(10);
  assert.deepEqual([...s.images].sort((a, b) => a - b), [3, 7, 15], 'a sample bigger than the memory is all of it, once');
  assert.equal(m.sample(2).labels.length, 2);
});

test('a class-balanced memory holds equal counts (within 1) of every class seen, never more than its capacity', () => {
  const capacity = 100;
  const rng = createRng(11);
  const m = createMemory({ capacity, pixels: 1, policy: 'class-balanced', rng: createRng(12) });
  // Class-incremental stream with imbalanced classes: {0: 600, 1: 150}, then {2: 1000, 3: 60, 4: 200}, then {5: 35, 6: 500}.
  const phases = [
    [600, 150, 0, 0, 0, 0, 0],
    [0, 0, 1000, 60, 200, 0, 0],
    [0, 0, 0, 0, 0, 35, 500],
  ];
  let nextId = 0;
  const classOfId = new Map<number, number>();
  phases.forEach((counts, p) => {
    const ids: number[] = [];
    counts.forEach((k, c) => {
      for (let i = 0; i < k; i++) {
        classOfId.set(nextId, c);
        ids.push(nextId++);
      }
    });
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    const images = Float32Array.from(ids);
    const labels = Int32Array.from(ids, (id) => classOfId.get(id)!);
    const tasks = new Int32Array(ids.length).fill(p);
    for (let k = 0; k < ids.length; k++) {
      m.observe({ images, labels, tasks }, [k]);
      assert.ok(m.size <= capacity);
    }
    const seenClasses = phases.slice(0, p + 1).reduce((s, row) => s + row.filter((k) => k > 0).length, 0);
    const byClass = m.countsByClass();
    assert.equal(byClass.size, seenClasses, `phase ${p}: every class seen has a place`);
    const perClass = [...byClass.values()];
    assert.ok(Math.max(...perClass) - Math.min(...perClass) <= 1, `phase ${p}: counts per class ${JSON.stringify([...byClass])}`);
    assert.equal(m.size, capacity);
    const ids2 = remembered(m);
    assert.equal(new Set(ids2).size, ids2.length, 'no example twice');
    ids2.forEach((id, slot) => assert.equal(m.labels[slot], classOfId.get(id), 'rows stay whole'));
  });

  // Balanced by task (A-GEM's memory): a short second task still gets half.
  const byTask = createMemory({ capacity: 50, pixels: 1, policy: 'class-balanced', balanceBy: 'task', rng: createRng(3) });
  byTask.observe(idStream(600, (i) => i % 10, () => 0));
  byTask.observe(idStream(30, (i) => i % 10, () => 1));
  assert.deepEqual([...byTask.countsByTask()].sort(), [[0, 25], [1, 25]]);
});

test('a class-balanced memory keeps a uniform sample within each class (chi-square over stream positions)', () => {
  const N = 10000;
  const bins = inclusionByPosition((stream, seed) => {
    const m = createMemory({ capacity: 100, pixels: 1, policy: 'class-balanced', rng: createRng(deriveSeed(seed, 'balanced-test')) });
    m.observe(stream);
    return remembered(m);
  }, N, 200);
  assert.ok(chiSquare(bins) < CHI2_9DF_P001, `chi-square ${chiSquare(bins).toFixed(2)}; inclusions per tenth of the stream: ${bins}`);
});

test('memory samples are distinct rows, with their logits', () => {
  const m = createMemory({ capacity: 8, pixels: 2, policy: 'reservoir', rng: createRng(5), logits: 3 });
  const images = Float32Array.from({ length: 16 }, (_, i) => Math.floor(i / 2));
  const logits = Float32Array.from({ length: 24 }, (_, i) => Math.floor(i / 3) * 10);
  m.observe({ images, labels: new Int32Array(8), tasks: new Int32Array(8) }, undefined, logits);
  assert.throws(() => m.observe({ images, labels: new Int32Array(8), tasks: new Int32Array(8) }), /logits/);
  const s = m.sample(5);
  assert.equal(s.labels.length, 5);
  const ids = Array.from({ length: 5 }, (_, i) => s.images[2 * i]);
  assert.equal(new Set(ids).size, 5);
  ids.forEach((id, i) => {
    assert.equal(s.images[2 * i + 1], id);
    assert.deepEqual([...s.logits!.subarray(3 * i, 3 * i + 3)], [id * 10, id * 10, id * 10]);
  });
});

// ---------------------------------------------------------------------------------------------
// Strategy fixtures: a tiny model on synthetic 4x4 images

function experimentFor(scenario: Scenario, over: Partial<NormalisedExperiment> = {}): NormalisedExperiment {
  return {
    name: 'memory strategies test',
    seed: 5,
    tasks: [
      { dataset: 'mnist', train: 600, test: 300 },
      { dataset: 'fashion-mnist', train: 600, test: 300 },
    ],
    scenario,
    model: { type: 'mlp', hidden: [8] },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 16, epochs: 1, evalEvery: 1000, evalSamples: 100 },
    strategy: { name: 'naive' },
    landscape: false,
    ...over,
  };
}

function syntheticTask(n: number, task: number, units: number[], seed: number): TrainSet {
  const rng = createRng(seed);
  return {
    images: Float32Array.from({ length: n * 16 }, () => rng() * 2 - 1),
    labels: Int32Array.from({ length: n }, (_, i) => units[i % units.length]),
    tasks: new Int32Array(n).fill(task),
    n,
    shape: [4, 4, 1],
  };
}

function paramsOf(def: StrategyDefinition, over: Record<string, number | string | boolean> = {}) {
  const out: Record<string, number | string | boolean> = {};
  for (const [k, h] of Object.entries(def.hyperparameters)) out[k] = h.default;
  return { ...out, ...over };
}

interface Fixture {
  tf: TF;
  env: StrategyEnv;
  model: ClassifierModel;
  head: HeadLayout;
  tasks: TrainSet[];
}

async function tinyFixture(scenario: Scenario, name: string): Promise<Fixture> {
  const { tf } = await loadBackend('wasm');
  const head = buildHead(scenario, [
    { classIds: [0, 1], domain: 'a' },
    { classIds: [2, 3], domain: 'a' },
  ]);
  const tasks = [syntheticTask(20, 0, head.units[0], 1), syntheticTask(20, 1, head.units[1], 2)];
  const experiment = experimentFor(scenario);
  const model = buildModel(tf, experiment.model, [4, 4, 1], head.outputs, 3);
  const env = createStrategyEnv({ tf, model, head, experiment, tasks, strategyName: name, log: () => {} });
  return { tf, env, model, head, tasks };
}

const stepContext = (phase: number, train: TrainSet, seenTasks: number[], step = 1): StepContext => ({ phase, tasks: [phase], train, seenTasks, step });
const identity = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const flatten = (ts: readonly tfjs.Tensor[]) => Float64Array.from(ts.flatMap((t) => Array.from(t.dataSync())));
const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

// ---------------------------------------------------------------------------------------------
// A-GEM

test('A-GEM projection: the applied gradient never points against the reference, and is untouched when it does not', async () => {
  const { tf } = await loadBackend('wasm');
  const shapes = [[7, 5], [5], [5, 3], [3]];
  const before = tf.memory().numTensors;
  let projectedTrials = 0;
  for (let trial = 0; trial < 300; trial++) {
    const seed = deriveSeed(trial, 'agem-projection');
    const scale = 10 ** (createRng(seed)() * 8 - 6); // gradients from 1e-6 to 1e2
    const g = shapes.map((s, k) => tf.tidy(() => tf.mul(tf.randomNormal(s, 0, 1, 'float32', seed + k), scale)));
    const r = shapes.map((s, k) => tf.randomNormal(s, 0, 1, 'float32', seed + 100 + k));
    const out = projectGradients(tf, g, r);
    const gf = flatten(g);
    const rf = flatten(r);
    const of = flatten(out.grads);
    const d = dot(gf, rf);
    const rr = dot(rf, rf);
    const tol = 1e-5 * Math.sqrt(dot(gf, gf) * rr);
    assert.ok(Math.abs(out.dot - d) <= tol, `dot ${out.dot} vs ${d}`);
    assert.ok(dot(of, rf) >= -tol, `trial ${trial}: applied . reference = ${dot(of, rf)}`);
    if (d >= 0) {
      assert.equal(out.projected, false);
      assert.equal(out.grads, g, 'the same tensors are applied');
      assert.deepEqual(of, gf);
    } else {
      projectedTrials++;
      assert.equal(out.projected, true);
      // g - (g.r / r.r) r, and nothing else: the change is along the reference only.
      of.forEach((v, i) => assert.ok(Math.abs(v - (gf[i] - (d / rr) * rf[i])) <= 1e-5 * (1 + Math.abs(gf[i])), `trial ${trial}, entry ${i}`));
      for (const t of out.grads) t.dispose();
    }
    for (const t of [...g, ...r]) t.dispose();
  }
  assert.ok(projectedTrials > 100 && projectedTrials < 200, `${projectedTrials} of 300 random pairs point against each other`);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
});

test('A-GEM adjustGradients: unchanged before any memory; afterwards projected against the memory gradient, with real tensors', async () => {
  const { tf, env, model, tasks } = await tinyFixture('class-il', 'agem');
  const strategy = agem.create(env, paramsOf(agem, { memorySize: 64, referenceBatch: 256 }));
  const randomGrads = (seed: number) => model.params.map((p, k) => tf.randomNormal(p.shape, 0, 0.1, 'float32', seed + k));
  const batch1 = makeBatch(tf, env.head, [0, 1], tasks[1], identity(20), 0, 20);

  const g0 = randomGrads(1);
  const first = strategy.adjustGradients!(g0, batch1, stepContext(0, tasks[0], [0]));
  assert.equal(first, g0, 'first phase: no memory, no projection');
  for (const t of g0) t.dispose();

  await strategy.afterPhase!({ phase: 0, tasks: [0], train: tasks[0], seenTasks: [0] });
  // The memory (64 slots) now holds all 20 examples of task 0; a reference batch of 256 is all of them.
  const memoryBatch = env.makeBatch(imageRange(tasks[0].images, 16, 0, tasks[0].n), tasks[0].labels, tasks[0].tasks, [0, 1]);
  const gRef = env.gradients(memoryBatch);
  env.disposeBatch(memoryBatch);
  const rf = flatten(gRef);
  const rr = dot(rf, rf);
  assert.ok(rr > 0);

  const before = tf.memory().numTensors;
  let kept = 0;
  let projected = 0;
  for (let trial = 0; trial < 40; trial++) {
    // Random gradients pushed towards or against the reference, so both cases occur.
    const noise = randomGrads(1000 + 10 * trial);
    const push = (trial % 2 ? 1 : -1) * 0.5;
    const g = noise.map((t, k) => tf.tidy(() => tf.add(t, tf.mul(gRef[k], push / Math.sqrt(rr)))));
    for (const t of noise) t.dispose();
    const gf = flatten(g);
    const d = dot(gf, rf);
    const out = strategy.adjustGradients!(g, batch1, stepContext(1, tasks[1], [0, 1], 2 + trial));
    const of = flatten(out);
    const tol = 1e-4 * Math.sqrt(dot(gf, gf) * rr);
    assert.ok(dot(of, rf) >= -tol, `trial ${trial}: applied . reference = ${dot(of, rf)} (before ${d})`);
    if (d >= tol) {
      kept++;
      assert.equal(out, g);
      assert.deepEqual(of, gf, 'bitwise unchanged');
    } else if (d <= -tol) {
      projected++;
      assert.notEqual(out, g);
      of.forEach((v, i) => assert.ok(Math.abs(v - (gf[i] - (d / rr) * rf[i])) <= 1e-4 * (1e-3 + Math.abs(gf[i])), `trial ${trial}, entry ${i}`));
    }
    if (out !== g) for (const t of out) t.dispose();
    for (const t of g) t.dispose();
  }
  assert.ok(kept >= 10 && projected >= 10, `kept ${kept}, projected ${projected}`);
  assert.equal(tf.memory().numTensors, before, 'adjustGradients leaks no tensor');
  for (const t of gRef) t.dispose();
  for (const t of [batch1.x, batch1.y, batch1.mask]) t?.dispose();
  model.dispose();
});

// ---------------------------------------------------------------------------------------------
// DER++

/** One training-like call of penalty (inside a tidy, as the loop does) and afterStep. */
function derStep(f: Fixture, strategy: ReturnType<StrategyDefinition['create']>, ctx: StepContext, store = true): number | null {
  const { tf, env } = f;
  const batch = makeBatch(tf, env.head, ctx.seenTasks, ctx.train, identity(ctx.train.n), 0, ctx.train.n);
  let none = false;
  const value = tf.tidy(() => {
    const p = strategy.penalty!(env.logits(batch), batch, ctx);
    none = p === null;
    return p ?? tf.scalar(0);
  });
  const out = none ? null : value.dataSync()[0];
  value.dispose();
  if (store) strategy.afterStep!([] as Gradients, batch, ctx);
  for (const t of [batch.x, batch.y, batch.mask]) t?.dispose();
  return out;
}

test('DER: the logit term is zero while the logits equal the stored ones, and the MSE over the units allowed when stored otherwise', async () => {
  const f = await tinyFixture('class-il', 'der');
  const { tf, model, tasks } = f;
  const strategy = der.create(f.env, paramsOf(der, { alpha: 1, beta: 0, memorySize: 64, replayBatch: 64 }));
  const ctx0 = stepContext(0, tasks[0], [0]);
  assert.equal(derStep(f, strategy, ctx0), null, 'empty memory: no penalty');
  // Same weights: the stored logits (units 0 and 1, the only ones allowed in phase 0) are the model's.
  const before = tf.memory().numTensors;
  const zero = derStep(f, strategy, stepContext(1, tasks[1], [0, 1], 2), false);
  assert.equal(tf.memory().numTensors, before, 'penalty leaks no tensor');
  assert.ok(zero !== null && Math.abs(zero) < 1e-10, `penalty ${zero}`);

  // Shift unit 2 (masked when task 0 was stored): still zero. Shift every unit by 0.1: MSE = 0.01.
  const bias = model.params[model.params.length - 1].variable;
  const original = bias.dataSync().slice();
  bias.assign(tf.tensor1d(original.map((v, u) => (u === 2 ? v + 5 : v))));
  const masked = derStep(f, strategy, stepContext(1, tasks[1], [0, 1], 3), false);
  assert.ok(masked !== null && Math.abs(masked) < 1e-10, `a unit masked at storage time counts: ${masked}`);
  bias.assign(tf.tensor1d(original.map((v) => v + 0.1)));
  const shifted = derStep(f, strategy, stepContext(1, tasks[1], [0, 1], 4), false);
  assert.ok(shifted !== null && Math.abs(shifted - 0.01) < 1e-5, `MSE after a 0.1 shift ${shifted}`);
  const strong = der.create(f.env, paramsOf(der, { alpha: 3, beta: 0, memorySize: 64, replayBatch: 64 }));
  bias.assign(tf.tensor1d(original));
  derStep(f, strong, ctx0);
  bias.assign(tf.tensor1d(original.map((v) => v + 0.1)));
  const weighted = derStep(f, strong, stepContext(1, tasks[1], [0, 1], 5), false);
  assert.ok(weighted !== null && Math.abs(weighted - 0.03) < 1e-5, `alpha scales the term: ${weighted}`);
  model.dispose();
});

test("DER: the label term is the cross-entropy of the stored labels under the current masks, as computed by hand", async () => {
  const f = await tinyFixture('class-il', 'der');
  const { tf, model, tasks } = f;
  const strategy = der.create(f.env, paramsOf(der, { alpha: 0, beta: 0.7, memorySize: 64, replayBatch: 64 }));
  derStep(f, strategy, stepContext(0, tasks[0], [0]));
  // Move the weights away from those the logits were stored with: the label term does not care.
  const kernel = model.params[0].variable;
  kernel.assign(tf.tidy(() => tf.add(kernel, tf.randomNormal(kernel.shape, 0, 0.3, 'float32', 4))));
  const value = derStep(f, strategy, stepContext(1, tasks[1], [0, 1], 2), false)!;
  // By hand: class-IL after tasks 0 and 1 allows units 0..3; CE averaged over the remembered examples (all of task 0).
  const logits = tf.tidy(() => model.forward(tf.tensor4d(imageRange(tasks[0].images, 16, 0, 20), [20, 4, 4, 1])));
  const z = logits.dataSync();
  logits.dispose();
  let ce = 0;
  for (let i = 0; i < 20; i++) {
    const row = Array.from(z.subarray(i * 4, i * 4 + 4));
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    ce += logSum - row[tasks[0].labels[i]];
  }
  const expected = (0.7 * ce) / 20;
  assert.ok(Math.abs(value - expected) < 1e-5 * (1 + expected), `penalty ${value}, by hand ${expected}`);
  model.dispose();
});

// ---------------------------------------------------------------------------------------------
// Replay: the combined batch

test('replay adds replayed examples after the batch, with their own tasks, masks and index -1', async () => {
  const f = await tinyFixture('task-il', 'replay');
  const { tf, env, tasks } = f;
  const strategy = replay.create(env, paramsOf(replay, { memorySize: 10, replayBatch: 6 }));
  const ctx0 = stepContext(0, tasks[0], [0]);
  strategy.beforePhase!(ctx0);
  const b0 = makeBatch(tf, env.head, [0], tasks[0], identity(20), 0, 8);
  assert.equal(strategy.augmentBatch!(b0, ctx0), b0, 'nothing remembered yet');
  strategy.afterStep!([], b0, ctx0);
  strategy.afterStep!([], b0, ctx0); // the same examples again: they enter the memory once
  const ctx1 = stepContext(1, tasks[1], [0, 1], 2);
  strategy.beforePhase!(ctx1);
  const b1 = makeBatch(tf, env.head, [0, 1], tasks[1], identity(20), 4, 5);
  const before = tf.memory().numTensors;
  const used = strategy.augmentBatch!(b1, ctx1);
  assert.equal(tf.memory().numTensors, before + 3, 'only the combined x, y, mask are new');
  assert.deepEqual([...used.indices], [4, 5, 6, 7, 8, -1, -1, -1, -1, -1, -1]);
  assert.deepEqual([...used.tasks], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(used.x.shape, [11, 4, 4, 1]);
  // Task-IL: each row allows its own task's units.
  const mask = used.mask!.arraySync();
  mask.forEach((row, i) => assert.deepEqual(row.map((v) => v === 0), i < 5 ? [false, false, true, true] : [true, true, false, false]));
  // The replayed rows are examples of task 0 with their targets, and distinct (8 were remembered).
  const x = used.x.dataSync();
  const y = used.y.dataSync();
  const seen = new Set<number>();
  for (let r = 5; r < 11; r++) {
    const row = x.subarray(r * 16, r * 16 + 16);
    const match = [...Array(8).keys()].find((i) => imageRange(tasks[0].images, 16, i, i + 1).every((v, p) => v === row[p]));
    assert.ok(match !== undefined, `replayed row ${r} is one of the 8 examples seen`);
    assert.equal(y[r], tasks[0].labels[match]);
    seen.add(match);
  }
  assert.equal(seen.size, 6);
  for (const b of [b0, b1, used]) for (const t of [b.x, b.y, b.mask]) t?.dispose();
  f.model.dispose();
});

test('concatBatches keeps a domain-IL batch unmasked', async () => {
  const { tf } = await loadBackend('wasm');
  const a = { x: tf.zeros([2, 4, 4, 1]) as tfjs.Tensor4D, y: tf.tensor1d([1, 2], 'int32'), tasks: Int32Array.of(1, 1), mask: null, indices: Int32Array.of(3, 4) };
  const b = { x: tf.ones([1, 4, 4, 1]) as tfjs.Tensor4D, y: tf.tensor1d([0], 'int32'), tasks: Int32Array.of(0), mask: null, indices: Int32Array.of(-1) };
  const c = concatBatches(tf, a, b);
  assert.equal(c.mask, null);
  assert.deepEqual([...c.y.dataSync()], [1, 2, 0]);
  for (const t of [a.x, a.y, b.x, b.y, c.x, c.y]) t.dispose();
});

// ---------------------------------------------------------------------------------------------
// Integration: MNIST -> Fashion-MNIST, real data

interface TestSet {
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

/** A task's seeded stratified train/test subsets, normalised, targets mapped to the head's units. */
async function loadTask(dataset: 'mnist' | 'fashion-mnist', task: number, units: number[], train: number, test: number, seed: number): Promise<{ train: TrainSet; test: TestSet }> {
  const resolved = await resolveDataset({ dataset, train, test }, { allowDownload: false });
  const data = await loadDataset(resolved, dataset);
  const pixels = data.train.height * data.train.width;
  const pick = (split: typeof data.train, n: number, stream: string) => {
    const idx = stratifiedSubset(split.labels, n, deriveSeed(seed, `${stream}/${task}`));
    const images = new Float32Array(idx.length * pixels);
    idx.forEach((src, k) => {
      for (let p = 0; p < pixels; p++) images[k * pixels + p] = (split.images[src * pixels + p] / 255 - data.mean) / data.std;
    });
    return { images, labels: Int32Array.from(idx, (i) => units[split.labels[i]]), n: idx.length };
  };
  const tr = pick(data.train, train, 'train');
  return { train: { ...tr, tasks: new Int32Array(tr.n).fill(task), shape: [data.train.height, data.train.width, 1] }, test: pick(data.test, test, 'test') };
}

function accuracy(tf: TF, model: ClassifierModel, set: TestSet): number {
  const correct = tf.tidy(() => {
    const logits = model.forward(tf.tensor4d(set.images, [set.n, 28, 28, 1]));
    return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.tensor1d(set.labels, 'int32')), 'float32'));
  });
  const c = correct.dataSync()[0];
  correct.dispose();
  return c / set.n;
}

test('MNIST -> Fashion-MNIST (domain-IL, real subsets): replay and DER keep MNIST far better than fine-tuning; no strategy leaks tensors', async () => {
  const { tf } = await loadBackend('wasm');
  const seed = 5;
  const experiment = experimentFor('domain-il', { seed, model: { type: 'mlp', hidden: [64] }, training: { optimizer: 'adam', learningRate: 0.001, batchSize: 32, epochs: 3, evalEvery: 1000, evalSamples: 100 } });
  const head = buildHead('domain-il', [
    { classIds: [...Array(10).keys()], domain: 'mnist' },
    { classIds: [...Array(10).keys()], domain: 'fashion-mnist' },
  ]);
  const loaded = await Promise.all([loadTask('mnist', 0, head.units[0], 600, 300, seed), loadTask('fashion-mnist', 1, head.units[1], 600, 300, seed)]);
  const trainSets = loaded.map((l) => l.train);

  const run = async (def: StrategyDefinition, over: Record<string, number | string> = {}) => {
    const model = buildModel(tf, experiment.model, [28, 28, 1], head.outputs, seed);
    const env = createStrategyEnv({ tf, model, head, experiment, tasks: trainSets, strategyName: def.name, log: () => {} });
    const strategy = def.create(env, paramsOf(def, over));
    const optimizer = createOptimizer(tf, experiment.training);
    const tensors: number[] = [];
    const rows: number[][] = [];
    await runPhases({
      tf,
      env,
      strategy,
      optimizer,
      phases: planPhases('sequential', 2),
      training: experiment.training,
      seed,
      observers: [{ stepDone: () => void tensors.push(tf.memory().numTensors), phaseEnded: () => void rows.push(loaded.map((l) => accuracy(tf, model, l.test))) }],
    });
    strategy.dispose?.();
    optimizer.dispose();
    model.dispose();
    return { rows, tensors };
  };

  const results = {
    naive: await run(naive),
    replay: await run(replay),
    'replay class-balanced': await run(replay, { selection: 'class-balanced' }),
    der: await run(der),
    agem: await run(agem),
  };
  const table = Object.entries(results).map(([k, r]) => `${k}: R = ${JSON.stringify(r.rows.map((row) => row.map((a) => +a.toFixed(3))))}`);
  const R = (k: keyof typeof results) => results[k].rows;
  for (const [k, r] of Object.entries(results)) {
    // Adam's slots appear at the first step; from then on every step ends with as many tensors as the last.
    assert.ok(r.tensors.slice(1).every((n) => n === r.tensors[1]), `${k} leaks: tensors after each step ${r.tensors.join(',')}`);
    assert.ok(r.rows[0][0] > 0.75, `${k} learns MNIST\n${table.join('\n')}`);
    assert.ok(r.rows[1][1] > 0.6, `${k} learns Fashion-MNIST\n${table.join('\n')}`);
  }
  assert.ok(R('naive')[1][0] < R('naive')[0][0] - 0.15, `fine-tuning forgets MNIST\n${table.join('\n')}`);
  for (const k of ['replay', 'replay class-balanced', 'der'] as const) {
    assert.ok(R(k)[1][0] > R('naive')[1][0] + 0.15, `${k} keeps MNIST better than naive\n${table.join('\n')}`);
  }
  assert.ok(R('agem')[1][0] > R('naive')[1][0], `A-GEM keeps MNIST better than naive\n${table.join('\n')}`);
  console.log(table.join('\n'));
});
