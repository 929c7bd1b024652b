// Sweeps from VS Code: an experiment file with `seeds` or `sweep` becomes a sweep folder (sweep.json
// and one run folder per expanded run, engine/sweep/folder.ts) whose runs train locally through the
// RunManager's queue (at most maxConcurrentRuns at once), or go to Slurm as one job array
// (cli/slurm.ts). Resume runs what did not complete; a Slurm sweep is resubmitted the same way.
import * as vscode from 'vscode';
import { basename, join } from 'node:path';
import type { SweepIndex, SweepRunEntry } from '../protocol/sweep';
import { SWEEP_RUN_EXPERIMENT } from '../protocol/sweep';
import type { SweepExpansion } from '../engine/config/sweep';
import { clusterTaskStates, type ClusterTaskState } from './runIndex';
import type { Run, RunManager, StartRunOptions } from './runManager';
import { ensureTrustedForRun } from './trust';

type FolderModule = typeof import('../engine/sweep/folder');
type ConfigModule = typeof import('../engine/config/load');
type SlurmModule = typeof import('../cli/slurm');
let folderModule: Promise<FolderModule> | undefined;
let configModule: Promise<ConfigModule> | undefined;
let slurmModule: Promise<SlurmModule> | undefined;
// Loaded on first use: activation pays for none of it.
const loadFolderModule = () => (folderModule ??= import('../engine/sweep/folder'));
const loadConfigModule = () => (configModule ??= import('../engine/config/load'));
const loadSlurmModule = () => (slurmModule ??= import('../cli/slurm'));

export interface SweepDeps {
  runs: RunManager;
  output: vscode.OutputChannel;
  extensionUri: vscode.Uri;
  /** Opens the compare panel (comparePanel.ts). */
  compare(paths: string[]): Promise<unknown>;
}

/** A sweep file validated by the caller: its path, its name and its expansion (ParsedExperiment.sweep). */
export interface SweepFile {
  file: string;
  name: string;
  expansion: SweepExpansion;
  workspaceFolder: string | undefined;
}

/**
 * Creates the sweep folder and starts every run of it (queued beyond maxConcurrentRuns); opens the
 * compare panel of the sweep, which fills in as runs finish. Returns the runs started.
 */
export async function startLocalSweep(deps: SweepDeps, sweep: SweepFile): Promise<Run[]> {
  const { createSweepFolder } = await loadFolderModule();
  const resultsDir = deps.runs.resultsDirFor(sweep.file, sweep.workspaceFolder);
  const parallel = deps.runs.maxConcurrentRuns();
  const { dir, index } = createSweepFolder(resultsDir, sweep.name, sweep.file, sweep.expansion, { type: 'local', parallel });
  deps.output.appendLine(`sweep ${sweep.file}: ${index.runs.length} runs in ${dir}, ${Math.min(parallel, index.runs.length)} at a time (setting continualWorkbench.maxConcurrentRuns)`);
  const options = await runOptions(dir, index, index.runs, sweep.workspaceFolder);
  if (!options) return [];
  const started = deps.runs.startSweep({ name: index.name || sweep.name, dir }, options);
  void deps.compare([dir]);
  return started;
}

/**
 * Resume (local) or resubmit (Slurm) a sweep: the runs without a completed result run again in
 * their folders; completed runs are skipped.
 */
export async function resumeSweep(deps: SweepDeps, dir: string): Promise<Run[]> {
  if (!(await ensureTrustedForRun())) return [];
  const { readSweepIndex, sweepRunStates } = await loadFolderModule();
  let index: SweepIndex;
  try {
    index = readSweepIndex(dir);
  } catch (e) {
    void vscode.window.showErrorMessage(`Continual Workbench cannot resume the sweep in ${dir}: ${(e as Error).message}`);
    return [];
  }
  if (index.executor.type === 'slurm') {
    await submitToSlurm(deps, dir, index, { resubmit: true });
    return [];
  }
  const busy = deps.runs.unfinished.filter((r) => r.sweepDir === dir || r.runDir.startsWith(dir + '/'));
  if (busy.length) {
    void vscode.window.showWarningMessage(`Continual Workbench: the sweep "${index.name}" still has ${busy.length} run(s) queued or running here; resume it when they end.`);
    return [];
  }
  const states = sweepRunStates(dir, index);
  const todo = index.runs.filter((_, i) => states[i] !== 'completed');
  if (!todo.length) {
    void vscode.window.showInformationMessage(`Continual Workbench: every run of the sweep "${index.name}" completed; nothing to resume.`);
    return [];
  }
  const workspaceFolder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir))?.uri.fsPath;
  const options = await runOptions(dir, index, todo, workspaceFolder);
  if (!options) return [];
  deps.output.appendLine(`sweep ${dir}: resuming ${todo.length} of ${index.runs.length} runs (skipping ${index.runs.length - todo.length} completed)`);
  const started = deps.runs.startSweep({ name: index.name, dir }, options);
  void deps.compare([dir]);
  return started;
}

