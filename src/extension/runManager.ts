// The UI of runs: reads the settings, reserves each run's folder, and shows the runs of
// trainerProcess.ts (which forks, queues, cancels and decides outcomes without VS Code) in a
// progress notification, the status bar, context keys and end notifications.
import * as vscode from 'vscode';
import { join, dirname } from 'node:path';
import type { RunEvent } from '../protocol/events';
import type { ExperimentSpec, NormalisedExperiment } from '../protocol/experiment';
import type { BackendName } from '../protocol/result';
import { progressMessage, rowSummary, runProgress } from '../protocol/format';
import { effectiveMaxConcurrentRuns } from './concurrency';
import { reserveRunDir, resolveResultsDir } from './runFolder';
import { statusBarText } from './runStatus';
import { writeReplayFile } from './replay';
import { CANCEL_GRACE_MS, TrainerProcess, TrainerRun, type TrainerListener } from './trainerProcess';

export { CANCEL_GRACE_MS, type HostMetrics, type RunPhase, type RunOutcome } from './trainerProcess';

const UI_UPDATE_MS = 250;

export interface StartRunOptions {
  /** Absolute path of the experiment file (already validated by the caller). */
  experimentFile: string;
  experiment: NormalisedExperiment;
  /** Folder of the workspace folder holding the experiment, if any (results dir is relative to it). */
  workspaceFolder?: string;
  /**
   * Rerun: the recorded experiment as a file (replay.ts). The trainer runs this copy, written into
   * the run folder, instead of reading `experimentFile`, which stays the run's experiment file.
   */
  replay?: ExperimentSpec;
  /**
   * A folder made for this run beforehand (a run of a sweep, its expanded experiment file in it as
   * `experimentFile`, sweep/folder.ts): the trainer runs there instead of in a new folder.
   */
  runDir?: string;
  /** The sweep folder this run belongs to: no notification or panel of its own (the sweep has one). */
  sweepDir?: string;
}

/** One sweep started from this window: its runs share one progress notification. */
export interface SweepStart {
  name: string;
  dir: string;
}

/** A run as the UI sees it: a TrainerRun with VS Code events for its panel and progress. */
export class Run extends TrainerRun {
  /** The sweep folder when the run is one run of a sweep. */
  sweepDir: string | undefined;
  private readonly eventEmitter = new vscode.EventEmitter<RunEvent>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** Every run event, in order, after it was folded into `state`. */
  readonly onEvent = this.eventEmitter.event;
  /** Phase or cancel state changed (queued -> running -> ended). */
  readonly onDidChange = this.changeEmitter.event;

  fireEvent(e: RunEvent): void {
    this.eventEmitter.fire(e);
  }

  changed(): void {
    this.changeEmitter.fire();
  }

  disposeEvents(): void {
    this.eventEmitter.dispose();
    this.changeEmitter.dispose();
  }
}

export interface RunManagerContext {
  extensionUri: vscode.Uri;
  globalStorageUri: vscode.Uri;
  output: vscode.OutputChannel;
}

export class RunManager implements vscode.Disposable {
  private readonly trainers: TrainerProcess<Run>;
  private readonly statusBar: vscode.StatusBarItem;
  private readonly launchEmitter = new vscode.EventEmitter<Run>();
  /** A run's trainer process was started (after waiting in the queue, if it had to). */
  readonly onDidLaunch = this.launchEmitter.event;
  private statusTimer: ReturnType<typeof setTimeout> | undefined;
  private contextKey: string | undefined;

