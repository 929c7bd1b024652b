import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { experiment, jointResult, sampleCurves, sampleLandscape, sampleResult, setupDom, splitResult } from './dom';
import { createWorkbench } from '../../src/webview/app';
import { createPanelController } from '../../src/webview/controller';
import { fallbackPalette } from '../../src/webview/theme';
import type { RunEvent } from '../../src/protocol/events';
import { upgradeResult, type RunResult } from '../../src/protocol/result';
import { averageAccuracy, formatDuration, formatPercent, formatPoints, phasesOf } from '../../src/protocol/format';
import type { PostedMessage } from '../../src/webview/host';

function mount() {
  const dom = setupDom();
  const doc = dom.window.document;
  const posted: PostedMessage[] = [];
  const wb = createWorkbench(doc.getElementById('app')!, (m) => posted.push(m), { fallbackWidth: 1000, palette: fallbackPalette(false) });
  return { dom, doc, posted, wb };
}

const text = (doc: Document, sel: string) => doc.querySelector(sel)?.textContent ?? null;
const cellTexts = (doc: Document) => [...doc.querySelectorAll('[data-testid="heatmap-cell"]')].map((c) => `${c.getAttribute('data-row')},${c.getAttribute('data-col')}=${c.textContent}`);
/** What the matrix must show for rows R: cell (i, j) is R[i][j] as a percentage, row-major. */
const expectedCells = (R: readonly (readonly number[])[]) => R.flatMap((row, i) => row.map((v, j) => `${i},${j}=${formatPercent(v)}`));
/** R whose off-diagonal cells read differently, so a matrix drawn transposed cannot pass. */
function assertAsymmetric(R: readonly (readonly number[])[]) {
  assert.ok(R.some((row, i) => row.some((v, j) => R[j]?.[i] !== undefined && formatPercent(v) !== formatPercent(R[j][i]))), 'the input tells rows from columns');
}
const metricNumber = (doc: Document, key: string) => doc.querySelector(`[data-testid="metric-${key}"] .metric-number`)?.textContent ?? null;
/** The metric cards show the engine's metrics: ACC as a percentage, BWT and FWT signed points, forgetting unsigned points. */
function assertMetricCards(doc: Document, m: RunResult['metrics']) {
  assert.equal(metricNumber(doc, 'acc'), formatPercent(m.acc));
  assert.equal(metricNumber(doc, 'bwt'), formatPoints(m.bwt, true));
  assert.equal(metricNumber(doc, 'fwt'), formatPoints(m.fwt, true));
  assert.equal(metricNumber(doc, 'forgetting'), formatPoints(m.forgetting, false));
}

