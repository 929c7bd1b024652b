// The host's VS Code-free parts of issue 12: Rerun writes the recorded experiment back as a file
// that normalises to exactly it; the panel context (defaults, the experiment file now); CodeLens
// and Validate's words.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXPERIMENT_DEFAULTS, formatDiagnostic, normaliseExperiment, parseExperiment } from '../../src/engine/config/load';
import type { NormalisedExperiment } from '../../src/protocol/experiment';
import type { RunResult } from '../../src/protocol/result';
import { REPLAY_FILE_NAME, replaySpec, restoreExperimentFile, writeReplayFile } from '../../src/extension/replay';
import { experimentDefaults, experimentFileStatus } from '../../src/extension/panelContext';
import { experimentLenses, validationMessage } from '../../src/extension/experimentLens';
import { settingsDiff } from '../../src/protocol/format';

const ROOT = resolve(__dirname, '..', '..');
const config = { normaliseExperiment, EXPERIMENT_DEFAULTS, parseExperiment, formatDiagnostic };

/** Every example and end-to-end fixture, normalised as a run records it. */
function recordedExperiments(): [string, NormalisedExperiment][] {
  const files = [
    ...readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.cl.json')).map((f) => join(ROOT, 'examples', f)),
    ...readdirSync(join(ROOT, 'test', 'e2e', 'fixtures')).filter((f) => f.endsWith('.cl.json')).map((f) => join(ROOT, 'test', 'e2e', 'fixtures', f)),
  ];
  return files.map((f) => {
    const parsed = parseExperiment(readFileSync(f, 'utf8'), f);
    assert.ok(parsed.experiment, `${f}: ${parsed.diagnostics.map(formatDiagnostic).join('; ')}`);
    return [f, parsed.experiment];
  });
}

