// Runs experiments in forked trainer processes (one per run; training never runs on the extension
// host): concurrency limit with a queue, cancel with a grace period, crash handling, progress in a
// notification and the status bar, and the host's event-loop delay while runs are active.
import * as vscode from 'vscode';
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setPriority } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { RunEvent } from '../protocol/events';
import type { ExperimentSpec, NormalisedExperiment } from '../protocol/experiment';
import type { BackendName } from '../protocol/result';
import { applyRunEvent, type RunState } from '../protocol/runState';
import type { FromTrainerMessage, RunRequest, ToTrainerMessage } from '../protocol/trainer';
import { writeFileAtomic } from '../engine/atomicWrite';
import { resolveResultsDir, runFolderName } from './runFolder';
import { progressMessage, rowSummary, runProgress } from '../protocol/format';
import { statusBarText } from './runStatus';
import { REPLAY_FILE_NAME, restoreExperimentFile, writeReplayFile } from './replay';

const TRAINER_NICENESS = 10;

/** How long a trainer gets to stop after a cancel request before it is killed. */
export const CANCEL_GRACE_MS = 10_000;
/** Shorter grace when the extension host is shutting down (deactivate has a few seconds). */
const SHUTDOWN_GRACE_MS = 2_000;
const EVENT_LOOP_RESOLUTION_MS = 10;
const UI_UPDATE_MS = 250;
const STDERR_TAIL_LINES = 20;
const KEEP_ENDED_RUNS = 20;

export type RunPhase = 'queued' | 'running' | 'ended';
export type RunOutcome = 'completed' | 'cancelled' | 'failed' | 'invalid';

export interface HostMetrics {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  samples: number;
  resolutionMs: number;
  durationMs: number;
  /** The extension host's pid and the trainer's: training runs in its own process, never on the host's event loop. */
  hostPid: number;
  trainerPid: number | null;
  note: string;
}

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
}

/** One run: its folder, the host's fold of its events, and its process while it runs. */
export class Run {
  readonly id = randomUUID();
  readonly resultFile: string;
  /** The file the trainer reads: the experiment file, or for a rerun the replay copy in the run folder. */
  trainerFile: string;
  state: RunState | null = null;
  phase: RunPhase = 'queued';
  outcome: RunOutcome | undefined;
  /** Why the run failed or was stopped by the host (shown in notifications). */
  endMessage: string | undefined;
  cancelRequested = false;
  readonly done: Promise<void>;

  private readonly eventEmitter = new vscode.EventEmitter<RunEvent>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** Every run event, in order, after it was folded into `state`. */
  readonly onEvent = this.eventEmitter.event;
  /** Phase or cancel state changed (queued -> running -> ended). */
  readonly onDidChange = this.changeEmitter.event;
  private resolveDone!: () => void;

  // Process bookkeeping, owned by RunManager.
  child: ChildProcess | undefined;
  exitMessage: Extract<FromTrainerMessage, { type: 'exit' }> | undefined;
  invalidErrors: string[] = [];
  stderrTail: string[] = [];
  spawnError: string | undefined;
  killTimer: ReturnType<typeof setTimeout> | undefined;
  killDeadline = Infinity;
  killGraceMs = CANCEL_GRACE_MS;
  killedByHost = false;
  histogram: IntervalHistogram | undefined;
  launchedAt = 0;
  readonly createdAt = new Date();