test('renders a finished two-task result: header, matrix, metric cards, curves, landscape', () => {
  const { doc, posted, wb } = mount();
  const r = sampleResult();
  wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: true });
  assert.equal(text(doc, '[data-testid="experiment-name"]'), r.experiment.name);
  assert.equal(text(doc, '[data-testid="run-status"]'), r.status);
  assert.match(text(doc, '[data-testid="backend"]')!, new RegExp(r.environment!.backend));
  assertAsymmetric(r.accuracyMatrix);
  assert.deepEqual(cellTexts(doc), expectedCells(r.accuracyMatrix));
  assert.deepEqual([...doc.querySelectorAll('[data-testid="baseline-cell"]')].map((c) => `${c.getAttribute('data-col')}=${c.textContent}`), r.randomInitAccuracy.map((b, j) => `${j}=${formatPercent(b)}`));
  assertMetricCards(doc, r.metrics);
  assert.ok(r.metrics.forgetting! > 0 && !metricNumber(doc, 'forgetting')!.startsWith('-'), 'forgetting is a drop, shown unsigned');
  assert.match(doc.querySelector('[data-testid="metric-bwt"]')!.getAttribute('aria-description')!, /Lopez-Paz & Ranzato 2017/);
  assert.match(doc.querySelector('[data-testid="metric-forgetting"]')!.getAttribute('aria-description')!, /Chaudhry et al\. 2018/);
  assert.equal(doc.querySelectorAll('[data-testid="curves"] path[data-task]').length, 2);
  assert.equal(doc.querySelectorAll('[data-testid="curves"] [data-testid="boundary"]').length, 2);
  assert.equal(doc.querySelectorAll('[data-testid="landscape"] [data-testid="landscape-map"]').length, 2);
  // Saved, finished, can run: Rerun and Open as JSON, no Cancel, no progress.
  assert.ok(doc.querySelector('[data-testid="rerun"]'));
  assert.ok(doc.querySelector('[data-testid="open-json"]'));
  assert.equal(doc.querySelector('[data-testid="cancel"]'), null);
  assert.equal(doc.querySelector('[data-testid="progress"]'), null);
  (doc.querySelector('[data-testid="rerun"]') as HTMLElement).click();
  (doc.querySelector('[data-testid="experiment-link"]') as HTMLElement).click();
  (doc.querySelector('[data-testid="open-json"]') as HTMLElement).click();
  (doc.querySelector('[data-testid="export-matrix-csv"]') as HTMLElement).click();
  assert.deepEqual(posted.slice(0, 3), [{ type: 'rerun' }, { type: 'openExperiment' }, { type: 'openAsJson' }]);
  const csv = posted[3];
  assert.ok(csv.type === 'export' && csv.format === 'csv' && csv.name === 'mnist-then-fashion-mnist-seed-0-accuracy-matrix.csv');
  wb.dispose();
});

test('report mode: no run buttons, only exports; failed status shows the error', () => {
  const { doc, wb } = mount();
  const r = sampleResult();
  r.status = 'failed';
  r.error = { phase: 'landscape', message: 'out of memory' };
  wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode: 'report', canRun: false });
  assert.equal(text(doc, '[data-testid="run-status"]'), 'failed');
  assert.match(text(doc, '[data-testid="run-error"]')!, /landscape: out of memory/);
  for (const id of ['cancel', 'rerun', 'open-json', 'experiment-link']) assert.equal(doc.querySelector(`[data-testid="${id}"]`), null, id);
  assert.ok(doc.querySelector('[data-testid="export-json"]'));
  assert.ok(doc.querySelector('[data-testid="export-curves-svg"]'));
});

function runEvents(): RunEvent[] {
  const r = sampleResult();
  const curves = sampleCurves();
  const [R0, R1] = r.accuracyMatrix;
  const row0 = { acc: R0[0], bwt: null, fwt: null, forgetting: null, forgettingPerTask: [null], learningAccuracy: R0[0] };
  return [
    { type: 'runStarted', runId: 'run-1', experiment: experiment(), experimentFile: '/ws/x.cl.json', startedAt: '2025-01-01T00:00:00.000Z' },
    { type: 'environment', environment: r.environment! },
    { type: 'dataReady', tasks: r.tasks, phases: r.phases, head: r.head, totalSteps: 400, dataMs: 10 },
    { type: 'baseline', accuracy: [0.098, 0.1], loss: [2.3, 2.3] },
    { type: 'curvePoint', point: curves[0] },
    { type: 'taskStarted', task: 0, step: 0 },
    { type: 'progress', task: 0, epoch: 2, step: 120, totalSteps: 400, loss: 0.21, imagesPerSecond: 280, elapsedMs: 30_000, etaMs: 70_000 },
    { type: 'curvePoint', point: curves[1] },
    { type: 'curvePoint', point: curves[2] },
    { type: 'taskFinished', task: 0, accuracy: R0, loss: r.lossMatrix[0], metrics: row0, trainMs: 1, evalMs: 1 },
    { type: 'taskStarted', task: 1, step: 200 },
    { type: 'curvePoint', point: curves[3] },
    { type: 'curvePoint', point: curves[4] },
    { type: 'taskFinished', task: 1, accuracy: R1, loss: r.lossMatrix[1], metrics: r.metrics, trainMs: 1, evalMs: 1 },
    { type: 'landscapeProgress', done: 100, total: 441, phase: 'grid' },
    { type: 'landscape', landscape: sampleLandscape() },
    { type: 'finished', status: 'completed', finishedAt: '2025-01-01T00:10:00.000Z', totalMs: 600_000, trainImagesPerSecond: 280 },
  ];
}

