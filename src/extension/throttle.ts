// Batches run events for the webview: one postMessage per interval instead of one per event.
// Pure (no vscode import). Nothing is dropped except superseded progress-like events, which
// only overwrite a field of the RunState, so the folded state is the same as without batching.
import type { RunEvent } from '../protocol/events';

export interface BatchPolicy<E> {
  /** Events with the same key replace each other in a pending batch (latest wins); undefined = keep all. */
  coalesceKey(e: E): string | undefined;
  /** Send the pending batch at once after this event. */
  urgent(e: E): boolean;
}

export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export const runEventBatchPolicy: BatchPolicy<RunEvent> = {
  coalesceKey: (e) => (e.type === 'progress' || e.type === 'landscapeProgress' ? e.type : undefined),
  urgent: (e) => e.type === 'finished',
};

export class EventThrottler<E> {
  private pending: E[] = [];
  private timer: unknown = undefined;

  constructor(
    private readonly send: (batch: E[]) => void,
    private readonly policy: BatchPolicy<E>,
    private readonly intervalMs = 100,
    private readonly timers: Timers = realTimers,
  ) {}

  get pendingCount(): number {
    return this.pending.length;
  }

  push(e: E): void {
    const key = this.policy.coalesceKey(e);
    if (key !== undefined) {
      const i = this.pending.findIndex((p) => this.policy.coalesceKey(p) === key);
      // Moving the latest to the end keeps the fold equal: these events only set a field.
      if (i >= 0) this.pending.splice(i, 1);
    }
    this.pending.push(e);
    if (this.policy.urgent(e)) this.flush();
    else if (this.timer === undefined) {
      this.timer = this.timers.set(() => {
        this.timer = undefined;
        this.flush();
      }, this.intervalMs);
    }
  }

  /** Sends whatever is pending now. */
  flush(): void {
    this.cancelTimer();
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.send(batch);
  }

  /** Drops what is pending (a full snapshot is about to replace it). */
  clear(): void {
    this.cancelTimer();
    this.pending = [];
  }

  dispose(): void {
    this.clear();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) {
      this.timers.clear(this.timer);
      this.timer = undefined;
    }
  }
}