  constructor(
    readonly experimentFile: string,
    readonly experiment: NormalisedExperiment,
    readonly runDir: string,
  ) {
    this.resultFile = join(runDir, 'result.json');
    this.trainerFile = experimentFile;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  get name(): string {
    return this.experiment.name;
  }

  get folderName(): string {
    return this.runDir.split(/[\\/]/).pop() ?? this.runDir;
  }

  /** Folds an event into the host's state and tells listeners (panel, progress, status bar). */
  apply(e: RunEvent): void {
    this.state = applyRunEvent(this.state, e);
    // Until the trainer says otherwise in 'finished', the result goes where the host asked.
    if (e.type === 'runStarted') this.state.resultFile = this.resultFile;
    // A replay's trainer read the copy in the run folder; the run's experiment file is the user's.
    if (e.type === 'runStarted' && this.isReplay) this.state.result.experimentFile = this.experimentFile;
    this.eventEmitter.fire(e);
  }

  changed(): void {
    this.changeEmitter.fire();
  }

  get isReplay(): boolean {
    return this.trainerFile !== this.experimentFile;
  }

  end(outcome: RunOutcome): void {
    this.phase = 'ended';
    this.outcome = outcome;
    this.changeEmitter.fire();
    this.resolveDone();
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
  private readonly runs = new Map<string, Run>();
  private readonly queue: Run[] = [];
  private readonly active: Run[] = [];
  private readonly statusBar: vscode.StatusBarItem;
  private readonly launchEmitter = new vscode.EventEmitter<Run>();
  /** A run's trainer process was started (after waiting in the queue, if it had to). */
  readonly onDidLaunch = this.launchEmitter.event;
  private statusTimer: ReturnType<typeof setTimeout> | undefined;
  private contextKey: string | undefined;

  constructor(private readonly ctx: RunManagerContext) {
    this.statusBar = vscode.window.createStatusBarItem('continualWorkbench.run', vscode.StatusBarAlignment.Left, 50);
    this.statusBar.name = 'Continual Workbench Run';
    this.updateContext();
  }

  get(id: string): Run | undefined {
    return this.runs.get(id);
  }

  /** Runs that are queued or running. */
  get unfinished(): Run[] {
    return [...this.active, ...this.queue];
  }

  /** The unfinished run writing this result file, if any. */
  findByResultFile(file: string): Run | undefined {
    return this.unfinished.find((r) => r.resultFile === file || r.state?.resultFile === file);
  }

  start(opts: StartRunOptions): Run {
    const uri = vscode.Uri.file(opts.experimentFile);
    const setting = vscode.workspace.getConfiguration('continualWorkbench', uri).get<string>('resultsDir');
    const resultsDir = resolveResultsDir(setting, opts.workspaceFolder, dirname(opts.experimentFile));
    const run = new Run(opts.experimentFile, opts.experiment, reserveRunDir(resultsDir, opts.experiment.name));
    if (opts.replay) run.trainerFile = writeReplayFile(run.runDir, opts.replay);
    this.runs.set(run.id, run);
    this.log(run, `experiment ${opts.experimentFile} -> ${run.runDir}`);
    this.showProgress(run);
    if (this.active.length < this.maxConcurrentRuns()) this.launch(run);
    else {
      this.queue.push(run);
      this.log(run, `queued: ${this.active.length} run(s) active, limit continualWorkbench.maxConcurrentRuns = ${this.maxConcurrentRuns()}`);
    }
    this.scheduleUiUpdate();
    return run;
  }

  /** Asks the trainer to stop; kills it if it has not exited after `graceMs`. Queued runs just leave the queue. */
  cancel(run: Run, graceMs = CANCEL_GRACE_MS): void {
    if (run.phase === 'ended') return;
    if (run.phase === 'queued') {
      this.queue.splice(this.queue.indexOf(run), 1);
      this.log(run, 'cancelled while queued');
      discardRunDir(run);
      run.endMessage = 'cancelled before it started';
      run.end('cancelled');
      this.scheduleUiUpdate();
      return;
    }
    if (!run.cancelRequested) {
      run.cancelRequested = true;
      this.log(run, `cancel requested; the trainer is killed if it has not stopped in ${Math.round(graceMs / 1000)} s`);
      const child = run.child;
      try {
        if (child?.connected) child.send({ type: 'cancel' } satisfies ToTrainerMessage);
      } catch (e) {
        this.log(run, `could not send cancel: ${(e as Error).message}`);
      }
      run.changed();
    }
    const deadline = Date.now() + graceMs;
    if (deadline < run.killDeadline) {
      run.killDeadline = deadline;
      run.killGraceMs = graceMs;
      if (run.killTimer) clearTimeout(run.killTimer);
      run.killTimer = setTimeout(() => {
        if (run.phase === 'ended' || !run.child) return;
        run.killedByHost = true;
        this.log(run, `the trainer did not stop within ${Math.round(graceMs / 1000)} s: SIGKILL`);
        run.child.kill('SIGKILL');
      }, graceMs);
    }
    this.scheduleUiUpdate();
  }

  /** Deactivation: stop every run (short grace) and wait until their results are written. */
  async shutdown(): Promise<void> {
    for (const run of [...this.queue]) this.cancel(run);
    const running = [...this.active];
    for (const run of running) this.cancel(run, SHUTDOWN_GRACE_MS);
    await Promise.race([Promise.all(running.map((r) => r.done)), new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS + 1500))]);
  }

