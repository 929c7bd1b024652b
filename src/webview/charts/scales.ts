// Pure chart maths shared by every chart: x scales (linear, log, categorical), band paths (mean ±
// SEM), tick choice, and the diverging colour of a difference. No DOM: tested in plain Node.
import { area, interpolateLab, scaleLinear, scaleLog } from 'd3';
import type { Palette } from '../theme';

/** True where positive values span at least a decade: those read better on a log axis. */
export function spansDecades(values: readonly number[]): boolean {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length < 2 || xs.some((v) => v <= 0)) return false;
  return Math.max(...xs) / Math.min(...xs) >= 10;
}

/** A position scale: value -> pixel, with its ticks. Log where asked and possible (all positive). */
export interface PositionScale {
  (v: number): number;
  invert(px: number): number;
  ticks(count: number): number[];
  domain(): [number, number];
  log: boolean;
}

/**
 * x scale over `domain` onto [r0, r1]. A log scale needs a positive domain: a log request over
 * zero or negatives falls back to linear (and says so in `log`). A one-value domain is widened.
 */
export function positionScale(domain: readonly [number, number], range: readonly [number, number], log = false): PositionScale {
  let [d0, d1] = domain;
  const useLog = log && d0 > 0 && d1 > 0;
  if (d0 === d1) {
    if (useLog) {
      d0 /= 2;
      d1 *= 2;
    } else {
      d0 -= 0.5;
      d1 += 0.5;
    }
  }
  if (useLog) {
    const s = scaleLog().domain([d0, d1]).range([range[0], range[1]]);
    const f = ((v: number) => s(v)) as PositionScale;
    f.invert = (px) => s.invert(px);
    // Powers of ten only (1, 10, 100…) unless that leaves fewer than two ticks.
    f.ticks = (count) => {
      const all = s.ticks(count);
      const decades = all.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
      return decades.length >= 2 ? decades : all.filter((_, i) => i % Math.ceil(all.length / Math.max(2, count)) === 0);
    };
    f.domain = () => [d0, d1];
    f.log = true;
    return f;
  }
  const s = scaleLinear().domain([d0, d1]).range([range[0], range[1]]);
  const f = ((v: number) => s(v)) as PositionScale;
  f.invert = (px) => s.invert(px);
  f.ticks = (count) => s.ticks(count);
  f.domain = () => [d0, d1];
  f.log = false;
  return f;
}

/** The extent of the finite values (and of the bands' ends), or null when there are none. */
export function extentOf(values: Iterable<number | null | undefined>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

export interface BandPoint {
  x: number;
  lo: number | null | undefined;
  hi: number | null | undefined;
}

/**
 * The SVG path of a band between lo and hi (mean ± SEM) in pixels; gaps where a point has no band
 * (one seed: no SEM). '' when no point has one.
 */
export function bandPath(points: readonly BandPoint[], x: (v: number) => number, y: (v: number) => number): string {
  const has = (p: BandPoint) => typeof p.lo === 'number' && typeof p.hi === 'number' && Number.isFinite(p.lo) && Number.isFinite(p.hi);
  if (!points.some(has)) return '';
  const gen = area<BandPoint>()
    .defined(has)
    .x((p) => x(p.x))
    .y0((p) => y(p.lo as number))
    .y1((p) => y(p.hi as number));
  return gen(points as BandPoint[]) ?? '';
}

/** mean ± sem as a band, or no band (null ends) where the SEM is unknown. */
export function semBand(mean: number | null, sem: number | null): { lo: number | null; hi: number | null } {
  if (mean === null || sem === null || !Number.isFinite(mean) || !Number.isFinite(sem)) return { lo: null, hi: null };
  return { lo: mean - sem, hi: mean + sem };
}

/**
 * Colour of a difference on a diverging scale symmetric around 0: the background at 0, blue for
 * gains, vermillion for losses (Okabe & Ito: told apart with any colour vision), full at ±maxAbs.
 */
export function divergingColor(v: number, maxAbs: number, p: Palette): string {
  const t = maxAbs > 0 ? Math.max(-1, Math.min(1, v / maxAbs)) : 0;
  const positive = p.dark ? '#56B4E9' : '#0072B2';
  const negative = p.dark ? '#E69F00' : '#D55E00';
  return interpolateLab(p.background, t >= 0 ? positive : negative)(Math.abs(t));
}

/** The scale's half-width for differences: the largest |value|, at least `floor` (0.5 pp by default). */
export function divergingExtent(values: Iterable<number | null>, floor = 0.005): number {
  let m = 0;
  for (const v of values) if (typeof v === 'number' && Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return Math.max(m, floor);
}
