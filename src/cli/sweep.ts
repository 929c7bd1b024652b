// `continual-workbench run FILE` on a file with `seeds` or `sweep`: the sweep folder (a new one,
// or the one --out names / --resume finds, skipping its completed runs), then every run in a child
// process of its own (one tfjs per process), up to --parallel at once; a line per run as it ends,
// then the comparison table. Ctrl-C cancels every child (each writes its cancelled result).
import { THREADS_ENV, threadsPerRun } from '../engine/cores';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { ExperimentSpec } from '../protocol/experiment';
import { formatPercent, formatPoints } from '../protocol/format';
import { SWEEP_RUN_EXPERIMENT, type SweepIndex, type SweepRunEntry, type SweepRunState } from '../protocol/sweep';
import type { SweepExpansion } from '../engine/config/sweep';
import { createSweepFolder, isSweepFolder, readSweepIndex, readSweepRun, sweepEntries, standaloneRunSpec, updateSweepIndex, writeSweepRunExperiment } from '../engine/sweep/folder';

/** Each run's CLI output (its progress on stderr), in its folder. */
export const SWEEP_RUN_LOG = 'run.log';

export interface LocalSweepOptions {
  /** The experiment file. */
  file: string;
  /** The experiment's name and its expansion (config/load.ts parseExperiment). */
  name: string;
  expansion: SweepExpansion;
  /** A results folder to create the sweep folder in, or an existing sweep folder to continue. */
  out?: string;
  /** Continue the latest sweep folder of this file in the results folder (skip its completed runs). */
  resume?: boolean;
  /** Runs at once (default: the number of cores). */
  parallel?: number;
  backend: string;
  dataDir?: string;
  download: boolean;
  /** Print a JSON summary on stdout instead of the table. */
  json?: boolean;
  /** This CLI, as a child process runs it (process.argv[1]), and node's flags for it (tsx when run from source). */
  cliPath: string;
  execArgv: string[];
  /** Prints the comparison of the sweep folder (`compare`); returns its exit code. */
  compare?: (paths: string[], opts: { out?: string; json?: boolean; output?: { stdout(t: string): void; stderr(t: string): void } }) => Promise<number>;
  /** Ctrl-C: aborting cancels every running child and starts no more. */
  signal?: AbortSignal;
  /** A second Ctrl-C: kills the children at once. */
  hardStop?: AbortSignal;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export interface SweepRunSummary {
  index: number;
  folder: string;
  state: SweepRunState;
  /** Skipped: completed before this invocation. */
  skipped?: boolean;
  error?: string;
  acc?: number | null;
  bwt?: number | null;
  seconds?: number;
}

/** Exit codes: 0 every run completed; 1 a run failed; 2 the sweep folder cannot be used; 130 cancelled. */
export async function runSweepLocally(o: LocalSweepOptions): Promise<{ code: number; dir?: string; runs: SweepRunSummary[] }> {
  const out = o.stdout ?? ((t: string) => process.stdout.write(t));
  const err = o.stderr ?? ((t: string) => process.stderr.write(t));
  const parallel = Math.max(1, Math.floor(o.parallel ?? availableParallelism()));

  let dir: string;
  let index: SweepIndex;
  try {
    ({ dir, index } = sweepFolderFor(o, parallel, err));
  } catch (e) {
    err(`error: ${(e as Error).message}\n`);
    return { code: 2, runs: [] };
  }

  const summaries: SweepRunSummary[] = index.runs.map((r) => ({ index: r.index, folder: r.folder, state: 'pending' }));
  const queue: SweepRunEntry[] = [];
  for (const entry of index.runs) {
    const status = readSweepRun(dir, entry);
    if (status.state === 'completed') Object.assign(summaries[entry.index], { state: 'completed', skipped: true, acc: status.result?.metrics.acc, bwt: status.result?.metrics.bwt });
    else queue.push(entry);
  }
  const skipped = index.runs.length - queue.length;
  const workers = Math.min(parallel, queue.length);
  err(`sweep: ${dir}\n${index.runs.length} runs${skipped ? `, ${skipped} completed before (skipped)` : ''}; ${queue.length} to run, ${workers} at a time\n`);

  const children = new Set<ChildProcess>();
  let cancelled = o.signal?.aborted ?? false;
  const onAbort = () => {
    cancelled = true;
    err(`cancelling ${children.size} running run(s)…\n`);
    // Each child cancels as on its own Ctrl-C and writes its result.
    for (const c of children) c.kill('SIGINT');
  };
  o.signal?.addEventListener('abort', onAbort);
  const killAll = () => {
    for (const c of children) c.kill('SIGKILL');
  };
  o.hardStop?.addEventListener('abort', killAll);
  process.on('exit', killAll);

  let finished = 0;
  const runOne = (entry: SweepRunEntry): Promise<void> =>
    new Promise((done) => {
      const runDir = join(dir, entry.folder);
      const args = [...o.execArgv, o.cliPath, 'run', join(runDir, SWEEP_RUN_EXPERIMENT), '--out', runDir, '--json', '--backend', o.backend];
      if (o.dataDir) args.push('--data-dir', o.dataDir);
      if (!o.download) args.push('--no-download');
      const log = join(runDir, SWEEP_RUN_LOG);
      appendFileSync(log, `$ ${process.execPath} ${args.join(' ')}\n`);
      const t0 = Date.now();
      // Its own process group: a terminal's Ctrl-C reaches only this process, which cancels each child once.
      // Each run gets its share of the cores (its landscape workers follow CLW_THREADS): never workers x cores threads.
      const env = { ...process.env, [THREADS_ENV]: String(threadsPerRun(workers)) };
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: process.platform !== 'win32', env });
      children.add(child);
      let tail = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        appendFileSync(log, chunk);
        tail = (tail + chunk).slice(-4000);
      });
      const end = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
        children.delete(child);
        const status = readSweepRun(dir, entry);
        const s = summaries[entry.index];
        s.seconds = (Date.now() - t0) / 1000;
        s.acc = status.result?.metrics.acc;
        s.bwt = status.result?.metrics.bwt;
        const finishedResult = status.state === 'completed' || status.state === 'cancelled' || status.state === 'failed';
        if (finishedResult) {
          s.state = status.state;
          if (status.error) s.error = status.error;
        } else {
          // No result written (an invalid experiment, a crash before the run began): failed, with what it printed.
          s.state = cancelled && (signal === 'SIGINT' || code === 130) ? 'cancelled' : 'failed';
          const lines = tail.trim().split('\n').filter((l) => /error|Error/.test(l));
          s.error = spawnError?.message ?? (lines.length ? lines.slice(-3).join(' | ') : `the run's process ended (${signal ?? `exit code ${code}`}) without a result; see ${log}`);
        }
        finished++;
        err(`${summaryLine(s, finished, queue.length)}\n`);
        done();
      };
      child.on('error', (e) => end(null, null, e));
      child.on('close', (code, signal) => end(code, signal));
    });

  let next = 0;
  const worker = async () => {
    while (!cancelled && next < queue.length) await runOne(queue[next++]);
  };
  await Promise.all(Array.from({ length: workers }, worker));
  o.signal?.removeEventListener('abort', onAbort);
  o.hardStop?.removeEventListener('abort', killAll);
  process.removeListener('exit', killAll);

  const failed = summaries.filter((s) => s.state === 'failed' || s.state === 'missing');
  const notRun = summaries.filter((s) => s.state === 'pending');
  if (o.json) {
    if (o.compare) await o.compare([dir], { output: { stdout: () => {}, stderr: err } });
    out(JSON.stringify({ sweepDir: dir, runs: summaries }) + '\n');
  } else {
    out('\n');
    const code = o.compare ? await o.compare([dir], {}) : 1;
    if (!o.compare || code === 2) out(simpleTable(summaries) + '\n');
    out(`sweep: ${dir}\n`);
  }
  for (const s of failed) err(`failed: ${basename(s.folder)}: ${s.error ?? 'no result'}\n`);
  if (notRun.length) err(`${notRun.length} run(s) not started (cancelled): run the same command with --out ${dir} to continue\n`);
  const code = cancelled ? 130 : failed.length ? 1 : 0;
  return { code, dir, runs: summaries };
}