/**
 * Each run's start options: its folder and its own experiment.cl.json, validated as its trainer will
 * read it (what its result names, so Run File Again runs that one run). Undefined after saying why not.
 */
async function runOptions(dir: string, index: SweepIndex, entries: SweepRunEntry[], workspaceFolder: string | undefined): Promise<StartRunOptions[] | undefined> {
  const { loadExperimentFile } = await loadConfigModule();
  const options: StartRunOptions[] = [];
  for (const entry of entries) {
    const runDir = join(dir, entry.folder);
    const runFile = join(runDir, SWEEP_RUN_EXPERIMENT);
    const parsed = await loadExperimentFile(runFile);
    if (!parsed.experiment) {
      const first = parsed.diagnostics.find((d) => d.severity === 'error');
      void vscode.window.showErrorMessage(`Continual Workbench cannot start run ${entry.index} of "${index.name}": ${first ? `${basename(first.file)}:${first.line}:${first.column}: ${first.message}` : 'its experiment file is not valid'}`);
      return undefined;
    }
    options.push({ experimentFile: runFile, experiment: parsed.experiment, workspaceFolder, runDir });
  }
  return options;
}

/** Creates the sweep folder for Slurm and submits it as one job array. */
export async function startSlurmSweep(deps: SweepDeps, sweep: SweepFile, opts: { partition?: string; time?: string }): Promise<string | undefined> {
  const { createSweepFolder } = await loadFolderModule();
  const resultsDir = deps.runs.resultsDirFor(sweep.file, sweep.workspaceFolder);
  const { dir, index } = createSweepFolder(resultsDir, sweep.name, sweep.file, sweep.expansion, { type: 'slurm', submissions: [], ...opts });
  const ok = await submitToSlurm(deps, dir, index, opts);
  return ok ? dir : undefined;
}

/** The CLI as the compute nodes run it: this extension's dist/cli.js (on a shared file system, as the workspace). */
function cliPath(deps: SweepDeps): string {
  return vscode.Uri.joinPath(deps.extensionUri, 'dist', 'cli.js').fsPath;
}

/** Node.js for the array tasks: this host's when it is a plain node (Remote-SSH, code-server), else `node` on the PATH. */
function nodeForTasks(): string {
  return /^node(\.exe)?$/i.test(basename(process.execPath)) ? process.execPath : 'node';
}

async function submitToSlurm(deps: SweepDeps, dir: string, index: SweepIndex, opts: { partition?: string; time?: string; resubmit?: boolean }): Promise<boolean> {
  const { submitSweepToSlurm } = await loadSlurmModule();
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Continual Workbench: submitting "${index.name}" to Slurm…` }, () =>
    submitSweepToSlurm(dir, {
      cliPath: cliPath(deps),
      node: nodeForTasks(),
      partition: opts.partition,
      time: opts.time,
      resubmit: opts.resubmit,
      out: (l) => lines.push(l),
      err: (l) => errors.push(l),
    }),
  );
  for (const l of [...lines, ...errors]) deps.output.appendLine(`slurm ${basename(dir)}: ${l}`);
  if (code !== 0) {
    const showOutput = 'Show Output';
    const pick = await vscode.window.showErrorMessage(`Continual Workbench could not submit "${index.name}" to Slurm: ${errors[0]?.replace(/^error: /, '') ?? `exit code ${code}`}`, showOutput);
    if (pick === showOutput) deps.output.show(true);
    return false;
  }
  void vscode.window.showInformationMessage(`Continual Workbench: ${lines[0] ?? 'submitted to Slurm'}. The Runs view follows the array tasks.`);
  return true;
}

/** What Slurm says about a sweep's array tasks, for the Runs view (by array index). */
export async function clusterStates(dir: string): Promise<Map<number, ClusterTaskState>> {
  const { slurmSweepStatus } = await loadSlurmModule();
  return clusterTaskStates(await slurmSweepStatus(dir));
}

/** Asks for the Slurm partition and time limit (both optional: empty keeps the cluster's defaults). */
export async function askSlurmOptions(): Promise<{ partition?: string; time?: string } | undefined> {
  const partition = await vscode.window.showInputBox({ title: 'Run Sweep on Slurm (1/2)', prompt: 'Partition (empty: the cluster\'s default)', placeHolder: 'e.g. gpu, short', ignoreFocusOut: true });
  if (partition === undefined) return undefined;
  const time = await vscode.window.showInputBox({
    title: 'Run Sweep on Slurm (2/2)',
    prompt: 'Time limit per run (empty: the partition\'s default)',
    placeHolder: 'e.g. 30:00 or 1-00:00:00',
    ignoreFocusOut: true,
    validateInput: (v) => (!v.trim() || /^[\d:-]+$/.test(v.trim()) ? undefined : 'Slurm time: minutes, MM:SS, HH:MM:SS or D-HH:MM:SS'),
  });
  if (time === undefined) return undefined;
  return { ...(partition.trim() ? { partition: partition.trim() } : {}), ...(time.trim() ? { time: time.trim() } : {}) };
}
