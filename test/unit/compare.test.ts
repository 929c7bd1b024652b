// The comparison of runs (engine/compare): groups of seeds as mean ± SEM against hand-computed
// values on synthetic results cloned from a real one, then real tiny results (test/fixtures/compare,
// made by its generate.ts with the engine) read from disk, the CSV and compare.html.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { buildComparison, loadComparison, spansDecade, type ComparisonInput } from '../../src/engine/compare/build';
import { comparisonCsv, csvField } from '../../src/engine/compare/csv';
import { renderCompareHtml, writeCompareReport } from '../../src/engine/compare/report';
import { upgradeResult, type RunResult } from '../../src/protocol/result';
import type { StrategySpec } from '../../src/protocol/experiment';
import type { SweepValue } from '../../src/protocol/sweep';

const FIXTURES = join(__dirname, '..', 'fixtures', 'compare');
const SAMPLE = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'sample-result.json'), 'utf8')) as RunResult;
const close = (a: number | null, b: number, what = '') => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
/** sd of [0.9, 0.8, 0.7] is 0.1; SEM = 0.1 / sqrt(3). */
const SEM3 = 0.1 / Math.sqrt(3);

interface Synthetic {
  seed?: number;
  strategy?: StrategySpec;
  status?: RunResult['status'];
  R?: number[][];
  acc?: number;
  curves?: { step: number; accuracy: number[] }[];
  learningRate?: number;
  params?: Record<string, SweepValue>;
}

/** A result cloned from the sample (a real run's file) with the numbers under test replaced. */
function run(o: Synthetic, k = 0): ComparisonInput {
  const r = upgradeResult(structuredClone(SAMPLE));
  r.experiment.seed = o.seed ?? 0;
  r.experiment.strategy = o.strategy ?? { name: 'naive' };
  if (o.learningRate !== undefined) r.experiment.training.learningRate = o.learningRate;
  r.status = o.status ?? 'completed';
  if (r.status === 'failed') r.error = { phase: 'train', message: 'loss became NaN' };
  if (o.R) r.accuracyMatrix = o.R;
  if (o.acc !== undefined) r.metrics.acc = o.acc;
  if (o.curves) r.curves = o.curves.map((p) => ({ ...p, trainingTask: 0, epoch: 1, loss: p.accuracy.map(() => 1) }));
  const name = `${o.strategy?.name ?? 'naive'}-${Object.values(o.params ?? {}).join('-')}-seed-${o.seed ?? 0}-${k}`;
  return { resultFile: `/results/sweep/runs/${name}/result.json`, result: r, ...(o.params ? { params: o.params } : {}) };
}

test('a group of three seeds: mean and SEM of metrics and of R element-wise against hand-computed values', () => {
  const c = buildComparison([
    run({ seed: 0, acc: 0.9, R: [[0.95, 0.1], [0.2, 0.9]] }),
    run({ seed: 1, acc: 0.8, R: [[0.95, 0.1], [0.3, 0.8]] }),
    run({ seed: 2, acc: 0.7, R: [[0.95, 0.1], [0.4, 0.7]] }),
  ]);
  assert.equal(c.groups.length, 1, 'runs that differ only in their seed form one group');
  const g = c.groups[0];
  assert.deepEqual(g.members, [0, 1, 2]);
  assert.deepEqual(g.included, [0, 1, 2]);
  close(g.metrics.acc.mean, 0.8, 'mean');
  close(g.metrics.acc.sem, SEM3, 'sem');
  close(g.metrics.acc.sem, 0.0577350269189626, 'sem');
  assert.equal(g.metrics.acc.n, 3);
  assert.equal(g.metrics.acc.missing, 0);
  // R cell by cell: [1][0] is 0.2/0.3/0.4 (mean 0.3, SEM 0.1/sqrt 3), [1][1] 0.9/0.8/0.7, [0][0] constant (SEM 0).
  close(g.accuracyMatrix[1][0].mean, 0.3, 'R[1][0]');
  close(g.accuracyMatrix[1][0].sem, SEM3, 'R[1][0] sem');
  close(g.accuracyMatrix[1][1].mean, 0.8, 'R[1][1]');
  close(g.accuracyMatrix[0][0].mean, 0.95, 'R[0][0]');
  close(g.accuracyMatrix[0][0].sem, 0, 'R[0][0] sem');
  assert.equal(g.accuracyMatrix.length, 2);
  assert.equal(g.accuracyMatrix[0].length, 2);
  assert.equal(c.title, '3 runs');
  assert.deepEqual(c.axes, []);
  assert.deepEqual(c.sweepSeries, []);
  assert.deepEqual(c.warnings, []);
  assert.deepEqual(c.runs.map((r) => r.label), ['Naive · seed 0', 'Naive · seed 1', 'Naive · seed 2']);
});

