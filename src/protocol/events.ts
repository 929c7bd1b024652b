import type { NormalisedExperiment } from './experiment';
import type { CurvePoint, EnvironmentInfo, HeadInfo, LandscapeResult, Metrics, RunError, RunStatus, TaskInfo, WeightsInfo } from './result';

/** Everything a run reports, in order. A RunResult is the fold of these (see runState.ts). */
export type RunEvent =
  | { type: 'runStarted'; runId: string; experiment: NormalisedExperiment; experimentFile?: string; startedAt: string }
  | { type: 'environment'; environment: EnvironmentInfo }
  | { type: 'dataReady'; tasks: TaskInfo[]; phases: number[][]; head: HeadInfo; totalSteps: number; dataMs: number }
  | { type: 'baseline'; accuracy: number[]; loss: number[] }
  /** `task` is the phase index (= the task for sequential strategies; see RunResult.phases). */
  | { type: 'taskStarted'; task: number; step: number }
  | {
      type: 'progress';
      task: number;
      epoch: number;
      step: number;
      totalSteps: number;
      loss: number;
      imagesPerSecond: number;
      elapsedMs: number;
      etaMs: number | null;
    }
  | { type: 'curvePoint'; point: CurvePoint }
  | {
      type: 'taskFinished';
      task: number;
      /** Row `task` (the phase) of R and of the loss matrix (full test sets). */
      accuracy: number[];
      loss: number[];
      /** The row in the other scenario (RunResult.alternateAccuracy), where one run gives both. */
      alternate?: { scenario: 'task-il' | 'class-il'; accuracy: number[] };
      /** Metrics over the rows so far (computed by the engine; consumers only display them). */
      metrics: Metrics;
      trainMs: number;
      evalMs: number;
    }
  | { type: 'landscapeProgress'; done: number; total: number; phase: string }
  | { type: 'landscape'; landscape: LandscapeResult }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  /** The engine changed what the experiment asked for (RunResult.notes). */
  | { type: 'note'; message: string; field?: string }
  | {
      type: 'finished';
      status: Exclude<RunStatus, 'running'>;
      finishedAt: string;
      totalMs: number;
      trainImagesPerSecond: number;
      error?: RunError;
      resultFile?: string;
      /** The weights the run kept (RunResult.weights), when it kept them. */
      weights?: WeightsInfo;
    };

export type RunEventType = RunEvent['type'];

/** The second axis of a plane recomputed after the run: as in the experiment, or through a third model. */
export type LandscapeAxisChoice =
  | 'trajectory-pca'
  | 'random'
  /** Through another run's weights (its folder) after `phase` (default: its last phase); `run` may be this run. */
  | { run: string; phase?: number };

/** What a landscape-only job (engine/landscape/job.ts) reports, in order; it ends with landscapeJobFinished. */
export type LandscapeJobEvent =
  | Extract<RunEvent, { type: 'landscapeProgress' }>
  | Extract<RunEvent, { type: 'log' }>
  | {
      type: 'landscapeJobFinished';
      status: 'completed' | 'cancelled' | 'failed';
      /** The saved landscape (absolute path), when completed. */
      file?: string;
      /** True when the file existed and was reopened instead of recomputed. */
      reopened?: boolean;
      landscape?: LandscapeResult;
      error?: string;
      totalMs: number;
    };
