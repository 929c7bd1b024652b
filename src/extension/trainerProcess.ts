// The extension host's trainer processes, without VS Code: one forked trainer per run (training never
// runs on the host), a queue with a concurrency limit, cancel with a grace period then SIGKILL,
// shutdown, the stderr tail, the host's event-loop delay per run, and the host's own failed/cancelled
// result when a trainer died without writing one. The UI part (runManager.ts) listens through
// TrainerListener; the fork function, the trainer's entry script and the timers are injectable so
// test/unit/trainerProcess.test.ts runs real trainers from source.
import { fork as nodeFork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { RunEvent } from '../protocol/events';
import type { NormalisedExperiment } from '../protocol/experiment';
import { applyRunEvent, type RunState } from '../protocol/runState';
import type { FromTrainerMessage, RunRequest, ToTrainerMessage } from '../protocol/trainer';
import { writeFileAtomic } from '../engine/atomicWrite';
import { acquireRunLock, type RunLock } from '../engine/runLock';
import { THREADS_ENV, threadsPerRun } from '../engine/cores';
import { decideOutcome, formatGrace, type RunOutcome, type TrainerEnd } from './runOutcome';
import { parseRunResult } from './resultFile';
import { discardRunDir } from './runFolder';
import { REPLAY_FILE_NAME, restoreExperimentFile } from './replay';
import type { Timers } from './throttle';

export type { RunOutcome } from './runOutcome';

/** How long a trainer gets to stop after a cancel request before it is killed. */
export const CANCEL_GRACE_MS = 10_000;
/** Shorter grace when the extension host is shutting down (deactivate has a few seconds). */
export const SHUTDOWN_GRACE_MS = 2_000;
/** Shutdown waits this much longer than the grace for the killed trainers' results. */
const SHUTDOWN_SLACK_MS = 1_500;
export const TRAINER_NICENESS = 10;
const EVENT_LOOP_RESOLUTION_MS = 10;
const STDERR_TAIL_LINES = 20;
const KEEP_ENDED_RUNS = 20;
export const HOST_METRICS_FILE = 'host-metrics.json';

export type RunPhase = 'queued' | 'running' | 'ended';

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

/** One run: its folder, the host's fold of its events, and where it is (queued, running, ended). */
export class TrainerRun {
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
  /** When its trainer started (0 while queued). */
  launchedAt = 0;
  readonly createdAt = new Date();
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly experimentFile: string,
    readonly experiment: NormalisedExperiment,
    readonly runDir: string,
  ) {
    this.resultFile = join(runDir, 'result.json');
    this.trainerFile = experimentFile;
    this.done = new Promise((res) => (this.resolveDone = res));
  }

  get name(): string {
    return this.experiment.name;
  }

  get folderName(): string {
    return this.runDir.split(/[\\/]/).pop() ?? this.runDir;
  }

  get isReplay(): boolean {
    return this.trainerFile !== this.experimentFile;
  }

  /** Folds an event into the host's state (TrainerProcess calls this, then tells its listener). */
  apply(e: RunEvent): void {
    this.state = applyRunEvent(this.state, e);
    // Until the trainer says otherwise in 'finished', the result goes where the host asked.
    if (e.type === 'runStarted') this.state.resultFile = this.resultFile;
    // A replay's trainer read the copy in the run folder; the run's experiment file is the user's.
    if (e.type === 'runStarted' && this.isReplay) this.state.result.experimentFile = this.experimentFile;
  }

  /** TrainerProcess only: the run is over. */
  markEnded(outcome: RunOutcome, message: string | undefined): void {
    this.phase = 'ended';
    this.outcome = outcome;
    this.endMessage = message;
    this.resolveDone();
  }
}

/** What the UI hears; every method is optional. */
export interface TrainerListener<R extends TrainerRun> {
  /** A line for the output channel. */
  log?(run: R, message: string): void;
  /** A run event, after it was folded into run.state (the trainer's, or the host's own when it writes the end). */
  event?(run: R, e: RunEvent): void;
  /** Phase or cancel state changed (queued -> running -> cancelling -> ended). */
  changed?(run: R): void;
  /** A run's trainer process was started (after waiting in the queue, if it had to). */
  launched?(run: R): void;
  /** The run ended: run.outcome and run.endMessage are set, its result (if any) is on disk. */
  ended?(run: R): void;
}

