// Values that take one of several shapes, picked by a key: the model (by 'preset' or 'type'), the
// strategy and the benchmark (by 'name'), the landscape (false or its settings). Their schema
// errors would be a cascade of every alternative's complaints; instead the key the user wrote picks
// the alternative, and only that alternative's errors are reported (config/schemaErrors.ts).
import { STRATEGIES, strategyDefinition } from '../strategies/registry';
import { BENCHMARKS, benchmarkInfo } from './benchmarks';
import { MODEL_PRESETS } from './defaults';
import type { SchemaDefinition } from './schema';
import { benchmarkDefinitionName, strategyDefinitionName } from './schemaSections';
import { childPointer, fieldName } from './source';
import { closestName, describeValue, didYouMean, isObject, json, orList, type Json } from './wording';

/** A key whose value picks the alternative. */
export interface Discriminator {
  key: string;
  /** The values it knows (did-you-mean, and the shape hint for a bare string). */
  known(): readonly string[];
  /** The definition for a value of the key; undefined when the value names nothing. */
  definition(value: Json): SchemaDefinition | undefined;
  /** What the value may be, for "<key> must be ..., got ...". */
  expected(): string;
  /** An unknown key that another alternative has is said to belong there (a hyperparameter of another strategy). */
  pointsToOthers?: boolean;
}

export interface UnionRule {
  pointer: string;
  /** A value that is not an object: what it is told, or null when it is accepted as it is. */
  notObject(value: Json): string | null;
  /** Keys that pick the alternative, in order of precedence. */
  discriminators: readonly Discriminator[];
  /** When two discriminators are given together. */
  conflict?: string;
  /** When none is given (a typo hint is added). */
  missing?: string;
  /** The definition for any object, when there are no discriminators. */
  settings?: SchemaDefinition;
}

function quotedNames(names: readonly string[]): string {
  return `one of ${names.map(json).join(', ')}`;
}

/** A discriminator naming the entries of a table (strategies, benchmarks). */
function byName(names: () => readonly string[], definition: (name: string) => SchemaDefinition | undefined): Discriminator {
  return {
    key: 'name',
    known: names,
    definition: (v) => (typeof v === 'string' ? definition(v) : undefined),
    expected: () => quotedNames(names()),
    pointsToOthers: true,
  };
}

const MODEL_SHAPES = '{"preset": "small-cnn"}, {"preset": "mlp"}, {"type": "mlp", "hidden": [...]} or {"type": "cnn", "conv": [...], "dense": [...]}';
const MODEL_TYPES: Record<string, SchemaDefinition> = { mlp: 'modelMlp', cnn: 'modelCnn' };
const strategyNames = (): string[] => STRATEGIES.map((s) => s.name);
const benchmarkNames = (): string[] => BENCHMARKS.map((b) => b.name);