  dispose(): void {
    for (const run of this.active) if (run.phase !== 'ended') run.child?.kill('SIGKILL');
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusBar.dispose();
    this.launchEmitter.dispose();
  }

  private maxConcurrentRuns(): number {
    const n = vscode.workspace.getConfiguration('continualWorkbench').get<number>('maxConcurrentRuns', 1);
    return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
  }

  private launch(run: Run): void {
    const cfg = vscode.workspace.getConfiguration('continualWorkbench', vscode.Uri.file(run.experimentFile));
    const dist = vscode.Uri.joinPath(this.ctx.extensionUri, 'dist').fsPath;
    const request: RunRequest = {
      type: 'run',
      experimentFile: run.trainerFile,
      outDir: run.runDir,
      backend: cfg.get<BackendName | 'auto'>('backend', 'auto'),
      dataDir: cfg.get<string>('dataDir')?.trim() || undefined,
      cacheDir: join(this.ctx.globalStorageUri.fsPath, 'datasets'),
      assetsDir: dist,
    };
    run.phase = 'running';
    run.launchedAt = Date.now();
    this.active.push(run);
    run.histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    run.histogram.enable();
    this.log(run, `starting trainer (backend ${request.backend})`);

    let child: ChildProcess;
    try {
      child = fork(join(dist, 'trainer.js'), [], {
        cwd: dirname(run.trainerFile),
        // Not the extension host's own flags (inspector ports, heap settings).
        execArgv: [],
        serialization: 'advanced',
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
    } catch (e) {
      run.spawnError = (e as Error).message;
      this.finish(run, null, null);
      return;
    }
    run.child = child;
    // Training saturates a core; below-normal priority keeps the editor (and the host) responsive.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, TRAINER_NICENESS);
      } catch {
        // not permitted on this platform/user: run at normal priority
      }
    }
    this.pipeLines(run, child.stdout, false);
    this.pipeLines(run, child.stderr, true);
    child.on('message', (m) => this.onTrainerMessage(run, m as FromTrainerMessage));
    child.on('error', (e) => {
      run.spawnError = e.message;
      this.log(run, `trainer process error: ${e.message}`);
      if (child.pid === undefined) this.finish(run, null, null);
    });
    // 'close' (not 'exit'): fires after the IPC channel and stdio are drained, so every message is in.
    child.on('close', (code, signal) => this.finish(run, code, signal));
    child.send(request);
    this.launchEmitter.fire(run);
    run.changed();
  }

  private onTrainerMessage(run: Run, m: FromTrainerMessage): void {
    if (typeof m !== 'object' || m === null) return;
    switch (m.type) {
      case 'event':
        this.onRunEvent(run, m.event);
        break;
      case 'invalid':
        run.invalidErrors = m.errors;
        for (const err of m.errors) this.log(run, `invalid: ${err}`);
        break;
      case 'exit':
        run.exitMessage = m;
        break;
      default: {
        const never: never = m;
        this.log(run, `unknown trainer message ${JSON.stringify(never).slice(0, 200)}`);
      }
    }
  }

