// The strategy in the experiment file, checked against the registry: whatever STRATEGIES holds
// (this file adds a strategy of its own before the loader is loaded, as a new registry line would).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STRATEGIES, strategyParams } from '../../src/engine/strategies/registry';
import type { StrategyDefinition } from '../../src/engine/strategies/types';

const CLASS_IL_ONLY: StrategyDefinition = {
  name: 'test-exemplars',
  summary: 'A test-only strategy for class-IL.',
  paper: 'Nobody et al. 2099, A made-up method, Nowhere',
  hyperparameters: {
    lambda: { type: 'number', default: 100, exclusiveMinimum: 0, description: 'Weight of the penalty.' },
    memory: { type: 'integer', default: 20, minimum: 1, maximum: 5000, description: 'Examples kept per class.' },
    policy: { type: 'string', default: 'herding', enum: ['herding', 'random'], description: 'How exemplars are chosen.' },
  },
  scenarios: ['class-il'],
  create: () => ({}),
};
(STRATEGIES as StrategyDefinition[]).push(CLASS_IL_ONLY);

// Loaded after the registry line above, as the extension and the CLI load it after the registry is complete.
const load = import('../../src/engine/config/load');
const sections = import('../../src/engine/config/schemaSections');
const schemaModule = import('../../src/engine/config/schema');

const FILE = '/experiments/demo.cl.json';
const TASKS = '"tasks": [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}]';

async function diagnose(text: string) {
  return (await load).parseExperiment(text, FILE);
}

function where(ds: { line: number; column: number; endLine: number; endColumn: number; severity: string; pointer: string }[]): string[] {
  return ds.map((d) => `${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.severity} ${d.pointer}`);
}

test('a registry line is validated at once, before the schema file is regenerated; the drift test would catch the file', async () => {
  const { experiment, diagnostics } = await diagnose(`{${TASKS}, "scenario": "class-il", "strategy": {"name": "test-exemplars", "memory": 50}}`);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(experiment?.strategy, { name: 'test-exemplars', lambda: 100, memory: 50, policy: 'herding' });
  const { generatedDefinitions, generatedPart } = await sections;
  const { experimentSchemaFile } = await schemaModule;
  assert.notDeepEqual(generatedPart(experimentSchemaFile), generatedDefinitions());
});

test('every strategy of the registry normalises with all its hyperparameter defaults filled in', async () => {
  for (const s of STRATEGIES) {
    const scenario = s.scenarios?.[0] ?? 'domain-il';
    const { experiment, diagnostics } = await diagnose(`{${TASKS}, "scenario": "${scenario}", "strategy": {"name": "${s.name}"}}`);
    assert.deepEqual(diagnostics, [], s.name);
    assert.deepEqual(experiment?.strategy, { name: s.name, ...strategyParams({ name: s.name }) }, s.name);
    assert.equal(Object.keys(experiment?.strategy ?? {}).length, 1 + Object.keys(s.hyperparameters).length, s.name);
  }
});

test('an unknown strategy gets a did-you-mean among the registry names, at the name', async () => {
  const text = `{${TASKS},\n  "strategy": {"name": "test-exemplar"}}`;
  const { diagnostics, experiment } = await diagnose(text);
  assert.equal(experiment, null);
  assert.equal(diagnostics.length, 1);
  assert.deepEqual(where(diagnostics), ['2:24-2:39 error /strategy/name']);
  assert.match(diagnostics[0].message, /^strategy\.name must be one of "naive", .*"test-exemplars", got "test-exemplar" — did you mean "test-exemplars"\?$/);
  assert.equal(diagnostics[0].origin, 'schema');
  const far = (await diagnose(`{${TASKS}, "strategy": {"name": "dropout"}}`)).diagnostics;
  assert.equal(far.length, 1);
  assert.doesNotMatch(far[0].message, /did you mean/);
});

