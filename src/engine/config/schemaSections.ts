// The parts of schemas/experiment.schema.json written from code tables rather than by hand: the
// strategies (from the registry: names, summaries, papers, hyperparameters with defaults and
// ranges) and the benchmarks (from config/benchmarks.ts). scripts/schema.ts writes them into the
// file for VS Code; the validator uses them straight from the tables (config/schema.ts), and a test
// keeps the file equal to them.
import { STRATEGIES } from '../strategies/registry';
import type { Hyperparameter, StrategyDefinition } from '../strategies/types';
import { BENCHMARKS, type BenchmarkInfo } from './benchmarks';
import { BENCHMARK_DEFAULTS, EXPERIMENT_DEFAULTS } from './defaults';
import type { JsonSchema } from './schema';
import { describeAllowed, json, orList } from './wording';
import { sweepPathList } from './sweepPaths';
import experimentSchemaJson from '../../../schemas/experiment.schema.json';

/** Schema definition of one strategy's settings: "strategy-ewc". */
export function strategyDefinitionName(name: string): `strategy-${string}` {
  return `strategy-${name}`;
}

/** Schema definition of one benchmark's settings: "benchmark-split-mnist". */
export function benchmarkDefinitionName(name: string): `benchmark-${string}` {
  return `benchmark-${name}`;
}

/** Whether a key under `definitions` is written by the generator. */
export function isGeneratedDefinition(key: string): boolean {
  return key === 'strategy' || key === 'benchmark' || key === 'sweep' || key.startsWith('strategy-') || key.startsWith('benchmark-');
}

function sentence(s: string): string {
  const t = s.trim();
  return /[.!?]$/.test(t) ? t : `${t}.`;
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function paperNote(s: StrategyDefinition): string {
  return s.paper ? ` *(${s.paper})*` : '';
}

function scenarioNote(s: StrategyDefinition): string {
  return s.scenarios ? `\n\nOnly for the ${orList(s.scenarios.map((x) => `\`${x}\``))} scenario${s.scenarios.length > 1 ? 's' : ''}.` : '';
}

function hyperparameterSchema(s: StrategyDefinition, key: string, h: Hyperparameter): JsonSchema {
  const schema: JsonSchema = { type: h.type };
  if (h.minimum !== undefined) schema.minimum = h.minimum;
  if (h.exclusiveMinimum !== undefined) schema.exclusiveMinimum = h.exclusiveMinimum;
  if (h.maximum !== undefined) schema.maximum = h.maximum;
  if (h.enum) schema.enum = [...h.enum];
  schema.default = h.default;
  schema.description = h.description;
  schema.markdownDescription = `${sentence(h.description)}\n\n${capitalised(describeAllowed(schema))}; default \`${json(h.default)}\`.\n\n\`${s.name}\`${s.paper ? `: ${s.paper}` : ''}.`;
  // Per-value descriptions, when the registry gives them.
  const valueDocs = (h as { enumDescriptions?: readonly string[] }).enumDescriptions;
  if (h.enum && valueDocs?.length === h.enum.length) {
    schema.enumDescriptions = [...valueDocs];
    schema.markdownEnumDescriptions = [...valueDocs];
  }
  return schema;
}