test('live panel: events fold into the state, row 0 then row 1, one render per frame', () => {
  const { doc, posted, wb } = mount();
  const frames: (() => void)[] = [];
  let renders = 0;
  const saved: unknown[] = [];
  const timers: (() => void)[] = [];
  const ctl = createPanelController({
    render: (v) => {
      renders++;
      wb.render(v);
    },
    schedule: (cb) => frames.push(cb),
    persist: { getState: () => undefined, setState: (s) => saved.push(s) },
    setTimer: (cb) => timers.push(cb),
  });
  const flush = () => frames.splice(0).forEach((f) => f());
  const ev = runEvents();
  const upTo = (type: string, task?: number) => ev.findIndex((e) => e.type === type && (task === undefined || (e as { task?: number }).task === task));
  const find = <T extends RunEvent['type']>(type: T, task?: number) => ev[upTo(type, task)] as Extract<RunEvent, { type: T }>;
  const progress = find('progress');
  const rows = [find('taskFinished', 0), find('taskFinished', 1)];
  const started = find('runStarted');

  ctl.handleMessage({ type: 'snapshot', state: null, mode: 'live', canRun: true });
  ctl.handleMessage({ type: 'events', events: ev.slice(0, upTo('progress')) });
  ctl.handleMessage({ type: 'events', events: ev.slice(upTo('progress'), upTo('taskFinished', 0)) });
  assert.equal(frames.length, 1, 'renders coalesce until the frame');
  flush();
  assert.equal(renders, 1);
  assert.equal(text(doc, '[data-testid="run-status"]'), 'running');
  assert.deepEqual(cellTexts(doc), []);
  assert.equal(doc.querySelectorAll('[data-testid="heatmap-pending"]').length, 4);
  // No row evaluated yet: the landscape's time cannot be estimated, and the line says so.
  const label = find('dataReady').tasks[progress.task].label;
  const line = `${label} ${progress.task + 1}/2 · step ${progress.step}/${progress.totalSteps} · epoch ${progress.epoch}/${started.experiment.training.epochs} · loss ${progress.loss.toFixed(3)} · ${progress.imagesPerSecond} img/s · about ${formatDuration(progress.etaMs)} left + the landscape`;
  assert.equal(text(doc, '[data-testid="progress"]'), line);
  assert.match(line, /^MNIST 1\/2 · step 120\/400 · epoch 2\/3 · loss 0\.210 · 280 img\/s · about 1m 10s left/, 'the expected line is itself right');
  assert.ok(doc.querySelector('[data-testid="cancel"]'));
  assert.equal(doc.querySelector('[data-testid="rerun"]'), null);
  assert.match(text(doc, '[data-testid="landscape"]')!, /computed after the last task/);

  ctl.handleMessage({ type: 'events', events: ev.slice(upTo('taskFinished', 0), upTo('taskFinished', 0) + 1) });
  flush();
  assert.deepEqual(cellTexts(doc), expectedCells([rows[0].accuracy]));
  assert.equal(doc.querySelectorAll('[data-testid="heatmap-pending"][data-row="1"]').length, 2);
  assert.equal(metricNumber(doc, 'acc'), formatPercent(rows[0].metrics.acc));
  assert.equal(metricNumber(doc, 'bwt'), '—');

  ctl.handleMessage({ type: 'events', events: ev.slice(upTo('taskFinished', 0) + 1, upTo('taskFinished', 1) + 1) });
  flush();
  assertAsymmetric(rows.map((e) => e.accuracy));
  assert.deepEqual(cellTexts(doc), expectedCells(rows.map((e) => e.accuracy)));
  assertMetricCards(doc, rows[1].metrics);
  assert.equal(doc.querySelectorAll('[data-testid="curves"] path[data-task]').length, 2);

  ctl.handleMessage({ type: 'events', events: ev.slice(upTo('landscapeProgress'), upTo('landscape')) });
  flush();
  const lp = find('landscapeProgress');
  assert.ok(text(doc, '[data-testid="progress"]')!.includes(`landscape ${lp.phase} ${lp.done}/${lp.total}`), text(doc, '[data-testid="progress"]')!);
  (doc.querySelector('[data-testid="cancel"]') as HTMLElement).click();
  (doc.querySelector('[data-testid="cancel"]') as HTMLElement).click();
  assert.deepEqual(posted, [{ type: 'cancel' }], 'one cancel, however many clicks');

  ctl.handleMessage({ type: 'events', events: ev.slice(upTo('landscape')) });
  flush();
  assert.equal(text(doc, '[data-testid="run-status"]'), 'completed');
  assert.equal(doc.querySelectorAll('[data-testid="landscape-map"]').length, 2);
  assert.equal(doc.querySelector('[data-testid="cancel"]'), null);
  assert.ok(doc.querySelector('[data-testid="rerun"]'));
  assert.equal(doc.querySelector('[data-testid="progress"]'), null);

  // The view is saved for a quick restore: at once on snapshots, throttled on events.
  assert.equal(saved.length, 1);
  timers.splice(0).forEach((t) => t());
  assert.equal(saved.length, 2);
  const restored = createPanelController({ render: () => {}, schedule: () => {}, persist: { getState: () => saved[1], setState: () => {} } });
  assert.equal(restored.view().state!.result.accuracyMatrix.length, 2);
  assert.equal(restored.view().mode, 'live');
});

