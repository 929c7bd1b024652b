// What a run's progress looks like in the status bar and the progress notification.
// Pure (no vscode import): derived from the host's RunState only.
import type { RunState } from '../protocol/runState';

/** Share of the progress bar given to training when a loss landscape follows it. */
const TRAINING_SHARE_WITH_LANDSCAPE = 0.8;

export interface RunProgress {
  /** 0..1 over the whole run. */
  fraction: number;
  /** Short phase description, e.g. "MNIST 2/2 · step 1234/1876". */
  detail: string;
}

const hasLandscape = (s: RunState) => s.result.experiment.landscape !== false && s.result.experiment.tasks.length >= 2;

export function runProgress(state: RunState | null): RunProgress {
  if (!state) return { fraction: 0, detail: 'starting' };
  const r = state.result;
  const tasks = r.experiment.tasks.length;
  if (r.status !== 'running') return { fraction: r.status === 'completed' ? 1 : trainingFraction(state) * share(state), detail: r.status };
  if (!r.tasks.length || !r.totalSteps) return { fraction: 0, detail: 'loading data' };
  const trained = r.accuracyMatrix.filter(Boolean).length;
  if (trained >= tasks) {
    if (!hasLandscape(state)) return { fraction: 1, detail: 'finishing' };
    const lp = state.landscapeProgress;
    const lf = lp && lp.total > 0 ? lp.done / lp.total : 0;
    const detail = lp ? `landscape ${lp.done}/${lp.total}` : r.landscape ? 'writing result' : 'landscape';
    return { fraction: TRAINING_SHARE_WITH_LANDSCAPE + (1 - TRAINING_SHARE_WITH_LANDSCAPE) * lf, detail };
  }
  const p = state.progress;
  const task = p ? p.task : Math.min(trained, tasks - 1);
  const label = r.tasks[task]?.label ?? `Task ${task + 1}`;
  const step = p ? p.step : (r.taskBoundaries[task] ?? 0);
  const total = p ? p.totalSteps : r.totalSteps;
  return { fraction: trainingFraction(state) * share(state), detail: `${label} ${task + 1}/${tasks} · step ${step}/${total}` };
}

function share(state: RunState): number {
  return hasLandscape(state) ? TRAINING_SHARE_WITH_LANDSCAPE : 1;
}

function trainingFraction(state: RunState): number {
  const r = state.result;
  if (r.accuracyMatrix.filter(Boolean).length >= r.experiment.tasks.length) return 1;
  const p = state.progress;
  const total = p?.totalSteps || r.totalSteps;
  if (!total) return 0;
  const step = p ? p.step : (r.curves.at(-1)?.step ?? 0);
  return Math.min(1, Math.max(0, step / total));
}

export const percent = (fraction: number) => Math.floor(fraction * 100);

/** "$(beaker) MNIST 2/2 · step 1234/1876 · 45%" (+ "(+1 more)" when more runs are active). */
export function statusBarText(state: RunState | null, othersActive: number, queued: number): string {
  const p = runProgress(state);
  const more = othersActive > 0 ? ` (+${othersActive})` : '';
  const waiting = queued > 0 ? ` · ${queued} queued` : '';
  return `$(beaker) ${p.detail} · ${percent(p.fraction)}%${more}${waiting}`;
}

/** Message line of the progress notification: phase, loss, throughput, ETA. */
export function progressMessage(state: RunState | null): string {
  const p = runProgress(state);
  const parts = [p.detail];
  const ev = state?.progress;
  if (ev && state?.result.status === 'running') {
    if (Number.isFinite(ev.loss)) parts.push(`loss ${ev.loss.toFixed(3)}`);
    if (ev.imagesPerSecond > 0) parts.push(`${Math.round(ev.imagesPerSecond)} img/s`);
    if (ev.etaMs !== null && ev.etaMs >= 0) parts.push(`ETA ${formatDuration(ev.etaMs)}`);
  }
  return parts.join(' · ');
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}
