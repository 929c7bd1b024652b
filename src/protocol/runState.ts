// The one fold of run events into a result. The runner builds the result file with it, the
// extension host keeps a snapshot with it, the webview renders from it. Pure: no imports but types.
import type { RunEvent } from './events';
import type { Metrics, RunResult } from './result';
import { RESULT_FORMAT_VERSION } from './result';
import type { NormalisedExperiment } from './experiment';

export type ProgressEvent = Extract<RunEvent, { type: 'progress' }>;

export interface RunState {
  result: RunResult;
  /** Latest training progress (live runs only). */
  progress: ProgressEvent | null;
  landscapeProgress: { done: number; total: number; phase: string } | null;
  resultFile?: string;
  logs: { level: 'info' | 'warn' | 'error'; message: string }[];
}

export function emptyMetrics(): Metrics {
  return { acc: null, bwt: null, fwt: null, forgetting: null, forgettingPerTask: [], learningAccuracy: null };
}

export function emptyResult(runId: string, experiment: NormalisedExperiment, startedAt: string): RunResult {
  return {
    formatVersion: RESULT_FORMAT_VERSION,
    runId,
    status: 'running',
    experiment,
    tasks: [],
    phases: [],
    head: { scenario: experiment.scenario, outputs: 0 },
    accuracyMatrix: [],
    lossMatrix: [],
    randomInitAccuracy: [],
    metrics: emptyMetrics(),
    curves: [],
    taskBoundaries: [],
    totalSteps: 0,
    landscape: null,
    environment: null,
    timing: { startedAt, totalMs: 0, dataMs: 0, trainMs: 0, evalMs: 0, landscapeMs: 0, trainImagesPerSecond: 0 },
  };
}

export function stateFromResult(result: RunResult, resultFile?: string): RunState {
  return { result, progress: null, landscapeProgress: null, resultFile, logs: [] };
}

const MAX_LOGS = 500;

/** Applies one event; returns the same state object, updated (callers that need immutability copy first). */
export function applyRunEvent(state: RunState | null, e: RunEvent): RunState {
  if (e.type === 'runStarted') {
    const result = emptyResult(e.runId, e.experiment, e.startedAt);
    if (e.experimentFile) result.experimentFile = e.experimentFile;
    return { result, progress: null, landscapeProgress: null, logs: [] };
  }
  if (!state) throw new Error(`run event '${e.type}' arrived before 'runStarted'`);
  const r = state.result;
  switch (e.type) {
    case 'environment':
      r.environment = e.environment;
      break;
    case 'dataReady':
      r.tasks = e.tasks;
      r.phases = e.phases;
      r.head = e.head;
      r.totalSteps = e.totalSteps;
      r.timing.dataMs = e.dataMs;
      break;
    case 'baseline':
      r.randomInitAccuracy = e.accuracy;
      break;
    case 'taskStarted':
      r.taskBoundaries[e.task] = e.step;
      break;
    case 'progress':
      state.progress = e;
      break;
    case 'curvePoint':
      r.curves.push(e.point);
      break;
    case 'taskFinished':
      r.accuracyMatrix[e.task] = e.accuracy;
      r.lossMatrix[e.task] = e.loss;
      if (e.alternate) {
        r.alternateAccuracy ??= { scenario: e.alternate.scenario, accuracyMatrix: [] };
        r.alternateAccuracy.accuracyMatrix[e.task] = e.alternate.accuracy;
      }
      r.metrics = e.metrics;
      r.timing.trainMs += e.trainMs;
      r.timing.evalMs += e.evalMs;
      break;
    case 'landscapeProgress':
      state.landscapeProgress = { done: e.done, total: e.total, phase: e.phase };
      break;
    case 'landscape':
      r.landscape = e.landscape;
      r.timing.landscapeMs = e.landscape.timeMs;
      state.landscapeProgress = null;
      break;
    case 'log':
      state.logs.push({ level: e.level, message: e.message });
      if (state.logs.length > MAX_LOGS) state.logs.splice(0, state.logs.length - MAX_LOGS);
      break;
    case 'note':
      (r.notes ??= []).push(e.field === undefined ? { message: e.message } : { message: e.message, field: e.field });
      break;
    case 'finished':
      r.status = e.status;
      r.timing.finishedAt = e.finishedAt;
      r.timing.totalMs = e.totalMs;
      r.timing.trainImagesPerSecond = e.trainImagesPerSecond;
      if (e.error) r.error = e.error;
      if (e.resultFile) state.resultFile = e.resultFile;
      if (e.weights) r.weights = e.weights;
      state.progress = null;
      state.landscapeProgress = null;
      break;
    default: {
      const never: never = e;
      throw new Error(`unknown run event ${JSON.stringify(never)}`);
    }
  }
  return state;
}