test('one seed: a mean without an error bar', () => {
  const c = buildComparison([run({ seed: 4, acc: 0.5735 })]);
  const g = c.groups[0];
  assert.deepEqual(g.metrics.acc, { mean: 0.5735, sem: null, n: 1, missing: 0 });
  assert.equal(g.accuracyMatrix[0][0].sem, null);
  assert.equal(c.title, '1 run');
  assert.equal(c.runs[0].id, 'naive--seed-4-0', 'one run: its folder name');
});

test('a failed seed and a cancelled one are excluded with their reason and counted as missing, not averaged in as zero', () => {
  const c = buildComparison([
    run({ seed: 0, acc: 0.9, R: [[0.9, 0.1], [0.5, 0.9]] }),
    run({ seed: 1, acc: 0, status: 'failed', R: [[0, 0]] }),
    run({ seed: 2, acc: 0.7, R: [[0.9, 0.1], [0.3, 0.7]] }),
    run({ seed: 3, acc: 0.1, status: 'cancelled', R: [[0.1, 0.1]] }),
  ]);
  const g = c.groups[0];
  assert.deepEqual(g.members, [0, 1, 2, 3]);
  assert.deepEqual(g.included, [0, 2]);
  close(g.metrics.acc.mean, 0.8, 'mean of 0.9 and 0.7, the failed 0 left out');
  close(g.metrics.acc.sem, 0.1, 'sd of {0.9, 0.7} is 0.1414, / sqrt 2 = 0.1');
  assert.equal(g.metrics.acc.n, 2);
  assert.equal(g.metrics.acc.missing, 2);
  close(g.accuracyMatrix[0][0].mean, 0.9, 'R[0][0] without the failed row 0');
  assert.equal(g.accuracyMatrix[1][0].n, 2);
  assert.equal(g.accuracyMatrix[1][0].missing, 2);
  assert.match(c.runs[1].excluded!, /failed \(train\): loss became NaN/);
  assert.equal(c.runs[3].excluded, 'cancelled');
  assert.equal(c.runs[0].excluded, undefined);
  assert.equal(c.runs[1].status, 'failed');
  assert.ok(g.curves.every((p) => p.accuracy.every((m) => m.n === 2 && m.missing === 2)), 'curves from the completed seeds only');
});

