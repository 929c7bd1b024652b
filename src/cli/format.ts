import type { RunResult } from '../protocol/result';

const pct = (v: number | null | undefined, signed = false) =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : `${signed && v > 0 ? '+' : ''}${(v * 100).toFixed(2)}`;

/** The accuracy matrix and metrics as a plain-text table (percent). */
export function formatResultTable(r: RunResult): string {
  const labels = r.tasks.map((t) => t.label);
  const w = Math.max(12, ...labels.map((l) => l.length + 2));
  const pad = (s: string, n = w) => s.padStart(n);
  const lines: string[] = [];
  lines.push(`Accuracy matrix R[i][j] (%): row = after training task i, column = accuracy on task j`);
  lines.push(pad('', 22) + labels.map((l) => pad(l)).join(''));
  lines.push(pad('random init (b)', 22) + r.randomInitAccuracy.map((v) => pad(pct(v))).join(''));
  r.accuracyMatrix.forEach((row, i) => lines.push(pad(`after ${labels[i] ?? i}`, 22) + row.map((v) => pad(pct(v))).join('')));
  const m = r.metrics;
  lines.push('');
  lines.push(`ACC ${pct(m.acc)}   BWT ${pct(m.bwt, true)} pts   FWT ${pct(m.fwt, true)} pts   Forgetting ${pct(m.forgetting)} pts`);
  const t = r.timing;
  const env = r.environment;
  lines.push(
    `status ${r.status}${r.error ? ` (${r.error.phase}: ${r.error.message})` : ''} · backend ${env?.backend ?? '?'} · ` +
      `total ${(t.totalMs / 1000).toFixed(1)} s (data ${(t.dataMs / 1000).toFixed(1)} s, train ${(t.trainMs / 1000).toFixed(1)} s, ` +
      `eval ${(t.evalMs / 1000).toFixed(1)} s, landscape ${(t.landscapeMs / 1000).toFixed(1)} s) · ${t.trainImagesPerSecond.toFixed(0)} img/s`,
  );
  return lines.join('\n');
}

export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
