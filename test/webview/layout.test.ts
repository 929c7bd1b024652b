// Narrow and wide panels: every card lays out from 230 px to a full-width panel without horizontal
// overflow and without labels running into each other. jsdom has no layout engine, so the checks
// run on the layout functions the charts use and on the drawn SVGs, whose text boxes are computed
// with the charts' own text-width estimate (0.6 em per character, which errs wide).
import test from 'node:test';
import assert from 'node:assert/strict';
import { sampleResult, setupDom, splitResult } from './dom';
import { createWorkbench, matrixRoom } from '../../src/webview/app';
import { fallbackPalette } from '../../src/webview/theme';
import { heatmapModel, heatmapTableLayout, wrapSegments, HEATMAP_CELL_PADDING } from '../../src/webview/charts/heatmap';
import { curvesLayout } from '../../src/webview/charts/curves';
import { fromInitText, landscapeLayout, lineLayout, optimumLabels } from '../../src/webview/charts/landscape';
import { boxesOverlap, legendLayout, placePairLabels, textWidth } from '../../src/webview/charts/axes';
import type { RunResult } from '../../src/protocol/result';

/** Panel widths the issue names: a split editor in a small window, half a laptop screen, a wide panel. */
const PANELS = [230, 450, 1400] as const;
/** The workbench's content width in a panel: its padding (8 px under 480 px, else 20) and a 10 px scrollbar. */
const contentWidth = (panel: number) => panel - (panel <= 480 ? 16 : 40) - 10;
/** A full-width card's inner width (padding and border: 22 px under 480 px, else 30). */
const cardWidth = (panel: number) => contentWidth(panel) - (panel <= 480 ? 22 : 30);
const FONT = 13;

function permuted(T: number): RunResult {
  const r = splitResult({ alternate: false });
  r.experiment = { ...r.experiment, name: 'Permuted-MNIST', tasks: Array.from({ length: T }, (_, t) => ({ dataset: 'mnist', permutation: t })), benchmark: { name: 'permuted-mnist', scenario: 'domain-il', tasks: T } };
  r.tasks = Array.from({ length: T }, (_, t) => ({ ...r.tasks[0], index: t, classIds: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], units: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], classes: 10, permutation: t }));
  r.phases = r.tasks.map((_, t) => [t]);
  r.accuracyMatrix = r.tasks.map((_, i) => r.tasks.map((__, j) => (j <= i ? 0.9 - 0.05 * (i - j) : 0.1)));
  r.randomInitAccuracy = r.tasks.map(() => 0.1);
  return r;
}

const results: [string, RunResult][] = [
  ['MNIST then Fashion-MNIST', sampleResult()],
  ['Split-MNIST (5 tasks)', splitResult()],
  ['Permuted-MNIST (10 tasks)', permuted(10)],
];

test('heatmap: the table fits its card at 230, 450 and 1400 px; names never break inside a word', () => {
  for (const panel of PANELS) {
    const room = matrixRoom(contentWidth(panel));
    for (const [name, r] of results) {
      const model = heatmapModel(r);
      const L = heatmapTableLayout(model, room, FONT);
      const what = `${name} at ${panel} px (room ${room})`;
      assert.ok(L.width <= room, `${what}: table ${L.width} px`);
      assert.equal(L.rowHeadWidth + model.labels.length * L.cellWidth + (model.labels.length + 2) * L.spacing, L.width);
      const inner = L.cellWidth - 2 * HEATMAP_CELL_PADDING;
      // Values fit their cells whole ("100.0" is the widest), or the cells show colour only.
      if (L.decimals !== null) assert.ok(textWidth(L.decimals === 1 ? '100.0' : '100', L.valueSize) <= inner + 0.01, `${what}: values fit`);
      // Every piece of every head fits its column: no "fashi / on-mnist".
      const headSizes = L.mode === 'full' ? [L.indexSize, L.labelSize] : [L.columnHeadSize];
      const headInner = L.cellWidth - 2 * L.columnHeadPadding;
      for (const lines of L.columnHeads) lines.forEach((line, k) => { for (const seg of wrapSegments(line)) assert.ok(textWidth(seg, headSizes[k]) <= headInner + 0.01, `${what}: "${seg}" fits a ${L.cellWidth} px column`); });
      for (const lines of L.rowHeads) for (const line of lines) for (const seg of wrapSegments(line)) assert.ok(textWidth(seg, L.labelSize) <= L.rowHeadWidth - 2 * HEATMAP_CELL_PADDING + 0.01, `${what}: row head "${seg}"`);
      if (L.mode === 'compact') assert.equal(L.legend.length >= model.labels.length, true, `${what}: the names are in the legend`);
    }
  }
  // The two-task demo keeps its names in the heads from 450 px; at 230 px it switches to T0/T1 with a legend, one decimal kept.
  const demo = heatmapModel(sampleResult());
  assert.equal(heatmapTableLayout(demo, matrixRoom(contentWidth(450)), FONT).mode, 'full');
  const narrow = heatmapTableLayout(demo, matrixRoom(contentWidth(230)), FONT);
  assert.deepEqual([narrow.mode, narrow.decimals], ['compact', 1]);
  assert.deepEqual(narrow.legend, ['T0 = MNIST', 'T1 = Fashion-MNIST']);
  assert.deepEqual(wrapSegments('after Fashion-MNIST 0/1'), ['after', 'Fashion-', 'MNIST', '0/', '1']);
});

