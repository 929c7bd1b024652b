// The shared training loop: phases, batches, the step, observers (real tfjs on wasm, small real data).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfjs from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { buildModel } from '../../src/engine/models/build';
import { loadTaskData, normalisedImages } from '../../src/engine/data/scenarios/taskData';
import { buildHead, type HeadLayout } from '../../src/engine/train/head';
import { concatTrainSets, createOptimizer, createStrategyEnv, crossEntropy, epochOrder, makeBatch, phaseSteps, planPhases, runPhases, totalSteps, type StepInfo } from '../../src/engine/train/loop';
import type { Strategy, TrainSet } from '../../src/engine/strategies/types';
import type { NormalisedExperiment, Scenario, TrainingSpec } from '../../src/protocol/experiment';

const training: TrainingSpec = { optimizer: 'adam', learningRate: 0.002, batchSize: 32, epochs: 1, evalEvery: 1000, evalSamples: 100 };

async function splitTasks(scenario: Scenario, classes: number[][], train = 160) {
  const raw = await Promise.all(classes.map((c, i) => loadTaskData({ dataset: 'mnist', classes: c, train, test: 50 }, i, 1, { allowDownload: false })));
  const head = buildHead(scenario, raw);
  const sets: TrainSet[] = raw.map((d, i) => {
    const unit = new Map(d.classIds.map((c, k) => [c, head.units[i][k]]));
    const labels = Int32Array.from(d.train.labels, (l) => unit.get(l)!);
    return { images: normalisedImages(d.train.images, null, 784, d.mean, d.std), labels, tasks: new Int32Array(labels.length).fill(i), n: labels.length, shape: [28, 28, 1] };
  });
  return { head, sets };
}

function experiment(scenario: Scenario): NormalisedExperiment {
  return { name: 'loop', seed: 1, tasks: [], scenario, model: { type: 'mlp', hidden: [16] }, training, strategy: { name: 'naive' }, landscape: false };
}

async function setup(scenario: Scenario, classes: number[][], train?: number) {
  const { tf } = await loadBackend('wasm');
  const { head, sets } = await splitTasks(scenario, classes, train);
  const model = buildModel(tf, { type: 'mlp', hidden: [16] }, [28, 28, 1], head.outputs, 1);
  const env = createStrategyEnv({ tf, model, head, experiment: experiment(scenario), tasks: sets, strategyName: 'test', log: () => {} });
  return { tf, head, sets, model, env };
}

const weights = (model: { params: { variable: tfjs.Variable }[] }) => model.params.map((p) => Array.from(p.variable.dataSync()));

test('phase plans: sequential, joint, cumulative; steps per phase from epochs or iterations', () => {
  assert.deepEqual(planPhases('sequential', 3), [[0], [1], [2]]);
  assert.deepEqual(planPhases('joint', 3), [[0, 1, 2]]);
  assert.deepEqual(planPhases('cumulative', 3), [[0], [0, 1], [0, 1, 2]]);
  assert.equal(phaseSteps({ ...training, epochs: 2 }, 100, 1), 8);
  assert.equal(phaseSteps({ ...training, iterations: 50 }, 100, 1), 50);
  assert.equal(phaseSteps({ ...training, iterations: 50 }, 300, 3), 150, 'joint gets the budget of the whole sequence');
  const sets = [10, 20, 30].map((n) => ({ n }) as TrainSet);
  assert.equal(totalSteps(planPhases('cumulative', 3), sets, { ...training, batchSize: 10 }), 1 + 3 + 6);
  assert.equal(totalSteps(planPhases('cumulative', 3), sets, { ...training, iterations: 7 }), 21);
});

