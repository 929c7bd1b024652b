// The PyTorch reference, measured in the same bench run: scripts/torch_reference.py (the team's
// reference script, copied from ../shared/reference/) run with Debian's /usr/bin/python3 and
// python3-torch. `bench` gives training/evaluation img/s per model with nn.Linear as installed
// (reference BLAS) and with --fast-linear (linear layers on oneDNN); `grid` times the landscape grid.
// The script is run as it is; the parsers below read its printed lines (tested on captured output).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runTimed, type TimedCommand } from './system';

export const DEFAULT_PYTHON = '/usr/bin/python3';

export interface TorchBenchRow {
  model: string;
  threads: number;
  /** 'nn.Linear' (as installed) or 'oneDNN' (--fast-linear: linear layers as 1x1 convolutions). */
  linear: 'nn.Linear' | 'oneDNN';
  batchSize: number;
  trainImagesPerSecond: number;
  evalImagesPerSecond: number;
  loadavg1: number | null;
}

/**
 * Parses `torch_reference.py bench` output, one line per configuration:
 * `small threads=2 linear=nn.Linear(BLAS)  train     1861 img/s   eval     9120 img/s  (loadavg 1.04)`.
 * Its training batch is 64 (bench_one's default).
 */
export function parseTorchBench(stdout: string): TorchBenchRow[] {
  const rows: TorchBenchRow[] = [];
  const re = /^\s*(\w+)\s+threads=(\d+)\s+linear=(\S+)\s+train\s+([\d.]+)\s+img\/s\s+eval\s+([\d.]+)\s+img\/s(?:\s+\(loadavg\s+([\d.]+)\))?/;
  for (const line of stdout.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    rows.push({
      model: m[1],
      threads: Number(m[2]),
      linear: /onednn|1x1/i.test(m[3]) ? 'oneDNN' : 'nn.Linear',
      batchSize: 64,
      trainImagesPerSecond: Number(m[4]),
      evalImagesPerSecond: Number(m[5]),
      loadavg1: m[6] !== undefined ? Number(m[6]) : null,
    });
  }
  return rows;
}

export interface TorchGridTiming {
  res: number;
  samplesPerTask: number;
  tasks: number;
  /** Wall time of the grid loop (the script's `grid_s`: plane and data loading excluded). */
  seconds: number;
  msPerPoint: number;
  imagesPerSecond: number;
  cpuPerWall: number | null;
}

/**
 * Parses `torch_reference.py grid` output:
 * `  (cpu/wall 1.97; loadavg start 1.1 end 1.3)` and
 * `grid 21x21, 1000 imgs/task/point, 2 tasks: 151.3s wall (343.1 ms/point, 5830 img/s)`.
 */
export function parseTorchGrid(stdout: string): TorchGridTiming | null {
  const m = /^grid (\d+)x\d+, (\d+) imgs\/task\/point, (\d+) tasks: ([\d.]+)s wall \(([\d.]+) ms\/point, ([\d.]+) img\/s\)/m.exec(stdout);
  if (!m) return null;
  const c = /\(cpu\/wall ([\d.]+);/.exec(stdout);
  return {
    res: Number(m[1]),
    samplesPerTask: Number(m[2]),
    tasks: Number(m[3]),
    seconds: Number(m[4]),
    msPerPoint: Number(m[5]),
    imagesPerSecond: Number(m[6]),
    cpuPerWall: c ? Number(c[1]) : null,
  };
}

/** Lines of JSON printed by our `-c` drivers (bench_one at other batch sizes, the checkpoint maker). */
export function parseJsonLines<T>(stdout: string): T[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as T);
}

export interface TorchProbe {
  ok: boolean;
  python: string;
  script: string;
  version?: string;
  /** Why the reference is not measured. */
  reason?: string;
}