test('curves, maps, colour bar and line chart fit a card at 230, 450 and 1400 px', () => {
  for (const panel of PANELS) {
    const w = cardWidth(panel);
    const c = curvesLayout(w, FONT, ['MNIST', 'Fashion-MNIST', 'Split 4/5', 'perm 3']);
    assert.ok(c.width <= w, `curves at ${panel}: ${c.width} > ${w}`);
    assert.ok(c.innerWidth >= 100, `curves at ${panel}: a plot to read (${c.innerWidth} px)`);
    for (const it of c.legend.items) assert.ok(c.margin.left + it.x + it.width <= w, `legend item "${it.label}" inside at ${panel}`);
    for (const maps of [1, 2, 5]) {
      const L = landscapeLayout(w, maps, FONT, 2);
      assert.ok(L.width <= w, `${maps} maps at ${panel}: ${L.width} > ${w}`);
      for (let k = 0; k < maps; k++) assert.ok(L.mapLeft[k] - L.axisWidth >= 0 && L.mapLeft[k] + L.mapSize <= w, `map ${k} inside`);
      const bar = L.colorbar;
      if (bar.orientation === 'vertical') assert.ok(bar.left + 14 + 60 <= L.width, 'the colour bar and its ticks inside');
      else assert.ok(bar.left + bar.length <= w && bar.top >= Math.max(...L.mapTop) + L.mapSize, 'the colour bar under the maps');
      // Maps never overlap each other.
      for (let a = 0; a < maps; a++)
        for (let b = a + 1; b < maps; b++) {
          const sameRow = L.mapTop[a] === L.mapTop[b];
          assert.ok(!sameRow || L.mapLeft[b] - L.axisWidth >= L.mapLeft[a] + L.mapSize, `maps ${a} and ${b} side by side without overlap`);
        }
    }
    const line = lineLayout(w, FONT, ['MNIST loss', 'Fashion-MNIST loss'], 1, ['0', '2.5', '0.025']);
    assert.ok(line.width <= w, `line chart at ${panel}`);
    // The rotated y-axis titles (drawn at x = 12, glyphs from about x-0.8em to x+0.2em) stay clear of the widest tick.
    const small = FONT - 2;
    assert.ok(c.margin.left - 9 - textWidth('100%', small) >= 12 + 0.2 * small + 1, `curves at ${panel}: y title clear of "100%"`);
    assert.ok(line.margin.left - 9 - textWidth('0.025', small) >= 12 + 0.2 * small + 1, `line at ${panel}: y title clear of "0.025"`);
  }
  // A wide panel gets big maps (not 400 px beside 1300 px curves); a narrow one stacks them with the bar below.
  const wide = landscapeLayout(cardWidth(1400), 2, FONT);
  assert.ok(wide.mapSize >= 500, `maps at 1400 px: ${wide.mapSize}`);
  assert.equal(wide.colorbar.orientation, 'vertical');
  const at450 = landscapeLayout(cardWidth(450), 2, FONT);
  assert.deepEqual([at450.columns, at450.rows], [1, 2]);
  const at230 = landscapeLayout(cardWidth(230), 2, FONT);
  assert.equal(at230.colorbar.orientation, 'horizontal');
});