function strategySettingsSchema(s: StrategyDefinition): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    name: {
      type: 'string',
      const: s.name,
      description: s.summary,
      markdownDescription: `**${s.name}**: ${s.summary}${paperNote(s)}`,
    },
  };
  for (const [key, h] of Object.entries(s.hyperparameters)) properties[key] = hyperparameterSchema(s, key, h);
  const keys = Object.keys(s.hyperparameters);
  const settings = keys.length ? `Hyperparameters (each optional): ${keys.map((k) => `\`${k}\``).join(', ')}.` : 'No hyperparameters.';
  return {
    type: 'object',
    description: s.summary,
    markdownDescription: `**${s.name}**: ${s.summary}${s.paper ? `\n\nPaper: ${s.paper}.` : ''}${scenarioNote(s)}\n\n${settings}`,
    required: ['name'],
    additionalProperties: false,
    properties,
  };
}

function defaultParams(s: StrategyDefinition): Record<string, unknown> {
  return Object.fromEntries(Object.entries(s.hyperparameters).map(([k, h]) => [k, h.default]));
}

/** The `strategy` definition and one `strategy-<name>` definition per registry entry. */
export function strategySection(strategies: readonly StrategyDefinition[] = STRATEGIES): Record<string, JsonSchema> {
  const names = strategies.map((s) => s.name);
  const list = strategies.map((s) => `- \`${s.name}\`: ${s.summary}${paperNote(s)}`).join('\n');
  const out: Record<string, JsonSchema> = {
    strategy: {
      type: 'object',
      description: 'The continual-learning strategy: its name and, beside it, its hyperparameters (each optional).',
      markdownDescription: `The continual-learning strategy: \`name\` and, beside it, that strategy's hyperparameters (each optional; hover one for its meaning and default).\n\n${list}\n\nDefault: \`${json(EXPERIMENT_DEFAULTS.strategy)}\`.`,
      required: ['name'],
      default: { ...EXPERIMENT_DEFAULTS.strategy },
      properties: {
        name: {
          type: 'string',
          enum: names,
          default: EXPERIMENT_DEFAULTS.strategy.name,
          description: 'Which continual-learning method.',
          markdownDescription: `Which continual-learning method; its hyperparameters go beside \`name\`.\n\nDefault: \`${json(EXPERIMENT_DEFAULTS.strategy.name)}\`.`,
          enumDescriptions: strategies.map((s) => s.summary),
          markdownEnumDescriptions: strategies.map((s) => `**${s.name}**: ${s.summary}${paperNote(s)}`),
        },
      },
      // Each strategy's own settings (closed: an unknown hyperparameter is an error).
      allOf: strategies.map((s) => ({
        if: { properties: { name: { const: s.name } }, required: ['name'] },
        then: { $ref: `#/definitions/${strategyDefinitionName(s.name)}` },
      })),
      defaultSnippets: strategies.map((s) => ({ label: s.name, description: s.summary, body: { name: s.name, ...defaultParams(s) } })),
    },
  };
  for (const s of strategies) out[strategyDefinitionName(s.name)] = strategySettingsSchema(s);
  return out;
}

