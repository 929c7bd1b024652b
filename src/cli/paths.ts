// `continual-workbench paths REF_RUN [--to RUN ...] [--bezier [--steps N]] [--plane-with RUN] [--runs R ...]`:
// paths between solutions from the weights runs kept (no retraining): the straight line
// theta_A -> theta_B of the reference run, the line from theta_A to each --to run's end weights,
// optionally a trained quadratic Bezier curve theta_A -> theta_B (Garipov et al. 2018), each with
// every task's loss along it and its loss barrier per task; and optionally the plane through
// theta_A, theta_B and a third run's end weights with every selected run projected onto it.
// Writes paths.json and plane-<third>.json beside the reference run's result.json; prints the
// barriers table.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { PATHS_FORMAT_VERSION, type MultiRunPlaneResult, type PathEvaluation, type PathsResult, type SolutionRef } from '../protocol/landscape';
import { upgradeResult, type BackendName, type RunResult } from '../protocol/result';
import { writeFileAtomic } from '../engine/atomicWrite';
import { loadBackend } from '../engine/backend';
import { modelGradient, trainBezier, midpoint } from '../engine/landscape/bezier';
import { barrierTable, bezierPath, evaluatePath, linePath } from '../engine/landscape/paths';
import { comparability, computeMultiRunPlane, type RunWeights } from '../engine/landscape/plane3';
import { readWeightStore } from '../engine/landscape/store';
import { layoutOf, norm, sub } from '../engine/landscape/vector';
import { buildModel } from '../engine/models/build';
import type { EvalSet, TF } from '../engine/models/types';
import { landscapeEvaluator, landscapeSubset, loadExperimentTasks, taskTestData } from '../engine/runner';
import type { TrainSet } from '../engine/strategies/types';
import { normalisedImages } from '../engine/data/scenarios/taskData';
import { concatTrainSets } from '../engine/train/loop';

export const PATHS_FILE = 'paths.json';

export interface PathsJobOptions {
  reference: string;
  /** Runs whose last end weights get a straight line from theta_A. */
  to?: string[];
  bezier?: boolean;
  /** Bezier training steps (default 300), learning rate (default 0.01), batch size (default 64). */
  steps?: number;
  learningRate?: number;
  batchSize?: number;
  /** Third point of the plane: this run's last end weights. */
  planeWith?: string;
  /** More runs to project onto the plane. */
  runs?: string[];
  /** Phases of the reference for theta_A, theta_B (default first and last). */
  optima?: [number, number];
  /** Admit runs whose first task ended at other weights (e.g. replay): they share only the initialisation. */
  allowInitOnly?: boolean;
  /** Points along each path (default 25). */
  points?: number;
  /** Plane grid points per axis (default: the reference run's landscape.grid). */
  grid?: number;
  backend?: BackendName | 'auto';
  dataDir?: string;
  allowDownload?: boolean;
  tf?: TF;
  signal?: AbortSignal;
  log?(message: string): void;
  onProgress?(stage: string, done: number, total: number): void;
}

export interface PathsJobResult {
  paths: PathsResult;
  plane: MultiRunPlaneResult | null;
  files: string[];
}

interface LoadedRun {
  dir: string;
  result: RunResult;
  weights: RunWeights;
  layout: { name: string; size: number }[];
}

function loadRun(dir: string): LoadedRun {
  const file = join(dir, 'result.json');
  if (!existsSync(file)) throw new Error(`${dir} is not a run folder (no result.json)`);
  const result = upgradeResult(JSON.parse(readFileSync(file, 'utf8')) as RunResult);
  const store = readWeightStore(dir);
  return {
    dir,
    result,
    layout: store.layout,
    weights: { name: dir, label: basename(resolve(dir)), phases: result.phases, init: store.init, taskEnd: store.taskEnd, trajectory: store.trajectory },
  };
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);

