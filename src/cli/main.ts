// continual-workbench: the headless CLI on the same engine as the extension.
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { RunEvent } from '../protocol/events';
import { progressMessage, rowSummary, runProgress, runSetupTitle } from '../protocol/format';
import { applyRunEvent, type RunState } from '../protocol/runState';
import { runExperimentFile } from '../engine/runFile';
import { acquireRunLock, RunFolderInUseError, type RunLock } from '../engine/runLock';
import { formatDiagnostic, parseExperiment } from '../engine/config/load';
import { expandExperiment, type SweepExpansion } from '../engine/config/sweep';
import { createSweepFolder, isSweepFolder } from '../engine/sweep/folder';
import { formatResultTable } from './format';
import { benchCommand } from './bench';
import { runSweepLocally } from './sweep';
import { compareCommand } from './compare';
import { landscapeCommand } from './landscape';
import { pathsCommand } from './paths';
import { submitSweepToSlurm } from './slurm';

const EXIT_INVALID = 2;
/** Another run is writing into the --out folder. */
const EXIT_FOLDER_IN_USE = 3;

function defaultOutDir(file: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const slug = basename(file).replace(/\.cl\.json$|\.json$/, '').replace(/[^\w.-]+/g, '-');
  return join('runs', `${stamp}-${slug}`);
}

/**
 * Progress on a TTY: one bar over the whole run (training, then the landscape); otherwise a plain
 * line each time a stage crosses another tenth of its work. The words are the panel's and the
 * status bar's (protocol/format.ts), from the same fold of the events.
 */
function progressReporter(json: boolean) {
  const tty = process.stderr.isTTY && !json;
  const BAR_UNITS = 1000;
  let bar: SingleBar | null = null;
  let state: RunState | null = null;
  // Plain output: one line each time a stage crosses another tenth of its work.
  const lastDecile = new Map<string, number>();
  const crossedDecile = (stage: string, done: number, total: number) => {
    const decile = Math.floor((10 * done) / total);
    if (lastDecile.get(stage) === decile) return false;
    lastDecile.set(stage, decile);
    return true;
  };
  const barValue = () => Math.round(runProgress(state).fraction * BAR_UNITS);
  const showBar = () => bar?.update(barValue(), { message: progressMessage(state) });
  // A line of its own while the bar is drawn: stop the bar, write, draw it again below.
  const say = (line: string) => {
    bar?.stop();
    process.stderr.write(`${line}\n`);
    bar?.start(BAR_UNITS, barValue(), { message: progressMessage(state) });
  };
  return {
    onEvent(e: RunEvent) {
      try {
        state = applyRunEvent(state, e);
      } catch (err) {
        process.stderr.write(`warning: ${(err as Error).message}\n`);
        return;
      }
      if (e.type === 'dataReady') {
        process.stderr.write(`${runSetupTitle(state.result)}\n`);
        process.stderr.write(`data: ${e.tasks.map((t) => `${t.label} ${t.trainSize}/${t.testSize} (${t.source})`).join(', ')}; ${e.totalSteps} steps\n`);
        if (tty) {
          bar = new SingleBar({ format: ' |{bar}| {percentage}% · {message}', hideCursor: true, stream: process.stderr }, Presets.shades_classic);
          bar.start(BAR_UNITS, 0, { message: progressMessage(state) });
        }
      } else if (e.type === 'environment') {
        process.stderr.write(`backend: ${e.environment.backend} (tfjs ${e.environment.tfjsVersion}, ${e.environment.threads} thread(s))\n`);
      } else if (e.type === 'progress') {
        if (bar) showBar();
        else if (crossedDecile('train', e.step, e.totalSteps)) process.stderr.write(`${progressMessage(state)}\n`);
      } else if (e.type === 'taskFinished') {
        say(rowSummary(state.result, e.task, e.accuracy));
      } else if (e.type === 'landscapeProgress') {
        if (bar) showBar();
        else if (crossedDecile('landscape', e.done, e.total)) process.stderr.write(`${progressMessage(state)}\n`);
      } else if (e.type === 'log') {
        say(`${e.level}: ${e.message}`);
      } else if (e.type === 'note') {
        say(`note: ${e.message}`);
      } else if (e.type === 'finished') {
        showBar();
        bar?.stop();
        bar = null;
      }
    },
  };
}

interface RunCliOptions {
  out?: string;
  backend: string;
  json?: boolean;
  dataDir?: string;
  download: boolean;
  parallel?: string;
  resume?: boolean;
  executor: 'local' | 'slurm';
  partition?: string;
  time?: string;
}

async function cmdRun(file: string, o: RunCliOptions) {
  // A file with seeds or a sweep (or any file sent to Slurm) runs as a sweep folder of runs.
  const sweep = sweepOf(file, o.executor === 'slurm');
  if (sweep === 'invalid') return;
  if (sweep) return o.executor === 'slurm' ? cmdRunSlurm(file, sweep, o) : cmdRunSweep(file, sweep, o);
  return cmdRunOne(file, o);
}

