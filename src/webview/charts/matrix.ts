// A matrix of coloured cells with text (R as mean ± SEM, a difference B − A): an HTML table on
// screen (real headers, test ids and values on the cells) and the same cells as an SVG chart for
// export. The caller gives the texts and the colour scale; this only lays them out.
import { h, setAttrs } from '../dom';
import type { Palette } from '../theme';
import { bindTooltip, createTooltip, textWidth, type Tooltip } from './axes';
import { SVG_NS, chartDocument, chartSvg, type Chart } from './chart';
import { readableTextColor } from './heatmap';

export interface MatrixCellData {
  /** What the cell shows ("98.2 ± 0.3"); '—' for a missing value. */
  text: string;
  /** The value the colour encodes; null: no colour (missing). */
  value: number | null;
  /** The cell's full description (tooltip, accessible name). */
  title: string;
  attrs?: Record<string, string | number>;
  /** Outlined (the task trained in that phase). */
  outlined?: boolean;
}

export interface MatrixData {
  /** Accessible name. */
  label: string;
  /** Above the matrix (the run or group it shows). */
  title?: string;
  subtitle?: string;
  corner?: string;
  rowLabels: string[];
  colLabels: string[];
  cells: MatrixCellData[][];
  color(v: number, p: Palette): string;
}

export interface MatrixLayout {
  width: number;
  height: number;
  top: number;
  rowHeadWidth: number;
  cellWidth: number;
  cellHeight: number;
  headHeight: number;
}

/** Cell and header sizes from the texts (estimated widths): pure. */
export function matrixLayout(data: Pick<MatrixData, 'title' | 'subtitle' | 'rowLabels' | 'colLabels' | 'cells'>, fontSize: number): MatrixLayout {
  const small = Math.max(10, fontSize - 2);
  const longestCell = Math.max(textWidth('100.0', fontSize), ...data.cells.flat().map((c) => textWidth(c.text, fontSize)));
  const longestHead = Math.max(0, ...data.colLabels.map((l) => textWidth(l, small)));
  const cellWidth = Math.ceil(Math.min(160, Math.max(56, longestCell + 14, longestHead + 10)));
  const rowHeadWidth = Math.ceil(Math.min(200, Math.max(60, ...data.rowLabels.map((l) => textWidth(l, small) + 12))));
  const cellHeight = Math.round(fontSize * 2.4);
  const top = (data.title ? Math.round(fontSize * 1.6) : 0) + (data.subtitle ? Math.round(small * 1.5) : 0);
  const headHeight = Math.round(fontSize * 2);
  const width = rowHeadWidth + data.colLabels.length * cellWidth + 4;
  const height = top + headHeight + data.rowLabels.length * cellHeight + 4;
  return { width, height, top, rowHeadWidth, cellWidth, cellHeight, headHeight };
}