  constructor(private readonly ctx: RunManagerContext) {
    this.statusBar = vscode.window.createStatusBarItem('continualWorkbench.run', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = 'Continual Workbench Run';
    const dist = vscode.Uri.joinPath(ctx.extensionUri, 'dist').fsPath;
    this.trainers = new TrainerProcess<Run>({
      entry: join(dist, 'trainer.js'),
      maxConcurrentRuns: () => this.maxConcurrentRuns(),
      settings: (run) => {
        const cfg = vscode.workspace.getConfiguration('continualWorkbench', vscode.Uri.file(run.experimentFile));
        return {
          backend: cfg.get<BackendName | 'auto'>('backend', 'auto'),
          dataDir: cfg.get<string>('dataDir')?.trim() || undefined,
          cacheDir: join(ctx.globalStorageUri.fsPath, 'datasets'),
          assetsDir: dist,
        };
      },
      listener: this.listener(),
    });
    this.updateContext();
  }

  get(id: string): Run | undefined {
    return this.trainers.get(id);
  }

  /** Runs that are queued or running. */
  get unfinished(): Run[] {
    return this.trainers.unfinished;
  }

  /** The unfinished run writing this result file, if any. */
  findByResultFile(file: string): Run | undefined {
    return this.trainers.findByResultFile(file);
  }

  /** Setting continualWorkbench.maxConcurrentRuns; 0 (the default): the number of cores. */
  maxConcurrentRuns(): number {
    return effectiveMaxConcurrentRuns(vscode.workspace.getConfiguration('continualWorkbench').get<number | null>('maxConcurrentRuns'));
  }

  /** Where the runs of an experiment file go (setting continualWorkbench.resultsDir). */
  resultsDirFor(experimentFile: string, workspaceFolder: string | undefined): string {
    const setting = vscode.workspace.getConfiguration('continualWorkbench', vscode.Uri.file(experimentFile)).get<string>('resultsDir');
    return resolveResultsDir(setting, workspaceFolder, dirname(experimentFile));
  }

  start(opts: StartRunOptions): Run {
    // The one door to a trainer: callers check trust with a message; this makes forgetting it impossible.
    if (!vscode.workspace.isTrusted) throw new Error('Continual Workbench: runs need a trusted workspace (Restricted Mode is on)');
    const runDir = opts.runDir ?? reserveRunDir(this.resultsDirFor(opts.experimentFile, opts.workspaceFolder), opts.experiment.name);
    const run = new Run(opts.experimentFile, opts.experiment, runDir);
    run.sweepDir = opts.sweepDir;
    if (opts.replay) run.trainerFile = writeReplayFile(run.runDir, opts.replay);
    this.log(run, `experiment ${opts.experimentFile} -> ${run.runDir}`);
    if (!run.sweepDir) this.showProgress(run);
    this.trainers.start(run);
    this.scheduleUiUpdate();
    return run;
  }

  /**
   * Starts the runs of a sweep (each in its folder of the sweep) through the same queue as every
   * run, so at most maxConcurrentRuns train at once; one notification follows the whole sweep.
   */
  startSweep(sweep: SweepStart, runs: StartRunOptions[]): Run[] {
    if (!vscode.workspace.isTrusted) throw new Error('Continual Workbench: runs need a trusted workspace (Restricted Mode is on)');
    const started = runs.map((o) => this.start({ ...o, sweepDir: sweep.dir }));
    this.showSweepProgress(sweep, started);
    return started;
  }

  /** Asks the trainer to stop; kills it if it has not exited after `graceMs`. Queued runs just leave the queue. */
  cancel(run: Run, graceMs = CANCEL_GRACE_MS): void {
    this.trainers.cancel(run, graceMs);
    this.scheduleUiUpdate();
  }

  /** Deactivation: stop every run (short grace) and wait until their results are written. */
  shutdown(): Promise<void> {
    return this.trainers.shutdown();
  }

  dispose(): void {
    this.trainers.dispose();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusBar.dispose();
    this.launchEmitter.dispose();
  }

  /** The trainers' events, adapted to VS Code events, the output channel and the status bar. */
  private listener(): TrainerListener<Run> {
    return {
      log: (run, message) => this.log(run, message),
      event: (run, e) => {
        run.fireEvent(e);
        this.logEvent(run, e);
        this.scheduleUiUpdate();
      },
      changed: (run) => {
        run.changed();
        this.scheduleUiUpdate();
      },
      launched: (run) => this.launchEmitter.fire(run),
      ended: (run) => {
        run.disposeEvents();
        this.notifyEnd(run);
        this.scheduleUiUpdate();
      },
    };
  }

  private logEvent(run: Run, e: RunEvent): void {
    switch (e.type) {
      case 'log':
        this.log(run, `${e.level}: ${e.message}`);
        break;
      case 'note':
        this.log(run, `note: ${e.message}`);
        break;
      case 'environment':
        this.log(run, `backend ${e.environment.backend}, tfjs ${e.environment.tfjsVersion}, node ${e.environment.nodeVersion}`);
        break;
      case 'taskFinished':
        this.log(run, rowSummary(run.state!.result, e.task, e.accuracy));
        break;
      case 'finished':
        this.log(run, `finished: ${e.status}${e.error ? ` (${e.error.phase}: ${e.error.message})` : ''}`);
        break;
      default:
        break;
    }
  }

  private notifyEnd(run: Run): void {
    // A sweep's runs are summed up by the sweep's notification (showSweepProgress).
    if (run.sweepDir) return;
    if (run.outcome === 'completed' || run.outcome === 'cancelled') {
      vscode.window.setStatusBarMessage(`$(beaker) ${run.name}: ${run.outcome}`, 5000);
      return;
    }
    const what = run.outcome === 'invalid' ? 'has an invalid experiment file' : 'failed';
    const showOutput = 'Show Output';
    const showRun = 'Show Workbench';
    const actions = run.outcome === 'failed' && run.state ? [showRun, showOutput] : [showOutput];
    void vscode.window.showErrorMessage(`Continual Workbench: run "${run.name}" ${what}: ${run.endMessage}`, ...actions).then((pick) => {
      if (pick === showOutput) this.ctx.output.show(true);
      if (pick === showRun) void vscode.commands.executeCommand('continualWorkbench.showRun', run.id);
    });
  }

  private showProgress(run: Run): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Continual Workbench: ${run.name}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => this.cancel(run));
        let reported = 0;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const report = () => {
          timer = undefined;
          if (run.phase === 'ended') return;
          const pct = Math.floor(runProgress(run.state).fraction * 100);
          const message =
            run.phase === 'queued'
              ? 'queued: waiting for a free slot (setting continualWorkbench.maxConcurrentRuns)'
              : run.cancelRequested
                ? 'cancelling…'
                : progressMessage(run.state);
          progress.report({ message, increment: Math.max(0, pct - reported) });
          reported = Math.max(reported, pct);
        };
        const schedule = () => {
          if (!timer) timer = setTimeout(report, UI_UPDATE_MS);
        };
        const subs = [run.onEvent(schedule), run.onDidChange(report)];
        report();
        return run.done.finally(() => {
          if (timer) clearTimeout(timer);
          for (const s of subs) s.dispose();
        });
      },
    );
  }

  /** One notification for a sweep: "3/9 runs done · 2 running · 1 failed", then a summary. */
  private showSweepProgress(sweep: SweepStart, runs: Run[]): void {
    const total = runs.length;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Continual Workbench: sweep ${sweep.name}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => {
          for (const r of runs) this.cancel(r);
        });
        let reported = 0;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const report = () => {
          timer = undefined;
          const done = runs.filter((r) => r.phase === 'ended').length;
          if (done === total) return;
          const running = runs.filter((r) => r.phase === 'running').length;
          const failed = runs.filter((r) => r.phase === 'ended' && r.outcome !== 'completed').length;
          const parts = [`${done}/${total} runs done`];
          if (running) parts.push(`${running} running`);
          if (failed) parts.push(`${failed} failed or cancelled`);
          if (runs.some((r) => r.cancelRequested && r.phase !== 'ended')) parts.push('cancelling…');
          // Runs in flight count by their progress, so the bar moves between completions.
          const fraction = runs.reduce((sum, r) => sum + (r.phase === 'ended' ? 1 : r.phase === 'running' ? runProgress(r.state).fraction : 0), 0) / total;
          const pct = Math.floor(fraction * 100);
          progress.report({ message: parts.join(' · '), increment: Math.max(0, pct - reported) });
          reported = Math.max(reported, pct);
        };
        const schedule = () => {
          if (!timer) timer = setTimeout(report, UI_UPDATE_MS);
        };
        const subs = runs.flatMap((r) => (r.phase === 'ended' ? [] : [r.onEvent(schedule), r.onDidChange(schedule)]));
        report();
        return Promise.all(runs.map((r) => r.done)).finally(() => {
          if (timer) clearTimeout(timer);
          for (const s of subs) s.dispose();
          this.notifySweepEnd(sweep, runs);
        });
      },
    );
  }

  private notifySweepEnd(sweep: SweepStart, runs: Run[]): void {
    const completed = runs.filter((r) => r.outcome === 'completed').length;
    const failed = runs.filter((r) => r.outcome === 'failed' || r.outcome === 'invalid');
    const cancelled = runs.filter((r) => r.outcome === 'cancelled').length;
    const summary = `sweep "${sweep.name}": ${completed}/${runs.length} runs completed${failed.length ? `, ${failed.length} failed` : ''}${cancelled ? `, ${cancelled} cancelled` : ''}`;
    this.ctx.output.appendLine(`[${new Date().toISOString().slice(11, 23)}] ${summary} (${sweep.dir})`);
    for (const r of failed) this.ctx.output.appendLine(`  ${r.folderName}: ${r.endMessage ?? r.outcome}`);
    const compare = 'Open Compare';
    const showOutput = 'Show Output';
    const pick = failed.length ? vscode.window.showErrorMessage(`Continual Workbench: ${summary}.`, compare, showOutput) : vscode.window.showInformationMessage(`Continual Workbench: ${summary}.`, compare);
    void pick.then((choice) => {
      if (choice === showOutput) this.ctx.output.show(true);
      if (choice === compare) void vscode.commands.executeCommand('continualWorkbench.openCompare', [sweep.dir]);
    });
  }

  private scheduleUiUpdate(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.updateStatusBar();
      this.updateContext();
    }, UI_UPDATE_MS);
  }

  private updateStatusBar(): void {
    const active = this.trainers.activeRuns;
    const queued = this.trainers.queuedRuns.length;
    const primary = active.at(-1);
    if (!primary) {
      if (!queued) return this.statusBar.hide();
      this.statusBar.text = `$(beaker) ${queued} queued`;
      this.statusBar.command = undefined;
      this.statusBar.show();
      return;
    }
    this.statusBar.text = primary.cancelRequested ? `$(beaker) cancelling ${primary.name}…` : statusBarText(primary.state, active.length - 1, queued);
    this.statusBar.tooltip = `${primary.name}\n${primary.runDir}\nClick to show the workbench`;
    this.statusBar.command = { command: 'continualWorkbench.showRun', title: 'Show Workbench', arguments: [primary.id] };
    this.statusBar.show();
  }

  private updateContext(): void {
    const files = [...new Set(this.unfinished.map((r) => r.experimentFile))].sort();
    const key = files.join('\n');
    if (key === this.contextKey) return;
    this.contextKey = key;
    void vscode.commands.executeCommand('setContext', 'continualWorkbench.runActive', files.length > 0);
    // For `resourcePath in continualWorkbench.runningExperiments` (the editor title's cancel button).
    void vscode.commands.executeCommand('setContext', 'continualWorkbench.runningExperiments', files);
  }

  private log(run: Run, message: string): void {
    this.ctx.output.appendLine(`[${new Date().toISOString().slice(11, 23)}] [${run.folderName}] ${message}`);
  }
}