/** The file's expansion when it is a sweep (or `always`); null for a plain run; 'invalid' after printing its errors. */
function sweepOf(file: string, always: boolean): { name: string; expansion: SweepExpansion } | null | 'invalid' {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null; // the single run reports it, as before
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const parsed = parseExperiment(text, path);
  if (!parsed.experiment) {
    if (!always && !/"(seeds|sweep)"\s*:/.test(text)) return null; // the single run reports the errors
    for (const d of parsed.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    process.exitCode = EXIT_INVALID;
    return 'invalid';
  }
  for (const d of parsed.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  if (parsed.sweep) return { name: parsed.experiment.name, expansion: parsed.sweep };
  if (!always) return null;
  const spec = JSON.parse(text) as Parameters<typeof expandExperiment>[0];
  return { name: parsed.experiment.name, expansion: expandExperiment(spec) };
}

async function cmdRunSweep(file: string, sweep: { name: string; expansion: SweepExpansion }, o: RunCliOptions) {
  const parallel = o.parallel !== undefined ? Number(o.parallel) : undefined;
  if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1)) {
    process.stderr.write(`error: --parallel must be a whole number ≥ 1, got ${o.parallel}\n`);
    process.exitCode = EXIT_INVALID;
    return;
  }
  const controller = new AbortController();
  const hardStop = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) hardStop.abort();
    else process.stderr.write('\ncancelling every run (Ctrl-C again to stop them at once)…\n');
    controller.abort();
  });
  const r = await runSweepLocally({
    file,
    name: sweep.name,
    expansion: sweep.expansion,
    out: o.out,
    resume: o.resume,
    parallel,
    backend: o.backend,
    dataDir: o.dataDir,
    download: o.download,
    json: o.json,
    cliPath: resolve(process.argv[1]),
    execArgv: process.execArgv,
    compare: compareCommand,
    signal: controller.signal,
    hardStop: hardStop.signal,
  });
  process.exitCode = r.code;
}

