// Loss landscape on the plane through theta_A and theta_B: one filled contour map per task (one
// shared colour scale so the maps compare), optima markers, the projected training trajectory, and
// the 1D curve along theta_A -> theta_B below.
import * as d3 from 'd3';
import type { LandscapeResult } from '../../protocol/result';
import { formatCoordinate, formatPercentTick, formatTick } from '../format';
import { formatCount, formatDuration, formatPercent, formatValue } from '../../protocol/format';
import { appendRichText, h, setChildren } from '../dom';
import { taskColor, type Palette } from '../theme';
import { createTooltip, firstFitting, fitText, legendLayout, placePairLabels, resetChartSvg, styleAxis, textWidth } from './axes';
import { lineChart, lineChartLayout, type LineChartData } from './lineChart';

export type LandscapeMetric = 'loss' | 'accuracy';

/** `n` thresholds from lo to hi (both included), evenly spaced in log(value). */
export function logThresholds(lo: number, hi: number, n: number): number[] {
  if (!(lo > 0) || !(hi > lo) || n < 2) return [lo];
  const r = Math.log(hi / lo);
  return Array.from({ length: n }, (_, k) => (k === n - 1 ? hi : lo * Math.exp((r * k) / (n - 1))));
}

/** The q-quantile of the finite values (linear interpolation); NaN when there are none. */
export function finiteQuantile(values: Iterable<number>, q: number): number {
  const xs = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  return xs.length ? (d3.quantileSorted(xs, q) as number) : NaN;
}

export interface LandscapeScale {
  metric: LandscapeMetric;
  thresholds: number[];
  lo: number;
  hi: number;
  /** Some values lie above hi and are drawn as hi (loss only). */
  clipped: boolean;
  /** 0..1 position of a value on the colour ramp (0 = best). */
  position(v: number): number;
  color(v: number): string;
  /**
   * Value handed to the contour generator: finite, and for loss capped one level above hi, so that
   * clipped maxima still get smooth (interpolated) boundaries instead of blocky plateaus.
   */
  clip(v: number): number;
}

export interface LandscapeScaleOptions {
  levels?: number;
  /** Loss maxima above this quantile (over every task's grid) are clipped. */
  clipQuantile?: number;
}

/** One colour scale for every task's map, so equal colours mean equal values across maps. */
export function landscapeScale(land: Pick<LandscapeResult, 'grids'>, metric: LandscapeMetric, opts: LandscapeScaleOptions = {}): LandscapeScale {
  const levels = opts.levels ?? (metric === 'loss' ? 16 : 20);
  if (metric === 'accuracy') {
    const thresholds = d3.range(levels).map((k) => k / levels);
    const position = (v: number) => 1 - Math.min(1, Math.max(0, v));
    return {
      metric,
      thresholds,
      lo: 0,
      hi: 1,
      clipped: false,
      position,
      color: (v) => d3.interpolateViridis(position(v)),
      clip: (v) => (Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0),
    };
  }
  const all = land.grids.flatMap((g) => g.loss.flat()).filter((v) => Number.isFinite(v));
  const positive = all.filter((v) => v > 0);
  const max = positive.length ? Math.max(...positive) : 1;
  let lo = positive.length ? Math.min(...positive) : 1e-3;
  let hi = finiteQuantile(positive, opts.clipQuantile ?? 0.95);
  if (!(hi > lo)) hi = max > lo ? max : lo * 10;
  if (lo < hi * 1e-4) lo = hi * 1e-4;
  const thresholds = logThresholds(lo, hi, levels);
  const ceiling = hi * (hi / lo) ** (1 / Math.max(1, levels - 1));
  const position = (v: number) => Math.min(1, Math.max(0, Math.log(v / lo) / Math.log(hi / lo)));
  return {
    metric,
    thresholds,
    lo,
    hi,
    clipped: max > hi,
    position,
    color: (v) => d3.interpolateViridis(position(v)),
    clip: (v) => (Number.isFinite(v) ? Math.min(ceiling, Math.max(lo, v)) : ceiling),
  };
}

/** Cells of padding around a grid before contouring (see paddedContourGrid). */
export const CONTOUR_PAD = 1;

/**
 * A task's grid, row-major as d3.contours wants it (values[y * nx + x]; x = alpha, y = beta),
 * clipped by the scale and padded by repeating the edge values: d3-contour cuts the corners of
 * regions that touch the border, and the padding moves those cuts outside the drawn (clipped) area.
 */
export function paddedContourGrid(grid: number[][], scale: LandscapeScale, pad = CONTOUR_PAD): { values: number[]; nx: number; ny: number } {
  const ny0 = grid.length;
  const nx0 = ny0 ? Math.max(...grid.map((r) => r.length)) : 0;
  const nx = nx0 + 2 * pad;
  const ny = ny0 + 2 * pad;
  const values = new Array<number>(nx * ny);
  for (let y = 0; y < ny; y++) {
    const row = grid[Math.min(ny0 - 1, Math.max(0, y - pad))] ?? [];
    for (let x = 0; x < nx; x++) values[y * nx + x] = scale.clip(row[Math.min(nx0 - 1, Math.max(0, x - pad))] ?? NaN);
  }
  return { values, nx, ny };
}

export interface GridGeometry {
  /** Pixel of a plane coordinate. */
  x(alpha: number): number;
  y(beta: number): number;
  /** Plane coordinate of a pixel. */
  alphaAt(px: number): number;
  betaAt(py: number): number;
  /** Plane coordinate of a d3-contour coordinate (grid value i sits at i + 0.5; `pad` cells of padding). */
  alphaOfContour(cx: number, pad?: number): number;
  betaOfContour(cy: number, pad?: number): number;
  left: number;
  top: number;
  width: number;
  height: number;
}

const spacing = (xs: readonly number[]) => (xs.length > 1 ? (xs[xs.length - 1] - xs[0]) / (xs.length - 1) : 1);

/**
 * Maps the grid into a box with equal units on both axes (distances on the plane are true
 * distances). Each grid value covers a cell centred on its coordinate, so the map extends half a
 * cell beyond the first and last coordinates.
 */
