// Every strategy, one line each. The table feeds the engine (create), the config loader
// (hyperparameters, defaults, allowed scenarios) and the schema's documentation
// (`npm run schema` writes the strategy part of schemas/experiment.schema.json from it; a test
// fails until it is rerun).
import type { StrategySpec } from '../../protocol/experiment';
import type { StrategyDefinition } from './types';
import { naive } from './naive';
import { joint } from './joint';
import { cumulative } from './cumulative';
import { l2 } from './l2';
import { ewc } from './ewc';
import { onlineEwc } from './onlineEwc';
import { si } from './si';
import { mas } from './mas';
import { replay } from './replay';
import { agem } from './agem';
import { der } from './der';
import { lwf } from './lwf';
import { icarl } from './icarl';

export const STRATEGIES: readonly StrategyDefinition[] = [
  naive,
  joint,
  cumulative,
  l2,
  ewc,
  onlineEwc,
  si,
  mas,
  replay,
  agem,
  der,
  lwf,
  icarl,
];

export function strategyDefinition(name: string): StrategyDefinition | undefined {
  return STRATEGIES.find((s) => s.name === name);
}

/** The strategy's hyperparameters with defaults filled in (the spec is assumed valid). */
export function strategyParams(spec: StrategySpec): Record<string, number | string | boolean> {
  const def = strategyDefinition(spec.name);
  if (!def) throw new Error(`unknown strategy '${spec.name}'; known: ${STRATEGIES.map((s) => s.name).join(', ')}`);
  const out: Record<string, number | string | boolean> = {};
  for (const [key, h] of Object.entries(def.hyperparameters)) out[key] = spec[key] ?? h.default;
  return out;
}