/** The matrix as SVG (exports, composed figures). */
export const matrixChart: Chart<MatrixData> = (data, o) => {
  const p = o.palette;
  const doc = chartDocument(o);
  const small = Math.max(10, p.fontSize - 2);
  const L = matrixLayout(data, p.fontSize);
  const svg = chartSvg(o, L.width, L.height, data.label);
  const add = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = doc.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  if (data.title) add('text', { x: 2, y: Math.round(p.fontSize * 1.1), 'font-weight': 600, class: 'matrix-title' }, data.title);
  if (data.subtitle) add('text', { x: 2, y: L.top - 6, fill: p.muted, 'font-size': small }, data.subtitle);
  if (data.corner) add('text', { x: 2, y: L.top + L.headHeight - 8, fill: p.muted, 'font-size': small }, data.corner);
  data.colLabels.forEach((l, j) => add('text', { x: L.rowHeadWidth + j * L.cellWidth + L.cellWidth / 2, y: L.top + L.headHeight - 8, 'text-anchor': 'middle', 'font-size': small, 'font-weight': 600 }, l));
  data.rowLabels.forEach((l, i) => {
    const y = L.top + L.headHeight + i * L.cellHeight;
    add('text', { x: 2, y: y + L.cellHeight / 2, 'dominant-baseline': 'central', 'font-size': small, fill: p.muted }, l);
    data.colLabels.forEach((_, j) => {
      const c = data.cells[i]?.[j];
      const x = L.rowHeadWidth + j * L.cellWidth;
      if (!c || c.value === null) {
        add('rect', { x: x + 1, y: y + 1, width: L.cellWidth - 2, height: L.cellHeight - 2, fill: 'none', stroke: p.border, 'stroke-dasharray': '3 3' });
        add('text', { x: x + L.cellWidth / 2, y: y + L.cellHeight / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', fill: p.muted }, c?.text ?? '—');
        return;
      }
      const bg = data.color(c.value, p);
      add('rect', { x: x + 1, y: y + 1, width: L.cellWidth - 2, height: L.cellHeight - 2, fill: bg, stroke: c.outlined ? p.foreground : p.border, 'stroke-width': c.outlined ? 1.5 : 1 });
      add('text', { x: x + L.cellWidth / 2, y: y + L.cellHeight / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central', fill: readableTextColor(bg), 'font-variant-numeric': 'tabular-nums' }, c.text);
    });
  });
  return svg;
};

/** The matrix as an HTML table (the panel): cells carry their attrs (test ids), text and title. */
export function matrixTable(doc: Document, data: MatrixData, p: Palette, attrs: Record<string, string | number> = {}): HTMLTableElement {
  const L = matrixLayout({ ...data, title: undefined, subtitle: undefined }, p.fontSize);
  const table = h(doc, 'table', { class: 'heatmap cmp-matrix', 'aria-label': data.label, ...attrs });
  if (data.title || data.subtitle) {
    const cap = h(doc, 'caption', { class: 'cmp-matrix-caption' });
    if (data.title) cap.append(h(doc, 'strong', {}, data.title));
    if (data.subtitle) cap.append(h(doc, 'span', { class: 'muted' }, ` ${data.subtitle}`));
    table.append(cap);
  }
  const thead = h(doc, 'thead');
  const hr = h(doc, 'tr');
  hr.append(h(doc, 'th', { class: 'corner', scope: 'col' }, data.corner ?? ''));
  for (const l of data.colLabels) hr.append(h(doc, 'th', { class: 'col-head', scope: 'col' }, l));
  thead.append(hr);
  const tbody = h(doc, 'tbody');
  data.rowLabels.forEach((l, i) => {
    const tr = h(doc, 'tr');
    tr.style.height = `${L.cellHeight}px`;
    tr.append(h(doc, 'th', { class: 'row-head', scope: 'row' }, l));
    data.colLabels.forEach((_, j) => {
      const c = data.cells[i]?.[j];
      // The description shows in the charts' tooltip (bindMatrixTooltip), not a plain title.
      const td = h(doc, 'td', { class: c?.outlined ? 'cell diagonal' : 'cell', 'data-tip': c?.title ?? '', 'aria-label': c?.title ?? '', tabindex: 0, ...(c?.attrs ?? {}) }, c?.text ?? '—');
      td.style.minWidth = `${L.cellWidth - 4}px`;
      if (c && c.value !== null) {
        const bg = data.color(c.value, p);
        td.style.backgroundColor = bg;
        td.style.color = readableTextColor(bg);
      } else td.classList.add('not-run');
      tr.append(td);
    });
    tbody.append(tr);
  });
  table.append(thead, tbody);
  return table;
}

/** The charts' tooltip for every matrix cell under `host` (hover and keyboard focus): the cell's description. */
export function bindMatrixTooltip(host: HTMLElement): Tooltip {
  const tooltip = createTooltip(host);
  bindTooltip(host, tooltip, (cell) => {
    const text = cell.getAttribute('data-tip');
    return text ? [{ text }] : null;
  });
  return tooltip;
}