export const UNIONS: readonly UnionRule[] = [
  {
    pointer: '/model',
    notObject: (v) => `model must be an object, one of ${MODEL_SHAPES}; got ${describeValue(v, false)}`,
    discriminators: [
      // Any preset value goes to modelPreset, whose enum says which presets exist.
      { key: 'preset', known: () => Object.keys(MODEL_PRESETS), definition: () => 'modelPreset', expected: () => quotedNames(Object.keys(MODEL_PRESETS)) },
      {
        key: 'type',
        known: () => Object.keys(MODEL_TYPES),
        definition: (v) => (typeof v === 'string' ? MODEL_TYPES[v] : undefined),
        expected: () => `"mlp" (with 'hidden') or "cnn" (with 'conv' and 'dense')`,
      },
    ],
    conflict: `model has both 'preset' and 'type': use a preset ({"preset": "small-cnn"} or {"preset": "mlp"}) or a custom model ({"type": "mlp", ...} or {"type": "cnn", ...}), not both`,
    missing: `model needs a 'preset' ("small-cnn" or "mlp") or a 'type' ("mlp" with 'hidden', or "cnn" with 'conv' and 'dense')`,
  },
  {
    pointer: '/strategy',
    notObject: (v) => `strategy must be an object: {"name": ...} with that strategy's hyperparameters beside it, got ${describeValue(v, false)}`,
    discriminators: [byName(strategyNames, (n) => (strategyDefinition(n) ? strategyDefinitionName(n) : undefined))],
    missing: `strategy needs a 'name': ${orList(strategyNames().map(json))}`,
  },
  {
    pointer: '/benchmark',
    notObject: (v) => `benchmark must be an object such as {"name": "split-mnist", "scenario": "class-il"}, got ${describeValue(v, false)}`,
    discriminators: [byName(benchmarkNames, (n) => (benchmarkInfo(n) ? benchmarkDefinitionName(n) : undefined))],
    missing: `benchmark needs a 'name': ${orList(benchmarkNames().map(json))}`,
  },
  {
    pointer: '/landscape',
    notObject: (v) => (v === false ? null : `landscape must be false (no landscape) or an object of settings such as {"grid": 21, "samples": 1000}, got ${describeValue(v, false)}`),
    discriminators: [],
    settings: 'landscapeSettings',
  },
];

/** What an alternative is called in messages: 'rotated-mnist', 'type "cnn"'. */
function alternativeName(d: Discriminator, value: Json): string {
  return d.key === 'name' ? json(value) : `${d.key} ${json(value)}`;
}

export type Choice =
  | { definition: SchemaDefinition; discriminator?: Discriminator; value?: Json }
  | { pointer: string; message: string }
  | null;

/**
 * The alternative a value means: a definition to validate it against, a message saying why none
 * applies (at `pointer`), or null when the value is accepted as it is.
 */
export function chooseAlternative(rule: UnionRule, value: Json): Choice {
  const p = rule.pointer;
  if (!isObject(value)) {
    const message = rule.notObject(value);
    if (message === null) return null;
    const named = typeof value === 'string' ? rule.discriminators.find((d) => d.known().includes(value)) : undefined;
    return { pointer: p, message: named ? `${message} — write {${json(named.key)}: ${json(value)}}` : message };
  }
  if (rule.settings) return { definition: rule.settings };
  const given = rule.discriminators.filter((d) => d.key in value);
  if (given.length > 1 && rule.conflict) return { pointer: p, message: rule.conflict };
  const d = given[0];
  if (!d) {
    const keys = rule.discriminators.map((x) => x.key);
    const typo = Object.keys(value)
      .map((k) => ({ k, s: closestName(k, keys) }))
      .find((x) => x.s);
    const mean = typo ? ` (is '${typo.k}' meant to be '${typo.s}'?)` : '';
    return { pointer: p, message: `${rule.missing ?? `${fieldName(p)} needs a ${orList(keys.map((k) => `'${k}'`))}`}${mean}` };
  }
  const v = value[d.key];
  const definition = d.definition(v);
  if (!definition) {
    const at = childPointer(p, d.key);
    return { pointer: at, message: `${fieldName(at)} must be ${d.expected()}, got ${describeValue(v, true)}${didYouMean(v, d.known())}` };
  }
  return { definition, discriminator: d, value: v };
}

/**
 * For a key the chosen alternative lacks: the other alternatives that have it, e.g. 'angles' is a
 * setting of rotated-mnist only, 'lambda' a hyperparameter of ewc and l2.
 */
export function alternativesWithKey(d: Discriminator, chosen: Json, key: string, propertiesOf: (definition: SchemaDefinition) => string[]): string | undefined {
  if (!d.pointsToOthers) return undefined;
  const others = d.known().filter((k) => k !== chosen && propertiesOf(d.definition(k) as SchemaDefinition).includes(key));
  if (!others.length) return undefined;
  return `'${key}' belongs to ${orList(others.map((o) => alternativeName(d, o)))}, not to ${alternativeName(d, chosen)}`;
}
