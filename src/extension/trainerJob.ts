// One trainer job that is not a run (a landscape-only job, a paths job): forked like a run's trainer
// (trainerProcess.ts: entry, fork options, CLW_THREADS, priority), sent one request, its messages
// passed on until it says 'exit' or dies. No queue, no run folder lock, no result written by the
// host: the job's own file is its result. Without VS Code, so test/unit/trainerJob.test.ts forks it.
import { fork as nodeFork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { ToTrainerMessage } from '../protocol/trainer';
import { threadsPerRun } from '../engine/cores';
import { CANCEL_GRACE_MS, forEachLine, lowerTrainerPriority, trainerForkOptions, type ForkFn } from './trainerProcess';

export interface TrainerJobOutcome {
  status: 'completed' | 'cancelled' | 'failed';
  resultFile?: string;
  error?: string;
}

export interface TrainerJob {
  /** Settles once: on the trainer's 'exit' message, or when its process ended without one. */
  readonly done: Promise<TrainerJobOutcome>;
  /** Asks the trainer to stop ({type:'cancel'}); kills it if it is still alive after `graceMs`. */
  cancel(graceMs?: number): void;
  /** Kills the trainer now and stops passing on its messages (done settles 'cancelled' if it had not). */
  dispose(): void;
}

export interface TrainerJobOptions<M extends { type: string }> {
  request: ToTrainerMessage;
  /** The trainer's entry script: dist/trainer.js in the extension; src/trainer/main.ts with tsx in tests. */
  entry: string;
  fork?: ForkFn;
  /** Added to the host's environment (CLW_THREADS defaults to every core: one job, like one run alone). */
  env?: NodeJS.ProcessEnv;
  /** Node flags for the trainer ([] by default; ['--import', tsx] to run it from source). */
  execArgv?: string[];
  cwd?: string;
  /** Trainer process niceness (default: a run's); null leaves the priority alone. */
  niceness?: number | null;
  /** Every message but 'exit'. */
  onMessage(m: M): void;
  onStderr?(text: string): void;
}

const STDERR_TAIL_LINES = 20;

export function startTrainerJob<M extends { type: string }>(opts: TrainerJobOptions<M>): TrainerJob {
  let settle!: (o: TrainerJobOutcome) => void;
  let settled = false;
  const done = new Promise<TrainerJobOutcome>((res) => (settle = res));
  const stderrTail: string[] = [];
  let exitMessage: { status: string; resultFile?: string } | undefined;
  let cancelRequested = false;
  let disposed = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  let spawnError: string | undefined;

  const finish = (o: TrainerJobOutcome) => {
    if (settled) return;
    settled = true;
    if (killTimer !== undefined) clearTimeout(killTimer);
    settle(o);
  };
  const tail = () => stderrTail.join('\n').trim();
  /** The process is gone: its 'exit' message says how it ended; without one it failed (or was stopped). */
  const ended = (code: number | null, signal: NodeJS.Signals | null) => {
    if (exitMessage) return finish(outcomeOf(exitMessage, tail()));
    if (cancelRequested || disposed) return finish({ status: 'cancelled' });
    const how = spawnError ?? (signal ? `the trainer was killed (${signal})` : `the trainer exited with code ${code}`);
    finish({ status: 'failed', error: tail() ? `${how}: ${tail()}` : how });
  };

  let child: ChildProcess;
  try {
    child = (opts.fork ?? nodeFork)(
      resolve(opts.entry),
      [],
      trainerForkOptions({ cwd: opts.cwd, threads: threadsPerRun(1), execArgv: opts.execArgv, env: opts.env }),
    );
  } catch (e) {
    finish({ status: 'failed', error: `could not start the trainer: ${(e as Error).message}` });
    return { done, cancel: () => {}, dispose: () => {} };
  }
  lowerTrainerPriority(child.pid, opts.niceness);

  const alive = () => child.exitCode === null && child.signalCode === null;
  forEachLine(child.stderr, (line) => {
    if (line.trim()) {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    }
    if (!disposed) opts.onStderr?.(line);
  });
  forEachLine(child.stdout, () => {});
  child.on('message', (raw: unknown) => {
    const m = raw as M | { type: 'exit'; status: string; resultFile?: string };
    if (typeof m !== 'object' || m === null || typeof m.type !== 'string') return;
    if (m.type === 'exit') {
      exitMessage = m as { status: string; resultFile?: string };
      // The job is over when it says so; the process exits on its own (dispose kills a straggler).
      finish(outcomeOf(exitMessage, tail()));
      return;
    }
    if (!disposed) opts.onMessage(m as M);
  });
  child.on('error', (e) => {
    spawnError = `could not run the trainer: ${e.message}`;
    if (child.pid === undefined) ended(null, null);
  });
  // 'close' fires once IPC and stdio are drained; Node 20 skips it when the channel was closed from
  // this side, so an exit with drained output ends the job too (see TrainerProcess.launch).
  child.on('close', (code, signal) => ended(code, signal));
  const drained = Promise.all([child.stdout, child.stderr].map((s) => (s && !s.closed ? new Promise((res) => s.once('close', res)) : undefined)));
  child.on('exit', (code, signal) => {
    if (!child.connected) void drained.then(() => setImmediate(() => ended(code, signal)));
  });
  try {
    if (child.connected) child.send(opts.request);
  } catch (e) {
    spawnError = `could not send the request: ${(e as Error).message}`;
    child.kill('SIGKILL');
  }

  return {
    done,
    cancel(graceMs = CANCEL_GRACE_MS) {
      if (settled || cancelRequested) return;
      cancelRequested = true;
      try {
        if (child.connected) child.send({ type: 'cancel' } satisfies ToTrainerMessage);
      } catch {
        // the channel is gone: the kill below (or the process's own end) settles the job
      }
      killTimer = setTimeout(() => {
        if (alive()) child.kill('SIGKILL');
      }, graceMs);
      killTimer.unref?.();
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (alive()) child.kill('SIGKILL');
    },
  };
}

function outcomeOf(m: { status: string; resultFile?: string }, stderrTail: string): TrainerJobOutcome {
  const status = m.status === 'completed' || m.status === 'cancelled' ? m.status : 'failed';
  const error = `the trainer ended ${m.status}${stderrTail ? `: ${stderrTail}` : ''}`;
  return { status, ...(m.resultFile ? { resultFile: m.resultFile } : {}), ...(status === 'failed' ? { error } : {}) };
}
