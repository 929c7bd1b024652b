// Accuracy matrix R[i][j] as a heatmap: an HTML table on screen (real rows and headers, test ids on
// the cells) and the same layout as a standalone SVG for export.
import { interpolateLab } from 'd3';
import type { Scenario } from '../../protocol/experiment';
import type { RunResult, RunStatus } from '../../protocol/result';
import { averageAccuracy, formatPercent, hasMultiTaskPhases, phaseLabels, phasesOf, scenarioOf, taskLabels } from '../../protocol/format';
import { h, setAttrs } from '../dom';
import { relativeLuminance, type Palette } from '../theme';
import { bindTooltip, createTooltip, textWidth, type TooltipLine } from './axes';

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
  /** `width`: the space the table may take (its card body); default: room for the full layout. */
  update(model: HeatmapModel, palette: Palette, width?: number): void;
  /** A standalone SVG of the current matrix. */
  exportSvg(palette?: Palette): SVGSVGElement | null;
  dispose(): void;
}

/** The tooltip of a value cell: "R[0][1] = 8.1%" and what it measures. */
export function cellTooltip(model: HeatmapModel, i: number, j: number, v: number): TooltipLine[] {
  return [
    { text: `R[${i}][${j}] = ${formatPercent(v)}%`, strong: true },
    { text: `accuracy on task ${j} (${model.labels[j]}) after training ${model.rowUnit} ${i} (${model.rowLabels[i]})` },
  ];
}

/** Task j was trained in row i's phase (the outlined cells). */
const trainedIn = (model: HeatmapModel, i: number, j: number) => model.phases[i]?.includes(j) ?? i === j;

/** The row head's two lines: "task 0" / "after 0/1" (or "phase 0" / "after joint (all tasks)"). */
export function rowHead(model: HeatmapModel, i: number): [string, string] {
  return [`${model.rowUnit} ${i}`, `after ${model.rowLabels[i]}`];
}

// ---- the table's layout: pure, so every width can be tested without a layout engine ----

/** Estimated width of a text run: ~0.6 em per character (the charts' estimate; errs wide for digits). */
const runWidth = (text: string, size: number) => textWidth(text, size);

/** The pieces a line may wrap between: spaces, and after hyphens and slashes (never inside a word). */
export function wrapSegments(text: string): string[] {
  return text.split(/(?<=[-/])|\s+/).filter(Boolean);
}

/** The widest piece of any of the texts: a column narrower than this breaks a word. */
const widestSegment = (texts: readonly string[], size: number) => Math.max(0, ...texts.flatMap((t) => wrapSegments(t).map((w) => runWidth(w, size))));

export interface HeatmapTableLayout {
  /** full: task names in the heads; compact: "T0", "T1"… in the heads and the names in a legend. */
  mode: 'full' | 'compact';
  /** Decimals of the values in the cells; null: colour only (the value is in the tooltip). */
  decimals: 1 | 0 | null;
  /** Total width of the table, border spacing included. */
  width: number;
  rowHeadWidth: number;
  cellWidth: number;
  cellHeight: number;
  /** Border spacing between cells. */
  spacing: number;
  /** Font sizes (px): cell values, head first lines (muted), head second lines (names). */
  valueSize: number;
  indexSize: number;
  labelSize: number;
  /** Lines of each column head and each row head (baseline excluded). */
  columnHeads: string[][];
  /** Font size and horizontal padding (per side) of the column heads of the compact mode. */
  columnHeadSize: number;
  columnHeadPadding: number;
  rowHeads: string[][];
  /** Legend entries of the compact mode ("T1 = fashion-mnist"). */
  legend: string[];
}

/** Horizontal padding inside a head or value cell, per side. */
export const HEATMAP_CELL_PADDING = 4;
const MAX_CELL = 160;
const MAX_ROW_HEAD = 240;

/**
 * How the matrix fits in `width` px: full heads where every name fits its column without breaking
 * a word; otherwise short heads (T0, T1, …) with the names in a legend, then fewer decimals, then
 * colour only. Never wider than `width` for up to (width / 9) tasks.
 */
