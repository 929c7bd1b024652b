// Rerun replays the experiment a result recorded, not the file as it is now. The trainer runs
// experiment files, so the recorded (normalised) experiment is written back as one into the new
// run's folder: the most readable spec (model preset, benchmark) that normalises to exactly the
// recorded experiment, else the fully explicit one. Pure Node (no vscode import).
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentSpec, ModelSpec, NormalisedExperiment, TrainingSpec } from '../protocol/experiment';
import type { RunResult } from '../protocol/result';
import { writeFileAtomic } from '../engine/atomicWrite';

/** The replayed experiment's file in the run folder (runnable again with the CLI). */
export const REPLAY_FILE_NAME = 'experiment.cl.json';

type Normalise = (spec: ExperimentSpec, file: string) => NormalisedExperiment;

const clone = <T>(v: T): T => structuredClone(v);

function explicitModel(model: NormalisedExperiment['model']): ModelSpec {
  return model.type === 'mlp' ? { type: 'mlp', hidden: [...model.hidden] } : { type: 'cnn', conv: model.conv.map((c) => ({ ...c })), dense: [...model.dense] };
}

/** `epochs` or `iterations`, not both: with iterations the engine counts steps (a file may not give both). */
function trainingOf(t: TrainingSpec): Partial<TrainingSpec> {
  const { epochs, iterations, ...rest } = t;
  return iterations !== undefined ? { ...rest, iterations } : { ...rest, epochs };
}

/**
 * An experiment file whose normalisation is the recorded experiment. `normalise` is the engine's
 * (engine/config/normalise.ts), passed in so the host loads it only when a rerun asks for it.
 * Throws when not even the explicit spec reproduces it (an engine that changed its meaning).
 */
export function replaySpec(recorded: NormalisedExperiment, normalise: Normalise, file: string): ExperimentSpec {
  const common: ExperimentSpec = {
    name: recorded.name,
    seed: recorded.seed,
    training: trainingOf(recorded.training),
    strategy: clone(recorded.strategy),
    landscape: recorded.landscape === false ? false : clone(recorded.landscape),
  };
  const explicit: ExperimentSpec = { ...common, tasks: clone(recorded.tasks), scenario: recorded.scenario, model: explicitModel(recorded.model) };
  const readable: ExperimentSpec = {
    ...common,
    ...(recorded.benchmark ? { benchmark: clone(recorded.benchmark) } : { tasks: clone(recorded.tasks), scenario: recorded.scenario }),
    model: recorded.model.preset ? ({ preset: recorded.model.preset } as ModelSpec) : explicitModel(recorded.model),
  };
  const reproduces = (spec: ExperimentSpec, target: NormalisedExperiment) => {
    try {
      return isDeepStrictEqual(normalise(clone(spec), file), target);
    } catch {
      return false;
    }
  };
  if (reproduces(readable, recorded)) return readable;
  // The explicit form drops what only names things (preset, benchmark): compare without them.
  const { benchmark: _benchmark, ...withoutBenchmark } = recorded;
  const bare: NormalisedExperiment = { ...withoutBenchmark, model: explicitModel(recorded.model) as NormalisedExperiment['model'] };
  if (reproduces(explicit, bare)) return explicit;
  throw new Error('the recorded experiment cannot be written as an experiment file this version reads the same way');
}

/** Writes the replay file into the run folder; returns its path (what the trainer is given). */
export function writeReplayFile(runDir: string, spec: ExperimentSpec): string {
  const file = join(runDir, REPLAY_FILE_NAME);
  writeFileAtomic(file, `${JSON.stringify(spec, null, 2)}\n`);
  return file;
}

/**
 * The trainer recorded the replay file as the run's experiment file; the result names the user's
 * file instead (Open experiment file, Run File Again and the changed-file notice all mean that one).
 */
export function restoreExperimentFile(resultFile: string, experimentFile: string): boolean {
  let result: RunResult;
  try {
    result = JSON.parse(readFileSync(resultFile, 'utf8')) as RunResult;
  } catch {
    return false;
  }
  if (result.experimentFile === experimentFile) return true;
  result.experimentFile = experimentFile;
  writeFileAtomic(resultFile, JSON.stringify(result));
  return true;
}