/**
 * The listener with every call guarded: a UI torn down first (the window closing: the output channel
 * and emitters are gone while deactivate stops the trainers) must not stop a run from ending and
 * its result from being written.
 */
export function guardListener<R extends TrainerRun>(l: TrainerListener<R>): TrainerListener<R> {
  const guarded: TrainerListener<R> = {};
  for (const key of ['log', 'event', 'changed', 'launched', 'ended'] as const) {
    const f = l[key] as ((...args: unknown[]) => void) | undefined;
    if (!f) continue;
    (guarded as Record<string, unknown>)[key] = (...args: unknown[]) => {
      try {
        f.apply(l, args);
      } catch (e) {
        process.stderr.write(`continual-workbench: a run listener failed (${key}): ${e instanceof Error ? e.message : String(e)}\n`);
      }
    };
  }
  return guarded;
}

/** The settings part of a RunRequest, read when the run leaves the queue. */
export type TrainerSettings = Omit<RunRequest, 'type' | 'experimentFile' | 'outDir'>;

export type ForkFn = (modulePath: string, args: readonly string[], options: ForkOptions) => ChildProcess;

/**
 * How every trainer is forked (a run, or a landscape-only job in trainerJob.ts): its share of the
 * cores in CLW_THREADS, IPC with structured clone, stdout/stderr piped to the host.
 */
export function trainerForkOptions(o: { cwd?: string; threads: number; execArgv?: string[]; env?: NodeJS.ProcessEnv }): ForkOptions {
  return {
    ...(o.cwd ? { cwd: o.cwd } : {}),
    env: { ...process.env, [THREADS_ENV]: String(o.threads), ...o.env },
    execArgv: o.execArgv ?? [],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  };
}

/** Training saturates a core; below-normal priority keeps the editor (and the host) responsive. */
export function lowerTrainerPriority(pid: number | undefined, niceness: number | null = TRAINER_NICENESS): void {
  if (pid === undefined || niceness === null) return;
  try {
    setPriority(pid, niceness);
  } catch {
    // not permitted on this platform/user: run at normal priority
  }
}

export interface TrainerProcessOptions<R extends TrainerRun> {
  /** The trainer's entry script: dist/trainer.js in the extension; src/trainer/main.ts with tsx in tests. */
  entry: string;
  /** Node flags for the trainer; [] by default (not the extension host's own inspector or heap flags). */
  execArgv?: string[];
  fork?: ForkFn;
  timers?: Timers;
  /** Read each time a slot may be free (a setting can change while runs wait). */
  maxConcurrentRuns?: () => number;
  settings: (run: R) => TrainerSettings;
  listener?: TrainerListener<R>;
  /** Trainer process niceness; null leaves the priority alone. */
  niceness?: number | null;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Process bookkeeping of one run, private to TrainerProcess. */
interface Slot {
  child?: ChildProcess;
  trainerPid: number | null;
  exit?: Extract<FromTrainerMessage, { type: 'exit' }>;
  invalidErrors: string[];
  stderrTail: string[];
  spawnError?: string;
  killTimer?: unknown;
  killDeadline: number;
  killGraceMs: number;
  killedByHost: boolean;
  hostKillReason?: string;
  histogram?: IntervalHistogram;
  /** The run folder's lock: the host writes into the folder only while it holds it. */
  lock?: RunLock;
}

export class TrainerProcess<R extends TrainerRun = TrainerRun> {
  private readonly runs = new Map<string, R>();
  private readonly slots = new Map<R, Slot>();
  private readonly queue: R[] = [];
  private readonly active: R[] = [];
  private readonly entry: string;
  private readonly fork: ForkFn;
  private readonly timers: Timers;
  private readonly listener: TrainerListener<R>;

  constructor(private readonly opts: TrainerProcessOptions<R>) {
    this.entry = resolve(opts.entry);
    this.fork = opts.fork ?? nodeFork;
    this.timers = opts.timers ?? realTimers;
    this.listener = guardListener(opts.listener ?? {});
  }

  get(id: string): R | undefined {
    return this.runs.get(id);
  }

  /** Runs that are queued or running (running first). */
  get unfinished(): R[] {
    return [...this.active, ...this.queue];
  }

  get activeRuns(): readonly R[] {
    return this.active;
  }

  get queuedRuns(): readonly R[] {
    return this.queue;
  }