export function heatmapTableLayout(model: HeatmapModel, width: number, fontSize: number): HeatmapTableLayout {
  const T = Math.max(1, model.labels.length);
  const valueSize = Math.round(fontSize * 1.15);
  const indexSize = Math.round(fontSize * 0.85);
  const labelSize = fontSize;
  const pad = 2 * HEATMAP_CELL_PADDING;
  const rows = model.rows.map((_, i) => rowHead(model, i));
  const baselineHead = ['random init', 'baseline b'];
  const valueWidth = (decimals: 0 | 1) => runWidth(decimals === 1 ? '100.0' : '100', valueSize) + pad;
  const fits = (rowHeadWidth: number, cellWidth: number, spacing: number) => rowHeadWidth + T * cellWidth + (T + 2) * spacing <= width;

  // Full: every name whole in its column; row heads wrap between words.
  {
    const spacing = 3;
    const heads = model.labels.map((l, j) => [`task ${j}`, l]);
    const cellMin = Math.ceil(Math.max(valueWidth(1), widestSegment(model.labels, labelSize) + pad, runWidth(`task ${T - 1}`, indexSize) + pad, 56));
    const rowTexts = [...rows.map((r) => r[1]), baselineHead[1]];
    const rowMin = Math.ceil(Math.max(widestSegment(rowTexts, labelSize), runWidth(rows[rows.length - 1]?.[0] ?? 'task 0', indexSize), runWidth(baselineHead[0], indexSize)) + pad);
    const rowIdeal = Math.ceil(Math.min(MAX_ROW_HEAD, Math.max(rowMin, ...rowTexts.map((t) => runWidth(t, labelSize) + pad))));
    if (fits(rowMin, cellMin, spacing)) {
      const rowHeadWidth = Math.max(rowMin, Math.min(rowIdeal, width - T * cellMin - (T + 2) * spacing));
      const cellWidth = Math.max(cellMin, Math.min(MAX_CELL, Math.floor((width - rowHeadWidth - (T + 2) * spacing) / T)));
      return { mode: 'full', decimals: 1, width: rowHeadWidth + T * cellWidth + (T + 2) * spacing, rowHeadWidth, cellWidth, cellHeight: 40, spacing, valueSize, indexSize, labelSize, columnHeads: heads, columnHeadSize: labelSize, columnHeadPadding: HEATMAP_CELL_PADDING, rowHeads: rows.map((r) => [...r]), legend: [] };
    }
  }
  // Compact: "T0" heads, "after T0" rows, the names in a legend under the table.
  const short = (j: number) => `T${j}`;
  const phaseShort = (i: number) => (model.phases[i]?.length === 1 ? `after ${short(model.phases[i][0])}` : `after ${model.rowUnit[0]}${i}`);
  const legend = model.labels.map((l, j) => `${short(j)} = ${l}`);
  if (model.rowUnit === 'phase') model.rowLabels.forEach((l, i) => legend.push(`${model.rowUnit[0]}${i} = ${l}`));
  for (const decimals of [1, 0, null] as const) {
    const spacing = decimals === null ? 1 : 2;
    const headMin = runWidth(short(T - 1), labelSize) + pad;
    const cellMin = Math.ceil(decimals === null ? Math.max(8, Math.min(headMin, 24)) : Math.max(valueWidth(decimals), headMin));
    const rowTexts = [...model.rows.map((_, i) => phaseShort(i)), 'b'];
    const rowHeadWidth = Math.ceil(Math.max(...rowTexts.map((t) => runWidth(t, indexSize))) + pad);
    if (!fits(rowHeadWidth, cellMin, spacing) && decimals !== null) continue;
    const free = Math.floor((width - rowHeadWidth - (T + 2) * spacing) / T);
    const cellWidth = Math.max(decimals === null ? 4 : cellMin, Math.min(decimals === null ? 28 : 72, free));
    // Too narrow for "T9" over a colour-only column: the heads keep the index only, small and unpadded.
    const tShort = model.labels.every((_, j) => runWidth(short(j), labelSize) + pad <= cellWidth);
    const columnHeadSize = tShort ? labelSize : indexSize;
    const columnHeadPadding = tShort ? HEATMAP_CELL_PADDING : 1;
    const columnHeads = model.labels.map((_, j) => [tShort ? short(j) : runWidth(String(j), indexSize) + 2 <= cellWidth ? String(j) : '']);
    return {
      mode: 'compact',
      decimals,
      width: rowHeadWidth + T * cellWidth + (T + 2) * spacing,
      rowHeadWidth,
      cellWidth,
      cellHeight: decimals === null ? Math.max(10, Math.min(28, cellWidth)) : 30,
      spacing,
      valueSize: decimals === null ? valueSize : Math.round(fontSize * 1.05),
      indexSize,
      labelSize,
      columnHeads,
      columnHeadSize,
      columnHeadPadding,
      rowHeads: model.rows.map((_, i) => [phaseShort(i)]),
      legend,
    };
  }
  throw new Error('unreachable: the colour-only layout always returns');
}

