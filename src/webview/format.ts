// Number and time formatting shared by every part of the workbench (one place for rounding rules).

/** Rounds half away from zero; the tiny nudge absorbs binary noise such as 0.5735 * 1000 = 573.4999…. */
export function roundHalfAway(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return (Math.sign(x) * Math.round(Math.abs(x) * f + 1e-6)) / f;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A fraction as a percentage with one decimal, no sign, no unit: 0.989 -> "98.9". */
export function formatPercent(v: number | null | undefined): string {
  if (!isNumber(v)) return '—';
  const r = roundHalfAway(v * 100, 1);
  return (r === 0 ? 0 : r).toFixed(1);
}

/** A difference of fractions in percentage points, one decimal; signed: -0.745 -> "-74.5", 0.012 -> "+1.2". */
export function formatPoints(v: number | null | undefined, signed: boolean): string {
  if (!isNumber(v)) return '—';
  const r = roundHalfAway(v * 100, 1);
  if (r === 0) return '0.0';
  const s = Math.abs(r).toFixed(1);
  if (r < 0) return `-${s}`;
  return signed ? `+${s}` : s;
}

/** 12 s, 3m 05s, 1h 02m. */
export function formatDuration(ms: number | null | undefined): string {
  if (!isNumber(ms) || ms < 0) return '—';
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** Thousands separators: 225034 -> "225,034". */
export function formatCount(n: number | null | undefined): string {
  if (!isNumber(n)) return '—';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Axis ticks for training steps: 0, 500, 1k, 1.5k, 12k. */
export function formatStepTick(n: number): string {
  if (Math.abs(n) < 1000) return String(Math.round(n));
  const k = n / 1000;
  return `${Number.isInteger(k) ? k.toFixed(0) : roundHalfAway(k, 1).toString()}k`;
}

/** Axis ticks for a fraction shown as a percentage: 0.5 -> "50%". */
export function formatPercentTick(v: number): string {
  return `${roundHalfAway(v * 100, 0)}%`;
}

/** A loss or other positive quantity with about three significant digits: 0.0671 -> "0.0671", 3.7412 -> "3.74". */
export function formatValue(v: number | null | undefined): string {
  if (!isNumber(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000 || a < 1e-3) return v.toExponential(2);
  const digits = Math.max(0, 2 - Math.floor(Math.log10(a)));
  return v.toFixed(digits);
}

/** Short coordinate in plane units: 0.3 -> "0.30", -1 -> "-1.00". */
export function formatCoordinate(v: number): string {
  const r = roundHalfAway(v, 2);
  return (r === 0 ? 0 : r).toFixed(2);
}

/** Axis tick for a positive quantity: three significant digits, no trailing zeros: 0.0700 -> "0.07", 9 -> "9". */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-4) return v.toExponential(1).replace(/\.0e/, 'e');
  return String(Number(v.toPrecision(3)));
}
