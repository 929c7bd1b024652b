// The bench's result: one JSON document for machines, and the table people read, with every ratio
// "ours / PyTorch" taken between figures measured in the same run (these machines are shared and
// noisy: absolute figures drift by +-20% between runs, ratios within a run much less).
import type { EnvironmentInfo } from '../../protocol/result';
import type { BenchCaseResult, LandscapeCaseResult, TrainCaseResult } from './cases';
import type { MachineNote } from './system';
import type { TorchBenchRow, TorchGridTiming, TorchProbe, TorchRunResult } from './torch';

export interface CommandFigures {
  wallSeconds: number;
  /** Peak RSS of the process (MB), /usr/bin/time -v; null without it. */
  peakRssMb: number | null;
  cpuPerWall: number | null;
  loadavgStart: number;
  loadavgEnd: number;
}

export interface EndToEndResult {
  command: string;
  figures: CommandFigures;
  status: string;
  /** R[i][j] in percent. */
  accuracyMatrix: number[][] | null;
  /** The run's own timing (result.json): training img/s over training time, and the parts. */
  trainImagesPerSecond: number | null;
  trainSeconds: number | null;
  landscapeSeconds: number | null;
  error?: string;
}

export interface TorchSection {
  probe: TorchProbe;
  bench?: TorchBenchRow[];
  /** bench_one at the other batch sizes the engine cases use. */
  extraBatches?: TorchBenchRow[];
  benchFigures?: CommandFigures;
  grid?: TorchGridTiming | null;
  gridFigures?: CommandFigures;
  /** What the grid's checkpoint was: the trained default experiment's, or an untrained one. */
  gridCheckpoint?: 'trained (run)' | 'untrained (bench checkpoint)';
  run?: { result: TorchRunResult | null; figures: CommandFigures };
  errors: string[];
  /** The script's stdout per command, for the record (and parser checks). */
  raw: Record<string, string>;
}

export interface Comparison {
  /** e.g. 'small-cnn b64 train'. */
  what: string;
  unit: 'img/s' | 's';
  ours: number;
  torch: number;
  /** 'nn.Linear' (as installed) or 'oneDNN' (--fast-linear), with the thread count. */
  reference: string;
  /** Our speed / torch's speed (> 1: ours is faster); for times, torch time / our time. */
  ratio: number;
}

export interface BenchReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  machine: { start: MachineNote; end: MachineNote };
  environment: EnvironmentInfo | null;
  options: Record<string, unknown>;
  cases: BenchCaseResult[];
  caseErrors: { id: string; error: string }[];
  torch: TorchSection | null;
  endToEnd: EndToEndResult | null;
  comparisons: Comparison[];
}

const TORCH_MODEL: Record<string, string> = { 'small-cnn': 'small', mlp: 'mlp' };

/** Every ratio the report can give: training and evaluation per case against both linear paths, the grid, the default run's training. */
export function compare(cases: BenchCaseResult[], torch: TorchSection | null, endToEnd: EndToEndResult | null): Comparison[] {
  const out: Comparison[] = [];
  const rows = [...(torch?.bench ?? []), ...(torch?.extraBatches ?? [])];
  for (const c of cases) {
    if (c.kind !== 'train') continue;
    const b = c.training.batchSize;
    for (const linear of ['nn.Linear', 'oneDNN'] as const) {
      const row = rows.find((r) => r.model === TORCH_MODEL[c.model] && r.threads === 2 && r.linear === linear && r.batchSize === b);
      if (!row) continue;
      const ref = `torch ${linear === 'oneDNN' ? '--fast-linear' : 'as installed'}, 2 threads`;
      out.push({ what: `${c.model} b${b} train`, unit: 'img/s', ours: c.training.imagesPerSecond, torch: row.trainImagesPerSecond, reference: ref, ratio: c.training.imagesPerSecond / row.trainImagesPerSecond });
      out.push({ what: `${c.model} eval (b1000)`, unit: 'img/s', ours: c.evaluation.imagesPerSecond, torch: row.evalImagesPerSecond, reference: `${ref} (its b${b} row)`, ratio: c.evaluation.imagesPerSecond / row.evalImagesPerSecond });
    }
  }
  const land = cases.find((c): c is LandscapeCaseResult => c.kind === 'landscape');
  if (land && torch?.grid && torch.grid.res === land.landscape.grid) {
    const ours = land.landscape.totalMs / 1000;
    out.push({ what: `landscape grid ${land.landscape.grid}x${land.landscape.grid}`, unit: 's', ours, torch: torch.grid.seconds, reference: 'torch grid, 2 threads', ratio: torch.grid.seconds / ours });
  }
  if (endToEnd?.trainImagesPerSecond && torch?.run?.result) {
    out.push({ what: 'default run: training', unit: 'img/s', ours: endToEnd.trainImagesPerSecond, torch: torch.run.result.train_img_s, reference: 'torch run --model small, 2 threads', ratio: endToEnd.trainImagesPerSecond / torch.run.result.train_img_s });
  }
  return out;
}