test('events before a snapshot are ignored, not fatal', () => {
  const ctl = createPanelController({ render: () => {}, schedule: (cb) => cb() });
  const warn = console.warn;
  console.warn = () => {};
  try {
    ctl.handleMessage({ type: 'events', events: [{ type: 'baseline', accuracy: [0.1], loss: [2] }] });
    ctl.handleMessage({ type: 'nonsense' });
    ctl.handleMessage(null);
  } finally {
    console.warn = warn;
  }
  assert.equal(ctl.view().state, null);
});

test('user strings are text, never HTML', () => {
  const { doc, wb } = mount();
  const r = sampleResult();
  const evil = '<img src=x data-pwned="1"><script>window.pwned=1</script>';
  r.experiment.name = `name ${evil}`;
  r.tasks[0].label = `MNIST ${evil}`;
  r.status = 'failed';
  r.error = { phase: 'train', message: `boom ${evil}` };
  r.experimentFile = `/ws/${evil}.cl.json`;
  wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [{ level: 'error', message: evil }] }, mode: 'live', canRun: true });
  assert.equal(doc.querySelectorAll('img, script, [data-pwned]').length, 0);
  assert.equal(text(doc, '[data-testid="experiment-name"]'), `name ${evil}`);
  assert.match(text(doc, '[data-testid="run-error"]')!, /boom <img src=x/);
  // A label this long moves to the legend under a compact matrix (T0, T1).
  assert.ok(text(doc, '[data-testid="heatmap-legend"]')!.includes(`T0 = MNIST ${evil}`));
  assert.ok([...doc.querySelectorAll('[data-testid="curves"] text')].some((t) => t.textContent === `MNIST ${evil}`));
});

