// Chart tick and coordinate formatting. Numbers, percentages and durations shared with the CLI and
// the host live in protocol/format.ts (one place for rounding rules).
import { roundHalfAway } from '../protocol/format';

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
