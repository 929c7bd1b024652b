// The shared line chart: lines with optional bands (mean ± SEM) and error bars, on a linear, log or
// categorical x axis, with background spans, labelled vertical rules, a wrapping legend and a hover
// read-out. Per-task accuracy curves, the compare panel's overlaid curves and a metric against a
// swept hyperparameter are all this chart with different data.
import * as d3 from 'd3';
import { LEGEND_SWATCH, firstFitting, fitText, legendLayout, nearestIndex, styleAxis, textWidth, type LegendLayout, type TooltipLine } from './axes';
import { chartSvg, type Chart } from './chart';
import { appendRichText } from '../dom';
import { bandPath, extentOf, positionScale, type PositionScale } from './scales';

export interface LinePoint {
  x: number;
  /** null: not measured here (a gap in the line). */
  y: number | null;
  /** The band's ends (mean ± SEM); absent or null where there is no band (one seed). */
  lo?: number | null;
  hi?: number | null;
}

export interface LineSeries {
  label: string;
  color: string;
  points: LinePoint[];
  /** Attributes of the series' path (test ids, data-task…). */
  attrs?: Record<string, string | number>;
  /** Dots at the points (few points: a sweep's values). */
  markers?: boolean;
  /** Error bars lo..hi at the points, besides (or instead of) the band. */
  errorBars?: boolean;
  /** Draw no band even where lo/hi exist. */
  noBand?: boolean;
  /** Markers (and error bars) only, no line: categories on x have no order to connect. */
  noLine?: boolean;
  dash?: string;
}

export interface LineAxis {
  label: string;
  /** Fixed domain; default: the data's extent (y: with the bands). */
  domain?: [number, number];
  log?: boolean;
  format?: (v: number) => string;
  /** Fixed tick values (y: [0, .25, .5, .75, 1] for accuracies). */
  ticks?: number[];
  /** Categorical x: x = index into these names (one tick each). */
  categories?: string[];
  /** Pad a data-derived domain by 4% each side (in log space on a log axis): markers at the ends stay whole. */
  pad?: boolean;
  /** Values in the hover read-out (default: format). */
  valueFormat?: (v: number) => string;
}

export interface LineChartData {
  /** Accessible name of the chart. */
  label: string;
  /** Drawn above the plot (small multiples). */
  title?: string;
  series: LineSeries[];
  x: LineAxis;
  y: LineAxis;
  /** Faint background spans (what was being trained). */
  spans?: { start: number; end: number; color: string; opacity?: number }[];
  /** Dashed vertical rules with an optional label above the plot (task boundaries, optima). */
  rules?: { x: number; label?: string; color?: string; attrs?: Record<string, string | number> }[];
  /** Keep the row above the plot for labels a `decorate` mark places itself (the optima's). */
  labelRow?: boolean;
  /** Lines of caption under the x axis (room reserved; a `decorate` mark writes them). */
  captionLines?: number;
  /** A custom mark drawn last, with the chart's geometry (labels placed by the caller's own rules). */
  decorate?: (svg: SVGSVGElement, g: LineChartGeometry) => void;
  /** Default: true. */
  legend?: boolean;
  /** Shown in the middle of the plot when no series has a point. */
  empty?: string;
  /** Plot height in px; default from the width. */
  plotHeight?: number;
  /** Hover read-out title for an x value (default: the x tick format). */
  hoverTitle?: (x: number) => string;
}

export interface LineChartGeometry {
  x: PositionScale;
  y: (v: number) => number;
  layout: LineChartLayout;
}

export interface LineChartLayout {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  innerWidth: number;
  innerHeight: number;
  legend: LegendLayout;
  titleY: number;
  legendTop: number;
  ruleLabelY: number;
}

export const MIN_LINE_CHART_WIDTH = 160;

