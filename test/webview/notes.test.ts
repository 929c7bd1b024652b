// What the run changed in what the experiment asked for (RunResult.notes): folded from 'note'
// events, shown under the header of a live panel, a saved result and a report, as text.
import test from 'node:test';
import assert from 'node:assert/strict';
import { sampleResult, setupDom } from './dom';
import { createWorkbench } from '../../src/webview/app';
import { createPanelController } from '../../src/webview/controller';
import { fallbackPalette } from '../../src/webview/theme';
import { applyRunEvent } from '../../src/protocol/runState';
import type { RunResult } from '../../src/protocol/result';
import type { RunEvent } from '../../src/protocol/events';
import type { ViewModel } from '../../src/webview/header';

const TRAIN = 'tasks[0].train is 100000, more than the 60,000 training examples of mnist: the task trains on all of them';
const SAMPLES = 'training.evalSamples is 2000, more than the 300 test examples of tasks[1]: the accuracy curve of that task uses all of them';

function mount() {
  const dom = setupDom();
  const doc = dom.window.document;
  const wb = createWorkbench(doc.getElementById('app')!, () => {}, { fallbackWidth: 1000, palette: fallbackPalette(false) });
  return { doc, wb };
}

const notesBox = (doc: Document) => doc.querySelector('[data-testid="run-notes"]');
const items = (doc: Document) => [...doc.querySelectorAll('[data-testid="run-notes"] li')].map((li) => [li.getAttribute('data-field'), li.textContent]);

test('note events fold into result.notes in order, with or without a field', () => {
  const r = sampleResult();
  let state = applyRunEvent(null, { type: 'runStarted', runId: 'r', experiment: r.experiment, startedAt: r.timing.startedAt });
  assert.equal(state.result.notes, undefined, 'no notes: no field in the result');
  state = applyRunEvent(state, { type: 'note', message: TRAIN, field: 'tasks[0].train' });
  state = applyRunEvent(state, { type: 'note', message: 'a note about nothing in particular' });
  assert.deepEqual(state.result.notes, [{ message: TRAIN, field: 'tasks[0].train' }, { message: 'a note about nothing in particular' }]);
  // The result file is the fold: it round-trips through JSON.
  assert.deepEqual((JSON.parse(JSON.stringify(state.result)) as RunResult).notes, state.result.notes);
});

test('a live panel shows the notes as they arrive, under the run card, before the progress', () => {
  const { doc, wb } = mount();
  const renders: ViewModel[] = [];
  const ctl = createPanelController({ render: (v) => (renders.push(v), wb.render(v)), schedule: (cb) => cb(), persist: { getState: () => undefined, setState: () => {} } });
  const r = sampleResult();
  const running: RunResult = { ...r, status: 'running', accuracyMatrix: [], curves: [], landscape: null, notes: undefined };
  ctl.handleMessage({ type: 'snapshot', state: { result: running, progress: null, landscapeProgress: null, logs: [] }, mode: 'live', canRun: true });
  assert.equal(notesBox(doc), null, 'nothing changed: no box');

  const events: RunEvent[] = [{ type: 'note', message: TRAIN, field: 'tasks[0].train' }];
  ctl.handleMessage({ type: 'events', events });
  assert.deepEqual(items(doc), [['tasks[0].train', TRAIN]]);
  assert.equal(notesBox(doc)!.querySelector('.run-notes-title')!.textContent, 'The run changed one thing the experiment asked for:');
  ctl.handleMessage({ type: 'events', events: [{ type: 'note', message: SAMPLES, field: 'training.evalSamples' }, { type: 'baseline', accuracy: [0.1, 0.1], loss: [2.3, 2.3] }] });
  assert.deepEqual(items(doc), [['tasks[0].train', TRAIN], ['training.evalSamples', SAMPLES]]);
  assert.equal(notesBox(doc)!.querySelector('.run-notes-title')!.textContent, 'The run changed 2 things the experiment asked for:');
  assert.deepEqual(ctl.view().state!.result.notes!.map((n) => n.field), ['tasks[0].train', 'training.evalSamples']);

  // Where it sits: right after the run card, ahead of the progress line.
  ctl.handleMessage({ type: 'events', events: [{ type: 'progress', task: 0, epoch: 1, step: 5, totalSteps: 100, loss: 1, imagesPerSecond: 100, elapsedMs: 1000, etaMs: 9000 }] });
  const order = [...doc.querySelector('.clw-header')!.children].map((c) => c.getAttribute('data-testid'));
  assert.ok(order.indexOf('run-notes') === order.indexOf('run-card') + 1, order.join(', '));
  assert.ok(order.indexOf('run-notes') < order.indexOf('progress'), order.join(', '));
  assert.equal(notesBox(doc)!.getAttribute('role'), 'status');
  wb.dispose();
});

test('a saved result and a report show the notes the result file holds; messages stay text', () => {
  const { doc, wb } = mount();
  const evil = '<img src=x onerror="alert(1)">';
  const r: RunResult = { ...sampleResult(), notes: [{ message: TRAIN, field: 'tasks[0].train' }, { message: `tasks[1].test is 5 ${evil}` }] };
  for (const mode of ['saved', 'report'] as const) {
    wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode, canRun: mode === 'saved' });
    assert.deepEqual(items(doc), [['tasks[0].train', TRAIN], [null, `tasks[1].test is 5 ${evil}`]], mode);
    assert.equal(notesBox(doc)!.querySelector('img'), null, 'no markup from a message');
  }
  // A result without notes (older files, or nothing changed): no box.
  wb.render({ state: { result: sampleResult(), progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: true });
  assert.equal(notesBox(doc), null);
  wb.dispose();
});
