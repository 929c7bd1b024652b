// Accuracy matrix R[i][j] as a heatmap: an HTML table on screen (real rows and headers, test ids on
// the cells) and the same layout as a standalone SVG for export.
import { interpolateLab } from 'd3';
import type { Scenario } from '../../protocol/experiment';
import type { RunResult, RunStatus } from '../../protocol/result';
import { averageAccuracy, formatPercent, hasMultiTaskPhases, phaseLabels, phasesOf, scenarioOf, taskLabels } from '../../protocol/format';
import { h, setAttrs } from '../dom';
import { relativeLuminance, type Palette } from '../theme';

/** Which matrix the heatmap shows: the run's own scenario, or the other one scored on the same rows. */
export type MatrixView = 'primary' | 'alternate';

export interface HeatmapModel {
  /** Columns: one per task. */
  labels: string[];
  /** What each row's phase trained ("0/1", "joint (all tasks)"); rows read "after <label>". */
  rowLabels: string[];
  /** Row heads say "phase i" when a phase is not one task (joint, cumulative), else "task i". */
  rowUnit: 'task' | 'phase';
  /** One row per phase; null where the row has not arrived yet (pending). */
  rows: ((number | null)[] | null)[];
  /** The tasks each row's phase trained: their cells are outlined (the diagonal of a sequential run). */
  phases: number[][];
  /** b_j, null where unknown; no row at all for the alternate scenario (b was scored in the run's own). */
  baseline: (number | null)[] | null;
  /**
   * The run's status: while it is running, missing values are pending; once it has ended
   * (completed, cancelled, failed) they will never arrive and are shown as "not run".
   */
  status: RunStatus;
  /** The scenario the values are scored in. */
  scenario: Scenario;
  /** ACC of the rows shown: the last row's mean over the tasks trained so far. */
  acc: number | null;
}

/** The matrices a result offers: its own scenario's, and the alternate one where the run scored both. */
export function matrixViews(r: RunResult): { view: MatrixView; scenario: Scenario }[] {
  const views: { view: MatrixView; scenario: Scenario }[] = [{ view: 'primary', scenario: scenarioOf(r) }];
  if (r.alternateAccuracy && Array.isArray(r.alternateAccuracy.accuracyMatrix)) views.push({ view: 'alternate', scenario: r.alternateAccuracy.scenario });
  return views;
}

/** How a missing value reads: still to come (running) or never measured (the run has ended). */
export interface MissingCell {
  kind: 'pending' | 'not-run';
  text: string;
  title: string;
}

const endedBefore = (status: RunStatus, what: string) =>
  status === 'cancelled' ? `the run was cancelled before ${what}` : status === 'failed' ? `the run failed before ${what}` : `the run ended before ${what}`;

/** A missing R[i][j] (row null: task i never finished; otherwise the value alone is missing). */
export function missingCell(model: HeatmapModel, i: number, rowFilled: boolean): MissingCell {
  if (model.status === 'running') {
    return { kind: 'pending', text: '', title: rowFilled ? 'not measured' : `pending: filled when ${model.rowUnit} ${i} (${model.rowLabels[i]}) ends` };
  }
  return rowFilled ? { kind: 'not-run', text: 'not measured', title: 'not measured' } : { kind: 'not-run', text: 'not run', title: endedBefore(model.status, `this ${model.rowUnit}`) };
}