test('θ_A/θ_B labels never collide; short forms with a caption when the long ones cannot fit', () => {
  const names = { a: 'mnist', b: 'fashion-mnist' };
  for (const mapSize of [110, 140, 200, 300, 600]) {
    // The default range: α from -0.5 to 1.5 (plus half a cell), so θ_A and θ_B are half a map apart.
    const left = 44;
    const x = (alpha: number) => left + ((alpha + 0.75) / 2.5) * mapSize;
    const placed = optimumLabels(x(0), x(1), { left: left + 2, right: left + mapSize - 2 }, names, 11);
    const box = (l: { box: { x0: number; x1: number } }) => l.box;
    assert.ok(!boxesOverlap(box(placed.a), box(placed.b), 4), `map ${mapSize} px: "${placed.a.text}" and "${placed.b.text}" apart`);
    for (const l of [placed.a, placed.b]) assert.ok(l.box.x0 >= left && l.box.x1 <= left + mapSize, `map ${mapSize} px: "${l.text}" inside the map`);
    if (placed.a.text === 'θ_A') assert.equal(placed.caption, 'θ_A: after mnist · θ_B: after fashion-mnist');
    else assert.equal(placed.caption, '');
  }
  // The 450 px panel: the long labels collided ("θA mnisθB fashion-mnist").
  const p = placePairLabels({ x: 100, text: 'θA after mnist', short: 'θA' }, { x: 170, text: 'θB after fashion-mnist', short: 'θB' }, { left: 40, right: 230 }, 11);
  assert.ok(!boxesOverlap(p.labels[0].box, p.labels[1].box, 6));
  // "from init (…" is never cut: the whole text, or a shorter whole one.
  assert.equal(fromInitText('-0.52', '0.81', 400, 11), 'from init (-0.52, 0.81)');
  assert.equal(fromInitText('-0.52', '0.81', 80, 11), 'from init');
  assert.equal(fromInitText('-0.52', '0.81', 10, 11), '');
  // Legends wrap onto rows instead of running off the chart.
  const legend = legendLayout(['MNIST', 'Fashion-MNIST', 'KMNIST', 'not-MNIST'], 150, 11);
  assert.ok(legend.rows >= 2);
  for (const it of legend.items) assert.ok(it.x + it.width <= 150 + 0.01, it.label);
});

// ---- the drawn charts, at each width ----

interface TextBox {
  text: string;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  el: Element;
}

const num = (v: string | null | undefined, fallback = 0) => (v == null || v === '' || Number.isNaN(Number(v)) ? fallback : Number(v));
const inherited = (el: Element | null, attr: string): string | null => (el ? (el.getAttribute(attr) ?? inherited(el.parentElement, attr)) : null);

/** Text boxes of an SVG in its own coordinates (translate() only; rotated text is skipped). */
function textBoxes(svg: Element): TextBox[] {
  const out: TextBox[] = [];
  // A text whose tspans are positioned (wrapped lines) counts line by line.
  const lines = [...svg.querySelectorAll('text')].flatMap((t) => {
    const placed = [...t.children].filter((c) => c.tagName === 'tspan' && c.hasAttribute('x'));
    return placed.length ? placed : [t];
  });
  for (const t of lines) {
    if (t.closest('clipPath, title')) continue;
    let tx = 0;
    let ty = 0;
    let rotated = false;
    for (let e: Element | null = t; e && e !== svg; e = e.parentElement) {
      const tr = e.getAttribute('transform') ?? '';
      if (/rotate/.test(tr)) rotated = true;
      const m = /translate\(\s*([-\d.e]+)(?:[ ,]\s*([-\d.e]+))?\s*\)/.exec(tr);
      if (m) {
        tx += Number(m[1]);
        ty += Number(m[2] ?? 0);
      }
    }
    const text = [...t.childNodes].filter((n) => n.nodeName !== 'title').map((n) => n.textContent ?? '').join('').trim();
    if (rotated || !text) continue;
    const size = num(inherited(t, 'font-size'), 13);
    const anchor = inherited(t, 'text-anchor') ?? 'start';
    const w = textWidth(text, size);
    const x = num(t.getAttribute('x')) + tx;
    const dy = /em$/.test(t.getAttribute('dy') ?? '') ? parseFloat(t.getAttribute('dy')!) * size : num(t.getAttribute('dy'));
    const y = num(t.getAttribute('y')) + ty + dy;
    const x0 = anchor === 'middle' ? x - w / 2 : anchor === 'end' ? x - w : x;
    const central = inherited(t, 'dominant-baseline') === 'central';
    out.push({ text, x0, x1: x0 + w, y0: central ? y - size / 2 : y - size * 0.8, y1: central ? y + size / 2 : y + size * 0.2, el: t });
  }
  return out;
}