export function gridGeometry(alphas: readonly number[], betas: readonly number[], box: { left: number; top: number; maxWidth: number; maxHeight: number }): GridGeometry {
  const da = spacing(alphas);
  const db = spacing(betas);
  const a0 = alphas[0] - da / 2;
  const a1 = alphas[alphas.length - 1] + da / 2;
  const b0 = betas[0] - db / 2;
  const b1 = betas[betas.length - 1] + db / 2;
  const ppu = Math.min(box.maxWidth / Math.abs(a1 - a0), box.maxHeight / Math.abs(b1 - b0));
  const width = Math.abs(a1 - a0) * ppu;
  const height = Math.abs(b1 - b0) * ppu;
  const sa = Math.sign(a1 - a0) || 1;
  const sb = Math.sign(b1 - b0) || 1;
  return {
    x: (a) => box.left + (a - a0) * sa * ppu,
    y: (b) => box.top + (b1 - b) * sb * ppu,
    alphaAt: (px) => a0 + ((px - box.left) / ppu) * sa,
    betaAt: (py) => b1 - ((py - box.top) / ppu) * sb,
    alphaOfContour: (cx, pad = 0) => alphas[0] + (cx - pad - 0.5) * da,
    betaOfContour: (cy, pad = 0) => betas[0] + (cy - pad - 0.5) * db,
    left: box.left,
    top: box.top,
    width,
    height,
  };
}

/** Index of the coordinate nearest to v (coordinates in any order). */
function nearestCoordinate(xs: readonly number[], v: number): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (Math.abs(xs[i] - v) < Math.abs(xs[best] - v)) best = i;
  return best;
}

/** The grid point nearest to (alpha, beta): column ai into alphas, row bi into betas. */
export function nearestGridPoint(alphas: readonly number[], betas: readonly number[], alpha: number, beta: number): { ai: number; bi: number } {
  return { ai: nearestCoordinate(alphas, alpha), bi: nearestCoordinate(betas, beta) };
}

export interface TrajectorySegment {
  task: number;
  points: { alpha: number; beta: number; step: number }[];
}

/**
 * Splits the projected trajectory into polylines by the task being trained; the piece leading to a
 * checkpoint belongs to that checkpoint's task, and each polyline starts where the previous ended.
 */
export function trajectorySegments(traj: LandscapeResult['trajectory']): TrajectorySegment[] {
  const out: TrajectorySegment[] = [];
  for (let k = 1; k < traj.length; k++) {
    const p = traj[k];
    const last = out[out.length - 1];
    if (last && last.task === p.task) last.points.push({ alpha: p.alpha, beta: p.beta, step: p.step });
    else {
      const q = traj[k - 1];
      out.push({ task: p.task, points: [{ alpha: q.alpha, beta: q.beta, step: q.step }, { alpha: p.alpha, beta: p.beta, step: p.step }] });
    }
  }
  return out;
}

export interface PlotBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface PlotCrossing {
  /** 'enter': the polyline comes into the box from outside; 'exit': it leaves it. */
  kind: 'enter' | 'exit';
  /** The point on the box edge. */
  x: number;
  y: number;
  /** Direction of travel, radians (atan2 in pixel space, y down). */
  angle: number;
  /** Index of the polyline point the crossing segment starts from. */
  from: number;
}

/**
 * Where a polyline (pixel coordinates) crosses the edge of a box, in order along the line
 * (Liang-Barsky per segment). A segment that only touches the edge does not count.
 */
export function plotCrossings(points: readonly { x: number; y: number }[], box: PlotBox): PlotCrossing[] {
  const out: PlotCrossing[] = [];
  const x0 = box.left;
  const x1 = box.left + box.width;
  const y0 = box.top;
  const y1 = box.top + box.height;
  for (let k = 0; k + 1 < points.length; k++) {
    const p = points[k];
    const q = points[k + 1];
    const dx = q.x - p.x;
    const dy = q.y - p.y;
    if (!Number.isFinite(dx) || !Number.isFinite(dy) || (dx === 0 && dy === 0)) continue;
    let t0 = 0;
    let t1 = 1;
    let inside = true;
    for (const [pp, qq] of [
      [-dx, p.x - x0],
      [dx, x1 - p.x],
      [-dy, p.y - y0],
      [dy, y1 - p.y],
    ]) {
      if (pp === 0) {
        if (qq < 0) inside = false;
        continue;
      }
      const r = qq / pp;
      if (pp < 0) t0 = Math.max(t0, r);
      else t1 = Math.min(t1, r);
    }
    if (!inside || t0 >= t1) continue;
    const angle = Math.atan2(dy, dx);
    if (t0 > 0) out.push({ kind: 'enter', x: p.x + t0 * dx, y: p.y + t0 * dy, angle, from: k });
    if (t1 < 1) out.push({ kind: 'exit', x: p.x + t1 * dx, y: p.y + t1 * dy, angle, from: k });
  }
  return out;
}

export interface LandscapeLayout {
  width: number;
  height: number;
  mapSize: number;
  /** Plot box of map k (maps wrap onto rows when the panel is narrow). */
  mapLeft: number[];
  mapTop: number[];
  columns: number;
  rows: number;
  /** Space for the title above each map and the axis below it. */
  titleHeight: number;
  axisHeight: number;
  axisWidth: number;
  /** Beside the maps (vertical) or, in narrow panels, under them (horizontal). */
  colorbar: { orientation: 'vertical'; left: number; top: number; length: number } | { orientation: 'horizontal'; left: number; top: number; length: number };
  /** Top of the caption line(s) under everything (optimum names that did not fit on the maps). */
  captionTop: number;
}

/** Smallest map worth drawing beside another; below it the maps wrap. */
export const MIN_MAP = 140;
/** Largest map: beyond this a wide panel gains nothing but scrolling. */
export const MAX_MAP = 620;
/** The narrowest line chart drawn (curves.ts uses the same). */
const MIN_CHART_WIDTH = 160;
const VERTICAL_COLORBAR_WIDTH = (fontSize: number) => Math.round(fontSize * 8);

/**
 * Maps in as many columns as fit at MIN_MAP or more (wrapping onto rows), with the colour bar beside
 * them; when even one column leaves no room for it, the colour bar goes under the maps. Never wider
 * than `width` (down to MIN_MAP plus the axis).
 */