test('grouping: runs differing only in their seed; labels say what differs between groups', () => {
  const c = buildComparison([
    run({ seed: 0, strategy: { name: 'naive' } }),
    run({ seed: 0, strategy: { name: 'ewc', lambda: 100, fisherSamples: 200 } }),
    run({ seed: 1, strategy: { name: 'naive' } }),
    run({ seed: 1, strategy: { name: 'ewc', lambda: 100, fisherSamples: 200 } }),
    run({ seed: 0, strategy: { name: 'ewc', lambda: 1000, fisherSamples: 200 } }),
    run({ seed: 0, strategy: { name: 'replay', memorySize: 200, selection: 'reservoir' } }),
    run({ seed: 0, strategy: { name: 'naive' }, learningRate: 0.01 }),
  ]);
  assert.deepEqual(
    c.groups.map((g) => [g.label, g.members]),
    [
      ['Naive', [0, 2]],
      ['EWC λ=100', [1, 3]],
      ['EWC λ=1000', [4]],
      ['Replay', [5]],
      ['Naive lr=0.01', [6]],
    ],
  );
  assert.equal(c.runs[3].label, 'EWC λ=100 · seed 1');
  assert.equal(c.runs[3].group, 1);
  assert.deepEqual(c.groups[1].params, { 'strategy.name': 'ewc', 'strategy.lambda': 100 });
  assert.deepEqual(c.groups[4].params, { 'strategy.name': 'naive', 'training.learningRate': 0.01 });
  // Alone, a strategy's title keeps its symbol hyperparameters.
  assert.deepEqual(buildComparison([run({ strategy: { name: 'ewc', lambda: 5000, fisherSamples: 200 } })]).groups[0].label, 'EWC λ=5000');
  // Every task's training subset alike: said once.
  const sized = [300, 1000].map((train) => {
    const i = run({});
    i.result.experiment.tasks = i.result.experiment.tasks.map((t) => ({ ...t, train, test: 200 }));
    return i;
  });
  assert.deepEqual(buildComparison(sized).groups.map((g) => g.label), ['Naive train=300', 'Naive train=1000']);
  assert.deepEqual(buildComparison(sized).groups[1].params, { 'strategy.name': 'naive', 'tasks.train': 1000 });
  // Permuted-MNIST: the permutations follow the seed, yet seeds of one benchmark are one group.
  const permuted = [0, 1].map((seed) => {
    const i = run({ seed });
    i.result.experiment.benchmark = { name: 'permuted-mnist', scenario: 'domain-il', tasks: 2 };
    i.result.experiment.tasks = [{ dataset: 'mnist' }, { dataset: 'mnist', permutation: 1000 + seed }];
    return i;
  });
  assert.equal(buildComparison(permuted).groups.length, 1);
  assert.deepEqual(buildComparison(permuted).warnings, []);
});

test('curves: mean ± SEM on the members\' common steps; different steps are intersected with a warning', () => {
  const c = buildComparison([
    run({ seed: 0, curves: [{ step: 0, accuracy: [0.1, 0.1] }, { step: 10, accuracy: [0.5, 0.2] }, { step: 20, accuracy: [0.9, 0.3] }] }),
    run({ seed: 1, curves: [{ step: 0, accuracy: [0.1, 0.1] }, { step: 10, accuracy: [0.7, 0.2] }, { step: 15, accuracy: [0.8, 0.2] }, { step: 20, accuracy: [0.7, 0.5] }] }),
  ]);
  const g = c.groups[0];
  assert.deepEqual(g.curves.map((p) => p.step), [0, 10, 20]);
  close(g.curves[1].accuracy[0].mean, 0.6, 'step 10 task 0');
  close(g.curves[1].accuracy[0].sem, 0.1, 'sd of {0.5, 0.7} / sqrt 2');
  close(g.curves[2].accuracy[1].mean, 0.4, 'step 20 task 1');
  assert.equal(c.runs[1].curves.length, 4, 'each run keeps its own curve');
  assert.equal(c.warnings.length, 1);
  assert.match(c.warnings[0], /different steps.*3 step\(s\) they have in common/);
  assert.deepEqual(buildComparison([run({ seed: 0 }), run({ seed: 1 })]).warnings, [], 'one schedule: no warning');
});

