// The schema file against the code tables it is generated from (strategy registry, benchmarks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { STRATEGIES } from '../../src/engine/strategies/registry';
import { BENCHMARKS } from '../../src/engine/config/benchmarks';
import { BENCHMARK_DEFAULTS, EXPERIMENT_DEFAULTS } from '../../src/engine/config/defaults';
import { experimentSchema, experimentSchemaFile, experimentValidator, type JsonSchema, type SchemaDefinition } from '../../src/engine/config/schema';
import { EDITOR_SCHEMA_FILE, editorSchema } from '../../src/engine/config/editorSchema';
import { generatedDefinitions, generatedPart, strategyDefinitionName, benchmarkDefinitionName, strategySection } from '../../src/engine/config/schemaSections';

const ROOT = path.join(__dirname, '..', '..');
const defs = experimentSchemaFile.definitions as Record<string, JsonSchema>;

test('the committed schema holds exactly what the generator writes from the registry and the benchmark table (run npm run schema)', () => {
  assert.deepEqual(generatedPart(experimentSchemaFile), generatedDefinitions());
  // The validator uses the same definitions.
  assert.deepEqual(generatedPart(experimentSchema), generatedDefinitions());
});

test('scripts/schema.ts --check agrees that the file is up to date', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/schema.ts', '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /up to date/);
});

test('a registry line without a regenerated file is caught: the generated section changes', () => {
  const extra = { name: 'made-up', summary: 'A made-up method.', paper: 'Nobody 2099', hyperparameters: { k: { type: 'integer' as const, default: 3, minimum: 1, description: 'A count.' } }, create: () => ({}) };
  const section = strategySection([...STRATEGIES, extra]);
  assert.notDeepEqual(section, strategySection());
  assert.ok(section[strategyDefinitionName('made-up')]);
  assert.deepEqual((section.strategy.properties as Record<string, JsonSchema>).name.enum, [...STRATEGIES.map((s) => s.name), 'made-up']);
});