function benchmarkSettingsSchema(b: BenchmarkInfo): JsonSchema {
  const defaults = BENCHMARK_DEFAULTS[b.name];
  const properties: Record<string, JsonSchema> = {
    name: { type: 'string', const: b.name, description: b.summary, markdownDescription: b.summary },
    scenario: { $ref: '#/definitions/scenario' },
  };
  const tasks: JsonSchema = { type: 'integer', minimum: 1 };
  if (b.maxTasks !== undefined) tasks.maximum = b.maxTasks;
  tasks.default = defaults.tasks;
  if (b.name === 'rotated-mnist') {
    tasks.description = 'Number of tasks, with angles evenly spaced from 0 to 180 degrees; ignored when angles are given.';
    tasks.markdownDescription = `Number of tasks (integer ≥ 1), with angles evenly spaced from 0° to 180°. Give \`angles\` instead to choose them.\n\nDefault: ${defaults.tasks}, the default angles.`;
  } else if (b.maxTasks !== undefined) {
    tasks.description = `Number of tasks: the first N class pairs (1 to ${b.maxTasks}).`;
    tasks.markdownDescription = `Number of tasks: the first N class pairs (integer from 1 to ${b.maxTasks}).\n\nDefault: \`${defaults.tasks}\`.`;
  } else {
    tasks.description = 'Number of tasks: the identity, then one permutation per further task.';
    tasks.markdownDescription = `Number of tasks (integer ≥ 1): task 0 is the identity (MNIST as it is), tasks 1, 2, … each get their own permutation.\n\nDefault: \`${defaults.tasks}\` (as van de Ven & Tolias 2019).`;
  }
  properties.tasks = tasks;
  if (b.options.includes('seed')) {
    properties.seed = {
      type: 'integer',
      minimum: 0,
      description: "Seed of the pixel permutations. Default: the experiment's seed.",
      markdownDescription: "Seed of the pixel permutations (integer ≥ 0): task i's permutation is derived from it and i, so the same seed gives the same tasks.\n\nDefault: the experiment's `seed`.",
    };
  }
  if (b.options.includes('angles')) {
    properties.angles = {
      type: 'array',
      minItems: 1,
      items: { type: 'number' },
      default: [...(defaults.angles ?? [])],
      description: 'One rotation per task, in degrees.',
      markdownDescription: `One rotation per task, in degrees (bilinear, about the image centre); the number of angles is the number of tasks.\n\nDefault: \`${json(defaults.angles)}\`.`,
    };
  }
  properties.train = {
    type: 'integer',
    minimum: 1,
    description: "Training examples per task: a seeded, stratified subset of the task's data. Default: all of it.",
    markdownDescription: "Training examples per task (integer ≥ 1): a seeded, stratified subset of the task's training data.\n\nDefault: all of it.",
    examples: [2000],
  };
  properties.test = {
    type: 'integer',
    minimum: 1,
    description: "Test examples per task: a seeded, stratified subset of the task's test data. Default: all of it.",
    markdownDescription: "Test examples per task (integer ≥ 1): a seeded, stratified subset of the task's test data, used for the accuracy matrix.\n\nDefault: all of it.",
    examples: [1000],
  };
  return {
    type: 'object',
    description: b.summary,
    markdownDescription: `${b.summary}\n\nSettings: ${Object.keys(properties)
      .map((k) => `\`${k}\``)
      .join(', ')}.`,
    required: ['name', 'scenario'],
    additionalProperties: false,
    properties,
  };
}

/** The `benchmark` definition and one `benchmark-<name>` definition per benchmark. */
export function benchmarkSection(benchmarks: readonly BenchmarkInfo[] = BENCHMARKS): Record<string, JsonSchema> {
  const list = benchmarks.map((b) => `- \`${b.name}\`: ${b.summary}`).join('\n');
  const out: Record<string, JsonSchema> = {
    benchmark: {
      type: 'object',
      description: 'A standard benchmark instead of an explicit task list: its name and scenario.',
      markdownDescription: `A standard benchmark, **instead of** \`tasks\`: it is expanded into its task list, and its \`scenario\` is the experiment's.\n\n${list}`,
      required: ['name', 'scenario'],
      properties: {
        name: {
          type: 'string',
          enum: benchmarks.map((b) => b.name),
          description: 'Which benchmark.',
          markdownDescription: 'Which benchmark; its settings go beside `name`.',
          enumDescriptions: benchmarks.map((b) => b.summary),
          markdownEnumDescriptions: benchmarks.map((b) => b.summary),
        },
      },
      allOf: benchmarks.map((b) => ({
        if: { properties: { name: { const: b.name } }, required: ['name'] },
        then: { $ref: `#/definitions/${benchmarkDefinitionName(b.name)}` },
      })),
      defaultSnippets: benchmarks.map((b) => ({
        label: b.name,
        description: b.summary,
        body: { name: b.name, scenario: '${1|class-il,task-il,domain-il|}' },
      })),
    },
  };
  for (const b of benchmarks) out[benchmarkDefinitionName(b.name)] = benchmarkSettingsSchema(b);
  return out;
}

/** Most runs one sweep may expand to (config/sweep.ts refuses more). */
export const MAX_SWEEP_RUNS = 1000;

/**
 * The `sweep` definition: every field path of the experiment (from the hand-written schema and the
 * generated strategy/benchmark definitions) as a property, so the editor completes and explains
 * them; the values are checked by the loader (config/sweep.ts), each substituted into the experiment.
 */