test('a sweep: each metric against each swept path, one series per value of the other axes, log where values span a decade', () => {
  const lambdas = [1, 10, 100];
  const rates = [0.001, 0.002];
  const inputs: ComparisonInput[] = [];
  for (const lambda of lambdas)
    for (const learningRate of rates)
      for (const seed of [0, 1]) {
        // acc = lambda-dependent base + a seed offset: mean known, SEM 0.01 (sd of {x, x + 0.02} / sqrt 2).
        const acc = 0.5 + Math.log10(lambda) / 10 + (learningRate === 0.002 ? 0.05 : 0) + seed * 0.02;
        inputs.push(run({ seed, acc, learningRate, strategy: { name: 'ewc', lambda, fisherSamples: 200 }, params: { 'strategy.lambda': lambda, 'training.learningRate': learningRate, seed } }));
      }
  // One seed of (100, 0.002) failed: listed, left out of its point.
  inputs[inputs.length - 1].result.status = 'failed';
  const axes = [
    { path: 'strategy.lambda', values: lambdas },
    { path: 'training.learningRate', values: rates },
    { path: 'seed', values: [0, 1] },
  ];
  const c = buildComparison(inputs, axes, 'lambda × lr');
  assert.equal(c.title, 'lambda × lr');
  assert.deepEqual(c.axes.map((a) => a.path), ['strategy.lambda', 'training.learningRate'], 'the seed is not an axis');
  assert.equal(c.groups.length, 6);
  assert.equal(c.groups[0].label, 'EWC λ=1 lr=0.001');
  const accLambda = c.sweepSeries.find((s) => s.path === 'strategy.lambda' && s.metric === 'acc')!;
  assert.equal(accLambda.log, true, '1..100 spans two decades');
  assert.deepEqual(accLambda.series.map((s) => s.label), ['lr=0.001', 'lr=0.002']);
  assert.deepEqual(accLambda.series[0].points.map((p) => p.x), [1, 10, 100], 'x in sweep order');
  close(accLambda.series[0].points[1].value.mean, 0.61, 'lambda 10, lr 0.001: mean of 0.60 and 0.62');
  close(accLambda.series[0].points[1].value.sem, 0.01, 'sem');
  assert.equal(accLambda.series[1].points[2].value.n, 1, 'the failed seed is left out');
  assert.equal(accLambda.series[1].points[2].value.missing, 1);
  assert.equal(accLambda.series[1].points[2].value.sem, null);
  const accRate = c.sweepSeries.find((s) => s.path === 'training.learningRate' && s.metric === 'acc')!;
  assert.equal(accRate.log, false, '0.001..0.002 is not a decade');
  assert.deepEqual(accRate.series.map((s) => s.label), ['λ=1', 'λ=10', 'λ=100']);
  for (const metric of ['acc', 'bwt', 'forgetting'] as const) assert.equal(c.sweepSeries.filter((s) => s.metric === metric).length, 2, metric);
  assert.equal(spansDecade(['naive', 'ewc']), false);
  assert.equal(spansDecade([0, 10, 100]), false, 'zero cannot sit on a log axis');
  assert.equal(spansDecade([5, 50]), true);
});

test('a sweep over whole strategies (naive vs EWC vs replay) × seeds: one group each, readable labels, a categorical axis', () => {
  const strategies: StrategySpec[] = [{ name: 'naive' }, { name: 'ewc', lambda: 1000, fisherSamples: 200 }, { name: 'replay', memorySize: 200, selection: 'reservoir' }];
  const inputs = strategies.flatMap((strategy, k) => [0, 1, 2].map((seed) => run({ seed, strategy, acc: 0.5 + k / 10 + seed / 100, params: { strategy: strategy as unknown as SweepValue, seed } })));
  const c = buildComparison(inputs, [
    { path: 'strategy', values: strategies as unknown as SweepValue[] },
    { path: 'seed', values: [0, 1, 2] },
  ]);
  assert.deepEqual(c.groups.map((g) => g.label), ['Naive', 'EWC λ=1000', 'Replay']);
  assert.deepEqual(c.groups.map((g) => g.included.length), [3, 3, 3]);
  close(c.groups[1].metrics.acc.mean, 0.61, 'EWC: mean of 0.60, 0.61, 0.62');
  close(c.groups[1].metrics.acc.sem, 0.01 / Math.sqrt(3), 'EWC: sd 0.01 over 3 seeds');
  const acc = c.sweepSeries.find((s) => s.metric === 'acc')!;
  assert.equal(acc.path, 'strategy');
  assert.equal(acc.log, false);
  assert.deepEqual(acc.series[0].points.map((p) => p.x), strategies);
  assert.deepEqual(acc.series.map((s) => s.label), ['mean over seeds']);
  close(acc.series[0].points[2].value.mean, 0.71, 'replay point');
});

