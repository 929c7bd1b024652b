// Read-only views of a RunResult that several parts of the UI need (labels, counts, ranges).
import type { RunResult } from '../protocol/result';

/** Number of tasks: known from the experiment before the data is ready. */
export function taskCount(r: RunResult): number {
  return Math.max(r.tasks.length, r.experiment?.tasks?.length ?? 0);
}

/** Display name of every task: the resolved label, else the spec's label, else the dataset name. */
export function taskLabels(r: RunResult): string[] {
  return Array.from({ length: taskCount(r) }, (_, j) => {
    const info = r.tasks[j];
    const spec = r.experiment?.tasks?.[j];
    return info?.label || spec?.label || info?.dataset || spec?.dataset || `task ${j}`;
  });
}

/** Name of the experiment for headings and file names. */
export function experimentName(r: RunResult): string {
  return r.experiment?.name || 'Continual experiment';
}