async function cmdRunSlurm(file: string, sweep: { name: string; expansion: SweepExpansion }, o: RunCliOptions) {
  const existing = o.out !== undefined && isSweepFolder(resolve(o.out));
  let dir: string;
  if (existing) dir = resolve(o.out!);
  else {
    try {
      dir = createSweepFolder(resolve(o.out ?? 'runs'), sweep.name, resolve(file), sweep.expansion, { type: 'slurm', submissions: [], partition: o.partition, time: o.time }).dir;
    } catch (e) {
      process.stderr.write(`error: ${(e as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`sweep: ${dir} (${sweep.expansion.runs.length} run(s))\n`);
  }
  process.exitCode = await submitSweepToSlurm(dir, { partition: o.partition, time: o.time, cliPath: resolve(process.argv[1]), resubmit: existing });
}

async function cmdRunOne(file: string, o: RunCliOptions) {
  const outDir = resolve(o.out ?? defaultOutDir(file));
  // Two runs writing one folder would overwrite each other's result: the second is refused.
  let lock: RunLock;
  try {
    lock = acquireRunLock(outDir);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    process.exitCode = e instanceof RunFolderInUseError ? EXIT_FOLDER_IN_USE : 1;
    return;
  }
  process.on('exit', () => lock.release());
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ncancelling (Ctrl-C again to quit at once)…\n');
    controller.abort();
  });
  const reporter = progressReporter(!!o.json);
  // Run from source (tsx) there is no built webview beside the CLI: the result without report.html.
  const assetsDir = existsSync(join(__dirname, 'webview.js')) ? __dirname : undefined;
  if (!assetsDir) process.stderr.write(`note: no report.html: ${join(__dirname, 'webview.js')} is missing (build with 'npm run build')\n`);
  const outcome = await runExperimentFile({
    file,
    outDir,
    backend: o.backend as 'auto',
    dataDir: o.dataDir,
    allowDownload: o.download,
    assetsDir,
    signal: controller.signal,
    onEvent: (e) => reporter.onEvent(e),
  });
  if (outcome.kind === 'invalid') {
    for (const line of [...outcome.errors, ...outcome.warnings]) process.stderr.write(line + '\n');
    process.exitCode = EXIT_INVALID;
    lock.release();
    // Nothing ran: no empty output folder left behind.
    try {
      rmdirSync(outDir);
    } catch {
      // not empty (an earlier run's files) or not ours: keep it
    }
    return;
  }
  const r = outcome.result;
  // A warning the run turned into a note was printed when it happened.
  const noted = (line: string) => (r.notes ?? []).some((n) => line.endsWith(`: ${n.message}`));
  for (const line of outcome.warnings) if (!noted(line)) process.stderr.write(line + '\n');
  if (o.json) process.stdout.write(JSON.stringify(r) + '\n');
  else {
    process.stdout.write(formatResultTable(r) + '\n');
    process.stdout.write(`result: ${outcome.resultFile}\n${assetsDir ? `report: ${join(outDir, 'report.html')}\n` : ''}`);
  }
  process.exitCode = r.status === 'completed' ? 0 : r.status === 'cancelled' ? 130 : 1;
  lock.release();
}

function cmdValidate(file: string) {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    process.stderr.write(`${path}: cannot read: ${(e as Error).message}\n`);
    process.exitCode = EXIT_INVALID;
    return;
  }
  const { diagnostics, sweep } = parseExperiment(text, path);
  for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (errors) process.exitCode = EXIT_INVALID;
  else {
    const runs = sweep ? `; a sweep of ${sweep.runs.length} run(s) over ${sweep.axes.map((a) => `${a.path} (${a.values.length})`).join(' × ')}` : '';
    process.stdout.write(`${path}: valid${diagnostics.length ? ` (${diagnostics.length} warning(s))` : ''}${runs}\n`);
  }
}

const program = new Command();
program.name('continual-workbench').description('Continual-learning experiments (catastrophic forgetting) on TensorFlow.js, headless.');
program
  .command('run')
  .argument('<file>', 'experiment file (*.cl.json)')
  .option('-o, --out <dir>', 'folder for result.json and report.html (default runs/<timestamp>-<name>); refused (exit code 3) while another run writes into it')
  .addOption(new Option('-b, --backend <name>', 'tfjs backend').choices(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'))
  .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
  .option('--data-dir <dir>', 'extra folder searched for datasets (also CLW_DATA_DIR)')
  .option('--no-download', 'never download datasets')
  .option('-p, --parallel <n>', 'seeds/sweep: runs at once, each in its own process (default: the number of CPU cores)')
  .option('--resume', 'seeds/sweep: continue the latest sweep folder of this file in the --out folder (or runs/), skipping its completed runs; --out naming a sweep folder does the same')
  .addOption(new Option('--executor <name>', 'where a sweep runs: here, or as a Slurm job array (sbatch)').choices(['local', 'slurm']).default('local'))
  .option('--partition <name>', 'Slurm partition (--executor slurm)')
  .option('--time <limit>', 'Slurm time limit per run, e.g. 00:30:00 (--executor slurm)')
  .description(
    'run an experiment; prints the accuracy matrix and metrics, writes result.json and report.html. A file with "seeds" or "sweep" runs every run in a sweep folder (<out>/<timestamp>-<name>-sweep/, default out runs/), then prints the comparison',
  )
  .action(cmdRun);
program
  .command('compare')
  .argument('<paths...>', 'run folders, result.json files or sweep folders')
  .option('-o, --out <dir>', 'folder for compare.html, compare.csv and compare.json (default: the sweep folder when given one, else compare-<timestamp>)')
  .option('--json', 'print the comparison as JSON on stdout instead of the table')
  .option('--csv', 'print the comparison as CSV on stdout instead of the table')
  .description('compare runs and sweeps: mean ± SEM over seeds, the accuracy matrices, metrics per run; writes compare.html')
  .action(async (paths: string[], o: { out?: string; json?: boolean; csv?: boolean }) => {
    process.exitCode = await compareCommand(paths, { out: o.out, json: o.json, csv: o.csv });
  });
program
  .command('landscape')
  .argument('<runDir>', 'a finished run folder (result.json and its stored weights)')
  .requiredOption('--pair <i,j>', 'the two phases whose optima sit at (0,0) and (1,0), e.g. 0,2')
  .option('--axis <axis>', 'second axis: pca (trajectory PCA), random (filter-normalised), or run:OTHER_RUN_DIR[@PHASE] (through that run\'s end weights)', 'pca')
  .option('--grid <n>', "points per axis (default: the run's)")
  .option('--force', 'recompute even when the landscape file exists')
  .addOption(new Option('-b, --backend <name>', "tfjs backend (default: the run's)").choices(['auto', 'tensorflow', 'wasm', 'cpu']))
  .option('--data-dir <dir>', 'extra folder searched for datasets (also CLW_DATA_DIR)')
  .description('recompute the loss landscape of a finished run for another pair of optima or second axis, without retraining; writes landscape-<i>-<j>-<axis>.json beside result.json')
  .action(async (runDir: string, o: { pair: string; axis?: string; grid?: string; force?: boolean; backend?: 'auto' | 'tensorflow' | 'wasm' | 'cpu'; dataDir?: string }) => {
    process.exitCode = await landscapeCommand(runDir, o);
  });
program
  .command('paths')
  .description('paths between solutions from the weights runs kept: lines, a trained Bézier curve, loss barriers; the plane through three models (continual-workbench paths --help)')
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments()
  .argument('[args...]')
  .action(async (args: string[]) => {
    process.exitCode = await pathsCommand(args);
  });
program.command('validate').argument('<file>').description('check an experiment file; errors as file:line:column').action(cmdValidate);
program
  .command('bench')
  .description("the engine's training step, evaluation, landscape grid (and with --full the default experiment) timed, against PyTorch in the same run (continual-workbench bench --help)")
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments()
  .argument('[args...]')
  .action(async (args: string[]) => {
    process.exitCode = await benchCommand(args);
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