/** A cell value as the layout shows it ("98.9", "99", "" for colour only). */
export function cellText(v: number, decimals: HeatmapTableLayout['decimals']): string {
  return decimals === null ? '' : formatPercent(v, decimals);
}

export function createHeatmap(el: HTMLElement): HeatmapChart {
  const doc = el.ownerDocument;
  const wrap = h(doc, 'div', { class: 'heatmap-wrap' });
  const table = h(doc, 'table', { class: 'heatmap', 'data-testid': 'heatmap' });
  const legend = h(doc, 'p', { class: 'heatmap-legend muted', 'data-testid': 'heatmap-legend' });
  wrap.append(table, legend);
  el.append(wrap);
  const tooltip = createTooltip(wrap);
  let current: { model: HeatmapModel; palette: Palette } | null = null;
  bindTooltip(wrap, tooltip, (cell) => {
    if (!current) return null;
    const m = current.model;
    const i = Number(cell.getAttribute('data-row'));
    const j = Number(cell.getAttribute('data-col'));
    const kind = cell.getAttribute('data-tip');
    if (kind === 'value') {
      const v = m.rows[i]?.[j];
      return typeof v === 'number' ? cellTooltip(m, i, j, v) : null;
    }
    if (kind === 'baseline') {
      const v = m.baseline?.[j];
      return typeof v === 'number' ? [{ text: `b_${j} = ${formatPercent(v)}%`, strong: true }, { text: `task ${j} (${m.labels[j]}) before any training` }] : null;
    }
    if (kind === 'missing') return [{ text: cell.getAttribute('data-missing') ?? '' }];
    if (kind === 'baseline-head') return [{ text: 'b_j: accuracy of the untrained (seeded) model; FWT compares against it' }];
    if (kind === 'head') return [{ text: cell.getAttribute('aria-label') ?? '' }];
    return null;
  });

  function header(model: HeatmapModel, L: HeatmapTableLayout): HTMLTableSectionElement {
    const thead = h(doc, 'thead');
    const tr = h(doc, 'tr');
    const corner = h(doc, 'th', { class: 'corner', scope: 'col' }, L.mode === 'full' ? `after ${model.rowUnit} ↓ / on task →` : '');
    corner.style.fontSize = `${L.indexSize}px`;
    tr.append(corner);
    model.labels.forEach((label, j) => {
      const th = h(doc, 'th', { scope: 'col', class: 'col-head', 'data-col': j });
      const lines = L.columnHeads[j];
      if (L.mode === 'full') {
        th.append(sized(h(doc, 'span', { class: 'task-index' }, lines[0]), L.indexSize), sized(h(doc, 'span', { class: 'task-label' }, lines[1]), L.labelSize));
      } else {
        setAttrs(th, { 'data-tip': 'head', 'aria-label': `task ${j}: ${label}`, tabindex: 0 });
        th.style.padding = `0 ${L.columnHeadPadding}px 4px`;
        th.append(sized(h(doc, 'span', { class: 'task-short' }, lines[0]), L.columnHeadSize));
      }
      tr.append(th);
    });
    thead.append(tr);
    return thead;
  }

  const sized = <E extends HTMLElement>(e: E, px: number): E => {
    e.style.fontSize = `${px}px`;
    return e;
  };

  function valueCell(v: number, palette: Palette, L: HeatmapTableLayout, attrs: Record<string, string | number>, label: string): HTMLTableCellElement {
    const td = h(doc, 'td', { ...attrs, tabindex: 0, 'aria-label': label }, cellText(v, L.decimals));
    // The value stays readable by tests and assistive tech when the cell shows colour only.
    if (L.decimals !== 1) td.setAttribute('data-value', formatPercent(v));
    const bg = heatmapCellColor(v, palette);
    td.style.backgroundColor = bg;
    td.style.color = readableTextColor(bg);
    td.style.fontSize = `${L.valueSize}px`;
    return td;
  }

  return {
    update(model, palette, width) {
      current = { model, palette };
      const L = heatmapTableLayout(model, width ?? 100_000, palette.fontSize);
      table.className = `heatmap heatmap-${L.mode}${L.decimals === null ? ' heatmap-colour-only' : ''}`;
      table.style.width = `${L.width}px`;
      table.style.borderSpacing = `${L.spacing}px`;
      const cols = h(doc, 'colgroup');
      // Widths through the CSSOM: the panel's CSP drops style attributes.
      const col = (px: number) => {
        const c = h(doc, 'col');
        c.style.width = `${px}px`;
        return c;
      };
      cols.append(col(L.rowHeadWidth), ...model.labels.map(() => col(L.cellWidth)));
      const tbody = h(doc, 'tbody');
      model.rows.forEach((row, i) => {
        const tr = h(doc, 'tr', { class: row ? 'row' : `row ${missingCell(model, i, false).kind}`, 'data-row': i });
        tr.style.height = `${L.cellHeight}px`;
        const th = h(doc, 'th', { scope: 'row', class: 'row-head' });
        const lines = L.rowHeads[i];
        if (lines.length === 2) th.append(sized(h(doc, 'span', { class: 'task-index' }, lines[0]), L.indexSize), sized(h(doc, 'span', { class: 'task-label' }, lines[1]), L.labelSize));
        else {
          setAttrs(th, { 'data-tip': 'head', 'aria-label': rowHead(model, i).join(': ') });
          th.append(sized(h(doc, 'span', { class: 'task-index' }, lines[0]), L.indexSize));
        }
        tr.append(th);
        model.labels.forEach((_, j) => {
          const v = row?.[j] ?? null;
          if (v === null) {
            const m = missingCell(model, i, !!row);
            const td = h(doc, 'td', { class: `cell ${m.kind}`, 'data-testid': `heatmap-${m.kind}`, 'data-row': i, 'data-col': j, 'data-tip': 'missing', 'data-missing': m.title, 'aria-label': m.title }, L.decimals === null ? '' : m.text);
            tr.append(td);
          } else {
            const attrs = { class: trainedIn(model, i, j) ? 'cell diagonal' : 'cell', 'data-testid': 'heatmap-cell', 'data-row': i, 'data-col': j, 'data-tip': 'value' };
            tr.append(valueCell(v, palette, L, attrs, cellTooltip(model, i, j, v).map((t) => t.text).join(': ')));
          }
        });
        tbody.append(tr);
      });
      legend.textContent = L.legend.join(' · ');
      legend.hidden = !L.legend.length;
      if (!model.baseline) {
        table.replaceChildren(cols, header(model, L), tbody);
        return;
      }
      const base = h(doc, 'tbody', { class: 'baseline' });
      const btr = h(doc, 'tr');
      const bth = h(doc, 'th', { scope: 'row', class: 'row-head', 'data-tip': 'baseline-head' });
      if (L.mode === 'full') bth.append(sized(h(doc, 'span', { class: 'task-index' }, 'random init'), L.indexSize), sized(h(doc, 'span', { class: 'task-label' }, 'baseline b'), L.labelSize));
      else bth.append(sized(h(doc, 'span', { class: 'task-index' }, 'b'), L.indexSize));
      btr.append(bth);
      model.baseline.forEach((v, j) => {
        if (v === null) {
          const m = missingBaseline(model);
          btr.append(h(doc, 'td', { class: `cell ${m.kind}`, 'data-testid': `baseline-${m.kind}`, 'data-col': j, 'data-tip': 'missing', 'data-missing': m.title, 'aria-label': m.title }, L.decimals === null ? '' : m.text));
        } else btr.append(valueCell(v, palette, L, { class: 'cell', 'data-testid': 'baseline-cell', 'data-col': j, 'data-tip': 'baseline' }, `b_${j} = ${formatPercent(v)}%: ${model.labels[j]} before any training`));
      });
      base.append(btr);
      table.replaceChildren(cols, header(model, L), tbody, base);
    },
    exportSvg(palette) {
      return current ? heatmapSvg(doc, current.model, palette ?? current.palette) : null;
    },
    dispose() {
      tooltip.remove();
      wrap.remove();
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
  // Axis labels: rows are "after" a phase, columns the task scored.
  add(svg, 'text', { x: 4, y: L.headerHeight - 22, fill: p.muted, 'font-size': p.fontSize - 2, class: 'axis-label' }, `after ${model.rowUnit} ↓`);
  add(svg, 'text', { x: 4, y: L.headerHeight - 6, fill: p.muted, 'font-size': p.fontSize - 2, class: 'axis-label' }, 'on task →');
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
