import test from 'node:test';
import assert from 'node:assert/strict';
import { sampleCurves, setupDom } from './dom';
import { createCurvesChart, curveSeries, curvesLayout, trainingSpans } from '../../src/webview/charts/curves';
import { fitText, nearestIndex } from '../../src/webview/charts/axes';
import { fallbackPalette } from '../../src/webview/theme';
import type { CurvePoint } from '../../src/protocol/result';

test('series: one per task, values by step, gaps where a task was not evaluated', () => {
  const curves: CurvePoint[] = [
    { step: 200, trainingTask: 0, epoch: 2, accuracy: [0.9, Number.NaN], loss: [0.3, 2] },
    { step: 0, trainingTask: -1, epoch: 0, accuracy: [0.1, 0.1], loss: [2.3, 2.3] },
    { step: 100, trainingTask: 0, epoch: 1, accuracy: [0.8], loss: [0.5] },
  ];
  const s = curveSeries(curves, ['A', 'B']);
  assert.equal(s.length, 2);
  assert.deepEqual(s[0].points, [
    { step: 0, value: 0.1 },
    { step: 100, value: 0.8 },
    { step: 200, value: 0.9 },
  ]);
  assert.deepEqual(s[1].points.map((p) => p.value), [0.1, null, null]);
  assert.deepEqual(curveSeries(curves, ['A'], 'loss')[0].points.map((p) => p.value), [2.3, 0.5, 0.3]);
});

test('training spans from task boundaries', () => {
  assert.deepEqual(trainingSpans([0, 2814], 5628), [
    { task: 0, start: 0, end: 2814 },
    { task: 1, start: 2814, end: 5628 },
  ]);
  // The second task has not started yet: its span is unknown, not guessed.
  assert.deepEqual(trainingSpans([0], 5628), [{ task: 0, start: 0, end: 5628 }]);
  assert.deepEqual(trainingSpans([0, , 50], 80), [
    { task: 0, start: 0, end: 50 },
    { task: 2, start: 50, end: 80 },
  ]);
});

test('nearest index and label fitting', () => {
  assert.equal(nearestIndex([], 3), -1);
  assert.equal(nearestIndex([0, 100, 200], 149), 1);
  assert.equal(nearestIndex([0, 100, 200], 151), 2);
  assert.equal(nearestIndex([0, 100, 200], -50), 0);
  assert.equal(nearestIndex([0, 100, 200], 1e9), 2);
  assert.equal(fitText('Fashion-MNIST', 1000, 12), 'Fashion-MNIST');
  assert.ok(fitText('Fashion-MNIST', 40, 12).endsWith('…'));
});

test('chart: one path per task, a boundary mark per task, legend with labels', () => {
  const dom = setupDom();
  const el = dom.window.document.getElementById('app')!;
  const chart = createCurvesChart(el);
  const p = fallbackPalette(false);
  chart.update({ curves: sampleCurves(), labels: ['MNIST', 'Fashion-MNIST'], boundaries: [0, 200], totalSteps: 400, palette: p, width: 800 });
  const root = el.querySelector('[data-testid="curves"]')!;
  const paths = [...root.querySelectorAll('path[data-task]')];
  assert.deepEqual(paths.map((x) => x.getAttribute('data-task')), ['0', '1']);
  for (const path of paths) assert.match(path.getAttribute('d')!, /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){4}$/);
  assert.equal(paths[0].getAttribute('stroke'), p.tasks[0]);
  assert.equal(paths[1].getAttribute('stroke'), p.tasks[1]);

  const L = curvesLayout(800, p.fontSize);
  const marks = [...root.querySelectorAll('[data-testid="boundary"]')];
  assert.deepEqual(marks.map((m) => m.getAttribute('data-task')), ['0', '1']);
  const line = marks[1].querySelector('line')!;
  const expectedX = L.margin.left + (200 / 400) * L.innerWidth;
  assert.ok(Math.abs(Number(line.getAttribute('x1')) - expectedX) < 1e-6, 'Fashion boundary at step 200 = half the axis');
  assert.match(marks[1].textContent!, /Fashion-MNIST/);
  const legend = [...root.querySelectorAll('.legend text')].map((t) => t.textContent);
  assert.deepEqual(legend, ['MNIST', 'Fashion-MNIST']);

  // MNIST at 98.9% at the boundary, 24.4% at the end: the end point sits lower (larger y).
  const ys = paths[0].getAttribute('d')!.match(/[\d.]+,([\d.]+)/g)!.map((s) => Number(s.split(',')[1]));
  assert.ok(ys[4] > ys[2] + 0.7 * (L.innerHeight * (0.989 - 0.244)) - 1);
  const svg = chart.exportSvg()!;
  assert.equal(svg.querySelectorAll('.overlay').length, 0, 'export drops the hover overlay');
  chart.dispose();
  assert.equal(el.querySelector('[data-testid="curves"]'), null);
});