export function landscapeLayout(width: number, maps: number, fontSize: number, captionLines = 0): LandscapeLayout {
  const axisWidth = Math.round(fontSize * 3.4);
  const gap = 18;
  const titleHeight = Math.round(fontSize * 2.4);
  const axisHeight = Math.round(fontSize * 3.2);
  const n = Math.max(1, maps);
  const cbar = VERTICAL_COLORBAR_WIDTH(fontSize);
  const w = Math.max(120, Math.floor(width));
  const sizeFor = (cols: number, beside: boolean) => (w - (beside ? cbar + gap : 0) - cols * axisWidth - (cols - 1) * gap - 8) / cols;
  let columns = n;
  let beside = true;
  while (columns > 1 && sizeFor(columns, true) < MIN_MAP) columns--;
  if (sizeFor(columns, true) < MIN_MAP) beside = false;
  const rows = Math.ceil(n / columns);
  const mapSize = Math.floor(Math.min(MAX_MAP, Math.max(MIN_MAP * (beside ? 1 : 0.5), sizeFor(columns, beside))));
  const pitch = titleHeight + mapSize + axisHeight;
  const mapLeft = Array.from({ length: n }, (_, k) => axisWidth + (k % columns) * (mapSize + gap + axisWidth));
  const mapTop = Array.from({ length: n }, (_, k) => titleHeight + Math.floor(k / columns) * pitch);
  const mapsRight = axisWidth + columns * mapSize + (columns - 1) * (gap + axisWidth);
  const mapsBottom = rows * pitch;
  const colorbar: LandscapeLayout['colorbar'] = beside
    ? { orientation: 'vertical', left: mapsRight + gap, top: titleHeight, length: mapSize }
    : { orientation: 'horizontal', left: axisWidth, top: mapsBottom + Math.round(fontSize * 1.6), length: mapSize };
  // Horizontal: the bar, its tick labels, and a line for "≥ x clipped".
  const colorbarBottom = beside ? mapsBottom : colorbar.top + 14 + Math.round(fontSize * 3.6);
  const captionTop = colorbarBottom + (captionLines ? Math.round(fontSize * 0.6) : 0);
  const height = captionTop + captionLines * Math.round(fontSize * 1.5) + 4;
  return { width: beside ? mapsRight + gap + cbar : Math.max(mapsRight, axisWidth + mapSize) + 8, height, mapSize, mapLeft, mapTop, columns, rows, titleHeight, axisHeight, axisWidth, colorbar, captionTop };
}

/** The optima's labels over a map or the line chart: full ("θ_A after mnist") or short with a caption. */
export function optimumLabels(xA: number, xB: number, bounds: { left: number; right: number }, names: { a: string; b: string }, fontSize: number) {
  // "θ_A" draws as θ with a subscript A: about two characters wide.
  const visible = (t: string) => t.replace('θ_', 'θ');
  const a = { x: xA, text: `θ_A after ${names.a}`, short: 'θ_A' };
  const b = { x: xB, text: `θ_B after ${names.b}`, short: 'θ_B' };
  const placed = placePairLabels({ ...a, text: visible(a.text), short: visible(a.short) }, { ...b, text: visible(b.text), short: visible(b.short) }, bounds, fontSize);
  const [la, lb] = placed.labels;
  return {
    a: { ...la, text: placed.short ? a.short : a.text },
    b: { ...lb, text: placed.short ? b.short : b.text },
    /** Said under the chart when the labels are short. */
    caption: placed.short ? `θ_A: after ${names.a} · θ_B: after ${names.b}` : '',
  };
}

/** Words of `text` in lines no wider than `width` (estimated), breaking only between words. */
export function wrapWords(text: string, width: number, fontSize: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next.replace(/θ_/g, 'θ'), fontSize) > width) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

export interface LineLayout {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  innerW: number;
  innerH: number;
  legend: ReturnType<typeof legendLayout>;
  legendTop: number;
  /** Baseline of the θ_A/θ_B labels above the plot. */
  optimaY: number;
}

/** The 1D line chart: legend rows on top, then the optima's labels, the plot, the axis (and a caption line); the shared line chart's layout. */
export function lineLayout(width: number, fontSize: number, legendLabels: readonly string[], captionLines = 1, yTickLabels: readonly string[] = ['100%']): LineLayout {
  const w = Math.max(MIN_CHART_WIDTH, Math.floor(width));
  const innerH = Math.round(Math.min(180, Math.max(110, w * 0.16)));
  const L = lineChartLayout({ series: legendLabels.map((label) => ({ label, color: '', points: [] })), labelRow: true, captionLines, plotHeight: innerH }, w, fontSize, yTickLabels);
  return { width: L.width, height: L.height, margin: L.margin, innerW: L.innerWidth, innerH: L.innerHeight, legend: L.legend, legendTop: L.legendTop, optimaY: L.ruleLabelY };
}

/** "from init (-0.52, 0.81)", or shorter when that does not fit (never cut inside the parentheses). */
export function fromInitText(alpha: string, beta: string, room: number, fontSize: number): string {
  return firstFitting([`from init (${alpha}, ${beta})`, 'from init', 'init'], room, fontSize);
}

export interface LandscapeData {
  landscape: LandscapeResult | null;
  /** One per task (the grids and lines). */
  labels: string[];
  /** One per phase: what the optima θ_A and θ_B were trained on (default: the task labels). */
  phaseLabels?: string[];
  palette: Palette;
  width: number;
  /** Shown instead of the maps while there is no landscape. */
  placeholder: string;
  progress: { done: number; total: number; phase: string } | null;
}

export interface LandscapeView {
  update(data: LandscapeData): void;
  /** The charts as standalone SVGs: as shown, or redrawn with another palette and width (exports). */
  exportSvgs(style?: { palette: Palette; width: number }): { maps: SVGSVGElement | null; line: SVGSVGElement | null };
  metric(): LandscapeMetric;
  dispose(): void;
}

const gridOf = (g: LandscapeResult['grids'][number], m: LandscapeMetric) => (m === 'loss' ? g.loss : g.accuracy);
const fmtMetric = (m: LandscapeMetric, v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : m === 'loss' ? formatValue(v) : `${formatPercent(v)}%`);

/** A plane coordinate as a data attribute: rounded past float noise, no "-0". */
const planeCoordinate = (v: number) => String(Math.round(v * 1e9) / 1e9 + 0);

/**
 * One map of a plane: the filled contours of `values` (values[beta][alpha] on geom's grid, clipped
 * to it, with a data-value per contour), its frame, the α and β axes and their labels.
 */