/** Where everything goes, from the width, the font size and the texts (pure). */
export function lineChartLayout(data: Pick<LineChartData, 'series' | 'legend' | 'title' | 'rules' | 'plotHeight' | 'labelRow' | 'captionLines'>, width: number, fontSize: number, yTickLabels: readonly string[]): LineChartLayout {
  const w = Math.max(MIN_LINE_CHART_WIDTH, Math.floor(width));
  const small = Math.max(10, fontSize - 2);
  const left = Math.ceil(Math.max(textWidth('100%', small), ...yTickLabels.map((t) => textWidth(t, small))) + 9 + small + 6);
  const right = w < 360 ? 18 : 20;
  const titleY = data.title ? Math.round(fontSize * 1.2) : 0;
  const legendTop = titleY + Math.round(fontSize * 1.1);
  const legend = data.legend === false ? legendLayout([], 0, small) : legendLayout(data.series.map((s) => s.label), w - left - right, small);
  const hasRuleLabels = !!data.labelRow || !!data.rules?.some((r) => r.label);
  const ruleLabelY = legendTop + legend.height + (hasRuleLabels ? Math.round(small * 1.2) : 0);
  const margin = { top: ruleLabelY + 8, right, bottom: Math.round(fontSize * 3.2) + (data.captionLines ?? 0) * Math.round(small * 1.4), left };
  const plot = data.plotHeight ?? Math.round(Math.min(280, Math.max(140, w * 0.26)));
  return { width: w, height: margin.top + plot + margin.bottom, margin, innerWidth: w - left - right, innerHeight: plot, legend, titleY, legendTop, ruleLabelY };
}

/** The x scale of the data (categorical x: index positions with half a step of padding). */
export function lineXScale(data: Pick<LineChartData, 'series' | 'x'>, range: [number, number]): PositionScale {
  if (data.x.categories) return positionScale([-0.5, Math.max(0, data.x.categories.length - 1) + 0.5], range);
  const ext = data.x.domain ?? extentOf(data.series.flatMap((s) => s.points.map((p) => p.x))) ?? [0, 1];
  return positionScale(data.x.pad && !data.x.domain ? padDomain(ext, !!data.x.log) : ext, range, data.x.log);
}

/** The domain widened by `f` of its span each side (log axes: of its span in decades). */
export function padDomain([d0, d1]: readonly [number, number], log: boolean, f = 0.04): [number, number] {
  if (log && d0 > 0 && d1 > 0) {
    const k = (d1 / d0) ** f;
    return [d0 / k, d1 * k];
  }
  const pad = (d1 - d0) * f;
  return [d0 - pad, d1 + pad];
}

/** The y domain: fixed, or the values with their bands, padded 5% (0 kept when the data is ≥ 0 and near it). */
export function lineYDomain(data: Pick<LineChartData, 'series' | 'y'>): [number, number] {
  if (data.y.domain) return data.y.domain;
  const ext = extentOf(data.series.flatMap((s) => s.points.flatMap((p) => [p.y, s.noBand ? null : p.lo, s.noBand ? null : p.hi])));
  if (!ext) return [0, 1];
  const pad = (ext[1] - ext[0]) * 0.05 || Math.abs(ext[0]) * 0.05 || 0.01;
  return [ext[0] - pad, ext[1] + pad];
}