test('runs with different task lists: a warning, every run still listed', () => {
  const other = run({ seed: 1 });
  other.result.experiment.tasks = [{ dataset: 'fashion-mnist' }, { dataset: 'mnist' }];
  other.result.tasks = [
    { ...other.result.tasks[1], index: 0 },
    { ...other.result.tasks[0], index: 1 },
  ];
  const c = buildComparison([run({ seed: 0 }), other]);
  assert.equal(c.runs.length, 2);
  assert.equal(c.groups.length, 2);
  assert.equal(c.warnings.length, 1);
  assert.match(c.warnings[0], /do not share their tasks.*MNIST → Fashion-MNIST.*Fashion-MNIST → MNIST/);
});

test('CSV: a row per group (mean, SEM, n) and per run, R cells, RFC 4180 quoting', () => {
  const a = run({ seed: 0, acc: 0.9 });
  const b = run({ seed: 1, acc: 0.7 });
  for (const i of [a, b]) i.result.experiment.strategy = { name: 'my "odd", strategy' };
  const csv = comparisonCsv(buildComparison([a, b]));
  assert.ok(csv.endsWith('\r\n'));
  const rows = parseCsv(csv);
  assert.equal(rows.length, 1 + 1 + 2, 'header, one group, two runs');
  const header = rows[0];
  const col = (name: string) => {
    const k = header.indexOf(name);
    assert.ok(k >= 0, name);
    return k;
  };
  const [group, run0] = [rows[1], rows[2]];
  assert.equal(group[col('kind')], 'group');
  assert.equal(group[col('label')], 'my "odd", strategy', 'quotes and commas survive');
  assert.ok(csv.includes('"my ""odd"", strategy"'), 'quoted with doubled quotes');
  close(Number(group[col('acc')]), 0.8, 'group mean');
  close(Number(group[col('acc_sem')]), 0.1, 'group sem: sd of {0.9, 0.7} is 0.1414, / sqrt 2');
  assert.equal(group[col('acc_n')], '2');
  assert.equal(group[col('seed')], '0 1');
  assert.equal(group[col('n')], '2');
  assert.equal(group[col('R[1][0]')], String(0.244));
  assert.equal(group[col('R[1][0]_sem')], '0');
  assert.equal(run0[col('kind')], 'run');
  assert.equal(run0[col('acc')], '0.9');
  assert.equal(run0[col('acc_sem')], '');
  assert.equal(run0[col('R[0][1]')], '0.081');
  assert.equal(run0[col('seed')], '0');
  assert.equal(csvField('a\nb'), '"a\nb"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(NaN), '');
});

/** RFC 4180 reader for the test (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

/** The fixture's results read on their own, to check the comparison's numbers against. */
const fixtureResult = (rel: string) => JSON.parse(readFileSync(join(FIXTURES, rel, 'result.json'), 'utf8')) as RunResult;

test('real results: a sweep folder with pending runs, and standalone run folders, read from disk', () => {
  const c = loadComparison([join(FIXTURES, 'sweep')]);
  assert.equal(c.title, 'ewc lambda sweep');
  assert.deepEqual(c.axes, [{ path: 'strategy.lambda', values: [10, 1000] }]);
  assert.deepEqual(c.groups.map((g) => g.label), ['EWC λ=10', 'EWC λ=1000']);
  assert.deepEqual(c.runs.map((r) => r.id), ['000-lambda-10-seed-0', '001-lambda-10-seed-1', '003-lambda-1000-seed-0', '004-lambda-1000-seed-1'], 'relative to their common root');
  assert.deepEqual(c.unreadable, [], 'pending runs are not unreadable');
  assert.match(c.warnings.join('\n'), /2 pending \(no result yet\) of 6 runs/);
  // The group of lambda 1000 against its two files, by hand: mean (a + b) / 2, SEM |a - b| / 2.
  const a = fixtureResult('sweep/runs/003-lambda-1000-seed-0');
  const b = fixtureResult('sweep/runs/004-lambda-1000-seed-1');
  const g = c.groups[1];
  close(g.metrics.acc.mean, (a.metrics.acc! + b.metrics.acc!) / 2, 'acc');
  close(g.metrics.acc.sem, Math.abs(a.metrics.acc! - b.metrics.acc!) / 2, 'acc sem');
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++) {
      close(g.accuracyMatrix[i][j].mean, (a.accuracyMatrix[i][j] + b.accuracyMatrix[i][j]) / 2, `R[${i}][${j}]`);
      close(g.accuracyMatrix[i][j].sem, Math.abs(a.accuracyMatrix[i][j] - b.accuracyMatrix[i][j]) / 2, `R[${i}][${j}] sem`);
    }
  assert.deepEqual(g.curves.map((p) => p.step), a.curves.map((p) => p.step));
  assert.deepEqual(g.taskBoundaries, a.taskBoundaries);
  const series = c.sweepSeries.find((s) => s.metric === 'acc')!;
  assert.equal(series.log, true, '10 to 1000');
  close(series.series[0].points[1].value.mean, g.metrics.acc.mean!, 'the series point is the group');
  // sweep.json given directly is the same sweep; run folders and a result file join as their own group.
  const mixed = loadComparison([join(FIXTURES, 'sweep', 'sweep.json'), join(FIXTURES, 'runs', 'naive-seed-0'), join(FIXTURES, 'runs', 'naive-seed-1', 'result.json'), join(FIXTURES, 'runs', 'naive-seed-0')]);
  assert.equal(mixed.title, '6 runs', 'a sweep and other runs: no sweep title, no axes');
  assert.deepEqual(mixed.axes, []);
  assert.deepEqual(mixed.groups.map((x) => x.label), ['EWC λ=10', 'EWC λ=1000', 'Naive']);
  assert.deepEqual(mixed.runs.slice(4).map((r) => r.id), ['runs/naive-seed-0', 'runs/naive-seed-1'], 'the folder given twice counts once');
});

