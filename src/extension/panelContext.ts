// What a panel needs beyond the result, computed on the host with the engine's config module:
// the defaults its run card compares with, and whether the experiment file still describes the
// run. Pure Node (no vscode import); the config module is loaded on first use, not at activation.
import { readFile } from 'node:fs/promises';
import type { NormalisedExperiment } from '../protocol/experiment';
import { experimentChanges, type ExperimentFileStatus, type PanelContext } from '../protocol/format';
import { replaySpec } from './replay';

type ConfigModule = typeof import('../engine/config/load');
let configModule: Promise<ConfigModule> | undefined;
export const loadConfigModule = (): Promise<ConfigModule> => (configModule ??= import('../engine/config/load'));

/**
 * The experiment made of nothing but the run's tasks: every engine default, the default optima for
 * this many tasks, and the default strategy's name over the run's strategy's default
 * hyperparameters (protocol/format.ts settingsDiff reads it so). Null for a strategy this version
 * does not know.
 */
export function experimentDefaults(config: Pick<ConfigModule, 'normaliseExperiment' | 'EXPERIMENT_DEFAULTS'>, recorded: NormalisedExperiment, file: string): NormalisedExperiment | null {
  const normalise = (strategy: string) =>
    config.normaliseExperiment(
      {
        tasks: structuredClone(recorded.tasks),
        // A benchmark names its scenario itself: no default to differ from.
        ...(recorded.benchmark ? { scenario: recorded.scenario } : {}),
        strategy: { name: strategy },
      },
      file,
    );
  try {
    let base: NormalisedExperiment;
    try {
      base = normalise(recorded.strategy.name);
    } catch {
      // A strategy this version does not know: its hyperparameters have no defaults to compare with.
      base = normalise(config.EXPERIMENT_DEFAULTS.strategy.name);
    }
    return { ...base, strategy: { ...base.strategy, name: config.EXPERIMENT_DEFAULTS.strategy.name } };
  } catch {
    return null;
  }
}

/** The experiment file now, compared with the recorded experiment (what "Run File Again" would run). */
export async function experimentFileStatus(config: Pick<ConfigModule, 'parseExperiment' | 'formatDiagnostic'>, file: string, recorded: NormalisedExperiment): Promise<ExperimentFileStatus> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? { state: 'missing' } : { state: 'unknown' };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const parsed = config.parseExperiment(text, file);
  if (!parsed.experiment) {
    const first = parsed.diagnostics.find((d) => d.severity === 'error');
    return { state: 'invalid', problem: first ? `line ${first.line}: ${first.message}` : 'it does not validate' };
  }
  const changes = experimentChanges(recorded, parsed.experiment);
  return changes.length ? { state: 'changed', changes } : { state: 'unchanged' };
}

/** Both, for a panel showing a run of `recorded` from `file` (file undefined: a result without one). */
export async function panelContextFor(recorded: NormalisedExperiment | undefined, file: string | undefined): Promise<PanelContext> {
  if (!recorded) return { defaults: null, file: { state: 'unknown' } };
  const config = await loadConfigModule();
  const defaults = experimentDefaults(config, recorded, file ?? '/experiment.cl.json');
  const status: ExperimentFileStatus = file ? await experimentFileStatus(config, file, recorded) : { state: 'unknown' };
  return { defaults, file: status };
}

/** The replay file's content for a rerun of `recorded` (see replay.ts). */
export async function replaySpecFor(recorded: NormalisedExperiment, file: string) {
  const config = await loadConfigModule();
  return replaySpec(recorded, config.normaliseExperiment, file);
}
