// The one interface of every chart, the way Observable Plot's marks work: data in, a detached SVG
// element out. The caller places it (a card body, an export, a composed figure); the same function
// draws the panel (theme palette, the card's width, hover) and the export (publication palette,
// PUBLICATION_WIDTH, no hover), so they cannot drift apart.
import type { Palette } from '../theme';
import { SVG_NS, type Tooltip } from './axes';

export { SVG_NS };

export interface ChartOptions {
  width: number;
  palette: Palette;
  /** Where to create the elements (default: the global document). */
  document?: Document;
  /** Hover read-outs go here; omitted for exports (no overlay is drawn then). */
  tooltip?: Tooltip;
}

/** A chart: a pure function of its data and options. */
export type Chart<D> = (data: D, options: ChartOptions) => SVGSVGElement;

export const chartDocument = (o: ChartOptions): Document => o.document ?? document;

/** An empty SVG of the given size with the palette's typography and an accessible label. */
export function chartSvg(o: ChartOptions, width: number, height: number, label: string): SVGSVGElement {
  const doc = chartDocument(o);
  const svg = doc.createElementNS(SVG_NS, 'svg') as SVGSVGElement;
  const p = o.palette;
  for (const [k, v] of Object.entries({ width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': p.fontFamily, 'font-size': p.fontSize, fill: p.foreground, role: 'img', 'aria-label': label, class: 'chart-svg' })) svg.setAttribute(k, String(v));
  return svg;
}

/**
 * Several charts as one SVG figure (small multiples): each chart's content in a group at its cell,
 * `columns` per row, each chart keeping its own size. Used to export a card's charts as one file.
 */
export function composeSvgs(doc: Document, parts: readonly SVGSVGElement[], columns: number, p: Palette, gap = 12, header?: SVGSVGElement): SVGSVGElement {
  const size = (s: SVGSVGElement) => [Number(s.getAttribute('width')) || 0, Number(s.getAttribute('height')) || 0] as const;
  const cols = Math.max(1, Math.min(columns, parts.length));
  const colWidth = Math.max(0, ...parts.map((s) => size(s)[0]));
  const rows: SVGSVGElement[][] = [];
  parts.forEach((s, k) => (rows[Math.floor(k / cols)] ??= []).push(s));
  const top = header ? size(header)[1] : 0;
  const rowHeights = rows.map((r) => Math.max(0, ...r.map((s) => size(s)[1])));
  const width = Math.max(header ? size(header)[0] : 0, cols * colWidth + (cols - 1) * gap);
  const height = top + rowHeights.reduce((a, b) => a + b, 0) + Math.max(0, rows.length - 1) * gap;
  const out = chartSvg({ width, palette: p, document: doc }, width, height, parts.map((s) => s.getAttribute('aria-label') ?? '').join('; '));
  const place = (s: SVGSVGElement, x: number, y: number) => {
    const g = doc.createElementNS(SVG_NS, 'g');
    g.setAttribute('transform', `translate(${x},${y})`);
    for (const attr of ['font-family', 'font-size', 'fill']) {
      const v = s.getAttribute(attr);
      if (v) g.setAttribute(attr, v);
    }
    g.append(...[...s.cloneNode(true).childNodes]);
    out.append(g);
  };
  if (header) place(header, 0, 0);
  let y = top;
  rows.forEach((r, i) => {
    r.forEach((s, k) => place(s, k * (colWidth + gap), y));
    y += rowHeights[i] + gap;
  });
  return out;
}
