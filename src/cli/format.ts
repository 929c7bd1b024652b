import type { RunResult } from '../protocol/result';
import { averageAccuracy, formatDuration, formatPercent, formatPoints, phaseLabels, phasesOf, runSetupTitle, scenarioName, taskLabels } from '../protocol/format';

// The table keeps two decimals: runs are compared across seeds here.
const DECIMALS = 2;
const pct = (v: number | null | undefined) => formatPercent(v, DECIMALS);
const pts = (v: number | null | undefined, signed = false) => formatPoints(v, signed, DECIMALS);

/** R as text; `baseline`: the b row (scored in the run's own scenario, so not under the alternate matrix). */
function matrixLines(title: string, R: readonly (readonly number[] | null)[], r: RunResult, baseline: boolean): string[] {
  const labels = taskLabels(r);
  const rows = phaseLabels(r).map((l) => `after ${l}`);
  const w = Math.max(12, ...labels.map((l) => l.length + 2));
  const first = Math.max(22, ...rows.map((l) => l.length + 2));
  const pad = (s: string, n = w) => s.padStart(n);
  const lines = [title, pad('', first) + labels.map((l) => pad(l)).join('')];
  if (baseline) lines.push(pad('random init (b)', first) + r.randomInitAccuracy.map((v) => pad(pct(v))).join(''));
  R.forEach((row, i) => {
    if (row) lines.push(pad(rows[i] ?? `after phase ${i}`, first) + row.map((v) => pad(pct(v))).join(''));
  });
  return lines;
}

/** The accuracy matrix (and the alternate scenario's, where scored) and metrics as a plain-text table (percent). */
export function formatResultTable(r: RunResult): string {
  const lines: string[] = [runSetupTitle(r), ''];
  lines.push(...matrixLines(`Accuracy matrix R[i][j] (%), ${scenarioName(r.head?.scenario)}: row = after training phase i, column = accuracy on task j`, r.accuracyMatrix, r, true));
  const m = r.metrics;
  const onePhase = phasesOf(r).length === 1;
  const rowMetric = (v: number | null | undefined, signed = false) => (onePhase ? 'n/a — one phase' : `${pts(v, signed)} pts`);
  lines.push('');
  const metrics = [`ACC ${pct(m.acc)}`, `BWT ${rowMetric(m.bwt, true)}`, `FWT ${rowMetric(m.fwt, true)}`, `Forgetting ${rowMetric(m.forgetting)}`];
  if (m.intransigence !== undefined) metrics.push(`Intransigence ${pts(m.intransigence, true)} pts`);
  lines.push(metrics.join('   '));
  lines.push('BWT, FWT: Lopez-Paz & Ranzato 2017; forgetting: Chaudhry et al. 2018 (maximum over earlier rows)');
  const alt = r.alternateAccuracy;
  if (alt) {
    lines.push('');
    lines.push(...matrixLines(`The same rows scored ${scenarioName(alt.scenario)} (%)`, alt.accuracyMatrix, r, false));
    lines.push(`ACC (${scenarioName(alt.scenario)}) ${pct(averageAccuracy(alt.accuracyMatrix, phasesOf(r)))}`);
  }
  if (r.notes?.length) {
    lines.push('', 'Notes (what the run changed in what the experiment asked for):');
    for (const n of r.notes) lines.push(`  - ${n.message}`);
  }
  const t = r.timing;
  const env = r.environment;
  lines.push('');
  lines.push(
    `status ${r.status}${r.error ? ` (${r.error.phase}: ${r.error.message})` : ''} · backend ${env?.backend ?? '?'} · ` +
      `total ${formatDuration(t.totalMs)} (data ${formatDuration(t.dataMs)}, train ${formatDuration(t.trainMs)}, ` +
      `eval ${formatDuration(t.evalMs)}, landscape ${formatDuration(t.landscapeMs)}) · ${t.trainImagesPerSecond.toFixed(0)} img/s`,
  );
  return lines.join('\n');
}
