// Aggregates over seeds: mean and standard error of the mean, with failed seeds excluded and
// counted (never averaged in as zero).

export interface MeanSem {
  /** Mean over the values that exist (null when none). */
  mean: number | null;
  /** Standard error of the mean: sample standard deviation (n - 1) / sqrt(n); null for fewer than 2 values. */
  sem: number | null;
  /** Values averaged. */
  n: number;
  /** Values left out because the run failed or the metric is undefined (null/NaN). */
  missing: number;
}

export function meanSem(values: readonly (number | null | undefined)[]): MeanSem {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const missing = values.length - xs.length;
  if (xs.length === 0) return { mean: null, sem: null, n: 0, missing };
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length < 2) return { mean, sem: null, n: 1, missing };
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sem: Math.sqrt(variance / xs.length), n: xs.length, missing };
}

/** "98.6 ± 0.3" in percentage points of a fraction, or "—" when there is no value. */
export function formatMeanSem(m: MeanSem, digits = 1): string {
  if (m.mean === null) return '—';
  const pct = (x: number) => (100 * x).toFixed(digits);
  return m.sem === null ? pct(m.mean) : `${pct(m.mean)} ± ${pct(m.sem)}`;
}
