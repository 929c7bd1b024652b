// Loss landscape on the plane through theta_A and theta_B: one filled contour map per task (one
// shared colour scale so the maps compare), optima markers, the projected training trajectory, and
// the 1D curve along theta_A -> theta_B below.
import * as d3 from 'd3';
import type { LandscapeResult } from '../../protocol/result';
import { formatCoordinate, formatPercentTick, formatTick } from '../format';
import { formatCount, formatDuration, formatPercent, formatValue } from '../../protocol/format';
import { appendRichText, h, setChildren } from '../dom';
import { taskColor, type Palette } from '../theme';
import { createTooltip, fitText, nearestIndex, resetChartSvg, styleAxis, textWidth } from './axes';

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
  /** Left edge of map k's plot box. */
  mapLeft: number[];
  top: number;
  axisWidth: number;
  colorbarLeft: number;
}

export function landscapeLayout(width: number, maps: number, fontSize: number): LandscapeLayout {
  const axisWidth = Math.round(fontSize * 3.4);
  const gap = 18;
  const colorbarWidth = Math.round(fontSize * 8);
  const top = Math.round(fontSize * 2.4);
  const bottom = Math.round(fontSize * 3.2);
  const n = Math.max(1, maps);
  const avail = width - colorbarWidth - n * axisWidth - (n - 1) * gap - 8;
  const mapSize = Math.round(Math.min(400, Math.max(150, avail / n)));
  const mapLeft = Array.from({ length: n }, (_, k) => axisWidth + k * (mapSize + gap + axisWidth));
  const colorbarLeft = mapLeft[n - 1] + mapSize + gap;
  return { width: colorbarLeft + colorbarWidth, height: top + mapSize + bottom, mapSize, mapLeft, top, axisWidth, colorbarLeft };
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
  exportSvgs(): { maps: SVGSVGElement | null; line: SVGSVGElement | null };
  metric(): LandscapeMetric;
  dispose(): void;
}

