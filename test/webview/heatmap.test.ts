import test from 'node:test';
import assert from 'node:assert/strict';
import { setupDom, sampleResult } from './dom';
import { contrastRatio, createHeatmap, heatmapCellColor, heatmapModel, heatmapSvg, readableTextColor } from '../../src/webview/charts/heatmap';
import { fallbackPalette, relativeLuminance } from '../../src/webview/theme';
import { color } from 'd3';

const hex = (c: string) => color(c)!.formatHex();

test('cell colour runs from the background (0%) to the accent (100%), monotonically', () => {
  for (const p of [fallbackPalette(false), fallbackPalette(true)]) {
    assert.equal(hex(heatmapCellColor(0, p)), hex(p.background));
    assert.equal(hex(heatmapCellColor(1, p)), hex(p.accent));
    assert.equal(hex(heatmapCellColor(-1, p)), hex(p.background), 'clamped below');
    assert.equal(hex(heatmapCellColor(2, p)), hex(p.accent), 'clamped above');
    const lum = [0, 0.25, 0.5, 0.75, 1].map((v) => relativeLuminance(heatmapCellColor(v, p)));
    const dir = Math.sign(lum[4] - lum[0]);
    for (let i = 1; i < lum.length; i++) assert.ok(Math.sign(lum[i] - lum[i - 1]) === dir, `luminance monotone in ${p.dark ? 'dark' : 'light'}`);
  }
});

test('cell text colour keeps WCAG AA contrast (4.5:1) for every value, light, dark and high contrast', () => {
  const hc = { ...fallbackPalette(true), background: '#000000', accent: '#3794ff' };
  const hcLight = { ...fallbackPalette(false), background: '#ffffff', accent: '#0f4a85' };
  for (const p of [fallbackPalette(false), fallbackPalette(true), hc, hcLight]) {
    for (let v = 0; v <= 1.0001; v += 0.05) {
      const bg = heatmapCellColor(v, p);
      const fg = readableTextColor(bg);
      assert.ok(contrastRatio(bg, fg) >= 4.5, `${v.toFixed(2)} on ${bg}: ${contrastRatio(bg, fg).toFixed(2)}`);
    }
  }
  assert.equal(readableTextColor('#ffffff'), '#000000');
  assert.equal(readableTextColor('#000000'), '#ffffff');
  assert.ok(Math.abs(contrastRatio('#000', '#fff') - 21) < 1e-9);
});

test('model: rows so far, later rows pending, baseline separate', () => {
  const r = sampleResult();
  r.accuracyMatrix = [r.accuracyMatrix[0]];
  const m = heatmapModel(r);
  assert.deepEqual(m.labels, ['MNIST', 'Fashion-MNIST']);
  assert.deepEqual(m.rows, [[0.989, 0.081], null]);
  assert.deepEqual(m.baseline, [0.098, 0.1]);
  assert.equal(m.status, 'completed');
});

test('table: cells at row/col with one-decimal percentages, pending cells, baseline row', () => {
  const dom = setupDom();
  const doc = dom.window.document;
  const el = doc.getElementById('app')!;
  const chart = createHeatmap(el);
  const r = sampleResult();
  r.status = 'running';
  r.accuracyMatrix = [r.accuracyMatrix[0]];
  chart.update(heatmapModel(r), fallbackPalette(false));
  const cells = [...el.querySelectorAll('[data-testid="heatmap-cell"]')];
  assert.deepEqual(
    cells.map((c) => [c.getAttribute('data-row'), c.getAttribute('data-col'), c.textContent]),
    [
      ['0', '0', '98.9'],
      ['0', '1', '8.1'],
    ],
  );
  assert.equal(el.querySelectorAll('[data-testid="heatmap-pending"][data-row="1"]').length, 2);
  assert.deepEqual([...el.querySelectorAll('[data-testid="baseline-cell"]')].map((c) => c.textContent), ['9.8', '10.0']);
  const diag = el.querySelector('[data-testid="heatmap-cell"][data-row="0"][data-col="0"]') as HTMLElement;
  assert.ok(diag.classList.contains('diagonal'));
  assert.match(diag.getAttribute('aria-label')!, /accuracy on task 0 \(MNIST\) after training task 0 \(MNIST\)/);
  assert.equal(diag.getAttribute('title'), null, 'the styled tooltip, not a plain title');
  assert.ok(diag.style.backgroundColor, 'cell has a fill');
  assert.ok(diag.style.color, 'cell has a contrast text colour');

  const svg = heatmapSvg(doc, heatmapModel(sampleResult()), fallbackPalette(true));
  const texts = [...svg.querySelectorAll('text')].map((t) => t.textContent);
  for (const v of ['98.9', '8.1', '24.4', '90.3', '9.8', '10.0', 'MNIST', 'Fashion-MNIST']) assert.ok(texts.includes(v), v);
  chart.dispose();
});

test('rows never filled read "not run" once the run was cancelled or failed, "pending" only while running', () => {
  const dom = setupDom();
  const doc = dom.window.document;
  const el = doc.getElementById('app')!;
  const chart = createHeatmap(el);
  const r = sampleResult();
  r.accuracyMatrix = [r.accuracyMatrix[0]];

  r.status = 'running';
  chart.update(heatmapModel(r), fallbackPalette(false));
  assert.equal(el.querySelectorAll('[data-testid="heatmap-pending"][data-row="1"]').length, 2);
  assert.equal(el.querySelectorAll('[data-testid="heatmap-not-run"]').length, 0);

  for (const [status, why] of [
    ['cancelled', 'the run was cancelled before this task'],
    ['failed', 'the run failed before this task'],
  ] as const) {
    r.status = status;
    chart.update(heatmapModel(r), fallbackPalette(false));
    assert.equal(el.querySelectorAll('[data-testid="heatmap-pending"], .pending').length, 0, `${status}: nothing pending`);
    const cells = [...el.querySelectorAll('[data-testid="heatmap-not-run"]')] as HTMLElement[];
    assert.deepEqual(cells.map((c) => `${c.getAttribute('data-row')},${c.getAttribute('data-col')}`), ['1,0', '1,1']);
    for (const c of cells) {
      assert.equal(c.textContent, 'not run');
      assert.equal(c.getAttribute('data-missing'), why);
      assert.equal(c.getAttribute('aria-label'), why);
      assert.ok(c.classList.contains('not-run'));
    }
    assert.ok(el.querySelector('tr[data-row="1"]')!.classList.contains('not-run'));
    assert.equal(el.querySelectorAll('[data-testid="heatmap-cell"]').length, 2, 'the filled row is unchanged');
  }

  // A run that failed before the baseline: that row is "not run" too. The export says so as well.
  r.randomInitAccuracy = [];
  chart.update(heatmapModel(r), fallbackPalette(true));
  assert.deepEqual([...el.querySelectorAll('[data-testid="baseline-not-run"]')].map((c) => c.textContent), ['not run', 'not run']);
  const svg = chart.exportSvg()!;
  const notRun = [...svg.querySelectorAll('text[data-missing="not-run"]')];
  assert.equal(notRun.length, 4);
  assert.ok(notRun.every((t) => t.firstChild?.textContent === 'not run'));
  assert.equal(notRun[0].querySelector('title')!.textContent, 'the run failed before this task');
  r.status = 'running';
  assert.equal(heatmapSvg(doc, heatmapModel(r), fallbackPalette(true)).querySelectorAll('text[data-missing]').length, 0, 'pending cells stay empty in the export');
  chart.dispose();
});
