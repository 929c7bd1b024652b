// Colours that hold in every theme and for colour-blind readers (Okabe-Ito), metric colours only
// beyond a stated threshold, and the styled tooltip on heatmap cells and metric cards.
import test from 'node:test';
import assert from 'node:assert/strict';
import { sampleResult, setupDom } from './dom';
import { OKABE_ITO_ON_DARK, OKABE_ITO_ON_LIGHT, fallbackPalette, publicationPalette, readPalette } from '../../src/webview/theme';
import { contrastRatio, createHeatmap, heatmapModel } from '../../src/webview/charts/heatmap';
import { METRIC_DEFS, createMetricCards, metricTone } from '../../src/webview/metricCards';

// ---- colour-vision deficiency simulation (Machado, Oliveira & Fernandes 2009, severity 1.0) ----
const MACHADO: Record<string, number[][]> = {
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
};
const linear = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
function lab(rgb: number[]): number[] {
  const [r, g, b] = rgb;
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const X = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const Y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const Z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))];
}
const seenAs = (hex: string, vision: string) => lab(MACHADO[vision].map((row) => Math.min(1, Math.max(0, row[0] * linear(hex)[0] + row[1] * linear(hex)[1] + row[2] * linear(hex)[2]))));
const deltaE = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** Editor backgrounds of VS Code's default themes: Light Modern, Dark Modern, Dark High Contrast, Light High Contrast. */
const THEMES: { name: string; background: string; dark: boolean; classes: string }[] = [
  { name: 'Light Modern', background: '#ffffff', dark: false, classes: 'vscode-light' },
  { name: 'Dark Modern', background: '#1f1f1f', dark: true, classes: 'vscode-dark' },
  { name: 'Dark High Contrast', background: '#000000', dark: true, classes: 'vscode-high-contrast' },
  { name: 'Light High Contrast', background: '#ffffff', dark: false, classes: 'vscode-high-contrast vscode-high-contrast-light' },
];

test('task colours: Okabe-Ito; the first five stand out from every theme\'s background (3:1); any two stay apart for colour-blind readers', () => {
  for (const t of THEMES) {
    const dom = setupDom(`<!DOCTYPE html><html><body class="${t.classes}" style="--vscode-editor-background: ${t.background}; --vscode-charts-blue: #0f4a85; --vscode-charts-orange: #0f4a85"></body></html>`);
    const p = readPalette(dom.window.document.body);
    assert.deepEqual(p.tasks, [...(t.dark ? OKABE_ITO_ON_DARK : OKABE_ITO_ON_LIGHT)], `${t.name}: not the theme's chart colours (shades of one blue in Light High Contrast)`);
    for (const c of p.tasks.slice(0, 5)) assert.ok(contrastRatio(c, t.background) >= 3, `${t.name}: ${c} on ${t.background} ${contrastRatio(c, t.background).toFixed(2)}:1`);
    for (const vision of Object.keys(MACHADO))
      for (let i = 0; i < p.tasks.length; i++)
        for (let j = i + 1; j < p.tasks.length; j++) {
          const d = deltaE(seenAs(p.tasks[i], vision), seenAs(p.tasks[j], vision));
          assert.ok(d >= 15, `${t.name}, ${vision}: tasks ${i} and ${j} (${p.tasks[i]}, ${p.tasks[j]}) ΔE ${d.toFixed(1)}`);
        }
    // The two-task case (the demo) is far apart in every vision.
    for (const vision of Object.keys(MACHADO)) assert.ok(deltaE(seenAs(p.tasks[0], vision), seenAs(p.tasks[1], vision)) >= 60, `${t.name}, ${vision}: tasks 0 and 1`);
  }
  const pub = publicationPalette();
  assert.deepEqual([pub.background, pub.foreground], ['#ffffff', '#000000']);
  assert.deepEqual(pub.tasks, [...OKABE_ITO_ON_LIGHT]);
  assert.deepEqual(fallbackPalette(true).tasks, [...OKABE_ITO_ON_DARK]);
});

test('signed metrics are coloured only from 1.0 pp: FWT +0.1 stays plain, -1.9 is red, +1.0 green', () => {
  const fwt = METRIC_DEFS.find((d) => d.key === 'fwt')!;
  const intransigence = METRIC_DEFS.find((d) => d.key === 'intransigence')!;
  const acc = METRIC_DEFS.find((d) => d.key === 'acc')!;
  assert.equal(metricTone(fwt, 0.001), 0);
  assert.equal(metricTone(fwt, -0.0094), 0, 'shown as -0.9');
  assert.equal(metricTone(fwt, 0.00951), 1, 'shown as +1.0: coloured as it reads');
  assert.equal(metricTone(fwt, -0.019), -1);
  assert.equal(metricTone(intransigence, 0.031), -1, 'positive intransigence is bad');
  assert.equal(metricTone(acc, 0.9), 0, 'unsigned metrics are never coloured');

  const dom = setupDom();
  const doc = dom.window.document;
  const el = doc.getElementById('app')!;
  const cards = createMetricCards(el);
  const m = sampleResult().metrics;
  cards.update({ ...m, fwt: 0.001 }, { rows: 2, phases: 2, phaseRows: false });
  const card = doc.querySelector('[data-testid="metric-fwt"]')!;
  assert.equal(card.textContent!.includes('+0.1'), true);
  assert.ok(!card.classList.contains('positive') && !card.classList.contains('negative'), 'within the threshold: no colour');
  cards.update(m, { rows: 2, phases: 2, phaseRows: false });
  assert.ok(card.classList.contains('negative'), 'FWT -1.9: red');
  // The tooltip states the rule.
  card.dispatchEvent(new dom.window.MouseEvent('pointermove', { bubbles: true }));
  assert.match(el.querySelector('.chart-tooltip')!.textContent!, /coloured when \|value\| ≥ 1\.0 pp/);
});

test('heatmap cells: the charts\' styled tooltip on hover and on keyboard focus, no plain title', () => {
  const dom = setupDom();
  const doc = dom.window.document;
  const el = doc.getElementById('app')!;
  const chart = createHeatmap(el);
  chart.update(heatmapModel(sampleResult()), fallbackPalette(false), 600);
  const tip = el.querySelector('.chart-tooltip') as HTMLElement;
  assert.ok(tip, 'one tooltip box, the same component as the curves');
  assert.equal(tip.hidden, true);
  const cell = el.querySelector('[data-testid="heatmap-cell"][data-row="1"][data-col="0"]') as HTMLElement;
  assert.equal(cell.getAttribute('title'), null);
  cell.dispatchEvent(new dom.window.MouseEvent('pointermove', { bubbles: true, clientX: 5, clientY: 5 }));
  assert.equal(tip.hidden, false);
  assert.equal(tip.querySelector('strong')!.textContent, 'R[1][0] = 24.4%');
  assert.match(tip.textContent!, /accuracy on task 0 \(MNIST\) after training task 1 \(Fashion-MNIST\)/);
  el.querySelector('.heatmap-wrap')!.dispatchEvent(new dom.window.MouseEvent('pointerleave'));
  assert.equal(tip.hidden, true);
  const base = el.querySelector('[data-testid="baseline-cell"][data-col="1"]') as HTMLElement;
  assert.equal(base.getAttribute('tabindex'), '0', 'reachable by keyboard');
  base.dispatchEvent(new dom.window.FocusEvent('focusin', { bubbles: true }));
  assert.equal(tip.querySelector('strong')!.textContent, 'b_1 = 10.0%');
  base.dispatchEvent(new dom.window.FocusEvent('focusout', { bubbles: true }));
  assert.equal(tip.hidden, true);
  chart.dispose();
});
