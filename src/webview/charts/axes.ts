// Shared bits of the d3 charts: axis colouring with concrete colours (exports have no CSS), text
// width estimates (no layout engine in tests), the tooltip box.
import type { Selection } from 'd3';
import type { Palette } from '../theme';

export const SVG_NS = 'http://www.w3.org/2000/svg';

/** d3 axes draw with currentColor; exported SVGs have no CSS, so give them real colours. */
export function styleAxis(g: Selection<SVGGElement, unknown, null, undefined>, p: Palette): void {
  g.attr('font-family', p.fontFamily).attr('font-size', Math.max(10, p.fontSize - 2));
  g.selectAll('path.domain').attr('stroke', p.muted);
  g.selectAll('.tick line').attr('stroke', p.muted);
  g.selectAll('.tick text').attr('fill', p.foreground);
}

/** Approximate rendered width of a label (average glyph ~0.6 em). */
/** Clears a chart's SVG and sets its size, typography and accessible label from the palette. */
export function resetChartSvg(
  svg: Selection<SVGSVGElement, unknown, null, undefined>,
  width: number,
  height: number,
  p: Palette,
  label: string,
): void {
  svg.selectAll('*').remove();
  svg
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('font-family', p.fontFamily)
    .attr('font-size', p.fontSize)
    .attr('fill', p.foreground)
    .attr('aria-label', label);
}

export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/** Shortens `text` with an ellipsis to fit `maxWidth` (estimated). */
export function fitText(text: string, maxWidth: number, fontSize: number): string {
  if (textWidth(text, fontSize) <= maxWidth) return text;
  const n = Math.floor(maxWidth / (fontSize * 0.6)) - 1;
  return n <= 0 ? '' : `${text.slice(0, n)}…`;
}

/** Index of the value in ascending `sorted` nearest to x (ties go to the lower one); -1 when empty. */
export function nearestIndex(sorted: readonly number[], x: number): number {
  if (!sorted.length) return -1;
  let lo = 0;
  let hi = sorted.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(sorted[hi] - x) < Math.abs(x - sorted[lo]) ? hi : lo;
}

export interface TooltipLine {
  text: string;
  color?: string;
  strong?: boolean;
}

export interface Tooltip {
  show(lines: TooltipLine[], x: number, y: number): void;
  hide(): void;
  remove(): void;
}

/** An HTML tooltip positioned inside `host` (which must be position: relative). Text only. */
export function createTooltip(host: HTMLElement): Tooltip {
  const doc = host.ownerDocument;
  const box = doc.createElement('div');
  box.className = 'chart-tooltip';
  box.setAttribute('role', 'status');
  box.hidden = true;
  host.append(box);
  return {
    show(lines, x, y) {
      box.replaceChildren(
        ...lines.map((l) => {
          const row = doc.createElement('div');
          if (l.color) {
            const sw = doc.createElement('span');
            sw.className = 'swatch';
            sw.style.backgroundColor = l.color;
            row.append(sw);
          }
          const t = doc.createElement(l.strong ? 'strong' : 'span');
          t.textContent = l.text;
          row.append(t);
          return row;
        }),
      );
      box.hidden = false;
      const hostW = host.clientWidth || 600;
      const boxW = box.offsetWidth || 200;
      const left = x + 14 + boxW > hostW ? Math.max(0, x - 14 - boxW) : x + 14;
      box.style.left = `${left}px`;
      box.style.top = `${Math.max(0, y - 10)}px`;
    },
    hide() {
      box.hidden = true;
    },
    remove() {
      box.remove();
    },
  };
}

/**
 * The charts' tooltip for plain elements (heatmap cells, metric cards): shown on hover at the
 * pointer and on keyboard focus beside the element, for every descendant of `host` with a
 * `data-tip` attribute whose lines `linesOf` gives. One listener per host (cells are redrawn).
 */
export function bindTooltip(host: HTMLElement, tooltip: Tooltip, linesOf: (el: HTMLElement) => TooltipLine[] | null): void {
  const target = (e: Event) => (e.target instanceof Element ? (e.target.closest('[data-tip]') as HTMLElement | null) : null);
  const local = (x: number, y: number) => {
    const r = host.getBoundingClientRect();
    return [x - r.left, y - r.top] as const;
  };
  let shownFor: HTMLElement | null = null;
  const show = (el: HTMLElement | null, at: () => readonly [number, number]) => {
    const lines = el && host.contains(el) ? linesOf(el) : null;
    if (!el || !lines?.length) {
      shownFor = null;
      tooltip.hide();
      return;
    }
    shownFor = el;
    const [x, y] = at();
    tooltip.show(lines, x, y);
  };
  host.addEventListener('pointermove', (e) => show(target(e), () => local(e.clientX, e.clientY)));
  host.addEventListener('pointerleave', () => show(null, () => [0, 0]));
  host.addEventListener('focusin', (e) => {
    const el = target(e);
    show(el, () => {
      const r = el!.getBoundingClientRect();
      return local(r.left + r.width / 2, r.bottom);
    });
  });
  host.addEventListener('focusout', (e) => {
    if (shownFor && target(e) === shownFor) show(null, () => [0, 0]);
  });
}

// ---- label layout: pure, so narrow widths are tested without a layout engine ----

