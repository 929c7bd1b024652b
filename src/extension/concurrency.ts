// How many trainer processes run at once. Pure (no vscode import) so the default is unit-tested.
import { availableParallelism } from 'node:os';

/** The setting's default: 0 means "the number of cores" (a manifest default cannot be computed). */
export const MAX_CONCURRENT_RUNS_DEFAULT = 0;

/**
 * The limit a setting value means: a whole number ≥ 1 as given; 0, null, missing or nonsense: the
 * number of cores (one tfjs per process, each keeps a core busy; more only slows every run down).
 */
export function effectiveMaxConcurrentRuns(setting: unknown, cores = availableParallelism()): number {
  const all = Math.max(1, Math.floor(cores) || 1);
  if (typeof setting !== 'number' || !Number.isFinite(setting) || setting < 1) return all;
  return Math.floor(setting);
}
