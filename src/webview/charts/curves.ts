// Per-task accuracy over training steps: one line per task, task boundaries marked. The picture of
// forgetting: the first task's line collapsing when the next task starts.
import * as d3 from 'd3';
import type { CurvePoint } from '../../protocol/result';
import { formatPercentTick, formatStepTick } from '../format';
import { formatPercent } from '../../protocol/format';
import { taskColor, type Palette } from '../theme';
import { LEGEND_SWATCH, createTooltip, firstFitting, fitText, legendLayout, nearestIndex, resetChartSvg, styleAxis, textWidth, type LegendLayout } from './axes';

export interface CurveSeries {
  task: number;
  label: string;
  /** value null where the task was not evaluated (a gap in the line). */
  points: { step: number; value: number | null }[];
}

export interface TrainingSpan {
  /** The phase trained over the span (= the task in a sequential run). */
  task: number;
  start: number;
  end: number;
}

/** What a phase trained, for its boundary label and band colour (task -1: several tasks at once). */
export interface PhaseMark {
  label: string;
  task: number;
}

export interface CurvesData {
  curves: CurvePoint[];
  /** One per task (the lines). */
  labels: string[];
  /** One per phase (the bands); default: phase i trains task i. */
  phases?: PhaseMark[];
  /** Global step at which each phase's training started. */
  boundaries: number[];
  totalSteps: number;
  palette: Palette;
  width: number;
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Curve points in step order (the fold appends in order; a stable sort guards against reordering). */
export function sortedCurvePoints(curves: readonly CurvePoint[]): CurvePoint[] {
  const sorted = curves.every((c, i) => i === 0 || curves[i - 1].step <= c.step);
  return sorted ? [...curves] : [...curves].sort((a, b) => a.step - b.step);
}

/** One series per task from the curve points; missing or non-finite values become gaps. */
export function curveSeries(curves: readonly CurvePoint[], labels: readonly string[], metric: 'accuracy' | 'loss' = 'accuracy'): CurveSeries[] {
  const pts = sortedCurvePoints(curves);
  return labels.map((label, task) => ({
    task,
    label,
    points: pts.map((c) => ({ step: c.step, value: finite(c[metric]?.[task]) })),
  }));
}

/** The step range each task was trained over, from the boundaries (unknown ones skipped). */
export function trainingSpans(boundaries: readonly (number | undefined)[], endStep: number): TrainingSpan[] {
  const known = boundaries.map((b, task) => ({ task, start: b })).filter((s): s is { task: number; start: number } => typeof s.start === 'number');
  return known.map((s, k) => ({ task: s.task, start: s.start, end: k + 1 < known.length ? known[k + 1].start : Math.max(endStep, s.start) }));
}

export interface CurvesLayout {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  innerWidth: number;
  innerHeight: number;
  /** The task legend above the plot (wraps onto rows in narrow panels). */
  legend: LegendLayout;
  /** Top of the legend and baseline of the phase labels just above the plot. */
  legendTop: number;
  phaseLabelY: number;
}

/** The narrowest chart drawn; narrower panels are rare (< 200 px) and scroll. */
export const MIN_CHART_WIDTH = 160;

export function curvesLayout(width: number, fontSize: number, labels: readonly string[] = []): CurvesLayout {
  const w = Math.max(MIN_CHART_WIDTH, Math.floor(width));
  const small = Math.max(10, fontSize - 2);
  // The y ticks ("100%", right-aligned 9 px from the axis) and the rotated axis title left of them, apart.
  const left = Math.ceil(textWidth('100%', small) + 9 + small + 6);
  // Room for half of the last x tick label ("12.5k"), centred on the plot's right edge.
  const right = w < 360 ? 18 : 20;
  const legendTop = Math.round(fontSize * 1.1);
  const legend = legendLayout(labels, w - left - right, small);
  const phaseLabelY = legendTop + legend.height + Math.round(small * 1.2);
  const margin = { top: phaseLabelY + 8, right, bottom: Math.round(fontSize * 3.2), left };
  const plot = Math.round(Math.min(280, Math.max(140, w * 0.26)));
  const height = margin.top + plot + margin.bottom;
  return { width: w, height, margin, innerWidth: w - margin.left - margin.right, innerHeight: plot, legend, legendTop, phaseLabelY };
}

export interface CurvesChart {
  update(data: CurvesData): void;
  /** The chart as a standalone SVG: as shown, or redrawn with another palette and width (exports). */
  exportSvg(style?: { palette: Palette; width: number }): SVGSVGElement | null;
  dispose(): void;
}

export function createCurvesChart(el: HTMLElement): CurvesChart {
  const root = d3.select(el).append('div').attr('class', 'chart curves').attr('data-testid', 'curves');
  const liveSvg = root.append('svg').attr('class', 'chart-svg').attr('role', 'img');
  const tooltip = createTooltip(root.node()!);
  let last: CurvesData | null = null;

  function render(data: CurvesData, svg = liveSvg) {
    const p = data.palette;
    const small = Math.max(10, p.fontSize - 2);
    const L = curvesLayout(data.width, p.fontSize, data.labels);
    resetChartSvg(svg, L.width, L.height, p, `Accuracy of every task over training steps (${data.labels.join(', ')})`);

    const pts = sortedCurvePoints(data.curves);
    const lastStep = pts.length ? pts[pts.length - 1].step : 0;
    const xMax = Math.max(1, data.totalSteps || 0, lastStep);
    const x = d3.scaleLinear().domain([0, xMax]).range([L.margin.left, L.margin.left + L.innerWidth]);
    const y = d3.scaleLinear().domain([0, 1]).range([L.margin.top + L.innerHeight, L.margin.top]);

    // Task spans: a faint band in the colour of the task being trained.
    const spans = trainingSpans(data.boundaries, xMax);
    const phase = (i: number): PhaseMark => data.phases?.[i] ?? { label: data.labels[i] ?? `task ${i}`, task: i };
    svg
      .append('g')
      .attr('class', 'spans')
      .selectAll('rect')
      .data(spans)
      .join('rect')
      .attr('x', (s) => x(s.start))
      .attr('y', L.margin.top)
      .attr('width', (s) => Math.max(0, x(s.end) - x(s.start)))
      .attr('height', L.innerHeight)
      .attr('fill', (s) => taskColor(p, phase(s.task).task))
      .attr('fill-opacity', p.dark ? 0.09 : 0.06);

    // Horizontal grid.
    const yTicks = [0, 0.25, 0.5, 0.75, 1];
    svg
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

    const gx = svg.append('g').attr('class', 'axis x').attr('transform', `translate(0,${L.margin.top + L.innerHeight})`);
    gx.call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(L.innerWidth / 90))).tickFormat((v) => formatStepTick(+v)));
    styleAxis(gx, p);
    const gy = svg.append('g').attr('class', 'axis y').attr('transform', `translate(${L.margin.left},0)`);
    gy.call(d3.axisLeft(y).tickValues(yTicks).tickFormat((v) => formatPercentTick(+v)));
    styleAxis(gy, p);
    svg
      .append('text')
      .attr('class', 'axis-label')
      .attr('x', L.margin.left + L.innerWidth / 2)
      .attr('y', L.height - 6)
      .attr('text-anchor', 'middle')
      .attr('fill', p.muted)
      .attr('font-size', small)
      .text('training step');
    svg
      .append('text')
      .attr('class', 'axis-label')
      .attr('transform', `translate(${12},${L.margin.top + L.innerHeight / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .attr('fill', p.muted)
      .attr('font-size', small)
      .text('test accuracy');

    // Task boundaries: a dashed mark where each task's training starts, labelled above the plot.
    const marks = svg.append('g').attr('class', 'boundaries');
    spans.forEach((s, k) => {
      const g = marks.append('g').attr('data-testid', 'boundary').attr('data-task', s.task);
      if (s.start > 0) {
        g.append('line')
          .attr('x1', x(s.start))
          .attr('x2', x(s.start))
          .attr('y1', L.margin.top - 4)
          .attr('y2', L.margin.top + L.innerHeight)
          .attr('stroke', p.foreground)
          .attr('stroke-opacity', 0.55)
          .attr('stroke-dasharray', '4 3');
      }
      const room = (k + 1 < spans.length ? x(spans[k + 1].start) : L.margin.left + L.innerWidth) - x(s.start) - 8;
      g.append('text')
        .attr('class', 'phase-label')
        .attr('x', x(s.start) + 4)
        .attr('y', L.phaseLabelY)
        .attr('font-size', small)
        .attr('fill', taskColor(p, phase(s.task).task))
        .attr('font-weight', 600)
        .text(fitText(`▸ ${phase(s.task).label}`, Math.max(0, room), small));
    });

    // Legend, top left, wrapping onto rows.
    const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${L.margin.left},${L.legendTop})`);
    L.legend.items.forEach((it, task) => {
      const item = legend.append('g').attr('class', 'legend-item').attr('transform', `translate(${it.x},${it.y})`);
      item.append('line').attr('x1', 0).attr('x2', LEGEND_SWATCH).attr('y1', 0).attr('y2', 0).attr('stroke', taskColor(p, task)).attr('stroke-width', 2.5);
      item.append('text').attr('x', LEGEND_SWATCH + 6).attr('dominant-baseline', 'central').attr('font-size', small).text(it.label);
    });

    // Lines.
    const series = curveSeries(pts, data.labels);
    const line = d3
      .line<{ step: number; value: number | null }>()
      .defined((d) => d.value !== null)
      .x((d) => x(d.step))
      .y((d) => y(d.value as number));
    svg
      .append('g')
      .attr('class', 'lines')
      .attr('fill', 'none')
      .selectAll('path')
      .data(series)
      .join('path')
      .attr('data-testid', 'curve')
      .attr('data-task', (s) => s.task)
      .attr('stroke', (s) => taskColor(p, s.task))
      .attr('stroke-width', 2)
      .attr('stroke-linejoin', 'round')
      .attr('stroke-linecap', 'round')
      .attr('d', (s) => line(s.points) ?? '');

    if (!pts.length) {
      svg
        .append('text')
        .attr('x', L.margin.left + L.innerWidth / 2)
        .attr('y', L.margin.top + L.innerHeight / 2)
        .attr('text-anchor', 'middle')
        .attr('fill', p.muted)
        .text(firstFitting(['Curves appear after the first evaluation.', 'No curve points yet.', 'No points yet.'], L.innerWidth, p.fontSize));
    }

    // Hover: nearest evaluated step, every task's value there.
    const hover = svg.append('g').attr('class', 'hover').attr('pointer-events', 'none').attr('visibility', 'hidden');
    const rule = hover.append('line').attr('y1', L.margin.top).attr('y2', L.margin.top + L.innerHeight).attr('stroke', p.foreground).attr('stroke-opacity', 0.5);
    const dots = hover
      .selectAll('circle')
      .data(series)
      .join('circle')
      .attr('r', 4)
      .attr('fill', (s) => taskColor(p, s.task))
      .attr('stroke', p.background)
      .attr('stroke-width', 1.5);
    const steps = pts.map((c) => c.step);
    svg
      .append('rect')
      .attr('class', 'overlay')
      .attr('x', L.margin.left)
      .attr('y', L.margin.top)
      .attr('width', L.innerWidth)
      .attr('height', L.innerHeight)
      .attr('fill', 'transparent')
      .on('pointermove', (event: PointerEvent) => {
        const [mx, my] = d3.pointer(event, svg.node());
        const i = nearestIndex(steps, x.invert(mx));
        if (i < 0) return;
        const c = pts[i];
        rule.attr('x1', x(c.step)).attr('x2', x(c.step));
        dots
          .attr('cx', x(c.step))
          .attr('cy', (s) => y(s.points[i].value ?? 0))
          .attr('visibility', (s) => (s.points[i].value === null ? 'hidden' : 'visible'));
        hover.attr('visibility', 'visible');
        const training = c.trainingTask >= 0 ? `training ${phase(c.trainingTask).label}, epoch ${c.epoch}` : 'before training';
        tooltip.show(
          [
            { text: `step ${c.step} · ${training}`, strong: true },
            ...series.map((s) => ({ text: `${s.label}: ${s.points[i].value === null ? '—' : `${formatPercent(s.points[i].value)}%`}`, color: taskColor(p, s.task) })),
          ],
          x(c.step),
          my,
        );
      })
      .on('pointerleave', () => {
        hover.attr('visibility', 'hidden');
        tooltip.hide();
      });
  }

  return {
    update(data) {
      last = data;
      render(data);
    },
    exportSvg(style) {
      if (!last) return null;
      let clone: SVGSVGElement;
      if (style) {
        const detached = d3.select(root.node()!.ownerDocument.createElementNS('http://www.w3.org/2000/svg', 'svg') as SVGSVGElement);
        render({ ...last, palette: style.palette, width: style.width }, detached);
        clone = detached.node()!;
      } else clone = liveSvg.node()!.cloneNode(true) as SVGSVGElement;
      clone.querySelectorAll('.hover, .overlay').forEach((n) => n.remove());
      return clone;
    },
    dispose() {
      tooltip.remove();
      root.remove();
    },
  };
}