/** The shared line chart (see LineChartData). */
export const lineChart: Chart<LineChartData> = (data, o) => {
  const p = o.palette;
  const small = Math.max(10, p.fontSize - 2);
  const yFormat = data.y.format ?? ((v: number) => String(v));
  const yScale0 = d3.scaleLinear().domain(lineYDomain(data));
  if (!data.y.domain) yScale0.nice();
  const yTicks = data.y.ticks ?? yScale0.ticks(5);
  const L = lineChartLayout(data, o.width, p.fontSize, yTicks.map(yFormat));
  const svg = chartSvg(o, L.width, L.height, data.label);
  const root = d3.select(svg);
  const x = lineXScale(data, [L.margin.left, L.margin.left + L.innerWidth]);
  const yDomain = yScale0.domain() as [number, number];
  const y = d3.scaleLinear().domain(yDomain).range([L.margin.top + L.innerHeight, L.margin.top]);
  const xFormat = data.x.categories ? (v: number) => data.x.categories![Math.round(v)] ?? '' : (data.x.format ?? ((v: number) => String(v)));

  if (data.title) root.append('text').attr('class', 'chart-title').attr('x', L.margin.left).attr('y', L.titleY).attr('font-weight', 600).text(fitText(data.title, L.width - L.margin.left, p.fontSize));

  // Background spans.
  root
    .append('g')
    .attr('class', 'spans')
    .selectAll('rect')
    .data(data.spans ?? [])
    .join('rect')
    .attr('x', (s) => x(s.start))
    .attr('y', L.margin.top)
    .attr('width', (s) => Math.max(0, x(s.end) - x(s.start)))
    .attr('height', L.innerHeight)
    .attr('fill', (s) => s.color)
    .attr('fill-opacity', (s) => s.opacity ?? (p.dark ? 0.09 : 0.06));

  root
    .append('g')
    .attr('class', 'grid')
    .selectAll('line')
    .data(yTicks)
    .join('line')
    .attr('x1', L.margin.left)
    .attr('x2', L.margin.left + L.innerWidth)
    .attr('y1', (v) => y(v))
    .attr('y2', (v) => y(v))
    .attr('stroke', p.grid);

  const xTicks = data.x.categories ? data.x.categories.map((_, i) => i) : (data.x.ticks ?? x.ticks(Math.max(2, Math.floor(L.innerWidth / 90))));
  const gx = root.append('g').attr('class', `axis x${x.log ? ' log' : ''}`).attr('data-scale', x.log ? 'log' : data.x.categories ? 'band' : 'linear').attr('transform', `translate(0,${L.margin.top + L.innerHeight})`);
  // d3's axis needs a d3 scale: ticks at our scale's positions through the identity on pixels.
  const pxAxis = d3.scaleLinear().domain([L.margin.left, L.margin.left + L.innerWidth]).range([L.margin.left, L.margin.left + L.innerWidth]);
  const room = L.innerWidth / Math.max(1, xTicks.length);
  gx.call(
    d3
      .axisBottom(pxAxis)
      .tickValues(xTicks.map((t) => x(t)))
      .tickFormat((_, i) => fitText(xFormat(xTicks[i]), room + 10, small)),
  );
  gx.selectAll('.tick').attr('data-value', (_, i) => String(xTicks[i]));
  styleAxis(gx, p);
  const gy = root.append('g').attr('class', 'axis y').attr('transform', `translate(${L.margin.left},0)`);
  gy.call(d3.axisLeft(y).tickValues(yTicks).tickFormat((v) => yFormat(+v)));
  styleAxis(gy, p);
  root
    .append('text')
    .attr('class', 'axis-label')
    .attr('x', L.margin.left + L.innerWidth / 2)
    .attr('text-anchor', 'middle')
    .attr('fill', p.muted)
    .attr('font-size', small)
    .attr('y', L.margin.top + L.innerHeight + Math.round(p.fontSize * 2.6))
    .call((t) => appendRichText(t.node()!, fitText(`${data.x.label}${x.log ? ' (log scale)' : ''}`, L.innerWidth, small)));
  root
    .append('text')
    .attr('class', 'axis-label')
    .attr('transform', `translate(12,${L.margin.top + L.innerHeight / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .attr('fill', p.muted)
    .attr('font-size', small)
    .text(fitText(data.y.label, L.innerHeight, small));

  // Rules: dashed, labelled above the plot with the room up to the next one.
  const rules = [...(data.rules ?? [])].sort((a, b) => a.x - b.x);
  const marks = root.append('g').attr('class', 'rules');
  rules.forEach((r, k) => {
    const g = marks.append('g');
    for (const [a, v] of Object.entries(r.attrs ?? {})) g.attr(a, v);
    const rx = x(r.x);
    // A rule at the very start of the axis (the first task's boundary) adds nothing over the y axis.
    if (rx > L.margin.left + 0.5 || r.attrs?.['data-edge']) {
      g.append('line').attr('x1', rx).attr('x2', rx).attr('y1', L.margin.top - 4).attr('y2', L.margin.top + L.innerHeight).attr('stroke', p.foreground).attr('stroke-opacity', 0.55).attr('stroke-dasharray', '4 3');
    }
    if (r.label) {
      const next = k + 1 < rules.length ? x(rules[k + 1].x) : L.margin.left + L.innerWidth;
      g.append('text')
        .attr('class', 'rule-label')
        .attr('x', rx + 4)
        .attr('y', L.ruleLabelY)
        .attr('font-size', small)
        .attr('fill', r.color ?? p.foreground)
        .attr('font-weight', 600)
        .text(fitText(r.label, Math.max(0, next - rx - 8), small));
    }
  });

  if (data.legend !== false) {
    const legend = root.append('g').attr('class', 'legend').attr('transform', `translate(${L.margin.left},${L.legendTop})`);
    L.legend.items.forEach((it, k) => {
      const s = data.series[k];
      const item = legend.append('g').attr('class', 'legend-item').attr('transform', `translate(${it.x},${it.y})`);
      item.append('line').attr('x1', 0).attr('x2', LEGEND_SWATCH).attr('y1', 0).attr('y2', 0).attr('stroke', s.color).attr('stroke-width', 2.5).attr('stroke-dasharray', s.dash ?? null);
      item.append('text').attr('x', LEGEND_SWATCH + 6).attr('dominant-baseline', 'central').attr('font-size', small).text(it.label);
    });
  }

  // Bands under the lines, then error bars, lines and markers.
  const bands = root.append('g').attr('class', 'bands');
  data.series.forEach((s) => {
    if (s.noBand) return;
    const d = bandPath(
      s.points.map((q) => ({ x: q.x, lo: q.lo, hi: q.hi })),
      x,
      y,
    );
    if (d) bands.append('path').attr('class', 'band').attr('data-testid', 'band').attr('data-series', s.label).attr('d', d).attr('fill', s.color).attr('fill-opacity', p.dark ? 0.22 : 0.16).attr('stroke', 'none');
  });
  const bars = root.append('g').attr('class', 'error-bars').attr('stroke-width', 1.5);
  for (const s of data.series) {
    if (!s.errorBars) continue;
    for (const q of s.points) {
      if (typeof q.lo !== 'number' || typeof q.hi !== 'number' || !Number.isFinite(q.lo) || !Number.isFinite(q.hi)) continue;
      const g = bars.append('g').attr('data-testid', 'error-bar').attr('stroke', s.color);
      g.append('line').attr('x1', x(q.x)).attr('x2', x(q.x)).attr('y1', y(q.lo)).attr('y2', y(q.hi));
      for (const v of [q.lo, q.hi]) g.append('line').attr('x1', x(q.x) - 4).attr('x2', x(q.x) + 4).attr('y1', y(v)).attr('y2', y(v));
    }
  }
  const line = d3
    .line<LinePoint>()
    .defined((q) => typeof q.y === 'number' && Number.isFinite(q.y))
    .x((q) => x(q.x))
    .y((q) => y(q.y as number));
  const lines = root.append('g').attr('class', 'lines').attr('fill', 'none');
  for (const s of data.series) {
    const path = lines
      .append('path')
      .attr('stroke', s.noLine ? 'none' : s.color)
      .attr('stroke-width', 2)
      .attr('stroke-linejoin', 'round')
      .attr('stroke-linecap', 'round')
      .attr('stroke-dasharray', s.dash ?? null)
      .attr('d', line(s.points) ?? '');
    for (const [a, v] of Object.entries(s.attrs ?? {})) path.attr(a, v);
    if (s.markers) {
      lines
        .append('g')
        .attr('class', 'markers')
        .selectAll('circle')
        .data(s.points.filter((q) => typeof q.y === 'number' && Number.isFinite(q.y)))
        .join('circle')
        .attr('cx', (q) => x(q.x))
        .attr('cy', (q) => y(q.y as number))
        .attr('r', 3.5)
        .attr('fill', s.color)
        .attr('stroke', p.background)
        .attr('stroke-width', 1);
    }
  }

  const xs = [...new Set(data.series.flatMap((s) => s.points.filter((q) => q.y !== null).map((q) => q.x)))].sort((a, b) => a - b);
  if (!xs.length && data.empty) {
    root
      .append('text')
      .attr('class', 'empty')
      .attr('x', L.margin.left + L.innerWidth / 2)
      .attr('y', L.margin.top + L.innerHeight / 2)
      .attr('text-anchor', 'middle')
      .attr('fill', p.muted)
      .text(firstFitting([data.empty, 'No points yet.'], L.innerWidth, p.fontSize));
  }

  data.decorate?.(svg, { x, y, layout: L });

  // Hover (panel only): the nearest x, every series' value there.
  const tooltip = o.tooltip;
  if (tooltip && xs.length) {
    const hover = root.append('g').attr('class', 'hover').attr('pointer-events', 'none').attr('visibility', 'hidden');
    const rule = hover.append('line').attr('y1', L.margin.top).attr('y2', L.margin.top + L.innerHeight).attr('stroke', p.foreground).attr('stroke-opacity', 0.5);
    const dots = data.series.map((s) => hover.append('circle').attr('r', 4).attr('fill', s.color).attr('stroke', p.background).attr('stroke-width', 1.5));
    const title = data.hoverTitle ?? xFormat;
    const valueFormat = data.y.valueFormat ?? yFormat;
    const pxs = xs.map((v) => x(v));
    const ordered = pxs.map((px, i) => ({ px, i })).sort((a, b) => a.px - b.px);
    root
      .append('rect')
      .attr('class', 'overlay')
      .attr('x', L.margin.left)
      .attr('y', L.margin.top)
      .attr('width', L.innerWidth)
      .attr('height', L.innerHeight)
      .attr('fill', 'transparent')
      .on('pointermove', (event: PointerEvent) => {
        const [mx, my] = d3.pointer(event, svg);
        const k = nearestIndex(
          ordered.map((e) => e.px),
          mx,
        );
        if (k < 0) return;
        const at = xs[ordered[k].i];
        rule.attr('x1', x(at)).attr('x2', x(at));
        const lines: TooltipLine[] = [{ text: title(at), strong: true }];
        data.series.forEach((s, si) => {
          const q = s.points.find((pt) => pt.x === at);
          const ok = q && typeof q.y === 'number';
          dots[si].attr('cx', x(at)).attr('cy', ok ? y(q.y as number) : 0).attr('visibility', ok ? 'visible' : 'hidden');
          const band = q && typeof q.lo === 'number' && typeof q.hi === 'number' && typeof q.y === 'number' ? ` ± ${valueFormat((q.hi - q.lo) / 2)}` : '';
          lines.push({ text: `${s.label}: ${ok ? `${valueFormat(q.y as number)}${band}` : '—'}`, color: s.color });
        });
        hover.attr('visibility', 'visible');
        tooltip.show(lines, x(at), my);
      })
      .on('pointerleave', () => {
        hover.attr('visibility', 'hidden');
        tooltip.hide();
      });
  }
  return svg;
};

/** A legend on its own (the header of a figure of small multiples that share it). */
export const legendChart: Chart<{ label: string; items: { label: string; color: string; dash?: string }[] }> = (data, o) => {
  const p = o.palette;
  const small = Math.max(10, p.fontSize - 2);
  const w = Math.max(MIN_LINE_CHART_WIDTH, Math.floor(o.width));
  const L = legendLayout(
    data.items.map((i) => i.label),
    w - 8,
    small,
  );
  const svg = chartSvg(o, w, L.height + Math.round(small * 0.8), data.label);
  const root = d3.select(svg).append('g').attr('class', 'legend').attr('transform', `translate(4,${Math.round(small * 0.8)})`);
  L.items.forEach((it, k) => {
    const item = root.append('g').attr('class', 'legend-item').attr('transform', `translate(${it.x},${it.y})`);
    item.append('line').attr('x1', 0).attr('x2', LEGEND_SWATCH).attr('stroke', data.items[k].color).attr('stroke-width', 2.5).attr('stroke-dasharray', data.items[k].dash ?? null);
    item.append('text').attr('x', LEGEND_SWATCH + 6).attr('dominant-baseline', 'central').attr('font-size', small).text(it.label);
  });
  return svg;
};
