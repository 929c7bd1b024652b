// `continual-workbench bench`: what users run, timed. The engine's own training step and evaluation
// (the modules runner.ts calls) for the small CNN at batch 64 and the MLP at 64 and 128 on real
// MNIST, the landscape grid through the runner's evaluator, optionally (--full) the default
// experiment end to end; each with its peak RSS (one process per case). In the same run, when
// /usr/bin/python3 has torch, the PyTorch reference (scripts/torch_reference.py) as installed and
// with --fast-linear, and ratios ours / torch. A table for people; --json / --out FILE for machines.
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EnvironmentInfo, RunResult } from '../protocol/result';
import { loadBackend } from '../engine/backend';
import { runBenchCase, type BenchCase, type BenchCaseResult, type TrainCaseResult } from '../engine/bench/cases';
import { compare, formatBenchReport, type BenchReport, type CommandFigures, type EndToEndResult, type TorchSection } from '../engine/bench/report';
import { machineNote, runTimed, type TimedCommand } from '../engine/bench/system';
import { DEFAULT_PYTHON, probeTorch, torchReference } from '../engine/bench/torch';
import { benchExperiment } from '../engine/bench/training';
import { resolveDataset } from '../engine/data/resolve';

/** Set in a case's child process: the case to run (JSON of ChildRequest). */
export const BENCH_CASE_ENV = 'CLW_BENCH_CASE';

interface ChildRequest {
  case: BenchCase;
  experimentFile: string;
}

type ChildReply = { type: 'benchCase'; result: BenchCaseResult; environment: EnvironmentInfo } | { type: 'benchCaseError'; error: string };

export interface BenchOptions {
  quick: boolean;
  /** Also the default experiment end to end (and torch's `run`, whose trained checkpoint then feeds its grid); ~10 min more. */
  full: boolean;
  json: boolean;
  out?: string;
  /** Landscape grid points per axis (default 9; 21 with --full, the run's own; 5 with --quick). */
  grid?: number;
  torch: boolean;
  python: string;
  torchScript: string;
  experiment: string;
  /** Case ids to run (default all): cnn64, mlp64, mlp128, landscape. */
  cases?: string[];
  /** The CLI entry the case processes and the end-to-end run start (default: this process's). */
  entry: string;
}

const USAGE = `usage: continual-workbench bench [--quick] [--full] [--json] [--out FILE] [--grid N] [--cases cnn64,mlp64,mlp128,landscape]
       [--no-torch] [--python /usr/bin/python3] [--torch-script scripts/torch_reference.py] [--experiment examples/mnist-then-fashion.cl.json]
  --full   also the default experiment end to end (wall time, peak RSS, R) and torch's run of it (~10 min more)
  --json   the report as JSON on stdout (the table goes to stderr); --out FILE writes the JSON to FILE
Environment: CLW_TORCH_REFERENCE (the reference script), CLW_DATA_DIR (datasets).`;

/** The repository (or package) folder: the CLI entry's parent's parent (dist/cli.js -> .). */
function rootOf(entry: string): string {
  return resolve(dirname(entry), '..');
}