export function drawContourMap(g: d3.Selection<SVGGElement, unknown, null, undefined>, p: Palette, geom: GridGeometry, values: number[][], scale: LandscapeScale, clipId: string, axisWidth: number, betaLabel: string): void {
  const small = Math.max(10, p.fontSize - 2);
  const padded = paddedContourGrid(values, scale);
  const contours = d3.contours().size([padded.nx, padded.ny]).thresholds(scale.thresholds)(padded.values);
  const path = d3.geoPath(
    d3.geoTransform({
      point(cx, cy) {
        this.stream.point(geom.x(geom.alphaOfContour(cx, CONTOUR_PAD)), geom.y(geom.betaOfContour(cy, CONTOUR_PAD)));
      },
    }),
  );
  g.append('clipPath').attr('id', clipId).append('rect').attr('x', geom.left).attr('y', geom.top).attr('width', geom.width).attr('height', geom.height);
  g.append('g')
    .attr('class', 'contours')
    .attr('clip-path', `url(#${clipId})`)
    .selectAll('path')
    .data(contours)
    .join('path')
    .attr('class', 'contour')
    .attr('data-value', (c) => c.value)
    .attr('d', (c) => path(c) ?? '')
    .attr('fill', (c) => scale.color(c.value))
    .attr('stroke', '#000000')
    .attr('stroke-opacity', 0.12)
    .attr('stroke-width', 0.5);
  g.append('rect').attr('x', geom.left).attr('y', geom.top).attr('width', geom.width).attr('height', geom.height).attr('fill', 'none').attr('stroke', p.border);
  const xa = d3.scaleLinear().domain([geom.alphaAt(geom.left), geom.alphaAt(geom.left + geom.width)]).range([geom.left, geom.left + geom.width]);
  const yb = d3.scaleLinear().domain([geom.betaAt(geom.top + geom.height), geom.betaAt(geom.top)]).range([geom.top + geom.height, geom.top]);
  const gx = g.append('g').attr('class', 'axis x').attr('transform', `translate(0,${geom.top + geom.height})`);
  gx.call(d3.axisBottom(xa).ticks(Math.max(3, Math.floor(geom.width / 60))).tickFormat((v) => String(+v)));
  styleAxis(gx, p);
  const gy = g.append('g').attr('class', 'axis y').attr('transform', `translate(${geom.left},0)`);
  gy.call(d3.axisLeft(yb).ticks(Math.max(3, Math.floor(geom.height / 60))).tickFormat((v) => String(+v)));
  styleAxis(gy, p);
  g.append('text')
    .attr('x', geom.left + geom.width / 2)
    .attr('y', geom.top + geom.height + Math.round(p.fontSize * 2.6))
    .attr('text-anchor', 'middle')
    .attr('fill', p.muted)
    .attr('font-size', small)
    .call((t) => appendRichText(t.node()!, 'α (along θ_B − θ_A)'));
  g.append('text')
    .attr('transform', `translate(${geom.left - axisWidth + 10},${geom.top + geom.height / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .attr('fill', p.muted)
    .attr('font-size', small)
    .text(fitText(betaLabel, geom.height, small));
}

/** A marker's label: bold white text over a dark halo, legible on any contour fill. */
export function haloText<P extends SVGElement>(parent: d3.Selection<P, unknown, null, undefined>, x: number, y: number, text: string, fontSize: number, anchor: 'start' | 'middle' | 'end' = 'start') {
  return parent
    .append('text')
    .attr('x', x)
    .attr('y', y)
    .attr('text-anchor', anchor)
    .attr('font-size', fontSize)
    .attr('font-weight', 600)
    .attr('fill', '#ffffff')
    .attr('stroke', '#000000')
    .attr('stroke-width', 3)
    .attr('stroke-opacity', 0.75)
    .attr('paint-order', 'stroke')
    .call((t) => appendRichText(t.node()!, text));
}

/** Where a colour bar goes: beside the maps (vertical, as tall as a map) or under them. */
export interface ColorbarPlace {
  orientation: 'vertical' | 'horizontal';
  left: number;
  top: number;
  length: number;
}

/** The contours' colour bar (thresholds of `scale`), with ticks, title and the clipped note. */
export function drawColorbar(mapsSvg: d3.Selection<SVGSVGElement, unknown, null, undefined>, p: Palette, bar: ColorbarPlace, scale: LandscapeScale, testId = 'colorbar') {
  const small = Math.max(10, p.fontSize - 2);
  const g = mapsSvg.append('g').attr('class', 'colorbar').attr('data-testid', testId).attr('data-orientation', bar.orientation);
  const barW = 14;
  const ts = scale.thresholds;
  // 0 at the bad end, 1 at the good end: loss grows upwards/rightwards, accuracy too.
  const along = (v: number) => (scale.metric === 'loss' ? scale.position(v) : 1 - scale.position(v));
  const ticksOf = () => {
    const ticks =
      scale.metric === 'loss'
        ? d3
            .scaleLog()
            .domain([scale.lo, scale.hi])
            .ticks(6)
            .filter((v) => v >= scale.lo && v <= scale.hi)
        : [0, 0.25, 0.5, 0.75, 1];
    return ticks.length > 6 ? ticks.filter((_, i) => i % Math.ceil(ticks.length / 6) === 0) : ticks;
  };
  const tickText = (v: number) => (scale.metric === 'loss' ? formatTick(v) : formatPercentTick(v));
  const title = scale.metric === 'loss' ? 'loss (log)' : 'accuracy';
  if (bar.orientation === 'horizontal') {
    const { left, top, length } = bar;
    const xOf = (v: number) => left + length * along(v);
    ts.forEach((t, k) => {
      const x1 = xOf(t);
      const x2 = k + 1 < ts.length ? xOf(ts[k + 1]) : left + length;
      g.append('rect').attr('x', Math.min(x1, x2)).attr('y', top).attr('width', Math.max(0.5, Math.abs(x2 - x1))).attr('height', barW).attr('fill', scale.color(t));
    });
    g.append('rect').attr('x', left).attr('y', top).attr('width', length).attr('height', barW).attr('fill', 'none').attr('stroke', p.border);
    // Ticks that would crowd each other are dropped (their labels are about four characters wide).
    let lastRight = -Infinity;
    for (const v of ticksOf()) {
      const x = xOf(v);
      const text = tickText(v);
      const w = textWidth(text, small);
      const x0 = Math.min(Math.max(x - w / 2, left), left + length - w);
      if (x0 < lastRight + 6) continue;
      lastRight = x0 + w;
      g.append('line').attr('x1', x).attr('x2', x).attr('y1', top + barW).attr('y2', top + barW + 4).attr('stroke', p.muted);
      g.append('text').attr('class', 'colorbar-tick').attr('x', x0).attr('y', top + barW + 4 + small).attr('font-size', small).text(text);
    }
    g.append('text').attr('x', left).attr('y', top - 6).attr('font-size', small).attr('fill', p.muted).text(title);
    if (scale.clipped) g.append('text').attr('x', left).attr('y', top + barW + 4 + Math.round(small * 2.3)).attr('font-size', small).attr('fill', p.muted).text(fitText(`≥ ${formatValue(scale.hi)} clipped`, length, small));
    return;
  }
  const x0 = bar.left;
  const top = bar.top;
  const height = bar.length;
  const yOf = (v: number) => top + height * (1 - along(v));
  ts.forEach((t, k) => {
    const next = k + 1 < ts.length ? ts[k + 1] : scale.hi;
    const y1 = yOf(t);
    const y2 = k + 1 < ts.length ? yOf(next) : top;
    g.append('rect').attr('x', x0).attr('y', Math.min(y1, y2)).attr('width', barW).attr('height', Math.max(0.5, Math.abs(y1 - y2))).attr('fill', scale.color(t));
  });
  g.append('rect').attr('x', x0).attr('y', top).attr('width', barW).attr('height', height).attr('fill', 'none').attr('stroke', p.border);
  for (const v of ticksOf()) {
    const y = yOf(v);
    g.append('line').attr('x1', x0 + barW).attr('x2', x0 + barW + 4).attr('y1', y).attr('y2', y).attr('stroke', p.muted);
    g.append('text').attr('class', 'colorbar-tick').attr('x', x0 + barW + 7).attr('y', y).attr('dominant-baseline', 'central').attr('font-size', small).text(tickText(v));
  }
  g.append('text')
    .attr('x', x0)
    .attr('y', top - 10)
    .attr('font-size', small)
    .attr('fill', p.muted)
    .text(title);
  if (scale.clipped) {
    g.append('text')
      .attr('x', x0)
      .attr('y', top + height + small + 6)
      .attr('font-size', small)
      .attr('fill', p.muted)
      .text(`≥ ${formatValue(scale.hi)} clipped`);
  }
}

/** What the phase whose optimum is θ_A or θ_B trained on. */
const optimumLabel = (data: LandscapeData, phase: number) => data.phaseLabels?.[phase] ?? data.labels[phase] ?? `phase ${phase}`;

let instances = 0;

export function createLandscapeView(el: HTMLElement, onMetricChange?: (m: LandscapeMetric) => void): LandscapeView {
  const doc = el.ownerDocument;
  const root = h(doc, 'div', { class: 'chart landscape', 'data-testid': 'landscape' });
  el.append(root);
  const toolbar = h(doc, 'div', { class: 'landscape-toolbar', role: 'group', 'aria-label': 'Landscape quantity' });
  const lossBtn = h(doc, 'vscode-button', { 'data-testid': 'landscape-metric-loss', 'aria-pressed': 'true' }, 'Loss');
  const accBtn = h(doc, 'vscode-button', { 'data-testid': 'landscape-metric-accuracy', secondary: true, 'aria-pressed': 'false' }, 'Accuracy');
  toolbar.append(lossBtn, accBtn);
  const info = h(doc, 'div', { class: 'landscape-info', 'data-testid': 'landscape-info' });
  const placeholder = h(doc, 'div', { class: 'placeholder', 'data-testid': 'landscape-placeholder' });
  const mapsWrap = h(doc, 'div', { class: 'landscape-maps' });
  const lineWrap = h(doc, 'div', { class: 'landscape-line' });
  const mapsSvg = d3.select(mapsWrap).append('svg').attr('class', 'chart-svg').attr('data-testid', 'landscape-maps').attr('role', 'img');
  const lineSvg = d3.select(lineWrap).append('svg').attr('class', 'chart-svg').attr('data-testid', 'landscape-line').attr('role', 'img');
  const mapsTip = createTooltip(mapsWrap);
  const lineTip = createTooltip(lineWrap);
  const instance = ++instances;
  let metric: LandscapeMetric = 'loss';
  let last: LandscapeData | null = null;

  const setMetric = (m: LandscapeMetric) => {
    if (m === metric) return;
    metric = m;
    lossBtn.toggleAttribute('secondary', m !== 'loss');
    accBtn.toggleAttribute('secondary', m !== 'accuracy');
    lossBtn.setAttribute('aria-pressed', String(m === 'loss'));
    accBtn.setAttribute('aria-pressed', String(m === 'accuracy'));
    onMetricChange?.(m);
    if (last) render(last);
  };
  lossBtn.addEventListener('click', () => setMetric('loss'));
  accBtn.addEventListener('click', () => setMetric('accuracy'));

  function render(data: LandscapeData) {
    const land = data.landscape;
    if (!land || !land.grids.length) {
      placeholder.replaceChildren();
      placeholder.append(h(doc, 'div', {}, data.placeholder));
      if (data.progress && data.progress.total > 0) {
        const frac = Math.min(1, data.progress.done / data.progress.total);
        const bar = h(doc, 'div', { class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': data.progress.total, 'aria-valuenow': data.progress.done });
        const fill = h(doc, 'div', { class: 'fill' });
        fill.style.width = `${(frac * 100).toFixed(1)}%`;
        bar.append(fill);
        placeholder.append(bar, h(doc, 'div', { class: 'muted' }, `${data.progress.phase}: ${formatCount(data.progress.done)} / ${formatCount(data.progress.total)}`));
      }
      setChildren(root, [placeholder]);
      return;
    }
    setChildren(root, [toolbar, info, mapsWrap, lineWrap]);
    renderInfo(land);
    renderMaps(data, land, mapsSvg);
    renderLine(data, land, lineSvg);
  }

  function renderInfo(land: LandscapeResult) {
    const axis2 =
      land.secondAxis === 'trajectory-pca'
        ? 'dominant PCA direction of the trajectory'
        : land.secondAxis === 'point' && land.thirdPoint
          ? `through the end weights of run ${land.thirdPoint.run.split(/[\\/]/).filter(Boolean).pop() ?? land.thirdPoint.run} after phase ${land.thirdPoint.phase} (θ_C)`
          : 'filter-normalised random direction';
    const parts = [
      `|θ_B − θ_A| = ${formatValue(land.distance)}`,
      `axis 2: ${axis2}`,
      `explained variance ${formatPercent(land.explainedVariance)}%`,
      `grid ${land.alphas.length}×${land.betas.length}`,
      `${formatCount(land.samples)} samples/task`,
      `${formatCount(land.parameterCount)} parameters`,
      `computed in ${formatDuration(land.timeMs)}`,
    ];
    info.replaceChildren();
    appendRichText(info, parts.join(' · '));
    info.title = 'Axes in units of |θ_B − θ_A|: θ_A = weights after the first optimum task at (0, 0), θ_B after the second at (1, 0).';
  }

  function renderMaps(data: LandscapeData, land: LandscapeResult, mapsSvg: d3.Selection<SVGSVGElement, unknown, null, undefined>) {
    const p = data.palette;
    const small = Math.max(10, p.fontSize - 2);
    const grids = [...land.grids].sort((a, b) => a.task - b.task);
    // The optima's labels decide whether a caption line is needed; the maps' size does not depend on it.
    const L0 = landscapeLayout(data.width, grids.length, p.fontSize);
    const probe = gridGeometry(land.alphas, land.betas, { left: L0.mapLeft[0], top: L0.mapTop[0], maxWidth: L0.mapSize, maxHeight: L0.mapSize });
    const names = { a: optimumLabel(data, land.optima[0]), b: optimumLabel(data, land.optima[1]) };
    const labelsOnMap = optimumLabels(probe.x(0), probe.x(1), { left: probe.left + 2, right: probe.left + probe.width - 2 }, names, small);
    const captionLines = labelsOnMap.caption ? wrapWords(labelsOnMap.caption, L0.width - L0.axisWidth - 4, small) : [];
    const L = landscapeLayout(data.width, grids.length, p.fontSize, captionLines.length);
    const scale = landscapeScale(land, metric);
    resetChartSvg(mapsSvg, L.width, L.height, p, `${metric} of each task on the plane through the task optima`);
    const label = (t: number) => data.labels[t] ?? `task ${t}`;
    const segments = trajectorySegments(land.trajectory);
    const crosshairs: d3.Selection<SVGCircleElement, unknown, null, undefined>[] = [];
    const geoms: GridGeometry[] = [];

    grids.forEach((grid, k) => {
      const geom = gridGeometry(land.alphas, land.betas, { left: L.mapLeft[k], top: L.mapTop[k], maxWidth: L.mapSize, maxHeight: L.mapSize });
      geoms.push(geom);
      const g = mapsSvg.append('g').attr('class', 'map').attr('data-testid', 'landscape-map').attr('data-task', grid.task);
      g.append('text')
        .attr('class', 'map-title')
        .attr('x', geom.left)
        .attr('y', geom.top - 10)
        .attr('font-weight', 600)
        .attr('fill', taskColor(p, grid.task))
        .text(firstFitting([`${label(grid.task)} · ${metric}`, label(grid.task)], geom.width, p.fontSize) || fitText(label(grid.task), geom.width, p.fontSize));

      const clipId = `clw-map-clip-${instance}-${k}`;
      drawContourMap(g, p, geom, gridOf(grid, metric), scale, clipId, L.axisWidth, 'β');

      // Trajectory, coloured by the task being trained, over a dark halo so it reads on any fill.
      const line = d3
        .line<{ alpha: number; beta: number }>()
        .x((d) => geom.x(d.alpha))
        .y((d) => geom.y(d.beta));
      // Drawn in data coordinates, so clipped to the plot box like the contours: the trajectory
      // usually starts (random init) outside the plotted range.
      const tg = g.append('g').attr('class', 'trajectory').attr('clip-path', `url(#${clipId})`).attr('fill', 'none').attr('stroke-linejoin', 'round').attr('stroke-linecap', 'round');
      tg.selectAll('path.halo').data(segments).join('path').attr('class', 'halo').attr('d', (s) => line(s.points) ?? '').attr('stroke', '#000000').attr('stroke-opacity', 0.55).attr('stroke-width', 4.5);
      tg.selectAll('path.segment')
        .data(segments)
        .join('path')
        .attr('class', 'segment')
        .attr('data-testid', 'trajectory')
        .attr('data-task', (s) => s.task)
        .attr('d', (s) => line(s.points) ?? '')
        .attr('stroke', (s) => taskColor(p, s.task))
        .attr('stroke-width', 2);
      const first = land.trajectory[0];
      if (first) tg.append('circle').attr('class', 'trajectory-start').attr('cx', geom.x(first.alpha)).attr('cy', geom.y(first.beta)).attr('r', 3).attr('fill', '#ffffff').attr('stroke', '#000000');
      // Optima: theta_A at (0, 0), theta_B at (1, 0), labelled so the two never collide.
      const placed = optimumLabels(geom.x(0), geom.x(1), { left: geom.left + 2, right: geom.left + geom.width - 2 }, names, small);
      // The "from init" label keeps clear of them.
      const labelTop = geom.y(0) - 10;
      const optimumBoxes = [placed.a, placed.b].map((l) => ({ x0: l.box.x0, x1: l.box.x1, y0: labelTop - small, y1: labelTop + small * 0.3 }));
      trajectoryCrossings(g, geom, land, p, small, optimumBoxes);

      const optima = [
        { which: 'A', task: land.optima[0], alpha: 0, label: placed.a },
        { which: 'B', task: land.optima[1], alpha: 1, label: placed.b },
      ];
      for (const o of optima) {
        const cx = geom.x(o.alpha);
        const cy = geom.y(0);
        const og = g.append('g').attr('class', 'optimum');
        og.append('circle')
          .attr('data-testid', 'optimum')
          .attr('data-which', o.which)
          .attr('data-task', o.task)
          // Where the marker is drawn, read back in plane coordinates (tests check θ_A at (0,0), θ_B at (1,0)).
          .attr('data-alpha', planeCoordinate(geom.alphaAt(cx)))
          .attr('data-beta', planeCoordinate(geom.betaAt(cy)))
          .attr('cx', cx)
          .attr('cy', cy)
          .attr('r', 5.5)
          .attr('fill', '#ffffff')
          .attr('stroke', '#000000')
          .attr('stroke-width', 1.5);
        haloText(og, o.label.x, cy - 10, o.label.text, small, o.label.anchor).attr('class', 'optimum-label').attr('data-which', o.which);
      }
      // The third model the plane runs through (secondAxis 'point'), where it lies on the plane.
      const third = land.secondAxis === 'point' ? land.thirdPoint : undefined;
      if (third && Number.isFinite(third.alpha) && Number.isFinite(third.beta)) {
        const tx = geom.x(third.alpha);
        const ty = geom.y(third.beta);
        if (tx >= geom.left && tx <= geom.left + geom.width && ty >= geom.top && ty <= geom.top + geom.height) {
          const tg3 = g.append('g').attr('class', 'third-point');
          tg3
            .append('path')
            .attr('data-testid', 'third-point')
            .attr('data-phase', third.phase)
            .attr('data-alpha', planeCoordinate(geom.alphaAt(tx)))
            .attr('data-beta', planeCoordinate(geom.betaAt(ty)))
            .attr('transform', `translate(${tx},${ty})`)
            .attr('d', 'M0,-6.5L6.5,0L0,6.5L-6.5,0Z')
            .attr('fill', '#ffffff')
            .attr('stroke', '#000000')
            .attr('stroke-width', 1.5)
            .append('title')
            .text(`Third point: the end weights after ${optimumLabel(data, third.phase)} (α ${formatCoordinate(third.alpha)}, β ${formatCoordinate(third.beta)})`);
          haloText(tg3, tx + 9, ty + 4, 'θ_C', small).attr('class', 'optimum-label');
        }
      }
      crosshairs.push(g.append('circle').attr('class', 'crosshair').attr('r', 5).attr('fill', 'none').attr('stroke', '#ffffff').attr('stroke-width', 2).attr('visibility', 'hidden').attr('pointer-events', 'none'));

      g.append('rect')
        .attr('class', 'overlay')
        .attr('x', geom.left)
        .attr('y', geom.top)
        .attr('width', geom.width)
        .attr('height', geom.height)
        .attr('fill', 'transparent')
        .on('pointermove', (event: PointerEvent) => {
          const [mx, my] = d3.pointer(event, mapsSvg.node());
          const { ai, bi } = nearestGridPoint(land.alphas, land.betas, geom.alphaAt(mx), geom.betaAt(my));
          crosshairs.forEach((c, m) => c.attr('cx', geoms[m].x(land.alphas[ai])).attr('cy', geoms[m].y(land.betas[bi])).attr('visibility', 'visible'));
          tooltip(ai, bi, mx, my);
        })
        .on('pointerleave', () => {
          crosshairs.forEach((c) => c.attr('visibility', 'hidden'));
          mapsTip.hide();
        });
    });

    /**
     * Arrowheads on the plot edge where the (clipped) trajectory enters or leaves the plotted range,
     * and a label on the entry from the random-init checkpoint, so a line starting at the edge is
     * not mistaken for the start of training. Not clipped (they sit on the edge).
     */
    function trajectoryCrossings(g: d3.Selection<SVGGElement, unknown, null, undefined>, geom: GridGeometry, land: LandscapeResult, p: Palette, small: number, avoid: { x0: number; x1: number; y0: number; y1: number }[]) {
      const traj = land.trajectory;
      const pts = traj.map((t) => ({ x: geom.x(t.alpha), y: geom.y(t.beta) }));
      const crossings = plotCrossings(pts, geom);
      if (!crossings.length) return;
      const cg = g.append('g').attr('class', 'trajectory-edges');
      const init = traj[0];
      const initOutside = !!init && (pts[0].x < geom.left || pts[0].x > geom.left + geom.width || pts[0].y < geom.top || pts[0].y > geom.top + geom.height);
      const at = `α ${formatCoordinate(init.alpha)}, β ${formatCoordinate(init.beta)}`;
      crossings.forEach((c, n) => {
        const task = traj[c.from + 1]?.task ?? -1;
        const fromInit = c.kind === 'enter' && initOutside && n === 0;
        const deg = (c.angle * 180) / Math.PI;
        // Entry: the tip points inwards from the edge; exit: it points outwards, base on the edge.
        const d = c.kind === 'enter' ? 'M0,-4.5L9,0L0,4.5Z' : 'M-9,-4.5L0,0L-9,4.5Z';
        const arrow = cg
          .append('path')
          .attr('class', `trajectory-${c.kind}`)
          .attr('data-testid', `trajectory-${c.kind}`)
          .attr('data-task', task)
          .attr('transform', `translate(${c.x},${c.y}) rotate(${deg})`)
          .attr('d', d)
          .attr('fill', taskColor(p, Math.max(0, task)))
          .attr('stroke', '#000000')
          .attr('stroke-width', 1)
          .attr('stroke-linejoin', 'round');
        arrow
          .append('title')
          .text(
            fromInit
              ? `The trajectory starts at the random-init checkpoint (${at}), outside the plotted range.`
              : c.kind === 'enter'
                ? 'The trajectory re-enters the plotted range here.'
                : 'The trajectory leaves the plotted range here.',
          );
        if (!fromInit) return;
        // Label just inside the edge, on the side of the entry point nearer the box centre.
        const cx = geom.left + geom.width / 2;
        const pad = 6;
        const onLeft = c.x < cx;
        const tx = Math.min(geom.left + geom.width - pad, Math.max(geom.left + pad, c.x + (onLeft ? 12 : -12)));
        const room = onLeft ? geom.left + geom.width - pad - tx : tx - geom.left - pad;
        const nearTop = c.y < geom.top + geom.height / 2;
        // Beside the entry point, or a line or two further in, whichever keeps clear of the optima's labels.
        const spot = [0, 1, 2]
          .map((k) => Math.min(geom.top + geom.height - pad, Math.max(geom.top + small + pad, c.y + (nearTop ? small + 12 : -12) + (nearTop ? 1 : -1) * k * (small + 6))))
          .flatMap((ty) => ['full', 'short'].map((form) => ({ ty, text: form === 'full' ? fromInitText(formatCoordinate(init.alpha), formatCoordinate(init.beta), room, small) : firstFitting(['from init', 'init'], room, small) })))
          .find(({ ty, text }) => {
            if (!text) return false;
            const w = textWidth(text, small);
            const box = { x0: onLeft ? tx : tx - w, x1: onLeft ? tx + w : tx, y0: ty - small, y1: ty + small * 0.3 };
            return !avoid.some((a) => box.x0 < a.x1 && a.x0 < box.x1 && box.y0 < a.y1 && a.y0 < box.y1);
          });
        if (!spot) return;
        const { ty, text } = spot;
        cg.append('text')
          .attr('class', 'trajectory-from-init')
          .attr('data-testid', 'trajectory-from-init')
          .attr('x', tx)
          .attr('y', ty)
          .attr('text-anchor', onLeft ? 'start' : 'end')
          .attr('font-size', small)
          .attr('fill', '#ffffff')
          .attr('stroke', '#000000')
          .attr('stroke-width', 3)
          .attr('stroke-opacity', 0.75)
          .attr('paint-order', 'stroke')
          .text(text)
          .append('title')
          .text(`The trajectory starts at the random-init checkpoint (${at}), outside the plotted range.`);
      });
    }

    function tooltip(ai: number, bi: number, mx: number, my: number) {
      mapsTip.show(
        [
          { text: `α ${formatCoordinate(land.alphas[ai])}, β ${formatCoordinate(land.betas[bi])}`, strong: true },
          ...grids.map((g) => ({
            text: `${label(g.task)}: loss ${fmtMetric('loss', g.loss[bi]?.[ai])} · accuracy ${fmtMetric('accuracy', g.accuracy[bi]?.[ai])}`,
            color: taskColor(p, g.task),
          })),
        ],
        mx,
        my,
      );
    }

    drawColorbar(mapsSvg, p, L.colorbar.orientation === 'vertical' ? { ...L.colorbar, top: geoms[0].top, length: geoms[0].height } : L.colorbar, scale);
    if (captionLines.length) {
      const caption = mapsSvg.append('text').attr('class', 'optima-caption').attr('data-testid', 'optima-caption').attr('font-size', small).attr('fill', p.muted);
      captionLines.forEach((line, i) => {
        const t = caption.append('tspan').attr('x', L.axisWidth).attr('y', L.captionTop + small + i * Math.round(p.fontSize * 1.5));
        appendRichText(t.node()!, line);
      });
    }
  }

  /** The 1D curve along θ_A → θ_B: the shared line chart, with the optima's rules and labels as a custom mark. */
  function renderLine(data: LandscapeData, land: LandscapeResult, target: d3.Selection<SVGSVGElement, unknown, null, undefined>) {
    const p = data.palette;
    const small = Math.max(10, p.fontSize - 2);
    const label = (t: number) => data.labels[t] ?? `task ${t}`;
    const series = (metric === 'loss' ? land.line.loss : land.line.accuracy).map((vals, task) => ({ task, vals }));
    const legendLabels = series.map((s) => `${label(s.task)} ${metric}`);
    const tickText = (v: number) => (metric === 'loss' ? formatTick(v) : formatPercentTick(v));
    const all = series.flatMap((s) => s.vals).filter(Number.isFinite);
    const yMax = metric === 'loss' ? Math.max(1e-6, ...all) * 1.05 : 1;
    const yScale = d3.scaleLinear().domain([0, yMax]).nice();
    const yTicks = yScale.ticks(5);
    const yTickLabels = yTicks.map(tickText);
    const ts = land.line.t;
    // The optima's labels over the plot, short with a caption under it when the long ones collide.
    const L0 = lineLayout(data.width, p.fontSize, legendLabels, 1, yTickLabels);
    const names = { a: optimumLabel(data, land.optima[0]), b: optimumLabel(data, land.optima[1]) };
    const tMin = Math.min(...ts);
    const tMax = Math.max(...ts);
    const xOf = (t: number) => L0.margin.left + ((t - tMin) / (tMax - tMin || 1)) * L0.innerW;
    const placed = optimumLabels(xOf(0), xOf(1), { left: 0, right: L0.width }, names, small);
    const captionLines = placed.caption ? wrapWords(placed.caption, L0.width - L0.margin.left - 4, small) : [];
    const L = lineLayout(data.width, p.fontSize, legendLabels, Math.max(1, captionLines.length), yTickLabels);
    const chart: LineChartData = {
      label: `${metric} of each task along the straight line from θ_A to θ_B`,
      series: series.map((s) => ({ label: `${label(s.task)} ${metric}`, color: taskColor(p, s.task), points: ts.map((t, i) => ({ x: t, y: Number.isFinite(s.vals[i]) ? s.vals[i] : null })), attrs: { 'data-task': s.task } })),
      x: { label: 't: θ_A + t (θ_B − θ_A)', domain: [tMin, tMax], format: formatTick },
      y: { label: metric, domain: yScale.domain() as [number, number], ticks: yTicks, format: tickText, valueFormat: (v) => fmtMetric(metric, v) },
      rules: ([['A', 0], ['B', 1]] as const).filter(([, t]) => t >= tMin && t <= tMax).map(([which, t]) => ({ x: t, attrs: { 'data-testid': 'line-optimum', 'data-which': which, 'data-edge': 1 } })),
      labelRow: true,
      captionLines: Math.max(1, captionLines.length),
      plotHeight: L.innerH,
      hoverTitle: (t) => `t = ${formatCoordinate(t)}`,
      decorate(svg, g) {
        const root = d3.select(svg);
        for (const [which, t, lab] of [['A', 0, placed.a], ['B', 1, placed.b]] as const) {
          if (t < tMin || t > tMax) continue;
          root
            .append('text')
            .attr('class', 'optimum-label')
            .attr('data-which', which)
            .attr('x', lab.x)
            .attr('y', g.layout.ruleLabelY)
            .attr('text-anchor', lab.anchor)
            .attr('font-size', small)
            .attr('font-weight', 600)
            .call((el) => appendRichText(el.node()!, lab.text));
        }
        if (!captionLines.length) return;
        const caption = root.append('text').attr('class', 'optima-caption').attr('font-size', small).attr('fill', p.muted);
        const lineHeight = Math.round(small * 1.4);
        captionLines.forEach((line, i) => {
          const t = caption.append('tspan').attr('x', g.layout.margin.left).attr('y', g.layout.height - 4 - (captionLines.length - 1 - i) * lineHeight);
          appendRichText(t.node()!, line);
        });
      },
    };
    const drawn = lineChart(chart, { width: data.width, palette: p, document: doc, tooltip: target === lineSvg ? lineTip : undefined });
    // Into the existing element: the panel keeps its node (and test id), exports get a fresh one.
    const node = target.node()!;
    node.replaceChildren(...drawn.childNodes);
    for (const attr of ['width', 'height', 'viewBox', 'font-family', 'font-size', 'fill', 'aria-label']) node.setAttribute(attr, drawn.getAttribute(attr) ?? '');
  }

  const exportable = (svg: d3.Selection<SVGSVGElement, unknown, null, undefined>, draw: (data: LandscapeData, land: LandscapeResult, target: d3.Selection<SVGSVGElement, unknown, null, undefined>) => void, style?: { palette: Palette; width: number }) => {
    if (!last?.landscape) return null;
    let clone: SVGSVGElement;
    if (style) {
      // Redrawn with the export's palette and width into a detached SVG (the panel is untouched).
      const detached = d3.select(doc.createElementNS('http://www.w3.org/2000/svg', 'svg') as SVGSVGElement);
      draw({ ...last, palette: style.palette, width: style.width }, last.landscape, detached);
      clone = detached.node()!;
    } else clone = svg.node()!.cloneNode(true) as SVGSVGElement;
    clone.querySelectorAll('.overlay, .crosshair').forEach((n) => n.remove());
    return clone;
  };

  return {
    update(data) {
      last = data;
      render(data);
    },
    exportSvgs(style) {
      return { maps: exportable(mapsSvg, renderMaps, style), line: exportable(lineSvg, renderLine, style) };
    },
    metric: () => metric,
    dispose() {
      mapsTip.remove();
      lineTip.remove();
      root.remove();
    },
  };
}