test('joint training on two tasks equals training once on their union (checked against optimizer.minimize)', async () => {
  const { tf, head, sets, model, env } = await setup('domain-il', [[0, 1], [2, 3]]);
  await runPhases({ tf, env, strategy: {}, optimizer: createOptimizer(tf, training), phases: planPhases('joint', 2), training, seed: 1, observers: [] });
  // Reference: a plain loop over the union with tfjs's own minimize.
  const ref = buildModel(tf, { type: 'mlp', hidden: [16] }, [28, 28, 1], head.outputs, 1);
  const union = concatTrainSets(sets);
  const opt = createOptimizer(tf, training);
  const order = epochOrder(union.n, 1, 0, 0);
  for (let start = 0; start < union.n; start += training.batchSize) {
    const b = makeBatch(tf, head, [0, 1], union, order, start, Math.min(training.batchSize, union.n - start));
    opt.minimize(() => crossEntropy(tf, ref.forward(b.x), b.y, ref.outputs), false, ref.params.map((p) => p.variable));
    b.x.dispose();
    b.y.dispose();
  }
  assert.deepEqual(weights(model), weights(ref));
  model.dispose();
  ref.dispose();
});

test('observers see every step and phase; the tensor count stays constant across steps', async () => {
  const { tf, env, model } = await setup('task-il', [[0, 1], [2, 3]]);
  const steps: StepInfo[] = [];
  const counts: number[] = [];
  const events: string[] = [];
  await runPhases({
    tf, env, strategy: {}, optimizer: createOptimizer(tf, training), phases: planPhases('sequential', 2), training: { ...training, iterations: 12 }, seed: 1,
    observers: [{
      phaseStarted: (p, s) => void events.push(`start ${p}@${s}`),
      stepDone: (info) => { steps.push(info); counts.push(tf.memory().numTensors); },
      phaseEnded: (p, s) => void events.push(`end ${p}@${s}`),
    }],
  });
  assert.deepEqual(events, ['start 0@0', 'end 0@12', 'start 1@12', 'end 1@24']);
  assert.deepEqual(steps.map((s) => s.step), Array.from({ length: 24 }, (_, i) => i + 1));
  assert.deepEqual(steps.filter((s) => s.lastOfPhase).map((s) => s.step), [12, 24]);
  // The optimizer's slots appear with the first step; after that nothing accumulates.
  assert.ok(counts.slice(2).every((c) => c === counts[2]), `tensors per step ${counts.join(',')}`);
  model.dispose();
});

test('task-IL masks: units of a task not being trained get exactly zero gradient', async () => {
  const { tf, env, model, sets, head } = await setup('task-il', [[0, 1], [2, 3]]);
  const b = makeBatch(tf, head as HeadLayout, [0], sets[0], epochOrder(sets[0].n, 1, 0, 0), 0, 32);
  const grads = env.gradients(b);
  const outBias = model.params.findIndex((p) => p.name === 'dense2/bias');
  const g = Array.from(grads[outBias].dataSync());
  assert.ok(g[0] !== 0 && g[1] !== 0, `task 0's units learn: ${g}`);
  assert.deepEqual(g.slice(2), [0, 0], 'task 1\'s units are untouched');
  grads.forEach((t) => t.dispose());
  b.x.dispose(); b.y.dispose(); b.mask?.dispose();
  model.dispose();
});

test('hooks run in order: beforePhase, augmentBatch, penalty, adjustGradients, afterStep, afterPhase', async () => {
  const { tf, env, model } = await setup('domain-il', [[0, 1]], 64);
  const calls: string[] = [];
  let zeroed = 0;
  const strategy: Strategy = {
    beforePhase: (ctx) => void calls.push(`before ${ctx.phase} [${ctx.seenTasks}]`),
    augmentBatch: (b) => { calls.push('augment'); return b; },
    penalty: (logits) => { calls.push('penalty'); return tf.mul(tf.sum(logits), 0) as tfjs.Scalar; },
    adjustGradients: (grads) => { calls.push('adjust'); zeroed++; return grads.map((g) => tf.zerosLike(g)); },
    afterStep: () => void calls.push('after'),
    afterPhase: () => void calls.push('afterPhase'),
  };
  const before = weights(model);
  await runPhases({ tf, env, strategy, optimizer: createOptimizer(tf, { ...training, optimizer: 'sgd' }), phases: [[0]], training, seed: 1, observers: [] });
  assert.deepEqual(calls, ['before 0 [0]', 'augment', 'penalty', 'adjust', 'after', 'augment', 'penalty', 'adjust', 'after', 'afterPhase']);
  assert.equal(zeroed, 2);
  assert.deepEqual(weights(model), before, 'zeroed gradients leave SGD\'s weights where they were: the adjusted gradients are the applied ones');
  model.dispose();
});