test('the sample fixture is a format-1 result that upgrades to a complete RunResult (every field of the contract, nothing else)', () => {
  const old = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'sample-result.json'), 'utf8')) as RunResult;
  assert.equal(old.formatVersion, 1, 'kept as a format-1 file: it proves older results still open');
  const fixture = upgradeResult(old);
  assert.equal(fixture.formatVersion, 2);
  const resultKeys = { formatVersion: 1, runId: 1, status: 1, error: 1, experiment: 1, experimentFile: 1, tasks: 1, phases: 1, head: 1, accuracyMatrix: 1, alternateAccuracy: 1, lossMatrix: 1, randomInitAccuracy: 1, metrics: 1, curves: 1, taskBoundaries: 1, totalSteps: 1, landscape: 1, environment: 1, timing: 1, notes: 1, weights: 1 } satisfies Record<keyof RunResult, 1>;
  const landKeys = { optima: 1, alphas: 1, betas: 1, distance: 1, secondAxis: 1, explainedVariance: 1, grids: 1, line: 1, trajectory: 1, samples: 1, parameterCount: 1, timeMs: 1, anchors: 1, thirdPoint: 1 } satisfies Record<keyof NonNullable<RunResult['landscape']>, 1>;
  const optional = new Set(['error', 'alternateAccuracy', 'notes', 'weights']);
  assert.deepEqual(Object.keys(fixture).sort(), Object.keys(resultKeys).filter((k) => !optional.has(k)).sort());
  assert.deepEqual(fixture.phases, [[0], [1]]);
  assert.equal(fixture.head.scenario, 'domain-il');
  assert.deepEqual(Object.keys(fixture.landscape!).sort(), Object.keys(landKeys).filter((k) => k !== 'anchors' && k !== 'thirdPoint').sort()); // anchors: optional self-check; thirdPoint: planes through a third point only
  // The upgrade keeps the measurements as they were.
  for (const key of ['accuracyMatrix', 'lossMatrix', 'randomInitAccuracy', 'metrics', 'curves', 'taskBoundaries', 'landscape'] as const) assert.deepEqual(fixture[key], old[key], key);
  assert.equal(fixture.accuracyMatrix.length, 2);
  assert.ok(fixture.accuracyMatrix.every((row) => row.length === 2));
  assert.ok(fixture.curves.length >= 35 && fixture.curves.length <= 45);
  const land = fixture.landscape!;
  assert.equal(land.alphas.length, 21);
  assert.equal(land.betas.length, 21);
  for (const g of land.grids) {
    assert.equal(g.loss.length, 21);
    assert.ok(g.loss.every((row) => row.length === 21));
  }
  // MNIST collapses after the boundary.
  const at = (step: number) => fixture.curves.find((c) => c.step === step)!;
  assert.ok(at(fixture.taskBoundaries[1]).accuracy[0] > 0.95);
  assert.ok(fixture.curves[fixture.curves.length - 1].accuracy[0] < 0.3);

  const { doc, wb } = mount();
  wb.render({ state: { result: fixture, progress: null, landscapeProgress: null, logs: [] }, mode: 'report', canRun: false });
  assertAsymmetric(fixture.accuracyMatrix);
  assert.deepEqual(cellTexts(doc), expectedCells(fixture.accuracyMatrix));
  assertMetricCards(doc, fixture.metrics);
  assert.equal(text(doc, '[data-testid="run-setup"]'), 'Naive · domain-IL');
});

const rowHeads = (doc: Document) => [...doc.querySelectorAll('.heatmap tbody:not(.baseline) th.row-head')].map((th) => [...th.querySelectorAll('span')].map((s) => s.textContent).join(' | '));
const colHeads = (doc: Document) => [...doc.querySelectorAll('.heatmap thead th.col-head .task-label')].map((th) => th.textContent);
const show = (wb: ReturnType<typeof mount>['wb'], result: RunResult, mode: 'saved' | 'report' | 'live' = 'saved') =>
  wb.render({ state: { result, progress: null, landscapeProgress: null, logs: [] }, mode, canRun: false });

