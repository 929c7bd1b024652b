// What a run's progress looks like in the status bar and the progress notification.
// Pure (no vscode import): the words and fractions come from protocol/format.ts, as in the panel and the CLI.
import type { RunState } from '../protocol/runState';
import { runProgress } from '../protocol/format';

export const percent = (fraction: number) => Math.floor(fraction * 100);

/** "$(beaker) MNIST 2/2 · step 1,234/1,876 · 45%" (+ "(+1)" when more runs are active). */
export function statusBarText(state: RunState | null, othersActive: number, queued: number): string {
  const p = runProgress(state);
  const more = othersActive > 0 ? ` (+${othersActive})` : '';
  const waiting = queued > 0 ? ` · ${queued} queued` : '';
  return `$(beaker) ${p.detail} · ${percent(p.fraction)}%${more}${waiting}`;
}