/** Whether `python -c 'import torch'` works and the script exists. */
export function probeTorch(python: string, script: string): TorchProbe {
  if (!existsSync(script)) return { ok: false, python, script, reason: `no reference script at ${script}` };
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return { ok: false, python, script, reason: `${python}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, python, script, reason: `${python} -c 'import torch' failed: ${(r.stderr || '').trim().split('\n').pop() ?? ''}` };
  return { ok: true, python, script, version: r.stdout.trim() };
}

export interface TorchRunOptions {
  python: string;
  script: string;
  /** Raw IDX MNIST folder (the script reads `<dir>/train-images-idx3-ubyte`). */
  mnistDir?: string;
  /** Gzipped IDX Fashion-MNIST folder (`<dir>/train-images-idx3-ubyte.gz`). */
  fashionDir?: string;
  /** Where the script writes its result files (a temp folder by default, removed by dispose). */
  outDir?: string;
  onStderr?(text: string): void;
}

/** Runs the reference script's commands in one scratch folder. */
export function torchReference(opts: TorchRunOptions) {
  const out = opts.outDir ?? mkdtempSync(join(tmpdir(), 'clw-torch-'));
  const own = !opts.outDir;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REF_OUT: out,
    ...(opts.mnistDir ? { MNIST_DIR: opts.mnistDir } : {}),
    ...(opts.fashionDir ? { FASHION_DIR: opts.fashionDir } : {}),
  };
  const run = (args: string[], timeoutMs = 30 * 60_000): Promise<TimedCommand> => runTimed(opts.python, args, { cwd: out, env, timeoutMs, onStderr: opts.onStderr });
  const check = (what: string, r: TimedCommand) => {
    if (r.code !== 0) throw new Error(`torch_reference.py ${what} exited with ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return r;
  };
  const importScript = `import sys, json; sys.path.insert(0, ${JSON.stringify(dirname(opts.script))}); import torch_reference as ref`;
  return {
    outDir: out,
    /** `torch_reference.py bench`: every model, as installed and with --fast-linear, batch 64. */
    async bench(): Promise<{ rows: TorchBenchRow[]; command: TimedCommand }> {
      const r = check('bench', await run([opts.script, 'bench']));
      return { rows: parseTorchBench(r.stdout), command: r };
    },
    /** The script's bench_one (the same measurement as `bench`) at another batch size, both linear paths, 2 threads. */
    async benchBatch(model: string, batchSize: number): Promise<{ rows: TorchBenchRow[]; command: TimedCommand }> {
      const code = [
        importScript,
        `for fl in (False, True):`,
        `    tr, ev = ref.bench_one(${JSON.stringify(model)}, 2, fl, bs=${batchSize})`,
        `    print(json.dumps({"model": ${JSON.stringify(model)}, "threads": 2, "linear": "oneDNN" if fl else "nn.Linear", "batchSize": ${batchSize}, "trainImagesPerSecond": tr, "evalImagesPerSecond": ev, "loadavg1": ref.cpu_note()}), flush=True)`,
      ].join('\n');
      const r = check(`bench_one(bs=${batchSize})`, await run(['-c', code]));
      return { rows: parseJsonLines<TorchBenchRow>(r.stdout), command: r };
    },
    /** A checkpoint for `grid` without training: theta_A the seeded initial small CNN, theta_B = theta_A + 0.01 noise (grid cost does not depend on the weights). */
    async makeCheckpoint(): Promise<string> {
      const file = join(out, 'ckpt_bench_small.pt');
      const code = [
        importScript,
        `import torch`,
        `torch.manual_seed(0)`,
        `m = ref.make_model("small")`,
        `a = {k: v.clone() for k, v in m.state_dict().items()}`,
        `g = torch.Generator().manual_seed(1)`,
        `b = {k: v + 0.01 * torch.randn(v.shape, generator=g) for k, v in a.items()}`,
        `torch.save({"model": "small", "fast_linear": False, "theta_A": a, "theta_B": b}, ${JSON.stringify(file)})`,
        `print(json.dumps({"ckpt": ${JSON.stringify(file)}}))`,
      ].join('\n');
      check('checkpoint', await run(['-c', code]));
      return file;
    },
    /** `torch_reference.py grid --ckpt C --res G --n N` (its line of 11 points with full test sets follows the grid and is not in the grid's time). */
    async grid(ckpt: string, res: number, n: number): Promise<{ timing: TorchGridTiming | null; command: TimedCommand }> {
      const r = check('grid', await run([opts.script, 'grid', '--ckpt', ckpt, '--res', String(res), '--n', String(n)]));
      return { timing: parseTorchGrid(r.stdout), command: r };
    },
    /** `torch_reference.py run --model small --epochs 1`: the default experiment in PyTorch; its checkpoint feeds `grid`. */
    async run(model: string, epochs: number, fastLinear = false): Promise<{ result: TorchRunResult | null; ckpt: string; command: TimedCommand }> {
      const r = check('run', await run([opts.script, 'run', '--model', model, '--epochs', String(epochs), ...(fastLinear ? ['--fast-linear'] : [])]));
      const tag = `${model}${fastLinear ? '_fl' : ''}_e${epochs}_s0`;
      let result: TorchRunResult | null = null;
      try {
        result = JSON.parse(readFileSync(join(out, `result_${tag}.json`), 'utf8')) as TorchRunResult;
      } catch {
        result = null;
      }
      return { result, ckpt: join(out, `ckpt_${tag}.pt`), command: r };
    },
    dispose() {
      if (own) rmSync(out, { recursive: true, force: true });
    },
  };
}

/** The fields of the script's result_<tag>.json the bench reports. */
export interface TorchRunResult {
  R: number[][];
  BWT: number;
  FWT: number;
  train_img_s: number;
  eval_img_s: number;
  threads: number;
  torch: string;
}
