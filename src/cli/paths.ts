// `continual-workbench paths REF_RUN [--to RUN ...] [--bezier [--steps N]] [--plane-with RUN] [--runs R ...]`:
// paths between solutions from the weights runs kept (no retraining): the straight line
// theta_A -> theta_B of the reference run, the line from theta_A to each --to run's end weights,
// optionally a trained quadratic Bezier curve theta_A -> theta_B (Garipov et al. 2018), each with
// every task's loss along it and its loss barrier per task; and optionally the plane through
// theta_A, theta_B and a third run's end weights with every selected run projected onto it.
// The job is engine/landscape/pathsJob.ts (it names, writes and reopens the files); this parses
// the arguments and prints the barriers table.
import { Command, CommanderError, Option } from 'commander';
import type { BackendName } from '../protocol/result';
import { barrierTable } from '../engine/landscape/paths';
import { projectionTable, runPathsJob } from '../engine/landscape/pathsJob';

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
    .option('--force', 'recompute even when the files exist (default: reopen them)')
    .option('--json', 'print the paths (and the plane) as JSON on stdout instead of the table')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    return e instanceof CommanderError ? (e.exitCode === 0 ? 0 : 2) : 2;
  }
  const o = program.opts<{ to?: string[]; bezier?: boolean; steps: number; lr: number; batchSize: number; points: number; planeWith?: string; runs?: string[]; grid?: number; optima?: string; allowInitOnly?: boolean; force?: boolean; backend?: BackendName | 'auto'; dataDir?: string; download: boolean; json?: boolean }>();
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
      force: o.force,
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
      io.stdout(`\n${out.reopened.paths && (!out.plane || out.reopened.plane) ? 'reopened' : 'wrote'} ${out.files.join(', ')}\n`);
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