/** Computes the paths (and the plane) for the reference run and writes them beside its result.json. */
export async function runPathsJob(opts: PathsJobOptions): Promise<PathsJobResult> {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const ref = loadRun(opts.reference);
  const ex = ref.result.experiment;
  if (!ex.landscape) throw new Error(`${ref.dir}: the experiment has no landscape ("landscape": false), so the run kept no weights`);
  const phases = ref.weights.taskEnd.length;
  const optima = opts.optima ?? [0, phases - 1];
  for (const p of optima) if (!Number.isInteger(p) || p < 0 || p >= phases) throw new Error(`phase ${p} is not a phase of ${ref.dir} (it kept the end weights of phases 0 to ${phases - 1})`);
  if (optima[0] === optima[1]) throw new Error(`theta_A and theta_B must be two different phases (got ${optima[0]} twice)`);

  // Every other run: same model (layout), and comparable with the reference (throws the reason).
  const others = new Map<string, LoadedRun>();
  const other = (dir: string): LoadedRun => {
    const key = resolve(dir);
    if (key === resolve(ref.dir)) return ref;
    let r = others.get(key);
    if (!r) {
      r = loadRun(dir);
      if (r.layout.length !== ref.layout.length || r.layout.some((p, k) => p.name !== ref.layout[k].name || p.size !== ref.layout[k].size)) {
        throw new Error(`${dir} has a different model than ${ref.dir}: one plane needs one parameter space`);
      }
      const shares = comparability(ref.weights, r.weights, opts.allowInitOnly);
      const sameFirst = (r.result.phases[0] ?? []).join() === (ref.result.phases[0] ?? []).join();
      log(`${dir}: shares ${shares === 'theta-A' ? 'theta_A (same initialisation and first task)' : sameFirst ? `the initialisation only (its first task ended ${norm(sub(r.weights.taskEnd[0], ref.weights.taskEnd[0])).toFixed(3)} away from theta_A)` : 'the initialisation only (its first phase differs)'}`);
      others.set(key, r);
    }
    return r;
  };
  const toRuns = (opts.to ?? []).map(other);
  const third = opts.planeWith ? other(opts.planeWith) : null;
  const extra = (opts.runs ?? []).map(other);

  const tf = opts.tf ?? (await loadBackend(opts.backend ?? ref.result.environment?.backend ?? 'auto')).tf;
  const { raw, head } = await loadExperimentTasks(ex, { dataDir: opts.dataDir, allowDownload: opts.allowDownload, signal: opts.signal, log });
  const shape = raw[0].shape;
  const land = { ...ex, landscape: ex.landscape };
  const tests = raw.map((data, k) => taskTestData(ex, data, k, head));
  const poolSets = tests.map((test, k) => landscapeSubset(land, test, k, head, raw.length));
  const taskLabels = raw.map((d) => d.label);
  // The Bezier curve trains on the union of the tasks of theta_A's and theta_B's phases.
  const curveTasks = [...new Set([...ref.result.phases[optima[0]], ...ref.result.phases[optima[1]]])].sort((a, b) => a - b);
  const seenTasks = [...new Set(ref.result.phases.slice(0, Math.max(...optima) + 1).flat())].sort((a, b) => a - b);
  const train: TrainSet | null = opts.bezier
    ? concatTrainSets(curveTasks.map((k): TrainSet => {
        const d = raw[k];
        const labels = tests[k].units(d.train.labels);
        return { images: normalisedImages(d.train.images, null, tests[k].pixels, d.mean, d.std), labels, tasks: new Int32Array(labels.length).fill(k), n: labels.length, shape };
      }))
    : null;
  raw.length = 0;

  const model = buildModel(tf, ex.model, shape, head.outputs, ex.seed);
  const sets: EvalSet[] = poolSets.map((s) => ({
    images: tf.tensor4d(s.images, [s.labels.length, ...shape]),
    labels: tf.tensor1d(s.labels, 'int32'),
    ...(s.mask ? { mask: tf.tensor1d(s.mask, 'float32') } : {}),
  }));
  const files: string[] = [];
  try {
    const layout = layoutOf(model);
    if (layout.length !== ref.layout.length || layout.some((p, k) => p.name !== ref.layout[k].name || p.size !== ref.layout[k].size)) {
      throw new Error(`the stored weights of ${ref.dir} do not fit its recorded model`);
    }
    const { evaluateAt, concurrency, pool } = await landscapeEvaluator(tf, model, ex.model, sets, (_level, m) => log(m));
    try {
      const thetaA = ref.weights.taskEnd[optima[0]];
      const thetaB = ref.weights.taskEnd[optima[1]];
      const A: SolutionRef = { run: ref.dir, phase: optima[0], label: 'A' };
      const B: SolutionRef = { run: ref.dir, phase: optima[1], label: 'B' };
      const common = { taskCount: sets.length, evaluateAt, concurrency, signal: opts.signal, points: opts.points ?? 25 };
      const paths: PathEvaluation[] = [];
      const progress = (stage: string) => (done: number, total: number) => opts.onProgress?.(stage, done, total);
      paths.push(await evaluatePath({ ...common, path: linePath(thetaA, thetaB), label: 'A → B', from: A, to: B, onProgress: progress('line A → B') }));
      for (const r of toRuns) {
        const phase = r.weights.taskEnd.length - 1;
        const label = r.weights.label ?? basename(r.dir);
        paths.push(await evaluatePath({ ...common, path: linePath(thetaA, r.weights.taskEnd[phase]), label: `A → ${label}`, from: A, to: { run: r.dir, phase, label }, onProgress: progress(`line A → ${label}`) }));
      }
      if (opts.bezier && train) {
        const steps = opts.steps ?? 300;
        const learningRate = opts.learningRate ?? 0.01;
        const batchSize = opts.batchSize ?? 64;
        const tb = performance.now();
        const gradientAt = modelGradient({ tf, model, head, train, seenTasks, batchSize, seed: ex.seed });
        const lossEvery = Math.max(1, Math.round(steps / 30));
        const trained = await trainBezier({ theta0: thetaA, theta1: thetaB, steps, learningRate, seed: ex.seed, gradientAt, lossEvery, signal: opts.signal, onProgress: (s, n) => opts.onProgress?.('Bezier training', s, n) });
        const bezier = {
          steps,
          batchSize,
          learningRate,
          seed: ex.seed,
          tasks: curveTasks,
          trainLoss: trained.trainLoss,
          lossEvery,
          controlShift: norm(sub(trained.control, midpoint(thetaA, thetaB))),
          timeMs: performance.now() - tb,
        };
        paths.push(await evaluatePath({ ...common, path: bezierPath(thetaA, trained.control, thetaB), label: 'Bezier A → B', from: A, to: B, bezier, onProgress: progress('Bezier A → B') }));
      }
      const result: PathsResult = {
        formatVersion: PATHS_FORMAT_VERSION,
        reference: ref.dir,
        optima: [optima[0], optima[1]],
        samples: ex.landscape.samples,
        parameterCount: thetaA.length,
        tasks: taskLabels,
        paths,
        createdAt: new Date().toISOString(),
        timeMs: performance.now() - t0,
      };
      const pathsFile = join(ref.dir, PATHS_FILE);
      writeFileAtomic(pathsFile, JSON.stringify(result));
      files.push(pathsFile);

      let plane: MultiRunPlaneResult | null = null;
      if (third) {
        const projected = [...toRuns, ...extra].map((r) => r.weights);
        plane = await computeMultiRunPlane({
          reference: ref.weights,
          optima: [optima[0], optima[1]],
          third: { run: third.weights },
          runs: projected,
          allowInitOnly: opts.allowInitOnly,
          grid: opts.grid ?? ex.landscape.grid,
          alphaRange: ex.landscape.alphaRange,
          taskCount: sets.length,
          evaluateAt,
          concurrency,
          signal: opts.signal,
          onProgress: progress('plane'),
          samples: ex.landscape.samples,
          tasks: taskLabels,
        });
        const planeFile = join(ref.dir, `plane-${safeName(third.weights.label ?? basename(third.dir))}-${third.weights.taskEnd.length - 1}.json`);
        writeFileAtomic(planeFile, JSON.stringify(plane));
        files.push(planeFile);
      }
      return { paths: { ...result, timeMs: performance.now() - t0 }, plane, files };
    } finally {
      await pool?.dispose();
    }
  } finally {
    model.dispose();
    for (const s of sets) tf.dispose([s.images, s.labels, ...(s.mask ? [s.mask] : [])]);
  }
}

