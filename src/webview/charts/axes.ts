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

export interface Tooltip {
  show(lines: { text: string; color?: string; strong?: boolean }[], x: number, y: number): void;
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