const gridOf = (g: LandscapeResult['grids'][number], m: LandscapeMetric) => (m === 'loss' ? g.loss : g.accuracy);
const fmtMetric = (m: LandscapeMetric, v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : m === 'loss' ? formatValue(v) : `${formatPercent(v)}%`);

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
    renderMaps(data, land);
    renderLine(data, land);
  }

  function renderInfo(land: LandscapeResult) {
    const axis2 = land.secondAxis === 'trajectory-pca' ? 'dominant PCA direction of the trajectory' : 'filter-normalised random direction';
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

  function renderMaps(data: LandscapeData, land: LandscapeResult) {
    const p = data.palette;
    const small = Math.max(10, p.fontSize - 2);
    const grids = [...land.grids].sort((a, b) => a.task - b.task);
    const L = landscapeLayout(data.width, grids.length, p.fontSize);
    const scale = landscapeScale(land, metric);
    resetChartSvg(mapsSvg, L.width, L.height, p, `${metric} of each task on the plane through the task optima`);
    const label = (t: number) => data.labels[t] ?? `task ${t}`;
    const segments = trajectorySegments(land.trajectory);
    const crosshairs: d3.Selection<SVGCircleElement, unknown, null, undefined>[] = [];
    const geoms: GridGeometry[] = [];

    grids.forEach((grid, k) => {
      const geom = gridGeometry(land.alphas, land.betas, { left: L.mapLeft[k], top: L.top, maxWidth: L.mapSize, maxHeight: L.mapSize });
      geoms.push(geom);
      const g = mapsSvg.append('g').attr('class', 'map').attr('data-testid', 'landscape-map').attr('data-task', grid.task);
      g.append('text')
        .attr('x', geom.left)
        .attr('y', L.top - 10)
        .attr('font-weight', 600)
        .attr('fill', taskColor(p, grid.task))
        .text(fitText(`${label(grid.task)} · ${metric}`, geom.width, p.fontSize));

      const padded = paddedContourGrid(gridOf(grid, metric), scale);
      const contours = d3.contours().size([padded.nx, padded.ny]).thresholds(scale.thresholds)(padded.values);
      const path = d3.geoPath(
        d3.geoTransform({
          point(cx, cy) {
            this.stream.point(geom.x(geom.alphaOfContour(cx, CONTOUR_PAD)), geom.y(geom.betaOfContour(cy, CONTOUR_PAD)));
          },
        }),
      );
      const clipId = `clw-map-clip-${instance}-${k}`;
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
        .attr('transform', `translate(${geom.left - L.axisWidth + 10},${geom.top + geom.height / 2}) rotate(-90)`)
        .attr('text-anchor', 'middle')
        .attr('fill', p.muted)
        .attr('font-size', small)
        .text('β');

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
      trajectoryCrossings(g, geom, land, p, small);

      // Optima: theta_A at (0, 0), theta_B at (1, 0).
      const optima = [
        { which: 'A', task: land.optima[0], alpha: 0 },
        { which: 'B', task: land.optima[1], alpha: 1 },
      ];
      for (const o of optima) {
        const cx = geom.x(o.alpha);
        const cy = geom.y(0);
        const og = g.append('g').attr('class', 'optimum');
        og.append('circle')
          .attr('data-testid', 'optimum')
          .attr('data-which', o.which)
          .attr('data-task', o.task)
          .attr('cx', cx)
          .attr('cy', cy)
          .attr('r', 5.5)
          .attr('fill', '#ffffff')
          .attr('stroke', '#000000')
          .attr('stroke-width', 1.5);
        og.append('text')
          .attr('x', cx)
          .attr('y', cy - 10)
          .attr('text-anchor', 'middle')
          .attr('font-size', small)
          .attr('font-weight', 600)
          .attr('fill', '#ffffff')
          .attr('stroke', '#000000')
          .attr('stroke-width', 3)
          .attr('stroke-opacity', 0.75)
          .attr('paint-order', 'stroke')
          .call((t) => appendRichText(t.node()!, `θ_${o.which} after ${optimumLabel(data, o.task)}`));
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
    function trajectoryCrossings(g: d3.Selection<SVGGElement, unknown, null, undefined>, geom: GridGeometry, land: LandscapeResult, p: Palette, small: number) {
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
        const text = fitText(`from init (${formatCoordinate(init.alpha)}, ${formatCoordinate(init.beta)})`, room, small);
        const nearTop = c.y < geom.top + geom.height / 2;
        const ty = Math.min(geom.top + geom.height - pad, Math.max(geom.top + small + pad, c.y + (nearTop ? small + 12 : -12)));
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

    renderColorbar(p, L, scale, geoms[0]);
  }

  function renderColorbar(p: Palette, L: LandscapeLayout, scale: LandscapeScale, geom: GridGeometry) {
    const small = Math.max(10, p.fontSize - 2);
    const g = mapsSvg.append('g').attr('class', 'colorbar').attr('data-testid', 'colorbar');
    const barW = 14;
    const x0 = L.colorbarLeft;
    const top = geom.top;
    const height = geom.height;
    const yOf = (v: number) => top + height * (1 - (scale.metric === 'loss' ? scale.position(v) : 1 - scale.position(v)));
    const ts = scale.thresholds;
    ts.forEach((t, k) => {
      const next = k + 1 < ts.length ? ts[k + 1] : scale.hi;
      const y1 = yOf(t);
      const y2 = k + 1 < ts.length ? yOf(next) : top;
      g.append('rect').attr('x', x0).attr('y', Math.min(y1, y2)).attr('width', barW).attr('height', Math.max(0.5, Math.abs(y1 - y2))).attr('fill', scale.color(t));
    });
    g.append('rect').attr('x', x0).attr('y', top).attr('width', barW).attr('height', height).attr('fill', 'none').attr('stroke', p.border);
    const ticks =
      scale.metric === 'loss'
        ? d3
            .scaleLog()
            .domain([scale.lo, scale.hi])
            .ticks(6)
            .filter((v) => v >= scale.lo && v <= scale.hi)
        : [0, 0.25, 0.5, 0.75, 1];
    const tickVals = ticks.length > 6 ? ticks.filter((_, i) => i % Math.ceil(ticks.length / 6) === 0) : ticks;
    for (const v of tickVals) {
      const y = yOf(v);
      g.append('line').attr('x1', x0 + barW).attr('x2', x0 + barW + 4).attr('y1', y).attr('y2', y).attr('stroke', p.muted);
      g.append('text').attr('x', x0 + barW + 7).attr('y', y).attr('dominant-baseline', 'central').attr('font-size', small).text(scale.metric === 'loss' ? formatTick(v) : formatPercentTick(v));
    }
    g.append('text')
      .attr('x', x0)
      .attr('y', top - 10)
      .attr('font-size', small)
      .attr('fill', p.muted)
      .text(scale.metric === 'loss' ? 'loss (log)' : 'accuracy');
    if (scale.clipped) {
      g.append('text')
        .attr('x', x0)
        .attr('y', top + height + small + 6)
        .attr('font-size', small)
        .attr('fill', p.muted)
        .text(`≥ ${formatValue(scale.hi)} clipped`);
    }
  }

  function renderLine(data: LandscapeData, land: LandscapeResult) {
    const p = data.palette;
    const small = Math.max(10, p.fontSize - 2);
    const width = Math.max(320, Math.round(data.width));
    const height = Math.round(Math.min(260, Math.max(200, width * 0.22)));
    const margin = { top: Math.round(p.fontSize * 3.4), right: 20, bottom: Math.round(p.fontSize * 3.2), left: Math.round(p.fontSize * 4) };
    const innerW = width - margin.left - margin.right;
    const innerH = height - margin.top - margin.bottom;
    const ts = land.line.t;
    const series = (metric === 'loss' ? land.line.loss : land.line.accuracy).map((vals, task) => ({ task, vals }));
    const all = series.flatMap((s) => s.vals).filter(Number.isFinite);
    const yMax = metric === 'loss' ? Math.max(1e-6, ...all) * 1.05 : 1;
    const x = d3.scaleLinear().domain(d3.extent(ts) as [number, number]).range([margin.left, margin.left + innerW]);
    const y = d3.scaleLinear().domain([0, yMax]).range([margin.top + innerH, margin.top]).nice();
    resetChartSvg(lineSvg, width, height, p, `${metric} of each task along the straight line from θ_A to θ_B`);
    const yTicks = y.ticks(5);
    lineSvg
      .append('g')
      .selectAll('line')
      .data(yTicks)
      .join('line')
      .attr('x1', margin.left)
      .attr('x2', margin.left + innerW)
      .attr('y1', (v) => y(v))
      .attr('y2', (v) => y(v))
      .attr('stroke', p.grid);
    const gx = lineSvg.append('g').attr('class', 'axis x').attr('transform', `translate(0,${margin.top + innerH})`);
    gx.call(d3.axisBottom(x).ticks(Math.max(3, Math.floor(innerW / 110))));
    styleAxis(gx, p);
    const gy = lineSvg.append('g').attr('class', 'axis y').attr('transform', `translate(${margin.left},0)`);
    gy.call(
      d3
        .axisLeft(y)
        .tickValues(yTicks)
        .tickFormat((v) => (metric === 'loss' ? formatTick(+v) : formatPercentTick(+v))),
    );
    styleAxis(gy, p);
    lineSvg
      .append('text')
      .attr('x', margin.left + innerW / 2)
      .attr('y', height - 6)
      .attr('text-anchor', 'middle')
      .attr('fill', p.muted)
      .attr('font-size', small)
      .call((t) => appendRichText(t.node()!, 't: θ_A + t (θ_B − θ_A)'));
    lineSvg
      .append('text')
      .attr('transform', `translate(12,${margin.top + innerH / 2}) rotate(-90)`)
      .attr('text-anchor', 'middle')
      .attr('fill', p.muted)
      .attr('font-size', small)
      .text(metric);
    const label = (t: number) => data.labels[t] ?? `task ${t}`;
    for (const [which, t, task] of [['A', 0, land.optima[0]], ['B', 1, land.optima[1]]] as const) {
      if (t < x.domain()[0] || t > x.domain()[1]) continue;
      lineSvg.append('line').attr('data-testid', 'line-optimum').attr('data-which', which).attr('x1', x(t)).attr('x2', x(t)).attr('y1', margin.top - 4).attr('y2', margin.top + innerH).attr('stroke', p.foreground).attr('stroke-opacity', 0.55).attr('stroke-dasharray', '4 3');
      lineSvg
        .append('text')
        .attr('x', x(t))
        .attr('y', margin.top - 8)
        .attr('text-anchor', 'middle')
        .attr('font-size', small)
        .attr('font-weight', 600)
        .call((t) => appendRichText(t.node()!, `θ_${which} after ${optimumLabel(data, task)}`));
    }
    const legend = lineSvg.append('g').attr('transform', `translate(${margin.left},${Math.round(p.fontSize * 1.1)})`);
    let lx = 0;
    series.forEach((s) => {
      const item = legend.append('g').attr('transform', `translate(${lx},0)`);
      item.append('line').attr('x1', 0).attr('x2', 18).attr('stroke', taskColor(p, s.task)).attr('stroke-width', 2.5);
      item.append('text').attr('x', 24).attr('dominant-baseline', 'central').attr('font-size', small).text(`${label(s.task)} ${metric}`);
      lx += 24 + textWidth(`${label(s.task)} ${metric}`, small) + 18;
    });
    const path = d3
      .line<number>()
      .defined((v) => Number.isFinite(v))
      .x((_, i) => x(ts[i]))
      .y((v) => y(v));
    lineSvg
      .append('g')
      .attr('fill', 'none')
      .selectAll('path')
      .data(series)
      .join('path')
      .attr('data-task', (s) => s.task)
      .attr('d', (s) => path(s.vals) ?? '')
      .attr('stroke', (s) => taskColor(p, s.task))
      .attr('stroke-width', 2);
    const hover = lineSvg.append('g').attr('pointer-events', 'none').attr('visibility', 'hidden');
    const rule = hover.append('line').attr('y1', margin.top).attr('y2', margin.top + innerH).attr('stroke', p.foreground).attr('stroke-opacity', 0.5);
    const dots = hover.selectAll('circle').data(series).join('circle').attr('r', 4).attr('fill', (s) => taskColor(p, s.task)).attr('stroke', p.background).attr('stroke-width', 1.5);
    const order = ts.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t);
    const sortedT = order.map((o) => o.t);
    lineSvg
      .append('rect')
      .attr('class', 'overlay')
      .attr('x', margin.left)
      .attr('y', margin.top)
      .attr('width', innerW)
      .attr('height', innerH)
      .attr('fill', 'transparent')
      .on('pointermove', (event: PointerEvent) => {
        const [mx, my] = d3.pointer(event, lineSvg.node());
        const k = nearestIndex(sortedT, x.invert(mx));
        if (k < 0) return;
        const i = order[k].i;
        rule.attr('x1', x(ts[i])).attr('x2', x(ts[i]));
        dots.attr('cx', x(ts[i])).attr('cy', (s) => y(Number.isFinite(s.vals[i]) ? s.vals[i] : 0));
        hover.attr('visibility', 'visible');
        lineTip.show(
          [{ text: `t = ${formatCoordinate(ts[i])}`, strong: true }, ...series.map((s) => ({ text: `${label(s.task)}: ${fmtMetric(metric, s.vals[i])}`, color: taskColor(p, s.task) }))],
          x(ts[i]),
          my,
        );
      })
      .on('pointerleave', () => {
        hover.attr('visibility', 'hidden');
        lineTip.hide();
      });
  }

  const exportable = (svg: d3.Selection<SVGSVGElement, unknown, null, undefined>) => {
    if (!last?.landscape) return null;
    const clone = svg.node()!.cloneNode(true) as SVGSVGElement;
    clone.querySelectorAll('.overlay, .crosshair').forEach((n) => n.remove());
    return clone;
  };

  return {
    update(data) {
      last = data;
      render(data);
    },
    exportSvgs() {
      return { maps: exportable(mapsSvg), line: exportable(lineSvg) };
    },
    metric: () => metric,
    dispose() {
      mapsTip.remove();
      lineTip.remove();
      root.remove();
    },
  };
}