test('Split-MNIST: tasks are labelled by their classes, rows by phase; the header names strategy and scenario', () => {
  const { doc, wb } = mount();
  const r = splitResult();
  show(wb, r);
  assert.deepEqual(colHeads(doc), ['0/1', '2/3', '4/5', '6/7', '8/9']);
  assert.deepEqual(rowHeads(doc), ['task 0 | after 0/1', 'task 1 | after 2/3', 'task 2 | after 4/5', 'task 3 | after 6/7', 'task 4 | after 8/9']);
  assert.equal(text(doc, '[data-testid="strategy"]'), 'EWC λ=1000');
  assert.equal(text(doc, '[data-testid="scenario"]'), 'class-IL');
  assert.equal(text(doc, '[data-testid="run-setup"]'), 'EWC λ=1000 · class-IL · Split-MNIST, 5 tasks');
  assert.match(doc.querySelector('[data-testid="scenario"]')!.getAttribute('title')!, /class-incremental/);
  assert.match(doc.querySelector('[data-testid="strategy"]')!.getAttribute('title')!, /lambda = 1000/);
  // The curves' legend and the CSV use the same task names.
  assert.deepEqual([...doc.querySelectorAll('[data-testid="curves"] .legend text')].map((t) => t.textContent), ['0/1', '2/3', '4/5', '6/7', '8/9']);
  // The loader's own labels win over the class ids.
  show(wb, splitResult({ labels: ['zero/one', 'MNIST', 'MNIST', 'MNIST', 'MNIST'], strategy: { name: 'online-ewc', lambda: 100, gamma: 0.9 } }));
  assert.deepEqual(colHeads(doc).slice(0, 2), ['zero/one', '2/3']);
  assert.equal(text(doc, '[data-testid="strategy"]'), 'Online EWC λ=100 γ=0.9');
  wb.dispose();
});

test('the scenario switch shows the alternate matrix (task-IL of a class-IL run) with its own ACC, and back', () => {
  const { doc, wb } = mount();
  const r = splitResult();
  show(wb, r);
  const alt = r.alternateAccuracy!.accuracyMatrix;
  const expected = (R: number[][]) => R.flatMap((row, i) => row.map((v, j) => `${i},${j}=${formatPercent(v)}`));
  const acc = (R: number[][], scenario: string) => `ACC (${scenario}) ${formatPercent(averageAccuracy(R, phasesOf(r)))}%`;
  const button = (view: string) => doc.querySelector(`[data-testid="matrix-view-${view}"]`) as HTMLElement;
  assert.notDeepEqual(expected(alt), expected(r.accuracyMatrix), 'the two matrices differ, so the switch is visible in the cells');
  assert.deepEqual([...doc.querySelectorAll('[data-testid="scenario-switch"] [data-scenario]')].map((b) => b.textContent), ['class-IL', 'task-IL']);
  assert.equal(button('primary').getAttribute('aria-pressed'), 'true');
  assert.deepEqual(cellTexts(doc), expected(r.accuracyMatrix));
  assert.equal(text(doc, '[data-testid="matrix-acc"]'), acc(r.accuracyMatrix, 'class-IL'));

  assert.equal(doc.querySelectorAll('[data-testid="baseline-cell"]').length, 5);
  button('alternate').click();
  assert.deepEqual(cellTexts(doc), expected(alt));
  // b was scored in the run's own scenario: no baseline row under the other scenario's matrix.
  assert.equal(doc.querySelectorAll('[data-testid="baseline-cell"]').length, 0);
  assert.equal(text(doc, '[data-testid="matrix-acc"]'), acc(alt, 'task-IL'));
  assert.equal(button('alternate').getAttribute('aria-pressed'), 'true');
  assert.equal(button('primary').getAttribute('aria-pressed'), 'false');
  // A re-render (new events, theme) keeps the chosen view.
  show(wb, r);
  assert.deepEqual(cellTexts(doc), expected(alt));

  button('primary').click();
  assert.deepEqual(cellTexts(doc), expected(r.accuracyMatrix));
  // No alternate scores: no switch.
  show(wb, splitResult({ alternate: false }));
  assert.equal((doc.querySelector('.matrix-bar') as HTMLElement).hidden, true);
  wb.dispose();
});