test('every strategy has a summary and every hyperparameter a description and a default it allows', () => {
  const problems: string[] = [];
  for (const s of STRATEGIES) {
    if (!s.summary.trim()) problems.push(`${s.name}: summary`);
    for (const [key, h] of Object.entries(s.hyperparameters)) {
      const where = `${s.name}.${key}`;
      if (!h.description?.trim()) problems.push(`${where}: description`);
      const d = h.default;
      if (h.type === 'number' || h.type === 'integer') {
        if (typeof d !== 'number' || (h.type === 'integer' && !Number.isInteger(d))) problems.push(`${where}: default ${d} is not a ${h.type}`);
        else if ((h.minimum !== undefined && d < h.minimum) || (h.exclusiveMinimum !== undefined && d <= h.exclusiveMinimum) || (h.maximum !== undefined && d > h.maximum)) {
          problems.push(`${where}: default ${d} out of range`);
        }
      } else if (typeof d !== h.type) problems.push(`${where}: default ${d} is not a ${h.type}`);
      if (h.enum && !h.enum.includes(d as string)) problems.push(`${where}: default ${d} not in enum`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the strategy section: name enum with summaries, one closed definition per strategy with its hyperparameters, defaults and ranges, the paper cited', () => {
  const strategy = defs.strategy;
  const name = (strategy.properties as Record<string, JsonSchema>).name;
  assert.deepEqual(name.enum, STRATEGIES.map((s) => s.name));
  assert.deepEqual(name.enumDescriptions, STRATEGIES.map((s) => s.summary));
  assert.deepEqual(strategy.default, EXPERIMENT_DEFAULTS.strategy);
  for (const s of STRATEGIES) {
    const own = defs[strategyDefinitionName(s.name)];
    assert.equal(own.additionalProperties, false, s.name);
    if (s.paper) assert.ok((own.markdownDescription as string).includes(s.paper), `${s.name} cites its paper`);
    const props = own.properties as Record<string, JsonSchema>;
    assert.deepEqual(Object.keys(props), ['name', ...Object.keys(s.hyperparameters)]);
    for (const [key, h] of Object.entries(s.hyperparameters)) {
      assert.equal(props[key].type, h.type, `${s.name}.${key}`);
      assert.deepEqual(props[key].default, h.default, `${s.name}.${key}`);
      assert.equal(props[key].minimum, h.minimum, `${s.name}.${key}`);
      assert.equal(props[key].exclusiveMinimum, h.exclusiveMinimum, `${s.name}.${key}`);
      assert.equal(props[key].maximum, h.maximum, `${s.name}.${key}`);
      assert.equal(props[key].description, h.description, `${s.name}.${key}`);
    }
  }
});

test('the benchmark section: one line per benchmark and per scenario, defaults from BENCHMARK_DEFAULTS', () => {
  const name = (defs.benchmark.properties as Record<string, JsonSchema>).name;
  assert.deepEqual(name.enum, ['split-mnist', 'split-fashion-mnist', 'permuted-mnist', 'rotated-mnist']);
  assert.deepEqual(name.enumDescriptions, BENCHMARKS.map((b) => b.summary));
  for (const b of BENCHMARKS) {
    const props = defs[benchmarkDefinitionName(b.name)].properties as Record<string, JsonSchema>;
    assert.equal(props.tasks.default, BENCHMARK_DEFAULTS[b.name].tasks, b.name);
    assert.equal('angles' in props, b.name === 'rotated-mnist', b.name);
    assert.equal('seed' in props, b.name === 'permuted-mnist', b.name);
  }
  assert.deepEqual((defs['benchmark-rotated-mnist'].properties as Record<string, JsonSchema>).angles.default, BENCHMARK_DEFAULTS['rotated-mnist'].angles);
  assert.match(String(defs['benchmark-permuted-mnist'].description), /task 0 is the identity/);
  const scenario = defs.scenario;
  assert.equal((scenario.enumDescriptions as string[]).length, 3);
  assert.match((scenario.markdownDescription as string), /van de Ven & Tolias 2019/);
});

test('every definition compiles on its own (ajv strict mode catches typos in the schema)', () => {
  for (const key of Object.keys(experimentSchema.definitions as object)) assert.equal(typeof experimentValidator(key as SchemaDefinition), 'function', key);
});

test('the editor\'s schema (jsonValidation) is the committed schema with its rules under `if`: it accepts any file, so VS Code reports only the extension\'s problems', () => {
  const committed = JSON.parse(readFileSync(path.join(ROOT, 'schemas', EDITOR_SCHEMA_FILE), 'utf8')) as JsonSchema;
  assert.deepEqual(committed, editorSchema(experimentSchemaFile), 'run npm run schema');
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { jsonValidation: { url: string }[] } };
  assert.deepEqual(manifest.contributes.jsonValidation.map((j) => j.url), [`./schemas/${EDITOR_SCHEMA_FILE}`]);
  // At its root only documentation, snippets, the rules under `if` and the definitions they use.
  assert.deepEqual(Object.keys(committed).sort(), ['$comment', '$schema', 'defaultSnippets', 'definitions', 'description', 'if', 'markdownDescription', 'title']);
  const { definitions: _d, $schema: _s, title: _t, description: _de, markdownDescription: _m, defaultSnippets: _ds, ...rules } = experimentSchemaFile;
  assert.deepEqual(committed.if, rules);
  // A validator that follows JSON Schema finds nothing wrong with a broken experiment; the full schema does.
  const ajv = new Ajv({ strict: false, allErrors: true });
  const broken = { tasks: [{ dataset: 'mnist' }], training: { learningRate: -1, epoch: 2 }, strategy: { name: 'nope' } };
  assert.equal(ajv.compile(committed)(broken), true);
  assert.equal(new Ajv({ strict: false }).compile(experimentSchemaFile)(broken), false);
  // Snippets write no $schema: the extension applies the schema, and a path in users' files breaks.
  assert.ok(!JSON.stringify(committed.defaultSnippets).includes('$schema'));
});
