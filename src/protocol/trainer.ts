// Messages between the extension host and a forked trainer process (one process per run).
import type { LandscapeAxisChoice, LandscapeJobEvent, RunEvent } from './events';
import type { PathsJobEvent } from './landscape';
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

/**
 * A paths job on finished runs (engine/landscape/pathsJob.ts): lines from the reference run's
 * theta_A to theta_B and to other runs' end weights, optionally a trained Bezier curve, each with
 * its loss barriers, and optionally the plane through theta_A, theta_B and a third run's end
 * weights with runs projected onto it. Saved beside the reference's result.json (reopened when
 * saved). The trainer answers with pathsEvent messages (progress, logs, then finished) and exit.
 */
export interface PathsRequest {
  type: 'paths';
  /** The reference run folder: theta_A, theta_B are its optima. */
  reference: string;
  /** Run folders whose last end weights get a straight line from theta_A. */
  to?: string[];
  /** Train a quadratic Bezier curve theta_A -> theta_B (Garipov et al. 2018). */
  bezier?: boolean;
  /** Bezier training steps (default 300). */
  steps?: number;
  learningRate?: number;
  batchSize?: number;
  /** Points along each path (default 25). */
  points?: number;
  /** The plane's third point: this run folder's last end weights. */
  planeWith?: string;
  /** More run folders to project onto the plane. */
  runs?: string[];
  /** Admit runs that share only the initialisation (their first task ended elsewhere, e.g. replay). */
  allowInitOnly?: boolean;
  /** Plane grid points per axis (default: the reference's landscape grid). */
  grid?: number;
  /** Phases of the reference for theta_A and theta_B (default first and last). */
  optima?: [number, number];
  /** Recompute even when the files exist (default: reopen them). */
  force?: boolean;
  backend?: BackendName | 'auto';
  dataDir?: string;
  cacheDir?: string;
}

export type ToTrainerMessage = RunRequest | LandscapeRequest | PathsRequest | { type: 'cancel' };

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

/** What a trainer sent a PathsRequest answers: its reports, then exit with resultFile = the paths file. */
export type FromPathsJobMessage =
  | { type: 'pathsEvent'; event: PathsJobEvent }
  | { type: 'exit'; status: 'completed' | 'cancelled' | 'failed'; resultFile?: string };