test('a joint run (R: one row, T columns) renders: one "after joint (all tasks)" row, row metrics n/a', () => {
  const { doc, wb } = mount();
  const r = jointResult();
  const errors: unknown[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => errors.push(a);
  try {
    show(wb, r, 'report');
  } finally {
    console.error = error;
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(rowHeads(doc), ['phase 0 | after joint (all tasks)']);
  assert.deepEqual(colHeads(doc), ['MNIST', 'Fashion-MNIST']);
  assert.deepEqual(cellTexts(doc), r.accuracyMatrix[0].map((v, j) => `0,${j}=${formatPercent(v)}`));
  assert.equal(doc.querySelectorAll('.heatmap [data-testid="heatmap-pending"], .heatmap [data-testid="heatmap-not-run"]').length, 0);
  // Both tasks were trained in the one phase: both cells are outlined as the ones it trained.
  assert.equal(doc.querySelectorAll('[data-testid="heatmap-cell"].diagonal').length, 2);
  assert.equal(text(doc, '[data-testid="strategy"]'), 'Joint');
  assert.match(text(doc, '[data-testid="metric-acc"]')!, new RegExp(formatPercent(r.metrics.acc).replace('.', '\\.')));
  for (const key of ['bwt', 'fwt', 'forgetting']) {
    const card = doc.querySelector(`[data-testid="metric-${key}"]`)!;
    assert.equal(card.querySelector('.metric-number')!.textContent, 'n/a', key);
    assert.equal(card.querySelector('.metric-note')!.textContent, '— one phase', key);
  }
  assert.match(text(doc, '[data-testid="landscape"]')!, /one phase/);
  // The curves' band names the phase, not the first task.
  assert.deepEqual([...doc.querySelectorAll('[data-testid="boundary"] text')].map((t) => t.textContent), ['▸ joint (all tasks)']);
  wb.dispose();
});

test('metric cards say which definitions they use; intransigence appears when the engine has it', () => {
  const { doc, wb } = mount();
  const r = sampleResult();
  show(wb, r);
  // The charts' styled tooltip on hover (and the same text for assistive tech), no plain title.
  const title = (key: string) => {
    const card = doc.querySelector(`[data-testid="metric-${key}"]`);
    if (!card) return null;
    assert.equal(card.getAttribute('title'), null);
    card.dispatchEvent(new doc.defaultView!.MouseEvent('pointermove', { bubbles: true, clientX: 10, clientY: 10 }));
    const tip = card.closest('.card-body')!.querySelector('.chart-tooltip') as HTMLElement;
    assert.equal(tip.hidden, false, `tooltip of ${key} shown`);
    assert.equal(tip.querySelector('strong')!.textContent, card.querySelector('.metric-name')!.textContent);
    return [...tip.children].map((c) => c.textContent).join(' · ');
  };
  assert.match(title('bwt')!, /Lopez-Paz & Ranzato 2017/);
  assert.match(title('fwt')!, /Lopez-Paz & Ranzato 2017/);
  assert.match(title('forgetting')!, /Chaudhry et al\. 2018.*maximum over earlier rows.*Mammoth.*Avalanche.*first value/);
  assert.equal(doc.querySelector('[data-testid="metric-intransigence"]'), null);
  const intransigence = 0.031;
  show(wb, { ...r, metrics: { ...r.metrics, intransigence } });
  assert.match(title('intransigence')!, /Chaudhry et al\. 2018/);
  assert.equal(metricNumber(doc, 'intransigence'), formatPoints(intransigence, true));
  assert.ok(metricNumber(doc, 'intransigence')!.startsWith('+'), 'signed');
  wb.dispose();
});

test('cumulative training: rows are phases named by what they trained', () => {
  const { doc, wb } = mount();
  const r = { ...splitResult({ alternate: false }), phases: [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3, 4]] };
  r.experiment = { ...r.experiment, strategy: { name: 'cumulative' } };
  show(wb, r);
  assert.deepEqual(rowHeads(doc), ['phase 0 | after 0/1', 'phase 1 | after 0/1 + 2/3', 'phase 2 | after 0/1 + 2/3 + 4/5', 'phase 3 | after tasks 0–3', 'phase 4 | after tasks 0–4']);
  wb.dispose();
});
