// Small real experiments for the tests of trainer processes and result folders: two-task specs on
// real MNIST / Fashion-MNIST subsets, written into temp folders and parsed as the host parses them,
// the trainer run from source (tsx), and result files read back as they are on disk.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExperimentSpec, NormalisedExperiment } from '../../src/protocol/experiment';
import type { RunResult } from '../../src/protocol/result';
import { parseExperiment, formatDiagnostic } from '../../src/engine/config/load';
import { RUN_LOCK_FILE } from '../../src/engine/runLock';
import { parseRunResult } from '../../src/extension/resultFile';
import type { TrainerProcessOptions, TrainerRun } from '../../src/extension/trainerProcess';

export const ROOT = resolve(__dirname, '..', '..');
/** The trainer's entry, run from source. */
export const TRAINER_SOURCE = join(ROOT, 'src', 'trainer', 'main.ts');
// Absolute: the trainer runs in the experiment's folder, where `--import tsx` would not resolve.
export const TSX = pathToFileURL(require.resolve('tsx')).href;

/** Two tasks, MNIST then Fashion-MNIST (`train` images each, 100 test images), on a small MLP. */
export function twoTaskSpec(name: string, train: [number, number], epochs: number): ExperimentSpec {
  return {
    seed: 0,
    model: { type: 'mlp', hidden: [16] },
    landscape: false,
    name,
    tasks: [
      { dataset: 'mnist', train: train[0], test: 100 },
      { dataset: 'fashion-mnist', train: train[1], test: 100 },
    ],
    training: { epochs, batchSize: 32, evalEvery: 2, evalSamples: 50 },
  };
}

/** About a second of training: two tasks of 200 images, one epoch. */
export const TINY: ExperimentSpec = twoTaskSpec('tiny', [200, 200], 1);

/** A fresh temp folder. */
export function workspace(prefix = 'clw-trainer-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `spec` as <name>.cl.json in `dir` and parses it as the host does (it must be valid). */
export function writeExperiment(dir: string, spec: ExperimentSpec): { file: string; experiment: NormalisedExperiment } {
  const file = join(dir, `${spec.name}.cl.json`);
  writeFileSync(file, JSON.stringify(spec, null, 2));
  const parsed = parseExperiment(readFileSync(file, 'utf8'), file);
  assert.ok(parsed.experiment, parsed.diagnostics.map(formatDiagnostic).join('\n'));
  return { file, experiment: parsed.experiment };
}

/** Options of a TrainerProcess running the trainer from source on the wasm backend, never reniced. */
export function trainerOptions(): Pick<TrainerProcessOptions<TrainerRun>, 'entry' | 'execArgv' | 'settings' | 'niceness'> {
  return { entry: TRAINER_SOURCE, execArgv: ['--import', TSX], settings: () => ({ backend: 'wasm' }), niceness: null };
}

/** Temp files and run locks left in a folder (a clean end leaves none). */
export const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === RUN_LOCK_FILE);

/** A result file as on disk: complete JSON and a Continual Workbench result, else the assertion fails. */
export function readResultFile(file: string): RunResult {
  const parsed = parseRunResult(readFileSync(file, 'utf8'));
  assert.ok(parsed.ok, parsed.ok ? '' : `${file}: ${parsed.error}`);
  return parsed.result;
}