  private onRunEvent(run: Run, e: RunEvent): void {
    try {
      run.apply(e);
    } catch (err) {
      this.log(run, `dropped event '${e.type}': ${(err as Error).message}`);
      return;
    }
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
      case 'taskFinished': {
        this.log(run, rowSummary(run.state!.result, e.task, e.accuracy));
        break;
      }
      case 'finished':
        this.log(run, `finished: ${e.status}${e.error ? ` (${e.error.phase}: ${e.error.message})` : ''}`);
        break;
      default:
        break;
    }
    this.scheduleUiUpdate();
  }

  /** The trainer process is gone: decide the outcome, make sure the result on disk says it. */
  private finish(run: Run, code: number | null, signal: NodeJS.Signals | null): void {
    if (run.phase === 'ended') return;
    if (run.killTimer) clearTimeout(run.killTimer);
    const metrics = this.stopEventLoopMonitor(run);
    const exit = run.exitMessage;
    let outcome: RunOutcome;
    if (exit && code === 0 && !signal) {
      outcome = exit.status;
      if (outcome === 'failed') run.endMessage = run.state?.result.error?.message ?? 'the run failed (see the output)';
      if (outcome === 'invalid') run.endMessage = run.invalidErrors.join('\n') || 'the experiment file is invalid';
    } else {
      outcome = run.killedByHost ? 'cancelled' : 'failed';
      const how = run.killedByHost
        ? `the trainer did not stop within ${Math.round(run.killGraceMs / 1000)} s of the cancel request and was killed`
        : run.spawnError
          ? `the trainer process could not run: ${run.spawnError}`
          : signal
            ? `the trainer process was killed by ${signal}`
            : `the trainer process exited with code ${code}${exit ? '' : ' before reporting an end'}`;
      const tail = run.killedByHost ? '' : run.stderrTail.slice(-3).join('\n');
      run.endMessage = tail ? `${how}. Last output: ${tail}` : how;
      this.writeHostResult(run, outcome, run.endMessage);
    }
    this.log(run, `trainer exited (code ${code}, signal ${signal}): ${outcome}`);
    if (outcome === 'invalid') discardRunDir(run);
    else if (metrics) this.writeHostMetrics(run, metrics);
    if (run.isReplay && outcome !== 'invalid' && !restoreExperimentFile(run.resultFile, run.experimentFile)) this.log(run, `could not name ${run.experimentFile} in ${run.resultFile}`);

    this.active.splice(this.active.indexOf(run), 1);
    run.child = undefined;
    run.end(outcome);
    this.forgetOldRuns();
    this.notifyEnd(run);
    this.launchQueued();
    this.scheduleUiUpdate();
  }

  /**
   * The trainer died without writing a final result: the host writes one from its own fold of the
   * events, marked failed (or cancelled when the host killed it), so nothing passes for complete.
   */
  private writeHostResult(run: Run, status: 'failed' | 'cancelled', message: string): void {
    try {
      if (!run.state) {
        run.apply({ type: 'runStarted', runId: run.id, experiment: run.experiment, experimentFile: run.experimentFile, startedAt: run.createdAt.toISOString() });
      }
      const r = run.state!.result;
      run.apply({ type: 'log', level: 'error', message });
      run.apply({
        type: 'finished',
        status,
        finishedAt: new Date().toISOString(),
        totalMs: Date.now() - (Date.parse(r.timing.startedAt) || run.launchedAt),
        trainImagesPerSecond: r.timing.trainImagesPerSecond,
        error: { phase: 'trainer', message },
        resultFile: run.resultFile,
      });
      writeFileAtomic(run.resultFile, JSON.stringify(run.state!.result));
      this.log(run, `wrote ${status} result ${run.resultFile}`);
    } catch (e) {
      this.log(run, `could not write the ${status} result: ${(e as Error).message}`);
    }
  }

  private stopEventLoopMonitor(run: Run): HostMetrics | undefined {
    const h = run.histogram;
    if (!h) return undefined;
    h.disable();
    run.histogram = undefined;
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    return {
      p50Ms: ms(h.percentile(50)),
      p99Ms: ms(h.percentile(99)),
      maxMs: ms(h.max),
      meanMs: ms(h.mean),
      samples: h.count,
      resolutionMs: EVENT_LOOP_RESOLUTION_MS,
      durationMs: Date.now() - run.launchedAt,
      hostPid: process.pid,
      trainerPid: run.child?.pid ?? null,
      note: 'Extension host event-loop delay while this run was active (perf_hooks.monitorEventLoopDelay); values include the sampling interval.',
    };
  }

  private writeHostMetrics(run: Run, m: HostMetrics): void {
    const file = join(run.runDir, 'host-metrics.json');
    this.log(run, `host event loop during the run: p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, max ${m.maxMs} ms (${m.samples} samples) -> ${file}`);
    try {
      writeFileAtomic(file, JSON.stringify({ runId: run.state?.result.runId ?? run.id, ...m }, null, 2) + '\n');
    } catch (e) {
      this.log(run, `could not write ${file}: ${(e as Error).message}`);
    }
  }

  private notifyEnd(run: Run): void {
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

  /** Ended runs keep their state for their panels; only the most recent ones are kept. */
  private forgetOldRuns(): void {
    const ended = [...this.runs.values()].filter((r) => r.phase === 'ended');
    for (const r of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED_RUNS))) this.runs.delete(r.id);
  }

  private launchQueued(): void {
    while (this.queue.length && this.active.length < this.maxConcurrentRuns()) this.launch(this.queue.shift()!);
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

  private scheduleUiUpdate(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.updateStatusBar();
      this.updateContext();
    }, UI_UPDATE_MS);
  }

  private updateStatusBar(): void {
    const primary = this.active.at(-1);
    if (!primary) {
      if (!this.queue.length) return this.statusBar.hide();
      this.statusBar.text = `$(beaker) ${this.queue.length} queued`;
      this.statusBar.command = undefined;
      this.statusBar.show();
      return;
    }
    this.statusBar.text = primary.cancelRequested
      ? `$(beaker) cancelling ${primary.name}…`
      : statusBarText(primary.state, this.active.length - 1, this.queue.length);
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

  private pipeLines(run: Run, stream: Readable | null, isStderr: boolean): void {
    if (!stream) return;
    stream.setEncoding('utf8');
    let buffer = '';
    const emit = (line: string) => {
      this.log(run, line);
      if (isStderr && line.trim()) {
        run.stderrTail.push(line);
        if (run.stderrTail.length > STDERR_TAIL_LINES) run.stderrTail.shift();
      }
    };
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        emit(buffer.slice(0, nl).replace(/\r$/, ''));
        buffer = buffer.slice(nl + 1);
      }
    });
    stream.on('end', () => {
      if (buffer) emit(buffer);
      buffer = '';
    });
  }

  private log(run: Run, message: string): void {
    this.ctx.output.appendLine(`[${new Date().toISOString().slice(11, 23)}] [${run.folderName}] ${message}`);
  }
}

/** Creates the run folder now, so two runs started in the same second never share one. */
function reserveRunDir(resultsDir: string, name: string): string {
  mkdirSync(resultsDir, { recursive: true });
  const now = new Date();
  for (let attempt = 1; ; attempt++) {
    const dir = join(resultsDir, runFolderName(name, now, attempt));
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1000) throw e;
    }
  }
}

/** A run that never ran leaves no folder behind (a replay's copy of the experiment included). */
function discardRunDir(run: Run): void {
  if (run.isReplay) rmSync(join(run.runDir, REPLAY_FILE_NAME), { force: true });
  removeIfEmpty(run.runDir);
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty or already gone: keep it
  }
}
