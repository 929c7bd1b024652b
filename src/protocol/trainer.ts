// Messages between the extension host and a forked trainer process (one process per run).
import type { LandscapeAxisChoice, LandscapeJobEvent, RunEvent } from './events';
import type { BackendName } from './result';

export interface RunRequest {
  type: 'run';
  /** Absolute path of the experiment file (read and validated by the trainer). */
  experimentFile: string;
  /** Folder the result (and report) is written to. */
  outDir: string;
  backend: BackendName | 'auto';
  /** Extra dataset folder (setting `continualWorkbench.dataDir`), searched before the cache. */
  dataDir?: string;
  /** Download/cache folder for datasets. */
  cacheDir?: string;
  /** Where dist/webview.js lives, for report.html; no report when absent. */
  assetsDir?: string;
}

/**
 * A landscape-only job on a finished run (engine/landscape/job.ts): the plane through two phases'
 * optima, recomputed from the run's stored weights, saved beside its result.json. The trainer
 * answers with landscapeEvent messages (progress, logs, then landscapeJobFinished) and exit; a
 * 'cancel' stops it (landscapeJobFinished 'cancelled', no file written).
 */
export interface LandscapeRequest {
  type: 'landscape';
  /** The run folder (holds result.json, weights.json and weights.bin). */
  runDir: string;
  /** The phases whose end weights sit at (0,0) and (1,0). */
  optima: [number, number];
  secondAxis: LandscapeAxisChoice;
  /** Points per axis (default: the run's). */
  grid?: number;
  /** Recompute even when the landscape file exists (default: reopen it). */
  force?: boolean;
  /** Default: the backend the run used. */
  backend?: BackendName | 'auto';
  dataDir?: string;
  cacheDir?: string;
}

export type ToTrainerMessage = RunRequest | LandscapeRequest | { type: 'cancel' };

export type FromTrainerMessage =
  | { type: 'event'; event: RunEvent }
  /** Validation failed before anything ran: positioned messages ("file:line:col: message"). */
  | { type: 'invalid'; errors: string[] }
  | { type: 'exit'; status: 'completed' | 'cancelled' | 'failed' | 'invalid'; resultFile?: string };

/**
 * What a trainer sent a LandscapeRequest answers: its reports (not run events: they do not fold into
 * a run's state), then exit with resultFile = the landscape file it wrote or reopened.
 */
export type FromLandscapeJobMessage =
  | { type: 'landscapeEvent'; event: LandscapeJobEvent }
  | { type: 'exit'; status: 'completed' | 'cancelled' | 'failed'; resultFile?: string };