/** "[3/4] 002-strategy-ewc-seed-0  completed  ACC 81.2%  BWT -12.3  (21.4 s)". */
function summaryLine(s: SweepRunSummary, k: number, n: number): string {
  const label = basename(s.folder);
  const time = s.seconds !== undefined ? `  (${s.seconds.toFixed(1)} s)` : '';
  if (s.state === 'completed') return `[${k}/${n}] ${label}  completed  ACC ${formatPercent(s.acc)}%  BWT ${formatPoints(s.bwt, true)}${time}`;
  return `[${k}/${n}] ${label}  ${s.state.toUpperCase()}${s.error ? `: ${s.error}` : ''}${time}`;
}

/** Without `compare`: ACC and BWT per run. */
function simpleTable(runs: SweepRunSummary[]): string {
  const rows = [['run', 'state', 'ACC %', 'BWT pts'], ...runs.map((s) => [basename(s.folder), s.state, formatPercent(s.acc), formatPoints(s.bwt, true)])];
  const w = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  return rows.map((r) => r.map((c, k) => (k < 2 ? c.padEnd(w[k]) : c.padStart(w[k]))).join('  ')).join('\n');
}

/** The sweep folder to run in: the one --out names, the latest of this file with --resume, or a new one. */
function sweepFolderFor(o: LocalSweepOptions, parallel: number, err: (t: string) => void): { dir: string; index: SweepIndex } {
  const file = resolve(o.file);
  const executor = { type: 'local' as const, parallel };
  let existing: string | undefined;
  if (o.out && isSweepFolder(resolve(o.out))) existing = resolve(o.out);
  else if (o.resume) {
    existing = latestSweepOf(resolve(o.out ?? 'runs'), file);
    if (!existing) err(`--resume: no sweep of ${file} in ${resolve(o.out ?? 'runs')}: starting a new one\n`);
  }
  if (!existing) return createSweepFolder(resolve(o.out ?? 'runs'), o.name, file, o.expansion, executor);
  const index = readSweepIndex(existing);
  checkSameSweep(existing, index, o);
  // Folders removed since are made again; the index records this invocation's executor.
  for (const [i, entry] of index.runs.entries()) {
    const status = readSweepRun(existing, entry);
    if (status.state !== 'completed') writeSweepRunExperiment(existing, entry, o.expansion.runs[i].spec, o.name, file);
  }
  return { dir: existing, index: updateSweepIndex(existing, (ix) => ({ ...ix, executor })) };
}