  /** The unfinished run writing this result file, if any. */
  findByResultFile(file: string): R | undefined {
    return this.unfinished.find((r) => r.resultFile === file || r.state?.resultFile === file);
  }

  /** The trainer's pid while the run's process is alive. */
  pidOf(run: R): number | undefined {
    return this.slots.get(run)?.child?.pid;
  }

  maxConcurrentRuns(): number {
    const n = this.opts.maxConcurrentRuns?.() ?? 1;
    return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1;
  }

  /** Queues the run (its folder already exists) and starts it if a slot is free. */
  start(run: R): R {
    this.runs.set(run.id, run);
    this.slots.set(run, { trainerPid: null, invalidErrors: [], stderrTail: [], killDeadline: Infinity, killGraceMs: CANCEL_GRACE_MS, killedByHost: false });
    if (this.active.length < this.maxConcurrentRuns()) this.launch(run);
    else {
      this.queue.push(run);
      this.log(run, `queued: ${this.active.length} run(s) active, limit ${this.maxConcurrentRuns()}`);
      this.listener.changed?.(run);
    }
    return run;
  }

  /** Asks the trainer to stop; kills it if it has not exited after `graceMs`. Queued runs just leave the queue. */
  cancel(run: R, graceMs = CANCEL_GRACE_MS): void {
    if (run.phase === 'ended') return;
    const slot = this.slots.get(run)!;
    if (run.phase === 'queued') {
      this.queue.splice(this.queue.indexOf(run), 1);
      this.log(run, 'cancelled while queued');
      discardRunDir(run.runDir, run.isReplay ? [REPLAY_FILE_NAME] : []);
      this.end(run, 'cancelled', 'cancelled before it started');
      return;
    }
    if (!run.cancelRequested) {
      run.cancelRequested = true;
      this.log(run, `cancel requested; the trainer is killed if it has not stopped in ${formatGrace(graceMs)}`);
      try {
        if (slot.child?.connected) slot.child.send({ type: 'cancel' } satisfies ToTrainerMessage);
      } catch (e) {
        this.log(run, `could not send cancel: ${(e as Error).message}`);
      }
      this.listener.changed?.(run);
    }
    // A later, shorter grace (shutdown after a cancel) brings the kill forward; never back.
    const deadline = Date.now() + graceMs;
    if (deadline < slot.killDeadline) {
      slot.killDeadline = deadline;
      slot.killGraceMs = graceMs;
      if (slot.killTimer !== undefined) this.timers.clear(slot.killTimer);
      slot.killTimer = this.timers.set(() => {
        slot.killTimer = undefined;
        if (run.phase === 'ended' || !slot.child) return;
        slot.killedByHost = true;
        this.log(run, `the trainer did not stop within ${formatGrace(graceMs)}: SIGKILL`);
        slot.child.kill('SIGKILL');
      }, graceMs);
    }
  }

  /** Deactivation: stop every run (short grace) and wait until their results are written. */
  async shutdown(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    for (const run of [...this.queue]) this.cancel(run);
    const running = [...this.active];
    for (const run of running) this.cancel(run, graceMs);
    let timer: unknown;
    await Promise.race([Promise.all(running.map((r) => r.done)), new Promise<void>((res) => (timer = this.timers.set(res, graceMs + SHUTDOWN_SLACK_MS)))]);
    this.timers.clear(timer);
  }

  /** Kills what still runs, at once (the host is going away without a shutdown). */
  dispose(): void {
    for (const run of this.active) {
      const slot = this.slots.get(run)!;
      if (slot.killTimer !== undefined) this.timers.clear(slot.killTimer);
      // The window is going away (VS Code may dispose before deactivate's shutdown has finished):
      // the run was stopped by its user's window, not crashed.
      slot.killedByHost = true;
      slot.hostKillReason = 'the window closed (the extension host shut down)';
      slot.child?.kill('SIGKILL');
    }
  }

