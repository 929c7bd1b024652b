// Per-task accuracy over training steps: one line per task, task boundaries marked. The picture of
// forgetting: the first task's line collapsing when the next task starts. Drawn by the shared line
// chart (lineChart.ts); this file turns curve points into its data.
import type { CurvePoint } from '../../protocol/result';
import { formatPercentTick, formatStepTick } from '../format';
import { formatPercent } from '../../protocol/format';
import { taskColor, type Palette } from '../theme';
import { createTooltip } from './axes';
import { MIN_LINE_CHART_WIDTH, lineChart, lineChartLayout, type LineChartData, type LineChartLayout } from './lineChart';

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

/** The shared line chart's layout, plus the baseline of the phase labels just above the plot. */
export type CurvesLayout = Pick<LineChartLayout, 'width' | 'height' | 'margin' | 'innerWidth' | 'innerHeight' | 'legend' | 'legendTop'> & { phaseLabelY: number };

/** The narrowest chart drawn; narrower panels are rare (< 200 px) and scroll. */
export const MIN_CHART_WIDTH = MIN_LINE_CHART_WIDTH;

const PERCENT_TICKS = [0, 0.25, 0.5, 0.75, 1];

/** The layout of the shared line chart for these curves (legend of task names, phase labels above the plot). */
export function curvesLayout(width: number, fontSize: number, labels: readonly string[] = []): CurvesLayout {
  const L = lineChartLayout({ series: labels.map((label) => ({ label, color: '', points: [] })), rules: [{ x: 0, label: '▸' }] }, width, fontSize, PERCENT_TICKS.map(formatPercentTick));
  return { width: L.width, height: L.height, margin: L.margin, innerWidth: L.innerWidth, innerHeight: L.innerHeight, legend: L.legend, legendTop: L.legendTop, phaseLabelY: L.ruleLabelY };
}

/** The curves as data of the shared line chart: a line per task, a band and a labelled boundary per phase. */
export function curvesChartData(data: Omit<CurvesData, 'width'>): LineChartData {
  const p = data.palette;
  const pts = sortedCurvePoints(data.curves);
  const lastStep = pts.length ? pts[pts.length - 1].step : 0;
  const xMax = Math.max(1, data.totalSteps || 0, lastStep);
  const spans = trainingSpans(data.boundaries, xMax);
  const phase = (i: number): PhaseMark => data.phases?.[i] ?? { label: data.labels[i] ?? `task ${i}`, task: i };
  const byStep = new Map(pts.map((c) => [c.step, c]));
  return {
    label: `Accuracy of every task over training steps (${data.labels.join(', ')})`,
    series: curveSeries(pts, data.labels).map((s) => ({
      label: s.label,
      color: taskColor(p, s.task),
      points: s.points.map((q) => ({ x: q.step, y: q.value })),
      attrs: { 'data-testid': 'curve', 'data-task': s.task },
    })),
    x: { label: 'training step', domain: [0, xMax], format: formatStepTick },
    y: { label: 'test accuracy', domain: [0, 1], ticks: PERCENT_TICKS, format: formatPercentTick, valueFormat: (v) => `${formatPercent(v)}%` },
    // Task spans: a faint band in the colour of the task being trained; a dashed mark where each starts.
    spans: spans.map((sp) => ({ start: sp.start, end: sp.end, color: taskColor(p, phase(sp.task).task) })),
    rules: spans.map((sp) => ({ x: sp.start, label: `▸ ${phase(sp.task).label}`, color: taskColor(p, phase(sp.task).task), attrs: { 'data-testid': 'boundary', 'data-task': sp.task } })),
    empty: 'Curves appear after the first evaluation.',
    hoverTitle: (step) => {
      const c = byStep.get(step);
      const training = c && c.trainingTask >= 0 ? `training ${phase(c.trainingTask).label}, epoch ${c.epoch}` : 'before training';
      return `step ${step} · ${training}`;
    },
  };
}

export interface CurvesChart {
  update(data: CurvesData): void;
  /** The chart as a standalone SVG: as shown, or redrawn with another palette and width (exports). */
  exportSvg(style?: { palette: Palette; width: number }): SVGSVGElement | null;
  dispose(): void;
}

export function createCurvesChart(el: HTMLElement): CurvesChart {
  const doc = el.ownerDocument;
  const root = doc.createElement('div');
  root.className = 'chart curves';
  root.setAttribute('data-testid', 'curves');
  el.append(root);
  const tooltip = createTooltip(root);
  let last: CurvesData | null = null;
  let live: SVGSVGElement | null = null;

  return {
    update(data) {
      last = data;
      const svg = lineChart(curvesChartData(data), { width: data.width, palette: data.palette, document: doc, tooltip });
      if (live) live.replaceWith(svg);
      else root.prepend(svg);
      live = svg;
    },
    exportSvg(style) {
      if (!last || !live) return null;
      const clone = style ? lineChart(curvesChartData({ ...last, palette: style.palette }), { width: style.width, palette: style.palette, document: doc }) : (live.cloneNode(true) as SVGSVGElement);
      clone.querySelectorAll('.hover, .overlay').forEach((n) => n.remove());
      return clone;
    },
    dispose() {
      tooltip.remove();
      root.remove();
    },
  };
}
