// The run card (how the run was configured), tab titles, and what the panel says when the experiment
// file no longer describes the run: Rerun (the recorded experiment) beside Run File Again.
import test from 'node:test';
import assert from 'node:assert/strict';
import { experiment, sampleResult, setupDom } from './dom';
import { createWorkbench } from '../../src/webview/app';
import { createPanelController } from '../../src/webview/controller';
import { fileNotice } from '../../src/webview/header';
import { fallbackPalette } from '../../src/webview/theme';
import {
  experimentChanges,
  experimentSettings,
  panelContextMessage,
  readPanelContextMessage,
  readPanelRequest,
  runSettingsSummary,
  runTabTitle,
  settingChangeText,
  settingsDiff,
  type PanelContext,
} from '../../src/protocol/format';
import type { NormalisedExperiment } from '../../src/protocol/experiment';
import type { PostedMessage } from '../../src/webview/host';

/** What the host sends as the defaults of the two-task demo: the engine's defaults (engine/config/defaults.ts) for two tasks. */
function demoDefaults(): NormalisedExperiment {
  return {
    ...experiment(),
    name: 'x',
    model: { type: 'cnn', conv: [{ filters: 32, kernel: 3, pool: 2 }, { filters: 64, kernel: 3, pool: 2 }], dense: [128], preset: 'small-cnn' },
    training: { optimizer: 'adam', learningRate: 0.001, batchSize: 64, epochs: 1, evalEvery: 100, evalSamples: 1000 },
    landscape: { grid: 21, samples: 1000, alphaRange: [-0.5, 1.5], betaRange: [-1, 1], secondAxis: 'trajectory-pca', checkpointEvery: 50, linePoints: 41, optima: [0, 1] },
  };
}

/** The demo run as a user would write it: a few settings changed from the defaults. */
function demoRun(): NormalisedExperiment {
  const d = demoDefaults();
  return { ...d, name: 'MNIST then Fashion-MNIST', seed: 1, training: { ...d.training, learningRate: 0.01, epochs: 3 }, tasks: [{ dataset: 'mnist', train: 600, test: 300 }, { dataset: 'fashion-mnist', train: 600, test: 300 }] };
}

test('settings: every setting in reading order; the ones that differ from the defaults; what changed in the file', () => {
  const run = demoRun();
  const keys = experimentSettings(run).map((s) => s.key);
  assert.deepEqual(keys.slice(0, 6), ['name', 'seed', 'scenario', 'tasks.0', 'tasks.1', 'model']);
  assert.ok(keys.includes('training.learningRate') && keys.includes('strategy.name') && keys.includes('landscape.grid'));
  assert.equal(experimentSettings(run).find((s) => s.key === 'tasks.1')!.text, 'fashion-mnist · 600 train / 300 test');

  const diff = settingsDiff(run, demoDefaults());
  assert.deepEqual(diff.map((c) => [c.key, c.text, c.other]), [
    ['seed', '1', '0'],
    ['training.learningRate', '0.01', '0.001'],
    ['training.epochs', '3', '1'],
  ]);
  assert.equal(settingChangeText(diff[1], false), 'learning rate 0.01 (default 0.001)');
  assert.deepEqual(settingsDiff(demoDefaults(), demoDefaults()), []);
  // A strategy other than the default, with one hyperparameter off its own default.
  const ewc = { ...run, strategy: { name: 'ewc', lambda: 100, fisherSamples: 600 } };
  const ewcDefaults = { ...demoDefaults(), strategy: { name: 'naive', lambda: 1000, fisherSamples: 600 } };
  assert.deepEqual(settingsDiff(ewc, ewcDefaults).filter((c) => c.key.startsWith('strategy')).map((c) => [c.label, c.text, c.other]), [
    ['strategy', 'EWC', 'Naive'],
    ['EWC λ', '100', '1000'],
  ]);
  // Landscape off: one line, not one per missing detail. Iterations: epochs say nothing.
  const off = { ...run, landscape: false as const, training: { ...run.training, iterations: 500 } };
  const offDiff = settingsDiff(off, demoDefaults()).map((c) => c.key);
  assert.ok(offDiff.includes('landscape') && offDiff.includes('training.iterations'));
  assert.ok(!offDiff.some((k) => k.startsWith('landscape.') || k === 'training.epochs'), offDiff.join());

  const changes = experimentChanges(run, { ...run, seed: 0, tasks: [run.tasks[0], { ...run.tasks[1], train: 1000 }] });
  assert.deepEqual(changes.map((c) => settingChangeText(c)), ['seed 1 → 0', 'task 1 fashion-mnist · 600 train / 300 test → fashion-mnist · 1,000 train / 300 test']);
  assert.deepEqual(experimentChanges(run, structuredClone(run)), []);
});