  private launch(run: R): void {
    const slot = this.slots.get(run)!;
    run.phase = 'running';
    run.launchedAt = Date.now();
    this.active.push(run);
    slot.histogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    slot.histogram.enable();

    let request: RunRequest;
    try {
      // The host holds the folder's lock while the trainer runs (the trainer accepts its parent's lock).
      slot.lock = acquireRunLock(run.runDir);
      request = { type: 'run', experimentFile: run.trainerFile, outDir: run.runDir, ...this.opts.settings(run) };
    } catch (e) {
      slot.spawnError = (e as Error).message;
      this.log(run, `cannot start: ${slot.spawnError}`);
      this.finish(run, null, null);
      return;
    }
    this.log(run, `starting trainer (backend ${request.backend})`);

    let child: ChildProcess;
    try {
      // Its share of the cores while this many runs are in flight (engine/cores.ts): the landscape
      // workers of N runs at once never add up to N x cores threads.
      const inFlight = Math.min(this.maxConcurrentRuns(), this.active.length + this.queue.length);
      child = this.fork(this.entry, [], trainerForkOptions({ cwd: dirname(run.trainerFile), threads: threadsPerRun(inFlight), execArgv: this.opts.execArgv }));
    } catch (e) {
      slot.spawnError = (e as Error).message;
      this.finish(run, null, null);
      return;
    }
    slot.child = child;
    slot.trainerPid = child.pid ?? null;
    lowerTrainerPriority(child.pid, this.opts.niceness === undefined ? TRAINER_NICENESS : this.opts.niceness);
    this.pipeLines(run, slot, child.stdout, false);
    this.pipeLines(run, slot, child.stderr, true);
    child.on('message', (m) => this.onTrainerMessage(run, slot, m as FromTrainerMessage));
    child.on('error', (e) => {
      slot.spawnError = e.message;
      this.log(run, `trainer process error: ${e.message}`);
      if (child.pid === undefined) this.finish(run, null, null);
    });
    // 'close' (not 'exit'): fires after the IPC channel and stdio are drained, so every message is in.
    child.on('close', (code, signal) => this.finish(run, code, signal));
    // But once the channel was closed from this side, Node 20 never emits 'close': nothing more can
    // arrive by IPC, so the end is decided when the process has exited and its output is drained.
    const drained = Promise.all([child.stdout, child.stderr].map((s) => (s && !s.closed ? new Promise((res) => s.once('close', res)) : undefined)));
    child.on('exit', (code, signal) => {
      if (!child.connected) void drained.then(() => setImmediate(() => this.finish(run, code, signal)));
    });
    if (child.connected) child.send(request);
    this.listener.launched?.(run);
    this.listener.changed?.(run);
  }

  private onTrainerMessage(run: R, slot: Slot, m: FromTrainerMessage): void {
    if (typeof m !== 'object' || m === null) return;
    switch (m.type) {
      case 'event':
        this.fold(run, m.event);
        break;
      case 'invalid':
        slot.invalidErrors = Array.isArray(m.errors) ? m.errors.map(String) : [];
        for (const err of slot.invalidErrors) this.log(run, `invalid: ${err}`);
        break;
      case 'exit':
        slot.exit = m;
        break;
      default: {
        const never: never = m;
        this.log(run, `unknown trainer message ${JSON.stringify(never).slice(0, 200)}`);
      }
    }
  }

  /** Folds an event into the run and passes it on; an event the fold rejects is dropped and logged. */
  private fold(run: R, e: RunEvent): boolean {
    try {
      run.apply(e);
    } catch (err) {
      this.log(run, `dropped event '${(e as { type?: unknown })?.type}': ${(err as Error).message}`);
      return false;
    }
    this.listener.event?.(run, e);
    return true;
  }

  /** The trainer process is gone: decide the outcome, make sure the result on disk says it. */
  private finish(run: R, code: number | null, signal: NodeJS.Signals | null): void {
    if (run.phase === 'ended') return;
    const slot = this.slots.get(run)!;
    if (slot.killTimer !== undefined) this.timers.clear(slot.killTimer);
    const metrics = this.stopEventLoopMonitor(run, slot);
    const decision = decideOutcome({
      exit: slot.exit,
      code,
      signal,
      killedByHost: slot.killedByHost,
      hostKillReason: slot.hostKillReason,
      spawnError: slot.spawnError,
      stderrTail: slot.stderrTail,
      invalidErrors: slot.invalidErrors,
      graceMs: slot.killGraceMs,
      runError: run.state?.result.error?.message,
      written: slot.exit ? undefined : this.writtenEnd(run),
    });
    const { outcome } = decision;
    this.log(run, `trainer exited (code ${code}, signal ${signal}): ${outcome}`);
    const ownsFolder = slot.lock !== undefined;
    if (decision.hostWritesResult) {
      if (ownsFolder) this.writeHostResult(run, outcome as 'failed' | 'cancelled', decision.message!);
      else this.log(run, `no result written: the host does not hold ${run.runDir}`);
    }
    if (ownsFolder && outcome !== 'invalid' && metrics) this.writeHostMetrics(run, metrics);
    if (ownsFolder && run.isReplay && outcome !== 'invalid' && !restoreExperimentFile(run.resultFile, run.experimentFile)) {
      this.log(run, `could not name ${run.experimentFile} in ${run.resultFile}`);
    }
    slot.lock?.release();
    if (ownsFolder && outcome === 'invalid') discardRunDir(run.runDir, run.isReplay ? [REPLAY_FILE_NAME] : []);
    this.active.splice(this.active.indexOf(run), 1);
    slot.child = undefined;
    this.end(run, outcome, decision.message);
    this.launchQueued();
  }