export function parseBenchArgs(args: string[], entry = process.argv[1] ?? 'dist/cli.js'): BenchOptions | { help: true } | { error: string } {
  let v;
  try {
    v = parseArgs({
      args,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' },
        full: { type: 'boolean' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        grid: { type: 'string' },
        'no-torch': { type: 'boolean' },
        python: { type: 'string' },
        'torch-script': { type: 'string' },
        experiment: { type: 'string' },
        cases: { type: 'string' },
        entry: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (v.help) return { help: true };
  const root = rootOf(resolve(v.entry ?? entry));
  const firstExisting = (...paths: string[]) => paths.find((p) => existsSync(p)) ?? paths[0];
  const grid = v.grid !== undefined ? Number(v.grid) : undefined;
  if (grid !== undefined && !(Number.isInteger(grid) && grid >= 2 && grid <= 41)) return { error: `--grid must be a whole number from 2 to 41, got ${v.grid}` };
  return {
    quick: !!v.quick,
    full: !!v.full,
    json: !!v.json,
    out: v.out,
    grid,
    torch: !v['no-torch'],
    python: v.python ?? DEFAULT_PYTHON,
    torchScript: resolve(v['torch-script'] ?? process.env.CLW_TORCH_REFERENCE ?? firstExisting(join(root, 'scripts', 'torch_reference.py'), resolve('scripts', 'torch_reference.py'))),
    experiment: resolve(v.experiment ?? firstExisting(join(root, 'examples', 'mnist-then-fashion.cl.json'), resolve('examples', 'mnist-then-fashion.cl.json'))),
    cases: v.cases ? v.cases.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    entry: resolve(v.entry ?? entry),
  };
}

/**
 * The engine cases: warm-up steps excluded, several timed windows (median). The warm-up covers V8's
 * tier-up of the wasm kernels in both lanes (measured: the first ~60 steps of the CNN run 10-25 %
 * slower than the rest of a run), so the figure is the rate of a run's remaining ~1,800 steps.
 */
export function benchCases(o: Pick<BenchOptions, 'quick' | 'full' | 'grid' | 'cases'>): BenchCase[] {
  const q = o.quick;
  const all: BenchCase[] = [
    { kind: 'train', id: 'cnn64', model: 'small-cnn', batchSize: 64, warmupSteps: q ? 10 : 60, windows: q ? 3 : 7, stepsPerWindow: q ? 8 : 20, evalWindows: q ? 2 : 3 },
    { kind: 'train', id: 'mlp64', model: 'mlp', batchSize: 64, warmupSteps: q ? 10 : 60, windows: q ? 3 : 7, stepsPerWindow: q ? 20 : 50, evalWindows: q ? 2 : 3 },
    { kind: 'train', id: 'mlp128', model: 'mlp', batchSize: 128, warmupSteps: q ? 10 : 40, windows: q ? 3 : 7, stepsPerWindow: q ? 10 : 25, evalWindows: q ? 2 : 3 },
    { kind: 'landscape', id: 'landscape', grid: o.grid ?? (q ? 5 : o.full ? 21 : 9), samples: 1000, inProcess: false },
  ];
  return o.cases ? all.filter((c) => o.cases!.includes(c.id)) : all;
}

/** Runs one case in a child process of the CLI (its own peak RSS, its own wasm heap). */
function runCaseProcess(o: BenchOptions, c: BenchCase): Promise<ChildReply> {
  return new Promise((resolvePromise) => {
    const req: ChildRequest = { case: c, experimentFile: o.experiment };
    const child = fork(o.entry, ['bench'], { execArgv: process.execArgv, env: { ...process.env, [BENCH_CASE_ENV]: JSON.stringify(req) }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let reply: ChildReply | null = null;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('message', (m: ChildReply) => (reply = m));
    child.on('exit', (code, signal) => resolvePromise(reply ?? { type: 'benchCaseError', error: `case process exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` }));
  });
}

/** The child side: runs the case named in BENCH_CASE_ENV and sends the result to the parent. */
async function runCaseChild(raw: string): Promise<void> {
  const send = (m: ChildReply) => new Promise<void>((r) => (process.send ? process.send(m, () => r()) : (process.stdout.write(JSON.stringify(m) + '\n'), r())));
  try {
    const req = JSON.parse(raw) as ChildRequest;
    // As a run of the case's model loads it (runFile.ts).
    const { tf, info } = await loadBackend('auto', { sharedWasmMemory: req.case.kind === 'train' && req.case.model === 'mlp' });
    const result = await runBenchCase(req.case, {
      tf,
      environment: info,
      experimentText: readFileSync(req.experimentFile, 'utf8'),
      experimentFile: req.experimentFile,
      load: { dataDir: process.env.CLW_DATA_DIR },
      log: (m) => process.stderr.write(`  [${req.case.id}] ${m}\n`),
    });
    await send({ type: 'benchCase', result, environment: info });
  } catch (e) {
    await send({ type: 'benchCaseError', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
  process.exit(0);
}

const figures = (r: TimedCommand): CommandFigures => ({ wallSeconds: r.wallMs / 1000, peakRssMb: r.maxRssMb, cpuPerWall: r.cpuPerWall, loadavgStart: r.loadavgStart, loadavgEnd: r.loadavgEnd });

/** `run` of the default experiment in a fresh process, under /usr/bin/time -v, into a temp folder. */
async function endToEnd(o: BenchOptions, say: (s: string) => void): Promise<EndToEndResult> {
  const dir = mkdtempSync(join(tmpdir(), 'clw-bench-run-'));
  const command = `node ${o.entry} run ${o.experiment} --out <tmp>/run`;
  try {
    say(`default experiment end to end: ${command}`);
    const r = await runTimed(process.execPath, [...process.execArgv, o.entry, 'run', o.experiment, '--out', join(dir, 'run'), '--json'], { cwd: rootOf(o.entry) });
    let result: RunResult | null = null;
    try {
      result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as RunResult;
    } catch {
      result = null;
    }
    const t = result?.timing;
    return {
      command,
      figures: figures(r),
      status: result?.status ?? `exit ${r.code ?? r.signal}`,
      accuracyMatrix: result?.accuracyMatrix.map((row) => row.map((v) => v * 100)) ?? null,
      trainImagesPerSecond: t?.trainImagesPerSecond ?? null,
      trainSeconds: t ? t.trainMs / 1000 : null,
      landscapeSeconds: t ? t.landscapeMs / 1000 : null,
      ...(r.code !== 0 ? { error: r.stderr.trim().split('\n').slice(-3).join(' | ') } : {}),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where the reference script finds the datasets: the folders our resolution chain finds (raw MNIST, gzipped Fashion-MNIST as the script expects). */
async function torchDataDirs(o: BenchOptions): Promise<{ mnistDir?: string; fashionDir?: string }> {
  const ex = benchExperiment(readFileSync(o.experiment, 'utf8'), o.experiment);
  const out: { mnistDir?: string; fashionDir?: string } = {};
  for (const task of ex.tasks) {
    try {
      const r = await resolveDataset(task, { dataDir: process.env.CLW_DATA_DIR, allowDownload: false });
      if (task.dataset === 'mnist' && !r.files.trainImages.endsWith('.gz')) out.mnistDir = dirname(r.files.trainImages);
      if (task.dataset === 'fashion-mnist' && r.files.trainImages.endsWith('.gz')) out.fashionDir = dirname(r.files.trainImages);
    } catch {
      // the script's own defaults then
    }
  }
  return out;
}

async function torchSection(o: BenchOptions, cases: BenchCase[], say: (s: string) => void, phase: 'bench' | 'grid', section: TorchSection | null): Promise<TorchSection> {
  const s: TorchSection = section ?? { probe: probeTorch(o.python, o.torchScript), errors: [], raw: {} };
  if (!s.probe.ok) return s;
  const ref = torchReference({ python: o.python, script: o.torchScript, ...(await torchDataDirs(o)), onStderr: () => undefined });
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      say(`torch: ${what}`);
      await fn();
    } catch (e) {
      s.errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  try {
    if (phase === 'bench') {
      await attempt('torch_reference.py bench', async () => {
        const r = await ref.bench();
        s.bench = r.rows;
        s.benchFigures = figures(r.command);
        s.raw.bench = r.command.stdout;
      });
      const batches = [...new Set(cases.flatMap((c) => (c.kind === 'train' && c.batchSize !== 64 ? [`${c.model}:${c.batchSize}`] : [])))];
      for (const key of batches) {
        const [model, b] = key.split(':');
        await attempt(`bench_one(${model}, bs=${b})`, async () => {
          const r = await ref.benchBatch(model === 'small-cnn' ? 'small' : model, Number(b));
          s.extraBatches = [...(s.extraBatches ?? []), ...r.rows];
          s.raw[`bench_bs${b}`] = r.command.stdout;
        });
      }
    } else {
      const land = cases.find((c) => c.kind === 'landscape');
      let ckpt: string | null = null;
      if (o.full) {
        await attempt('torch_reference.py run --model small --epochs 1', async () => {
          const r = await ref.run('small', 1);
          s.run = { result: r.result, figures: figures(r.command) };
          s.raw.run = r.command.stdout;
          if (existsSync(r.ckpt)) {
            ckpt = r.ckpt;
            s.gridCheckpoint = 'trained (run)';
          }
        });
      }
      if (land && land.kind === 'landscape') {
        await attempt(`torch_reference.py grid --res ${land.grid} --n ${land.samples}`, async () => {
          if (!ckpt) {
            ckpt = await ref.makeCheckpoint();
            s.gridCheckpoint = 'untrained (bench checkpoint)';
          }
          const r = await ref.grid(ckpt, land.grid, land.samples);
          s.grid = r.timing;
          s.gridFigures = figures(r.command);
          s.raw.grid = r.command.stdout;
        });
      }
    }
  } finally {
    ref.dispose();
  }
  return s;
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const say = (s: string) => process.stderr.write(`${s}\n`);
  const startedAt = new Date().toISOString();
  const start = machineNote();
  const cases = benchCases(o);
  const results: BenchCaseResult[] = [];
  const caseErrors: { id: string; error: string }[] = [];
  let environment: EnvironmentInfo | null = null;
  const runCase = async (c: BenchCase) => {
    say(`case ${c.id} (load average ${machineNote().loadavg1})`);
    const reply = await runCaseProcess(o, c);
    if (reply.type === 'benchCase') {
      results.push(reply.result);
      environment ??= reply.environment;
    } else caseErrors.push({ id: c.id, error: reply.error });
  };
  // Ours and torch's figures alternate, so that drifting load touches both.
  for (const c of cases.filter((x) => x.kind === 'train')) await runCase(c);
  let torch: TorchSection | null = o.torch ? await torchSection(o, cases, say, 'bench', null) : null;
  if (torch && !torch.probe.ok) say(`torch: not measured (${torch.probe.reason})`);
  for (const c of cases.filter((x) => x.kind === 'landscape')) await runCase(c);
  let e2e: EndToEndResult | null = null;
  if (o.full) e2e = await endToEnd(o, say);
  if (torch?.probe.ok) torch = await torchSection(o, cases, say, 'grid', torch);
  const report: BenchReport = {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { start, end: machineNote() },
    environment,
    options: { quick: o.quick, full: o.full, grid: cases.find((c) => c.kind === 'landscape')?.kind === 'landscape' ? (cases.find((c) => c.kind === 'landscape') as { grid: number }).grid : null, cases: cases.map((c) => c.id), torchScript: o.torchScript, python: o.python, experiment: o.experiment },
    cases: results,
    caseErrors,
    torch,
    endToEnd: e2e,
    comparisons: compare(results, torch, e2e),
  };
  return report;
}

/** `bench [options]`: returns the exit code. */
export async function benchCommand(args: string[]): Promise<number> {
  const childCase = process.env[BENCH_CASE_ENV];
  if (childCase) {
    await runCaseChild(childCase);
    return 0;
  }
  const o = parseBenchArgs(args);
  if ('help' in o) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if ('error' in o) {
    process.stderr.write(`error: ${o.error}\n${USAGE}\n`);
    return 2;
  }
  const report = await runBench(o);
  const text = formatBenchReport(report);
  if (o.json) {
    process.stderr.write(`${text}\n`);
    process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
  } else process.stdout.write(`${text}\n`);
  if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 1));
  const failed = report.caseErrors.length > 0 || report.cases.some((c) => c.kind === 'train' && !Number.isFinite((c as TrainCaseResult).training.imagesPerSecond));
  return failed ? 1 : 0;
}