function assertLaidOut(svg: SVGSVGElement, what: string, room: number) {
  const width = num(svg.getAttribute('width'));
  assert.ok(width <= room, `${what}: ${width} px wide in ${room} px`);
  const boxes = textBoxes(svg);
  assert.ok(boxes.length >= 5, `${what}: labels found (${boxes.length})`);
  for (const b of boxes) assert.ok(b.x0 >= -1 && b.x1 <= width + 1, `${what}: "${b.text}" [${b.x0.toFixed(0)}, ${b.x1.toFixed(0)}] inside 0..${width}`);
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      const overlap = a.x0 < b.x1 - 1 && b.x0 < a.x1 - 1 && a.y0 < b.y1 - 1 && b.y0 < a.y1 - 1;
      assert.ok(!overlap, `${what}: "${a.text}" and "${b.text}" overlap`);
    }
}

test('the drawn workbench at 230, 450 and 1400 px: every chart within its card, no two labels on top of each other', () => {
  for (const panel of PANELS) {
    for (const [name, r] of [results[0], [`${results[0][0]}, trajectory from outside`, withInitOutside(sampleResult())], ['five tasks', withCurves(splitResult())], ['no curve points yet', splitResult()], ['trajectory entering beside θ_A', withInitOnTheLeft(sampleResult())]] as const) {
      const dom = setupDom();
      const doc = dom.window.document;
      const wb = createWorkbench(doc.getElementById('app')!, () => {}, { fallbackWidth: contentWidth(panel), palette: fallbackPalette(true) });
      wb.render({ state: { result: r, progress: null, landscapeProgress: null, logs: [] }, mode: 'saved', canRun: true });
      const room = cardWidth(panel);
      const charts: [string, string][] = [
        ['curves', '[data-testid="curves"] svg'],
        ['landscape maps', 'svg[data-testid="landscape-maps"]'],
        ['landscape line', 'svg[data-testid="landscape-line"]'],
      ];
      for (const [chart, sel] of charts) {
        if (!r.landscape && chart !== 'curves') continue;
        const svg = doc.querySelector(sel) as SVGSVGElement;
        assert.ok(svg, `${chart} drawn`);
        assertLaidOut(svg, `${name}, ${chart} at ${panel} px`, room);
      }
      const table = doc.querySelector('[data-testid="heatmap"]') as HTMLElement;
      assert.ok(parseFloat(table.style.width) <= matrixRoom(contentWidth(panel)), `heatmap at ${panel} px`);
      wb.dispose();
    }
  }
});

function withInitOutside(r: RunResult): RunResult {
  r.landscape!.trajectory[0] = { step: 0, task: -1, alpha: -0.6, beta: -1.4 };
  return r;
}

/** Five tasks trained one after the other, each evaluated every 50 steps. */
function withCurves(r: RunResult): RunResult {
  const T = r.tasks.length;
  r.curves = Array.from({ length: 2 * T + 1 }, (_, k) => ({ step: k * 50, trainingTask: k === 0 ? -1 : Math.floor((k - 1) / 2), epoch: 1, accuracy: r.tasks.map((_, j) => (j <= Math.floor((k - 1) / 2) ? 0.9 : 0.1)), loss: r.tasks.map(() => 1) }));
  return r;
}

/** Random init left of the grid just below β = 0: the trajectory enters on the row of the optima's labels. */
function withInitOnTheLeft(r: RunResult): RunResult {
  r.landscape!.trajectory[0] = { step: 0, task: -1, alpha: -0.95, beta: -0.08 };
  return r;
}