test('a sweep run whose result says running with no process behind it was interrupted: excluded; a deleted run folder is unreadable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clw-compare-sweep-'));
  try {
    cpSync(join(FIXTURES, 'sweep'), dir, { recursive: true });
    const file = join(dir, 'runs', '004-lambda-1000-seed-1', 'result.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), status: 'running' }));
    rmSync(join(dir, 'runs', '005-lambda-1000-seed-2'), { recursive: true });
    const c = loadComparison([dir]);
    const interrupted = c.runs.find((r) => r.id.startsWith('004-'))!;
    assert.equal(interrupted.status, 'failed');
    assert.match(interrupted.excluded!, /interrupted/);
    assert.deepEqual(c.groups[1].included, [2], 'only seed 0 of lambda 1000 counts');
    assert.equal(c.groups[1].metrics.acc.n, 1);
    assert.equal(c.groups[1].metrics.acc.missing, 1);
    assert.equal(c.unreadable.length, 1);
    assert.match(c.unreadable[0].reason, /run 5 of the sweep: .*is gone/);
    assert.match(c.warnings.join('\n'), /1 pending \(no result yet\) of 6 runs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unreadable paths are listed with their reason; what can be read is still compared', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clw-compare-'));
  try {
    const torn = join(dir, 'torn');
    mkdirSync(torn);
    writeFileSync(join(torn, 'result.json'), '{"formatVersion": 2, "status": "comp');
    const other = join(dir, 'other.json');
    writeFileSync(other, '{"hello": 1}');
    const newer = join(dir, 'newer');
    cpSync(join(FIXTURES, 'runs', 'naive-seed-0'), newer, { recursive: true });
    const r = JSON.parse(readFileSync(join(newer, 'result.json'), 'utf8'));
    writeFileSync(join(newer, 'result.json'), JSON.stringify({ ...r, formatVersion: 99 }));
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const badSweep = join(dir, 'bad-sweep');
    mkdirSync(badSweep);
    writeFileSync(join(badSweep, 'sweep.json'), '{"kind": "sweep"}');
    const c = loadComparison([torn, other, newer, empty, badSweep, join(dir, 'missing'), join(FIXTURES, 'runs', 'naive-seed-1')]);
    assert.equal(c.runs.length, 1);
    const reasons = c.unreadable.map((u) => `${u.path.slice(dir.length + 1)}: ${u.reason}`);
    assert.equal(reasons.length, 6, reasons.join('\n'));
    assert.match(reasons[0], /^torn\/result\.json: not valid JSON/);
    assert.match(reasons[1], /^other\.json: not a Continual Workbench result: missing or malformed formatVersion, runId, status/);
    assert.match(reasons[2], /^newer\/result\.json: This result has format version 99/);
    assert.match(reasons[3], /^empty: neither a run folder .* nor a sweep folder/);
    assert.match(reasons[4], /^bad-sweep: .*not a sweep index/);
    assert.match(reasons[5], /^missing: no such file or folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare.html: self-contained (CSP with a nonce, no remote URL), the Comparison embedded and round-tripping', () => {
  const c = loadComparison([join(FIXTURES, 'sweep')]);
  c.title = 'sweep </script><!-- & "quotes"';
  const assets = { js: 'window.bundle = "</script>";', css: 'body{}' };
  const html = renderCompareHtml(c, assets);
  const doc = new JSDOM(html).window.document;
  const data = doc.getElementById('clw-comparison')!;
  assert.equal(data.getAttribute('type'), 'application/json');
  assert.deepEqual(JSON.parse(data.textContent!), JSON.parse(JSON.stringify(c)));
  assert.equal(doc.querySelectorAll('script').length, 2);
  assert.ok(doc.body.classList.contains('clw-compare'));
  const csp = doc.querySelector('meta[http-equiv="Content-Security-Policy"]')!.getAttribute('content')!;
  assert.match(csp, /^default-src 'none';/);
  const nonce = /script-src 'nonce-([^']+)'/.exec(csp)![1];
  assert.equal(doc.querySelector('script[nonce]')!.getAttribute('nonce'), nonce);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
  // With the real built bundle (when built): nothing outside the inlined code names a remote URL.
  const dist = join(__dirname, '..', '..', 'dist');
  const dir = mkdtempSync(join(tmpdir(), 'clw-compare-html-'));
  try {
    let file: string;
    try {
      file = writeCompareReport(c, dir, dist);
    } catch (e) {
      assert.match((e as Error).message, /webview\.js is missing/);
      return;
    }
    assert.equal(file, join(dir, 'compare.html'));
    const real = readFileSync(file, 'utf8');
    const outsideCode = real.replace(/<script nonce[^>]*>[\s\S]*?<\/script>/, '').replace(/<style[^>]*>[\s\S]*?<\/style>/, '');
    assert.doesNotMatch(outsideCode, /https?:/);
    assert.doesNotMatch(real, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    assert.doesNotMatch(real, /url\(\s*["']?(https?:)?\/\//i);
    assert.doesNotMatch(real, /@import|sourceMappingURL/);
    const realDoc = new JSDOM(real).window.document;
    assert.equal(realDoc.querySelectorAll('link, iframe, img, object, embed').length, 0);
    assert.deepEqual(JSON.parse(realDoc.getElementById('clw-comparison')!.textContent!), JSON.parse(JSON.stringify(c)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