/** The plane's projections as a table: each run's end weights, coordinates and off-plane distance. */
export function projectionTable(plane: MultiRunPlaneResult): string {
  const rows = [['run', 'phase', 'alpha', 'beta', 'off-plane', 'off/|u|', 'shares']];
  for (const r of plane.runs) for (const e of r.ends) rows.push([r.label, String(e.phase), e.alpha.toFixed(3), e.beta.toFixed(3), e.offPlane.toFixed(3), e.offPlaneRelative.toFixed(3), r.shares]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join('  ')).join('\n');
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CommanderError(2, 'paths.invalid', `${name} must be a positive integer, got ${v}`);
  return n;
};

/** The CLI subcommand; argv is what follows `paths`. Returns the exit code. */
export async function pathsCommand(argv: string[], io: { stdout(text: string): void; stderr(text: string): void } = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }): Promise<number> {
  const program = new Command('paths')
    .argument('<ref_run>', 'reference run folder: theta_A, theta_B are its first and last phases\' end weights')
    .option('--to <runs...>', 'straight line from theta_A to each run\'s last end weights (e.g. joint training\'s)')
    .option('--bezier', 'train a quadratic Bezier curve theta_A -> theta_B on both tasks\' training data (Garipov et al. 2018)')
    .option('--steps <n>', 'Bezier training steps', positiveInt('--steps'), 300)
    .option('--lr <x>', 'Bezier learning rate (Adam)', Number, 0.01)
    .option('--batch-size <n>', 'Bezier batch size', positiveInt('--batch-size'), 64)
    .option('--points <n>', 'points along each path', positiveInt('--points'), 25)
    .option('--plane-with <run>', 'plane through theta_A, theta_B and this run\'s last end weights, every selected run projected onto it')
    .option('--runs <runs...>', 'more runs to project onto the plane')
    .option('--allow-init-only', 'admit runs that start from the same initialisation but ended the first task elsewhere (e.g. replay, which replays within the first task)')
    .option('--grid <n>', 'plane grid points per axis (default: the run\'s landscape grid)', positiveInt('--grid'))
    .option('--optima <i,j>', 'phases of the reference for theta_A and theta_B (default first and last)')
    .addOption(new Option('--backend <name>', 'tfjs backend (default: the reference run\'s)').choices(['auto', 'tensorflow', 'wasm', 'cpu']))
    .option('--data-dir <dir>', 'dataset folder')
    .option('--no-download', 'never download datasets')
    .option('--json', 'print paths.json (and the plane) on stdout instead of the table')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    return e instanceof CommanderError ? (e.exitCode === 0 ? 0 : 2) : 2;
  }
  const o = program.opts<{ to?: string[]; bezier?: boolean; steps: number; lr: number; batchSize: number; points: number; planeWith?: string; runs?: string[]; grid?: number; optima?: string; allowInitOnly?: boolean; backend?: BackendName | 'auto'; dataDir?: string; download: boolean; json?: boolean }>();
  let optima: [number, number] | undefined;
  if (o.optima !== undefined) {
    const m = /^(\d+),(\d+)$/.exec(o.optima);
    if (!m) {
      io.stderr(`error: --optima must be two phase indexes "i,j", got ${o.optima}\n`);
      return 2;
    }
    optima = [Number(m[1]), Number(m[2])];
  }
  if (!(o.lr > 0)) {
    io.stderr(`error: --lr must be a positive number\n`);
    return 2;
  }
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const lastDecile = new Map<string, number>();
  try {
    const out = await runPathsJob({
      reference: program.args[0],
      to: o.to,
      bezier: o.bezier,
      steps: o.steps,
      learningRate: o.lr,
      batchSize: o.batchSize,
      points: o.points,
      planeWith: o.planeWith,
      runs: o.runs,
      grid: o.grid,
      optima,
      allowInitOnly: o.allowInitOnly,
      backend: o.backend,
      dataDir: o.dataDir,
      allowDownload: o.download,
      signal: controller.signal,
      log: (m) => io.stderr(`${m}\n`),
      onProgress: (stage, done, total) => {
        const decile = Math.floor((10 * done) / Math.max(1, total));
        if (lastDecile.get(stage) === decile) return;
        lastDecile.set(stage, decile);
        io.stderr(`${stage}: ${done}/${total}\n`);
      },
    });
    if (o.json) {
      io.stdout(`${JSON.stringify({ paths: out.paths, plane: out.plane })}\n`);
    } else {
      io.stdout(`Loss barriers (max over t of loss(t) - [(1-t) loss(0) + t loss(1)]), ${out.paths.samples} test examples per task\n\n`);
      io.stdout(`${barrierTable(out.paths.paths, out.paths.tasks)}\n`);
      if (out.plane) io.stdout(`\nPlane through A, B and ${out.plane.points[2].label} (coordinates in units of |B - A| = ${out.plane.distance.toFixed(3)})\n\n${projectionTable(out.plane)}\n`);
      io.stdout(`\nwrote ${out.files.join(', ')}\n`);
    }
    return 0;
  } catch (e) {
    const err = e as Error;
    io.stderr(`error: ${err.name === 'AbortError' ? 'cancelled' : err.message}\n`);
    return err.name === 'AbortError' ? 130 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