/** A missing baseline b_j (measured before any training). */
export function missingBaseline(model: HeatmapModel): MissingCell {
  return model.status === 'running'
    ? { kind: 'pending', text: '', title: 'pending: measured before training starts' }
    : { kind: 'not-run', text: 'not run', title: endedBefore(model.status, 'the baseline was measured') };
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function heatmapModel(r: RunResult, view: MatrixView = 'primary'): HeatmapModel {
  const labels = taskLabels(r);
  const T = labels.length;
  const phases = phasesOf(r);
  const alternate = view === 'alternate' ? r.alternateAccuracy : undefined;
  const matrix = alternate?.accuracyMatrix ?? r.accuracyMatrix;
  const rows = phases.map((_, i) => {
    const row = matrix[i];
    return Array.isArray(row) ? labels.map((__, j) => finite(row[j])) : null;
  });
  const baseline = alternate ? null : Array.from({ length: T }, (_, j) => finite(r.randomInitAccuracy[j]));
  return {
    labels,
    rowLabels: phaseLabels(r),
    rowUnit: hasMultiTaskPhases(r) ? 'phase' : 'task',
    rows,
    phases,
    baseline,
    status: r.status,
    scenario: alternate?.scenario ?? scenarioOf(r),
    acc: averageAccuracy(matrix, phases),
  };
}

/** Cell fill for an accuracy in [0, 1]: from the editor background (0%) to the accent colour (100%). */
export function heatmapCellColor(value: number, p: Palette): string {
  const t = Math.min(1, Math.max(0, value));
  return interpolateLab(p.background, p.accent)(t);
}

/** WCAG contrast ratio between two colours (1..21). */
export function contrastRatio(a: string, b: string): number {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** Black or white, whichever reads better on `background`. */
export function readableTextColor(background: string): string {
  return contrastRatio(background, '#000000') >= contrastRatio(background, '#ffffff') ? '#000000' : '#ffffff';
}

export interface HeatmapChart {
  update(model: HeatmapModel, palette: Palette): void;
  /** A standalone SVG of the current matrix. */
  exportSvg(): SVGSVGElement | null;
  dispose(): void;
}

function cellTitle(model: HeatmapModel, i: number, j: number, v: number): string {
  return `R[${i}][${j}] = ${formatPercent(v)}%: accuracy on ${model.labels[j]} after training ${model.rowLabels[i]}`;
}

/** Task j was trained in row i's phase (the outlined cells). */
const trainedIn = (model: HeatmapModel, i: number, j: number) => model.phases[i]?.includes(j) ?? i === j;

/** The row head's two lines: "task 0" / "after 0/1" (or "phase 0" / "after joint (all tasks)"). */
export function rowHead(model: HeatmapModel, i: number): [string, string] {
  return [`${model.rowUnit} ${i}`, `after ${model.rowLabels[i]}`];
}

export function createHeatmap(el: HTMLElement): HeatmapChart {
  const doc = el.ownerDocument;
  const table = h(doc, 'table', { class: 'heatmap', 'data-testid': 'heatmap' });
  el.append(table);
  let current: { model: HeatmapModel; palette: Palette } | null = null;

  function header(model: HeatmapModel): HTMLTableSectionElement {
    const thead = h(doc, 'thead');
    const tr = h(doc, 'tr');
    tr.append(h(doc, 'th', { class: 'corner', scope: 'col' }, `after ${model.rowUnit} ↓ / on task →`));
    model.labels.forEach((label, j) => {
      const th = h(doc, 'th', { scope: 'col', class: 'col-head' });
      th.append(h(doc, 'span', { class: 'task-index' }, `task ${j}`), h(doc, 'span', { class: 'task-label' }, label));
      tr.append(th);
    });
    thead.append(tr);
    return thead;
  }

  function valueCell(v: number, palette: Palette, attrs: Record<string, string | number>, title: string): HTMLTableCellElement {
    const td = h(doc, 'td', { ...attrs, title }, formatPercent(v));
    const bg = heatmapCellColor(v, palette);
    td.style.backgroundColor = bg;
    td.style.color = readableTextColor(bg);
    return td;
  }

  return {
    update(model, palette) {
      current = { model, palette };
      const tbody = h(doc, 'tbody');
      model.rows.forEach((row, i) => {
        const tr = h(doc, 'tr', { class: row ? 'row' : `row ${missingCell(model, i, false).kind}`, 'data-row': i });
        const th = h(doc, 'th', { scope: 'row', class: 'row-head' });
        const [index, label] = rowHead(model, i);
        th.append(h(doc, 'span', { class: 'task-index' }, index), h(doc, 'span', { class: 'task-label' }, label));
        tr.append(th);
        model.labels.forEach((_, j) => {
          const v = row?.[j] ?? null;
          if (v === null) {
            const m = missingCell(model, i, !!row);
            const td = h(doc, 'td', { class: `cell ${m.kind}`, 'data-testid': `heatmap-${m.kind}`, 'data-row': i, 'data-col': j, title: m.title }, m.text);
            tr.append(td);
          } else {
            const td = valueCell(v, palette, { class: trainedIn(model, i, j) ? 'cell diagonal' : 'cell', 'data-testid': 'heatmap-cell', 'data-row': i, 'data-col': j }, cellTitle(model, i, j, v));
            tr.append(td);
          }
        });
        tbody.append(tr);
      });
      if (!model.baseline) {
        table.replaceChildren(header(model), tbody);
        return;
      }
      const base = h(doc, 'tbody', { class: 'baseline' });
      const btr = h(doc, 'tr');
      const bth = h(doc, 'th', { scope: 'row', class: 'row-head', title: 'b_j: accuracy of the untrained (seeded) model; FWT compares against it' });
      bth.append(h(doc, 'span', { class: 'task-index' }, 'random init'), h(doc, 'span', { class: 'task-label' }, 'baseline b'));
      btr.append(bth);
      model.baseline.forEach((v, j) => {
        if (v === null) {
          const m = missingBaseline(model);
          btr.append(h(doc, 'td', { class: `cell ${m.kind}`, 'data-testid': `baseline-${m.kind}`, 'data-col': j, title: m.title }, m.text));
        }
        else btr.append(valueCell(v, palette, { class: 'cell', 'data-testid': 'baseline-cell', 'data-col': j }, `b_${j} = ${formatPercent(v)}%: ${model.labels[j]} before any training`));
      });
      base.append(btr);
      table.replaceChildren(header(model), tbody, base);
    },
    exportSvg() {
      return current ? heatmapSvg(doc, current.model, current.palette) : null;
    },
    dispose() {
      table.remove();
    },
  };
}

export interface HeatmapSvgLayout {
  width: number;
  height: number;
  labelWidth: number;
  headerHeight: number;
  cellWidth: number;
  cellHeight: number;
  /** Top of the baseline row (a gap below the matrix). */
  baselineY: number;
}

export function heatmapSvgLayout(model: HeatmapModel, fontSize: number): HeatmapSvgLayout {
  const charW = fontSize * 0.6;
  const longest = Math.max(12, ...model.labels.map((l) => l.length));
  const longestRow = Math.max(12, ...model.rowLabels.map((l) => `after ${l}`.length));
  const labelWidth = Math.ceil(Math.min(240, Math.max(110, longestRow * charW + 24)));
  const cellWidth = Math.ceil(Math.max(64, Math.min(160, longest * charW + 16)));
  const cellHeight = Math.round(fontSize * 2.8);
  const headerHeight = Math.round(fontSize * 3.2);
  const T = model.labels.length;
  const baselineY = headerHeight + model.rows.length * cellHeight + Math.round(cellHeight / 2);
  const height = model.baseline ? baselineY + cellHeight + 8 : headerHeight + model.rows.length * cellHeight + 8;
  return { width: labelWidth + T * cellWidth + 8, height, labelWidth, headerHeight, cellWidth, cellHeight, baselineY };
}

/** The matrix as SVG (for export): same colours and values as the table. */
export function heatmapSvg(doc: Document, model: HeatmapModel, p: Palette): SVGSVGElement {
  const NS = 'http://www.w3.org/2000/svg';
  const L = heatmapSvgLayout(model, p.fontSize);
  const svg = doc.createElementNS(NS, 'svg') as SVGSVGElement;
  setAttrs(svg, { width: L.width, height: L.height, viewBox: `0 0 ${L.width} ${L.height}`, 'font-family': p.fontFamily, 'font-size': p.fontSize, fill: p.foreground });
  const add = (parent: Element, tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = doc.createElementNS(NS, tag);
    setAttrs(e, attrs);
    if (text !== undefined) e.textContent = text;
    parent.append(e);
    return e;
  };
  const cell = (x: number, y: number, v: number | null, diagonal: boolean, missing?: MissingCell) => {
    if (v === null) {
      add(svg, 'rect', { x: x + 1, y: y + 1, width: L.cellWidth - 2, height: L.cellHeight - 2, fill: 'none', stroke: p.border, 'stroke-dasharray': '3 3' });
      if (missing?.text) {
        const t = add(svg, 'text', { x: x + L.cellWidth / 2, y: y + L.cellHeight / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', fill: p.muted, 'font-size': p.fontSize - 2, 'font-style': 'italic', 'data-missing': missing.kind }, missing.text);
        add(t, 'title', {}, missing.title);
      }
      return;
    }
    const bg = heatmapCellColor(v, p);
    add(svg, 'rect', { x: x + 1, y: y + 1, width: L.cellWidth - 2, height: L.cellHeight - 2, fill: bg, stroke: diagonal ? p.foreground : p.border, 'stroke-width': diagonal ? 1.5 : 1 });
    add(svg, 'text', { x: x + L.cellWidth / 2, y: y + L.cellHeight / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', fill: readableTextColor(bg), 'font-variant-numeric': 'tabular-nums' }, formatPercent(v));
  };
  model.labels.forEach((label, j) => {
    const x = L.labelWidth + j * L.cellWidth + L.cellWidth / 2;
    add(svg, 'text', { x, y: L.headerHeight - 22, 'text-anchor': 'middle', fill: p.muted, 'font-size': p.fontSize - 2 }, `task ${j}`);
    add(svg, 'text', { x, y: L.headerHeight - 6, 'text-anchor': 'middle', 'font-weight': 600 }, label);
  });
  model.rows.forEach((row, i) => {
    const y = L.headerHeight + i * L.cellHeight;
    const [index, label] = rowHead(model, i);
    add(svg, 'text', { x: 4, y: y + L.cellHeight / 2 - 7, 'dominant-baseline': 'central', fill: p.muted, 'font-size': p.fontSize - 2 }, index);
    add(svg, 'text', { x: 4, y: y + L.cellHeight / 2 + 8, 'dominant-baseline': 'central', 'font-weight': 600 }, label);
    model.labels.forEach((_, j) => cell(L.labelWidth + j * L.cellWidth, y, row?.[j] ?? null, trainedIn(model, i, j), missingCell(model, i, !!row)));
  });
  if (!model.baseline) return svg;
  add(svg, 'text', { x: 4, y: L.baselineY + L.cellHeight / 2 - 7, 'dominant-baseline': 'central', fill: p.muted, 'font-size': p.fontSize - 2 }, 'random init');
  add(svg, 'text', { x: 4, y: L.baselineY + L.cellHeight / 2 + 8, 'dominant-baseline': 'central', 'font-weight': 600 }, 'baseline b');
  model.baseline.forEach((v, j) => cell(L.labelWidth + j * L.cellWidth, L.baselineY, v, false, missingBaseline(model)));
  return svg;
}