test('the summary line and the tab title tell two runs of one file apart', () => {
  assert.equal(runSettingsSummary(demoRun()), 'seed 1 · small-cnn · adam lr 0.01 · batch 64 · 3 epochs · 600 train / 300 test per task');
  assert.equal(runSettingsSummary({ ...demoRun(), training: { ...demoRun().training, iterations: 2000 } }), 'seed 1 · small-cnn · adam lr 0.01 · batch 64 · 2,000 steps per task · 600 train / 300 test per task');
  const at = new Date(2025, 0, 2, 9, 5);
  assert.equal(runTabTitle({ name: 'MNIST then Fashion-MNIST (quick demo)', seed: 0 }, at), 'MNIST then Fashion-MNIST (quick demo) · seed 0 · 09:05');
  assert.notEqual(runTabTitle({ name: 'x', seed: 0 }, at), runTabTitle({ name: 'x', seed: 1 }, at));
  assert.equal(runTabTitle({ name: 'x', seed: 0 }, 'not a date'), 'x · seed 0');
});

test('panel context messages: built and read back; anything malformed is dropped', () => {
  const context: PanelContext = { defaults: demoDefaults(), file: { state: 'changed', changes: [{ key: 'seed', label: 'seed', text: '0', other: '1' }] } };
  assert.deepEqual(readPanelContextMessage(JSON.parse(JSON.stringify(panelContextMessage(context)))), context);
  for (const bad of [null, 1, { type: 'panelContext' }, { type: 'panelContext', context: { file: { state: 'weird' } } }, { type: 'panelContext', context: { file: { state: 'changed' } } }, { type: 'snapshot' }])
    assert.equal(readPanelContextMessage(bad), null, JSON.stringify(bad));
  assert.deepEqual(readPanelContextMessage({ type: 'panelContext', context: { file: { state: 'missing' } } }), { defaults: null, file: { state: 'missing' } });
  assert.deepEqual(readPanelRequest({ type: 'runFile' }), { type: 'runFile' });
  assert.equal(readPanelRequest({ type: 'rerun' }), null);
});

function mount() {
  const dom = setupDom();
  const doc = dom.window.document;
  const posted: PostedMessage[] = [];
  const wb = createWorkbench(doc.getElementById('app')!, (m) => posted.push(m), { fallbackWidth: 1000, palette: fallbackPalette(false) });
  return { doc, posted, wb };
}

const text = (doc: Document, id: string) => doc.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;

test('run card: one line always, then what differs from the defaults first, the run, every setting, the JSON on demand', () => {
  const { doc, wb } = mount();
  const r = sampleResult();
  r.experiment = demoRun();
  const context: PanelContext = { defaults: demoDefaults(), file: { state: 'unchanged' } };
  wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [], resultFile: '/ws/.continual/runs/a/result.json' }, mode: 'saved', canRun: true, context });
  const card = doc.querySelector('[data-testid="run-card"]') as HTMLDetailsElement;
  assert.equal(card.tagName, 'DETAILS');
  assert.equal(card.open, false, 'compact until asked');
  assert.equal(text(doc, 'run-summary'), 'seed 1 · small-cnn · adam lr 0.01 · batch 64 · 3 epochs · 600 train / 300 test per task');
  assert.equal(text(doc, 'run-diff-count'), '· 3 settings differ from the defaults');
  const diff = doc.querySelector('[data-testid="run-diff"]')!;
  assert.deepEqual([...diff.querySelectorAll('dt')].map((d) => d.textContent), ['seed', 'learning rate', 'epochs per task']);
  assert.deepEqual([...diff.querySelectorAll('dd')].map((d) => d.textContent), ['1 default 0', '0.01 default 0.001', '3 default 1']);
  // The differing settings come before the rest of the card.
  const sections = [...card.querySelectorAll('section')].map((s) => s.getAttribute('data-testid'));
  assert.equal(sections[0], 'run-diff');
  assert.equal(text(doc, 'run-id'), 'run-1');
  assert.equal(text(doc, 'run-started'), new Date(r.timing.startedAt).toLocaleString());
  assert.match(doc.querySelector('[data-testid="run-identity"]')!.textContent!, /\/ws\/mnist-then-fashion\.cl\.json.*result\.json/);
  const all = doc.querySelector('[data-testid="run-settings-all"]')!;
  assert.deepEqual([...all.querySelectorAll('h4')].map((h) => h.textContent), ['Experiment', 'Tasks', 'Model', 'Training', 'Strategy', 'Loss landscape']);
  assert.ok(all.querySelector('dd[data-key="training.learningRate"]')!.classList.contains('changed'));
  // The normalised experiment, only when opened.
  const json = doc.querySelector('[data-testid="run-json"]') as HTMLDetailsElement;
  assert.equal(json.querySelector('pre')!.textContent, '');
  json.open = true;
  json.dispatchEvent(new doc.defaultView!.Event('toggle'));
  assert.deepEqual(JSON.parse(json.querySelector('pre')!.textContent!), r.experiment);

  // A report has no defaults: the card still says how the run was set up.
  wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode: 'report', canRun: false });
  assert.equal(text(doc, 'run-diff-count'), '');
  assert.equal((doc.querySelector('[data-testid="run-diff"]') as HTMLElement).hidden, true);
  assert.match(text(doc, 'run-summary')!, /^seed 1 · small-cnn/);
  wb.dispose();
});