  /** The status of the result file on disk, if it is this run's (the trainer writes it as the run goes). */
  private writtenEnd(run: R): TrainerEnd['written'] {
    let text: string;
    try {
      text = readFileSync(run.resultFile, 'utf8');
    } catch {
      return undefined;
    }
    const parsed = parseRunResult(text);
    if (!parsed.ok || !run.state || parsed.result.runId !== run.state.result.runId) return undefined;
    return { status: parsed.result.status, error: parsed.result.error?.message };
  }

  private end(run: R, outcome: RunOutcome, message: string | undefined): void {
    run.markEnded(outcome, message);
    this.slots.delete(run);
    this.listener.changed?.(run);
    this.listener.ended?.(run);
    this.forgetOldRuns();
  }

  /**
   * The trainer died without writing a final result: the host writes one from its own fold of the
   * events, marked failed (or cancelled when the host killed it), so nothing passes for complete.
   */
  private writeHostResult(run: R, status: 'failed' | 'cancelled', message: string): void {
    try {
      if (!run.state) {
        this.fold(run, { type: 'runStarted', runId: run.id, experiment: run.experiment, experimentFile: run.experimentFile, startedAt: run.createdAt.toISOString() });
      }
      const r = run.state!.result;
      this.fold(run, { type: 'log', level: 'error', message });
      this.fold(run, {
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

  private stopEventLoopMonitor(run: R, slot: Slot): HostMetrics | undefined {
    const h = slot.histogram;
    if (!h) return undefined;
    h.disable();
    slot.histogram = undefined;
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
      trainerPid: slot.trainerPid,
      note: 'Extension host event-loop delay while this run was active (perf_hooks.monitorEventLoopDelay); values include the sampling interval.',
    };
  }

  private writeHostMetrics(run: R, m: HostMetrics): void {
    const file = join(run.runDir, HOST_METRICS_FILE);
    this.log(run, `host event loop during the run: p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, max ${m.maxMs} ms (${m.samples} samples) -> ${file}`);
    try {
      writeFileAtomic(file, JSON.stringify({ runId: run.state?.result.runId ?? run.id, ...m }, null, 2) + '\n');
    } catch (e) {
      this.log(run, `could not write ${file}: ${(e as Error).message}`);
    }
  }

  /** Ended runs keep their state for their panels; only the most recent ones are kept. */
  private forgetOldRuns(): void {
    const ended = [...this.runs.values()].filter((r) => r.phase === 'ended');
    for (const r of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED_RUNS))) this.runs.delete(r.id);
  }

  private launchQueued(): void {
    while (this.queue.length && this.active.length < this.maxConcurrentRuns()) this.launch(this.queue.shift()!);
  }

  private pipeLines(run: R, slot: Slot, stream: Readable | null, isStderr: boolean): void {
    forEachLine(stream, (line) => {
      this.log(run, line);
      if (isStderr && line.trim()) {
        slot.stderrTail.push(line);
        if (slot.stderrTail.length > STDERR_TAIL_LINES) slot.stderrTail.shift();
      }
    });
  }

  private log(run: R, message: string): void {
    this.listener.log?.(run, message);
  }
}

/** Calls emit with each line of a child's output stream (no trailing newline; a last unterminated line too). */
export function forEachLine(stream: Readable | null, emit: (line: string) => void): void {
  if (!stream) return;
  stream.setEncoding('utf8');
  let buffer = '';
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