export function sweepSection(withoutSweep: JsonSchema): Record<string, JsonSchema> {
  const properties: Record<string, JsonSchema> = {};
  for (const { path, schema } of sweepPathList(withoutSweep)) {
    const about = typeof schema.description === 'string' ? ` ${sentence(schema.description)}` : '';
    properties[path] = {
      type: 'array',
      minItems: 1,
      description: `Values of ${path} to run, one run each (times every value of the other swept fields).${about}`,
      markdownDescription: `Values of \`${path}\` to run: one run each, times every value of the other swept fields.${about}`,
    };
  }
  return {
    sweep: {
      type: 'object',
      description: 'Fields to sweep: a dotted path into the experiment and the values to try; every combination is one run.',
      markdownDescription:
        `Fields to sweep: a dotted path into the experiment (\`"strategy.lambda"\`, \`"training.learningRate"\`, \`"tasks.0.train"\` — a number is a list index) and the values to try. ` +
        `Every combination is one run (the Cartesian product, the last field varying fastest), each in its own folder under one sweep folder with a \`sweep.json\` index. ` +
        `A value replaces the whole field (\`"strategy": [{"name": "naive"}, {"name": "ewc", "lambda": 1000}]\` compares strategies). At most ${MAX_SWEEP_RUNS} runs.`,
      properties,
      // Paths through a list ("tasks.0.train") cannot all be listed: any path with an index segment (checked by config/sweep.ts).
      patternProperties: {
        '^[^.]+(\\.[^.]+)*\\.[0-9]+(\\.[^.]+)*$': { type: 'array', minItems: 1, description: 'Values of this field (a path through a list item, by its index from 0) to run, one run each.' },
      },
      additionalProperties: false,
      defaultSnippets: [
        { label: 'strategies × seeds', description: 'Naive, EWC and replay, three seeds each.', body: { strategy: [{ name: 'naive' }, { name: 'ewc', lambda: 1000 }, { name: 'replay', memorySize: 500 }], seed: [0, 1, 2] } },
        { label: 'a hyperparameter × seeds', description: "One strategy's hyperparameter over decades, three seeds each.", body: { 'strategy.lambda': [100, 1000, 10000], seed: [0, 1, 2] } },
      ],
    },
  };
}

/** Every generated definition, in the order the file keeps them. */
export function generatedDefinitions(): Record<string, JsonSchema> {
  const sections = { ...benchmarkSection(), ...strategySection() };
  const base = experimentSchemaJson as JsonSchema;
  const handWritten = Object.entries((base.definitions ?? {}) as Record<string, JsonSchema>).filter(([k]) => !isGeneratedDefinition(k));
  return { ...sections, ...sweepSection({ ...base, definitions: { ...Object.fromEntries(handWritten), ...sections } }) };
}

/**
 * The schema with its generated definitions replaced by `generated`: each section where its head
 * ('benchmark', 'strategy') was, or at the end; the hand-written definitions keep their order.
 */
export function withGeneratedDefinitions(schema: JsonSchema, generated: Record<string, JsonSchema> = generatedDefinitions()): JsonSchema {
  const old = (schema.definitions ?? {}) as Record<string, JsonSchema>;
  const heads = ['benchmark', 'strategy', 'sweep'];
  const section = (head: string): [string, JsonSchema][] => Object.entries(generated).filter(([k]) => k === head || k.startsWith(`${head}-`));
  const definitions: Record<string, JsonSchema> = {};
  for (const [key, value] of Object.entries(old)) {
    if (heads.includes(key)) for (const [k, v] of section(key)) definitions[k] = v;
    else if (!isGeneratedDefinition(key)) definitions[key] = value;
  }
  for (const head of heads) if (!(head in old)) for (const [k, v] of section(head)) definitions[k] = v;
  return { ...schema, definitions };
}

/** The generated definitions of a schema, for comparison with generatedDefinitions(). */
export function generatedPart(schema: JsonSchema): Record<string, JsonSchema> {
  const defs = (schema.definitions ?? {}) as Record<string, JsonSchema>;
  return Object.fromEntries(Object.entries(defs).filter(([k]) => isGeneratedDefinition(k)));
}