test('the experiment file changed since the run: said in the panel; Rerun repeats the record, Run File Again the file', () => {
  const { doc, posted, wb } = mount();
  const r = sampleResult();
  const view = (file: PanelContext['file'], mode: 'saved' | 'live' | 'report' = 'saved', canRun = true) =>
    wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode, canRun, context: { defaults: null, file } });

  view({ state: 'unchanged' });
  assert.equal(doc.querySelector('[data-testid="file-changed"]'), null);
  assert.match(doc.querySelector('[data-testid="rerun"]')!.getAttribute('title')!, /exactly as recorded.*seed 0/);
  assert.ok(doc.querySelector('[data-testid="run-file"]'), 'both actions, labelled apart');
  assert.equal(text(doc, 'run-file'), 'Run File Again');

  view({ state: 'changed', changes: [{ key: 'seed', label: 'seed', text: '0', other: '1' }] });
  assert.equal(text(doc, 'file-changed'), 'The experiment file has changed since this run: seed 0 → 1. Rerun repeats this run as recorded; Run File Again runs the file as it is now.');
  (doc.querySelector('[data-testid="rerun"]') as HTMLElement).click();
  (doc.querySelector('[data-testid="run-file"]') as HTMLElement).click();
  assert.deepEqual(posted, [{ type: 'rerun' }, { type: 'runFile' }]);

  view({ state: 'invalid', problem: 'line 3: learningRate must be a number > 0, got -1' });
  assert.match(text(doc, 'file-changed')!, /now has a problem: line 3: learningRate must be a number > 0, got -1\. Rerun still repeats this run as recorded\./);
  view({ state: 'missing' });
  assert.match(text(doc, 'file-changed')!, /no longer there/);
  assert.equal(doc.querySelector('[data-testid="run-file"]'), null, 'no file to run again');
  view({ state: 'changed', changes: [{ key: 'seed', label: 'seed', text: '0', other: '1' }] }, 'report', false);
  assert.equal(doc.querySelector('[data-testid="file-changed"]'), null, 'a report knows nothing about the file now');
  assert.equal(fileNotice(undefined, true), '');
  const many = Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, label: `k${i}`, text: '1', other: '2' }));
  assert.match(fileNotice({ defaults: null, file: { state: 'changed', changes: many } }, false), /k3 1 → 2 and 2 more\.$/);
  wb.dispose();
});

test('the controller keeps the panel context across snapshots and persists it for a restore', () => {
  const saved: unknown[] = [];
  const renders: unknown[] = [];
  const ctl = createPanelController({ render: (v) => renders.push(v), schedule: (cb) => cb(), persist: { getState: () => undefined, setState: (s) => saved.push(s) } });
  const context: PanelContext = { defaults: null, file: { state: 'unchanged' } };
  ctl.handleMessage(panelContextMessage(context));
  assert.deepEqual(ctl.view().context, context);
  ctl.handleMessage({ type: 'snapshot', state: { result: sampleResult(), progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: true });
  assert.deepEqual(ctl.view().context, context, 'a new snapshot keeps it until the host sends another');
  const restored = createPanelController({ render: () => {}, schedule: () => {}, persist: { getState: () => saved.at(-1), setState: () => {} } });
  assert.deepEqual(restored.view().context, context);
});