describe('rerun: the recorded experiment as a file', () => {
  test('every example: the replay file validates and normalises to exactly the recorded experiment, from another folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clw-replay-'));
    try {
      const all = recordedExperiments();
      assert.ok(all.length >= 10);
      for (const [file, recorded] of all) {
        const spec = replaySpec(recorded, normaliseExperiment, file);
        const written = writeReplayFile(dir, spec);
        assert.equal(written, join(dir, REPLAY_FILE_NAME));
        // The trainer's path: read, validate, normalise; the run folder is elsewhere than the experiment.
        const parsed = parseExperiment(readFileSync(written, 'utf8'), written);
        assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), [], file);
        assert.deepEqual(parsed.experiment, recorded, `${file}: replayed as recorded`);
        // The readable form where it reproduces: presets and benchmarks by name.
        if (recorded.model.preset) assert.deepEqual(spec.model, { preset: recorded.model.preset }, file);
        if (recorded.benchmark) assert.ok(spec.benchmark && !spec.tasks, file);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the recorded seed and settings win over the file as it is now', () => {
    const [file, recorded] = recordedExperiments().find(([f]) => f.endsWith('tiny.cl.json'))!;
    const edited = { ...recorded, seed: 1 };
    assert.equal(normaliseExperiment(replaySpec(recorded, normaliseExperiment, file), file).seed, 0);
    assert.equal(normaliseExperiment(replaySpec(edited, normaliseExperiment, file), file).seed, 1);
  });

  test('a preset whose layers changed since the run: the explicit layers, so the run is what was recorded', () => {
    const [file, recorded] = recordedExperiments().find(([f]) => f.endsWith('tiny.cl.json'))!;
    const older = { ...recorded, model: { ...recorded.model, dense: [64] } } as NormalisedExperiment;
    const spec = replaySpec(older, normaliseExperiment, file);
    assert.deepEqual(spec.model, { type: 'cnn', conv: (older.model as { conv: unknown }).conv, dense: [64] });
    assert.deepEqual((normaliseExperiment(spec, file).model as { dense: number[] }).dense, [64]);
    // Something this version cannot express: said, not silently changed.
    const strange = { ...recorded, scenario: 'no-such-scenario' } as unknown as NormalisedExperiment;
    assert.throws(() => replaySpec(strange, () => { throw new Error('invalid'); }, file), /cannot be written as an experiment file/);
  });

  test('the result names the user\'s experiment file, not the replay copy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clw-replay-'));
    try {
      const resultFile = join(dir, 'result.json');
      writeFileSync(resultFile, JSON.stringify({ runId: 'r', experimentFile: join(dir, REPLAY_FILE_NAME), status: 'completed' }));
      assert.equal(restoreExperimentFile(resultFile, '/ws/tiny.cl.json'), true);
      assert.equal((JSON.parse(readFileSync(resultFile, 'utf8')) as RunResult).experimentFile, '/ws/tiny.cl.json');
      assert.equal(restoreExperimentFile(join(dir, 'missing.json'), '/ws/tiny.cl.json'), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('panel context', () => {
  test('defaults: the engine\'s, for the run\'s tasks and strategy; the quick demo differs in what its file sets', () => {
    const file = join(ROOT, 'examples', 'quick-demo.cl.json');
    const recorded = parseExperiment(readFileSync(file, 'utf8'), file).experiment!;
    const defaults = experimentDefaults(config, recorded, file)!;
    assert.equal(defaults.seed, EXPERIMENT_DEFAULTS.seed);
    assert.deepEqual(defaults.training, EXPERIMENT_DEFAULTS.training);
    assert.deepEqual(defaults.tasks, recorded.tasks);
    const diff = settingsDiff(recorded, defaults).map((c) => c.key);
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { training?: Record<string, unknown>; landscape?: Record<string, unknown> };
    // Only what the file sets can differ, and what it sets to a non-default value does.
    for (const key of diff) {
      const [group, field] = key.split('.');
      if (group === 'training' || group === 'landscape') assert.ok(field in (spec[group] ?? {}), `${key} is set in the file`);
    }
    for (const [k, v] of Object.entries(spec.training ?? {})) {
      if (v !== (EXPERIMENT_DEFAULTS.training as unknown as Record<string, unknown>)[k]) assert.ok(diff.includes(`training.${k}`), `training.${k}`);
    }
  });

  test('a strategy\'s own defaults: only the hyperparameters set off them differ', () => {
    const file = join(ROOT, 'examples', 'strategy-replay.cl.json');
    const recorded = parseExperiment(readFileSync(file, 'utf8'), file).experiment!;
    const defaults = experimentDefaults(config, recorded, file)!;
    assert.equal(defaults.strategy.name, 'naive');
    const diff = settingsDiff(recorded, defaults);
    assert.ok(diff.some((c) => c.key === 'strategy.name' && c.other === 'Naive'));
    const spec = JSON.parse(readFileSync(file, 'utf8')) as { strategy: Record<string, unknown> };
    for (const c of diff.filter((d) => d.key.startsWith('strategy.') && d.key !== 'strategy.name')) assert.ok(c.key.slice('strategy.'.length) in spec.strategy, c.key);
  });

  test('the experiment file now: unchanged, changed (seed 0 → 1), invalid (the first problem), missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clw-context-'));
    try {
      const file = join(dir, 'tiny.cl.json');
      const text = readFileSync(join(ROOT, 'test', 'e2e', 'fixtures', 'tiny.cl.json'), 'utf8');
      writeFileSync(file, text);
      const recorded = parseExperiment(text, file).experiment!;
      assert.deepEqual(await experimentFileStatus(config, file, recorded), { state: 'unchanged' });
      writeFileSync(file, text.replace('"seed": 0', '"seed": 1'));
      const changed = await experimentFileStatus(config, file, recorded);
      assert.deepEqual(changed.state === 'changed' && changed.changes.map((c) => [c.key, c.text, c.other]), [['seed', '0', '1']]);
      writeFileSync(file, text.replace('"epochs": 1', '"epochs": -1'));
      const invalid = await experimentFileStatus(config, file, recorded);
      assert.equal(invalid.state, 'invalid');
      assert.match(invalid.state === 'invalid' ? invalid.problem : '', /^line \d+: .*epochs/);
      rmSync(file);
      assert.deepEqual(await experimentFileStatus(config, file, recorded), { state: 'missing' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CodeLens and Validate', () => {
  test('Run and Validate sit above the experiment\'s opening brace', () => {
    const model = experimentLenses('\n\n  {\n  "name": "x"\n}\n');
    assert.equal(model.line, 2);
    assert.deepEqual(model.lenses.map((l) => [l.title, l.command]), [
      ['$(play) Run', 'continualWorkbench.runExperiment'],
      ['$(check) Validate', 'continualWorkbench.validateExperiment'],
    ]);
    assert.equal(experimentLenses('').line, 0);
  });

  test('Validate names the first problem and where it is, or says what will run', () => {
    const file = '/ws/tiny.cl.json';
    const text = readFileSync(join(ROOT, 'test', 'e2e', 'fixtures', 'tiny.cl.json'), 'utf8');
    const ok = validationMessage('tiny.cl.json', parseExperiment(text, file));
    assert.equal(ok.severity, 'info');
    assert.match(ok.text, /^tiny\.cl\.json is valid: 2 tasks, domain-IL, seed 0 · small-cnn · adam lr 0\.001 · batch 64 · 1 epoch · 600 train \/ 300 test per task\.$/);
    const bad = validationMessage('tiny.cl.json', parseExperiment(text.replace('"epochs": 1', '"epochs": -1'), file));
    assert.equal(bad.severity, 'error');
    assert.match(bad.text, /^tiny\.cl\.json cannot run: line \d+: .*epochs/);
  });
});