test("an unknown hyperparameter gets a did-you-mean among that strategy's, at its key; another strategy's says whose it is", async () => {
  const text = `{${TASKS}, "scenario": "class-il",\n  "strategy": {"name": "test-exemplars", "lamda": 3}}`;
  const { diagnostics } = await diagnose(text);
  assert.deepEqual(where(diagnostics), ['2:42-2:49 error /strategy/lamda']);
  assert.equal(diagnostics[0].message, "unknown property 'lamda' in strategy — did you mean 'lambda'?");
  const naive = (await diagnose(`{${TASKS}, "strategy": {"name": "naive", "policy": "random"}}`)).diagnostics;
  assert.equal(naive.length, 1);
  assert.equal(naive[0].pointer, '/strategy/policy');
  assert.match(naive[0].message, /^unknown property 'policy' in strategy: 'policy' belongs to "test-exemplars", not to "naive"; allowed: 'name'$/);
});

test('hyperparameter types and ranges are worded like every other value', async () => {
  const text = `{${TASKS}, "scenario": "class-il", "strategy": {"name": "test-exemplars", "lambda": -1, "memory": 2.5, "policy": "herd"}}`;
  const { diagnostics } = await diagnose(text);
  assert.deepEqual(
    diagnostics.map((d) => `${d.pointer}: ${d.message}`),
    [
      '/strategy/lambda: strategy.lambda must be a number > 0, got -1',
      '/strategy/memory: strategy.memory must be an integer from 1 to 5000, got 2.5',
      '/strategy/policy: strategy.policy must be one of "herding", "random", got "herd" — did you mean "herding"?',
    ],
  );
  const col = text.indexOf('-1') + 1;
  assert.equal(diagnostics[0].column, col);
  const typed = (await diagnose(`{${TASKS}, "scenario": "class-il", "strategy": {"name": "test-exemplars", "lambda": "big"}}`)).diagnostics;
  assert.equal(typed[0].message, 'strategy.lambda must be a number > 0, got the string "big"');
});

test('a strategy made for some scenarios is an error, at its name, in another scenario', async () => {
  const text = `{${TASKS},\n  "strategy": {"name": "test-exemplars"}}`;
  const { diagnostics, experiment } = await diagnose(text);
  assert.equal(experiment, null);
  assert.deepEqual(where(diagnostics), ['2:24-2:40 error /strategy/name']);
  assert.equal(diagnostics[0].message, 'test-exemplars needs the class-il scenario; this experiment is domain-il (the default; set "scenario": "class-il")');
  assert.equal(diagnostics[0].origin, 'semantic');
  const given = (await diagnose(`{${TASKS}, "scenario": "task-il", "strategy": {"name": "test-exemplars"}}`)).diagnostics;
  assert.equal(given[0].message, 'test-exemplars needs the class-il scenario; this experiment is task-il');
  const bench = (await diagnose('{"benchmark": {"name": "split-mnist", "scenario": "domain-il"}, "strategy": {"name": "test-exemplars"}}')).diagnostics;
  assert.equal(bench[0].message, 'test-exemplars needs the class-il scenario; this experiment is domain-il (benchmark.scenario)');
  assert.deepEqual((await diagnose('{"benchmark": {"name": "split-mnist", "scenario": "class-il"}, "strategy": {"name": "test-exemplars"}}')).diagnostics, []);
});

test('a strategy that is not an object or has no name is one readable message', async () => {
  const s = (await diagnose(`{${TASKS}, "strategy": "naive"}`)).diagnostics;
  assert.equal(s.length, 1);
  assert.match(s[0].message, /^strategy must be an object: \{"name": \.\.\.\} .*, got the string "naive" — write \{"name": "naive"\}$/);
  const none = (await diagnose(`{${TASKS}, "strategy": {"nme": "naive"}}`)).diagnostics;
  assert.equal(none.length, 1);
  assert.match(none[0].message, /^strategy needs a 'name': "naive", .* \(is 'nme' meant to be 'name'\?\)$/);
});