const int = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : Math.round(x).toLocaleString('en-US'));
const fix = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const mb = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(x)} MB`);

/** Columns aligned: the first `textColumns` to the left, numbers to the right. */
function table(header: string[], rows: string[][], textColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The report as text: the machine, one row per engine case with its torch ratios, the grid, the default run. */
export function formatBenchReport(r: BenchReport): string {
  const out: string[] = [];
  const env = r.environment;
  out.push(
    `bench ${r.startedAt} .. ${r.finishedAt}: ${r.machine.start.cpus} cpus (${r.machine.start.cpuModel}), load average ${r.machine.start.loadavg1} at start, ${r.machine.end.loadavg1} at end`,
  );
  if (env) out.push(`engine: ${env.backend} (tfjs ${env.tfjsVersion}, wasm pthreads ${env.threads}, simd ${env.simd ?? '?'})`);
  if (r.torch) out.push(r.torch.probe.ok ? `reference: PyTorch ${r.torch.probe.version} (${r.torch.probe.python} ${r.torch.probe.script})` : `reference: not measured (${r.torch.probe.reason})`);
  out.push('');

  const rows = [...(r.torch?.bench ?? []), ...(r.torch?.extraBatches ?? [])];
  const torchRow = (model: string, b: number, linear: string) => rows.find((x) => x.model === TORCH_MODEL[model] && x.threads === 2 && x.batchSize === b && x.linear === linear);
  const train = r.cases.filter((c): c is TrainCaseResult => c.kind === 'train');
  if (train.length) {
    out.push('Training step and evaluation (the engine\'s runPhases/trainStep and the runner\'s scoring, real MNIST; median of timed windows after warm-up):');
    out.push(
      table(
        ['case', 'train img/s', 'torch', 'ratio', 'torch fast-lin', 'ratio', 'eval img/s', 'torch', 'ratio', 'torch fast-lin', 'ratio', 'peak RSS'],
        train.map((c) => {
          const b = c.training.batchSize;
          const t = torchRow(c.model, b, 'nn.Linear');
          const f = torchRow(c.model, b, 'oneDNN');
          return [
            `${c.model} b${b}`,
            int(c.training.imagesPerSecond),
            int(t?.trainImagesPerSecond),
            t ? fix(c.training.imagesPerSecond / t.trainImagesPerSecond) : '-',
            int(f?.trainImagesPerSecond),
            f ? fix(c.training.imagesPerSecond / f.trainImagesPerSecond) : '-',
            int(c.evaluation.imagesPerSecond),
            int(t?.evalImagesPerSecond),
            t ? fix(c.evaluation.imagesPerSecond / t.evalImagesPerSecond) : '-',
            int(f?.evalImagesPerSecond),
            f ? fix(c.evaluation.imagesPerSecond / f.evalImagesPerSecond) : '-',
            mb(c.peakRss.mb),
          ];
        }),
      ),
    );
    for (const c of train) {
      const w = c.training.windowImagesPerSecond.map((x) => Math.round(x)).join(', ');
      const leak = c.training.tensorsAtEnd - c.training.tensorsAfterWarmup;
      out.push(
        `  ${c.model} b${c.training.batchSize}: windows [${w}] img/s (${c.training.windows} x ${c.training.stepsPerWindow} steps after ${c.training.warmupSteps} warm-up), ` +
          `${fix(c.training.medianStepMs, 1)} ms/step${c.trainGflops !== null ? `, ${fix(c.trainGflops, 1)} GFLOP/s effective` : ''}, tensors ${leak === 0 ? 'constant' : `+${leak} over the timed steps`}, training on ${c.trainingThreads ?? '?'}, evaluation (a row of R, ${int(c.evaluation.images)} images) on ${c.evaluation.threads ?? 1} thread(s), setup ${fix(c.setupMs / 1000, 1)} s, load ${c.loadavg1.join(' -> ')}`,
      );
    }
    for (const c of train) {
      if (!c.ceiling?.length) continue;
      const b = c.training.batchSize;
      const t = torchRow(c.model, b, 'nn.Linear');
      const f = torchRow(c.model, b, 'oneDNN');
      const need = [t ? `1.5x torch as installed = ${int(1.5 * t.trainImagesPerSecond)}` : '', f ? `0.7x torch --fast-linear = ${int(0.7 * f.trainImagesPerSecond)}` : ''].filter(Boolean).join(', ');
      out.push(
        `  ${c.model} b${b} ceiling: one thread's best kernels (FLOPs of the direct computation per second; Winograd does fewer) ${c.ceiling.map((k) => `${k.what} ${fix(k.gflops, 1)} GFLOP/s`).join('; ')}; ` +
          `${fix((c.flopsPerImage ?? NaN) / 1e6, 2)} MFLOP per training image -> at most ${int(c.boundImagesPerSecond)} img/s on ${c.cores} core(s) with every FLOP at the faster rate and nothing else` +
          (need ? ` (targets: ${need})` : ''),
      );
    }
    const one = rows.filter((x) => x.threads === 1);
    const bf = r.torch?.benchFigures;
    if (bf) out.push(`  torch bench: ${fix(bf.wallSeconds, 0)} s, load ${fix(bf.loadavgStart)} -> ${fix(bf.loadavgEnd)}`);
    if (one.length) out.push(`  torch on 1 thread, same run: ${one.map((x) => `${x.model} ${x.linear} ${int(x.trainImagesPerSecond)} img/s`).join('; ')}`);
    out.push('');
  }

  const land = r.cases.find((c): c is LandscapeCaseResult => c.kind === 'landscape');
  if (land) {
    const l = land.landscape;
    const g = r.torch?.grid;
    out.push(`Landscape grid ${l.grid}x${l.grid} (${l.tasks} tasks x ${l.samplesPerTask[0]} images per point, the runner's evaluator: ${l.evaluator}):`);
    out.push(
      `  ours ${fix(l.totalMs / 1000, 1)} s (${fix(l.msPerPoint, 0)} ms/point, ${int(l.imagesPerSecond)} img/s; workers started in ${fix(l.startMs / 1000, 1)} s; 21x21 projected ${fix(l.projected21x21Ms / 1000, 0)} s), peak RSS ${mb(land.peakRss.mb)}, load ${land.loadavg1.join(' -> ')}`,
    );
    if (l.inProcess) out.push(`  in-process: ${fix(l.inProcess.totalMs / 1000, 1)} s (eval ${fix(l.inProcess.evalMsPerPoint, 0)} ms/point, overhead ${fix(l.inProcess.overheadMsPerPoint, 1)} ms/point); evaluator values ${l.identical ? 'bitwise identical' : 'DIFFERENT'}`);
    if (g) {
      out.push(
        `  torch ${fix(g.seconds, 1)} s (${fix(g.msPerPoint, 0)} ms/point, ${int(g.imagesPerSecond)} img/s, cpu/wall ${fix(g.cpuPerWall)}, load ${fix(r.torch?.gridFigures?.loadavgStart)} -> ${fix(r.torch?.gridFigures?.loadavgEnd)}; ${r.torch?.gridCheckpoint ?? ''}) -> ours is x${fix(g.seconds / (l.totalMs / 1000))} as fast`,
      );
    }
    out.push('');
  }

  const e = r.endToEnd;
  if (e) {
    out.push(`Default experiment end to end (${e.command}):`);
    out.push(
      `  ours: ${e.status}, ${fix(e.figures.wallSeconds, 1)} s wall, peak RSS ${mb(e.figures.peakRssMb)}, cpu/wall ${fix(e.figures.cpuPerWall)}; training ${int(e.trainImagesPerSecond)} img/s (${fix(e.trainSeconds, 1)} s), landscape ${fix(e.landscapeSeconds, 1)} s` +
        (e.error ? `; ${e.error}` : ''),
    );
    if (e.accuracyMatrix) out.push(`  R: ${e.accuracyMatrix.map((row) => row.map((v) => fix(v)).join(' / ')).join(' | ')}`);
    const tr = r.torch?.run;
    if (tr) {
      out.push(
        `  torch run --model small --epochs 1: ${fix(tr.figures.wallSeconds, 1)} s wall, peak RSS ${mb(tr.figures.peakRssMb)}; training ${int(tr.result?.train_img_s)} img/s` +
          (tr.result ? `; R: ${tr.result.R.map((row) => row.map((v) => fix(v)).join(' / ')).join(' | ')}` : ''),
      );
    }
    out.push('');
  }
  if (r.caseErrors.length) out.push(...r.caseErrors.map((c) => `case ${c.id} failed: ${c.error}`), '');
  if (r.torch?.errors.length) out.push(...r.torch.errors.map((m) => `torch: ${m}`), '');
  if (r.comparisons.length) {
    out.push('Ratios (ours / torch speed, same run; > 1: ours is faster):');
    out.push(table(['what', 'reference', 'ours', 'torch', 'ratio'], r.comparisons.map((c) => [c.what, c.reference, c.unit === 's' ? `${fix(c.ours, 1)} s` : int(c.ours), c.unit === 's' ? `${fix(c.torch, 1)} s` : int(c.torch), fix(c.ratio)]), 2));
  }
  return out.join('\n');
}