/** The newest sweep folder in `resultsDir` made from `file`. */
function latestSweepOf(resultsDir: string, file: string): string | undefined {
  let names: string[];
  try {
    names = readdirSync(resultsDir).sort().reverse();
  } catch {
    return undefined;
  }
  for (const name of names) {
    const dir = join(resultsDir, name);
    if (!isSweepFolder(dir)) continue;
    try {
      if (readSweepIndex(dir).experimentFile === file) return dir;
    } catch {
      // not readable: not ours to continue
    }
  }
  return undefined;
}

/** Continuing a sweep folder: the file must still expand to the same runs, with the same experiments. */
function checkSameSweep(dir: string, index: SweepIndex, o: LocalSweepOptions): void {
  const entries = sweepEntries(o.expansion);
  const same = entries.length === index.runs.length && entries.every((e, i) => e.folder === index.runs[i].folder && isDeepStrictEqual(e.params, index.runs[i].params));
  if (!same) throw new Error(`${dir} holds another sweep (${index.runs.length} runs over ${index.axes.map((a) => a.path).join(', ') || 'nothing'}) than ${o.file} expands to now: choose another --out`);
  for (const [i, entry] of index.runs.entries()) {
    if (readSweepRun(dir, entry).state !== 'completed') continue;
    let written: ExperimentSpec;
    try {
      written = JSON.parse(readFileSync(join(dir, entry.folder, SWEEP_RUN_EXPERIMENT), 'utf8')) as ExperimentSpec;
    } catch {
      continue;
    }
    if (!isDeepStrictEqual(written, standaloneRunSpec(o.expansion.runs[i].spec, o.name, o.file))) {
      throw new Error(`${o.file} has changed since ${join(dir, entry.folder)} completed (its ${SWEEP_RUN_EXPERIMENT} differs): run into a new folder, or restore the file`);
    }
  }
}