/** A label's box on the chart (estimated text width), for overlap and fit checks. */
export interface LabelBox {
  x0: number;
  x1: number;
}

export const boxesOverlap = (a: LabelBox, b: LabelBox, gap = 0) => a.x0 < b.x1 + gap && b.x0 < a.x1 + gap;

/** Where a text sits for an SVG text-anchor at x. */
export function anchoredBox(x: number, width: number, anchor: 'start' | 'middle' | 'end'): LabelBox {
  const x0 = anchor === 'start' ? x : anchor === 'end' ? x - width : x - width / 2;
  return { x0, x1: x0 + width };
}

export interface LegendItem {
  label: string;
  /** Left of the swatch, and the row's baseline offset (row index × rowHeight). */
  x: number;
  y: number;
  /** Width of the item (swatch + gap + text). */
  width: number;
}

export interface LegendLayout {
  items: LegendItem[];
  rows: number;
  rowHeight: number;
  height: number;
}

export const LEGEND_SWATCH = 18;
const LEGEND_TEXT_GAP = 6;
const LEGEND_ITEM_GAP = 16;

/** Legend entries left to right, wrapping onto new rows; a label longer than a row is shortened. */
export function legendLayout(labels: readonly string[], width: number, fontSize: number): LegendLayout {
  const rowHeight = Math.round(fontSize * 1.5);
  const items: LegendItem[] = [];
  let x = 0;
  let row = 0;
  for (const full of labels) {
    const label = fitText(full, Math.max(0, width - LEGEND_SWATCH - LEGEND_TEXT_GAP), fontSize);
    const w = LEGEND_SWATCH + LEGEND_TEXT_GAP + textWidth(label, fontSize);
    if (x > 0 && x + w > width) {
      row++;
      x = 0;
    }
    items.push({ label, x, y: row * rowHeight, width: w });
    x += w + LEGEND_ITEM_GAP;
  }
  const rows = labels.length ? row + 1 : 0;
  return { items, rows, rowHeight, height: rows * rowHeight };
}

/** The first candidate text that fits `room` whole; '' when none does (never cut mid-word). */
export function firstFitting(candidates: readonly string[], room: number, fontSize: number): string {
  return candidates.find((c) => textWidth(c, fontSize) <= room) ?? '';
}

export interface PlacedLabel {
  x: number;
  anchor: 'start' | 'middle' | 'end';
  text: string;
  box: LabelBox;
}

/**
 * Two labels over points xa < xb (the optima θ_A and θ_B) inside [left, right]: centred when they
 * fit, else pushed apart (A's ends at its point, B's starts at its point), else the short forms
 * (whose long forms the caller shows in a caption). `short` says which was used.
 */
export function placePairLabels(
  a: { x: number; text: string; short: string },
  b: { x: number; text: string; short: string },
  bounds: { left: number; right: number },
  fontSize: number,
  gap = 6,
): { labels: [PlacedLabel, PlacedLabel]; short: boolean } {
  const inside = (box: LabelBox) => box.x0 >= bounds.left - 0.5 && box.x1 <= bounds.right + 0.5;
  const place = (p: { x: number }, text: string, anchor: PlacedLabel['anchor'], dx = 0): PlacedLabel => {
    const x = p.x + dx;
    return { x, anchor, text, box: anchoredBox(x, textWidth(text, fontSize), anchor) };
  };
  const ok = (la: PlacedLabel, lb: PlacedLabel) => inside(la.box) && inside(lb.box) && !boxesOverlap(la.box, lb.box, gap);
  const [lo, hi] = a.x <= b.x ? [a, b] : [b, a];
  const order = (pl: [PlacedLabel, PlacedLabel]): [PlacedLabel, PlacedLabel] => (a.x <= b.x ? pl : [pl[1], pl[0]]);
  const tries: [PlacedLabel, PlacedLabel][] = [
    [place(lo, lo.text, 'middle'), place(hi, hi.text, 'middle')],
    [place(lo, lo.text, 'end', 8), place(hi, hi.text, 'start', -8)],
    [place(lo, lo.text, 'start', -8), place(hi, hi.text, 'start', -8)],
    [place(lo, lo.text, 'end', 8), place(hi, hi.text, 'end', 8)],
  ];
  for (const t of tries) if (ok(t[0], t[1])) return { labels: order(t), short: false };
  const shortTries: [PlacedLabel, PlacedLabel][] = [
    [place(lo, lo.short, 'middle'), place(hi, hi.short, 'middle')],
    [place(lo, lo.short, 'end', 4), place(hi, hi.short, 'start', -4)],
  ];
  for (const t of shortTries) if (ok(t[0], t[1])) return { labels: order(t), short: true };
  // Out of room even for "θA"/"θB": keep them at their points, clamped into the bounds.
  const clamp = (l: PlacedLabel): PlacedLabel => {
    const w = l.box.x1 - l.box.x0;
    const x0 = Math.min(Math.max(l.box.x0, bounds.left), bounds.right - w);
    return { x: x0, anchor: 'start', text: l.text, box: { x0, x1: x0 + w } };
  };
  return { labels: order([clamp(shortTries[1][0]), clamp(shortTries[1][1])]), short: true };
}
