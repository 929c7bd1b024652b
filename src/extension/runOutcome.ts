// How a run ended, decided from what the host saw of its trainer process. Pure (no vscode, no
// Node APIs): every branch is unit-tested in test/unit/runOutcome.test.ts.
export type RunOutcome = 'completed' | 'cancelled' | 'failed' | 'invalid';

/** Everything the host knows when the trainer process is gone. */
export interface TrainerEnd {
  /** The trainer's own 'exit' message: it was sent after the trainer wrote its final result. */
  exit?: { status: RunOutcome };
  code: number | null;
  signal: string | null;
  /** The host sent SIGKILL because the trainer outlived the cancel grace period (or the host is going away). */
  killedByHost: boolean;
  /** Why the host killed it when that was not an expired grace period ("the window closed …"). */
  hostKillReason?: string;
  /** The process could not be started (fork threw, or 'error' before it had a pid). */
  spawnError?: string;
  /** The last lines the trainer wrote to stderr (oldest first). */
  stderrTail: readonly string[];
  /** Validation errors the trainer reported ('invalid' message). */
  invalidErrors: readonly string[];
  /** The cancel grace the host gave before the kill. */
  graceMs: number;
  /** The run's error as the trainer reported it in its 'finished' event, if any. */
  runError?: string;
  /**
   * The result file the trainer wrote for this run, as it is on disk now ('running' until its end
   * is written): an end written but not reported (the IPC channel was gone) is still final.
   */
  written?: { status: 'running' | 'completed' | 'cancelled' | 'failed'; error?: string };
}

export interface OutcomeDecision {
  outcome: RunOutcome;
  /** Why the run failed or was stopped (shown in notifications); undefined when it completed or was cancelled normally. */
  message?: string;
  /** The trainer did not write a final result: the host must write one marked with `outcome`. */
  hostWritesResult: boolean;
}

/** Lines of stderr quoted in a failure message. */
const TAIL_IN_MESSAGE = 3;
/** "Error: ...", "TypeError: ...", "RangeError [ERR_X]: ..." at the start of a line. */
const ERROR_LINE = /^[A-Z]?\w*Error\b.*:/;

/** "10 s" for the user's grace periods, "50 ms" for the short ones tests inject. */
export function formatGrace(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms)} ms`;
}

export function decideOutcome(end: TrainerEnd): OutcomeDecision {
  // The trainer reported its end after writing its result: that result is final, whatever the
  // process did afterwards (a kill or a crash while exiting loses nothing).
  if (end.exit) {
    const outcome = end.exit.status;
    if (outcome === 'failed') return { outcome, message: end.runError ?? 'the run failed (see the output)', hostWritesResult: false };
    if (outcome === 'invalid') return { outcome, message: end.invalidErrors.join('\n') || 'the experiment file is invalid', hostWritesResult: false };
    return { outcome, hostWritesResult: false };
  }
  if (end.written && end.written.status !== 'running') {
    const outcome = end.written.status;
    if (outcome === 'failed') return { outcome, message: end.written.error ?? end.runError ?? 'the run failed (see the output)', hostWritesResult: false };
    return { outcome, hostWritesResult: false };
  }
  if (end.killedByHost && end.hostKillReason) return { outcome: 'cancelled', message: `the trainer was stopped: ${end.hostKillReason}`, hostWritesResult: true };
  if (end.killedByHost) {
    return { outcome: 'cancelled', message: `the trainer did not stop within ${formatGrace(end.graceMs)} of the cancel request and was killed`, hostWritesResult: true };
  }
  const how = end.spawnError
    ? `the trainer process could not run: ${end.spawnError}`
    : end.signal
      ? `the trainer process was killed by ${end.signal}`
      : `the trainer process exited with code ${end.code} before reporting an end`;
  // An uncaught error prints its message at column 0, then an indented stack and Node's footer:
  // the message says more than the last lines.
  const errorLine = [...end.stderrTail].reverse().find((l) => ERROR_LINE.test(l));
  if (errorLine) return { outcome: 'failed', message: `${how}. Last error: ${errorLine}`, hostWritesResult: true };
  const tail = end.stderrTail.slice(-TAIL_IN_MESSAGE).join('\n');
  return { outcome: 'failed', message: tail ? `${how}. Last output: ${tail}` : how, hostWritesResult: true };
}
