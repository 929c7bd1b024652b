// Small real experiments for the runner's tests: real MNIST / Fashion-MNIST subsets on the wasm
// backend, each run in its own temp folder, and the result file read back as it is on disk.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment, type RunOptions } from '../../src/engine/runner';
import type { NormalisedExperiment } from '../../src/protocol/experiment';
import type { RunEvent } from '../../src/protocol/events';
import type { RunResult } from '../../src/protocol/result';

/** Two tasks (MNIST then Fashion-MNIST, domain-IL), naive; `over` replaces whole fields. */
export function experiment(over: Partial<NormalisedExperiment> = {}): NormalisedExperiment {
  return {
    name: 'runner test',
    seed: 3,
    tasks: [
      { dataset: 'mnist', train: 1500, test: 500 },
      { dataset: 'fashion-mnist', train: 1500, test: 500 },
    ],
    scenario: 'domain-il',
    model: { type: 'mlp', hidden: [128] },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 32, epochs: 2, evalEvery: 20, evalSamples: 200 },
    strategy: { name: 'naive' },
    landscape: false,
    ...over,
  };
}

/** A few hundred images per task: 6 steps per task, a curve point every 2 steps. */
export function tinyExperiment(over: Partial<NormalisedExperiment> = {}): NormalisedExperiment {
  return experiment({
    tasks: [
      { dataset: 'mnist', train: 300, test: 200 },
      { dataset: 'fashion-mnist', train: 300, test: 200 },
    ],
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 50, epochs: 1, evalEvery: 2, evalSamples: 100 },
    ...over,
  });
}

export type RunExtra = Partial<Pick<RunOptions, 'signal' | 'onEvent' | 'onResultWritten' | 'onCheckpoint' | 'resolve' | 'cacheDir'>>;

export interface RunOutcome {
  result: RunResult;
  events: RunEvent[];
  outDir: string;
}

/** Runs `ex` on the wasm backend into a fresh temp folder (no downloads unless `extra.resolve` brings a mirror). */
export async function run(ex: NormalisedExperiment, extra: RunExtra = {}): Promise<RunOutcome> {
  const { tf, info } = await loadBackend('wasm');
  const outDir = mkdtempSync(join(tmpdir(), 'clw-run-'));
  const events: RunEvent[] = [];
  const result = await runExperiment({
    tf,
    environment: info,
    experiment: ex,
    outDir,
    allowDownload: extra.resolve?.mirrors !== undefined,
    ...extra,
    onEvent: (e) => {
      events.push(e);
      extra.onEvent?.(e);
    },
  });
  return { result, events, outDir };
}

/** result.json as on disk; fails on a torn file or a temp file left beside it. */
export function resultOnDisk(outDir: string): RunResult {
  const leftovers = readdirSync(outDir).filter((f) => !['result.json', 'weights.json', 'weights.bin'].includes(f));
  assert.deepEqual(leftovers, [], 'nothing but result.json in the run folder');
  return JSON.parse(readFileSync(join(outDir, 'result.json'), 'utf8')) as RunResult;
}

/**
 * Runs `ex` with an abort that `arm` triggers (from an event, a checkpoint or a write, never a
 * timer); checks the cancel point was reached and the file on disk is the returned, cancelled result.
 */
export async function cancelledRun(ex: NormalisedExperiment, arm: (abort: () => void) => RunExtra): Promise<RunOutcome> {
  const controller = new AbortController();
  const abort = () => {
    if (!controller.signal.aborted) controller.abort();
  };
  const out = await run(ex, { ...arm(abort), signal: controller.signal });
  assert.ok(controller.signal.aborted, 'the cancel point was reached');
  const onDisk = resultOnDisk(out.outDir);
  assert.equal(onDisk.status, 'cancelled', onDisk.error?.message);
  assert.equal(out.result.status, 'cancelled');
  assert.deepEqual(onDisk, JSON.parse(JSON.stringify(out.result)));
  assert.equal(out.events.filter((e) => e.type === 'finished').length, 1, 'one finished event');
  return out;
}

/** Cancels at the first event `when` accepts. */
export const onEvent =
  (when: (e: RunEvent) => boolean) =>
  (abort: () => void): RunExtra => ({
    onEvent: (e) => {
      if (when(e)) abort();
    },
  });
