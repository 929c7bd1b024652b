// compare.csv: the raw numbers of a comparison for a spreadsheet or a plotting script. One row per
// group (mean, SEM and n of every value) and one per run; fractions as stored, not percentages.
// RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled.
import type { Comparison, MeanSemValue } from '../../protocol/compare';
import { COMPARE_METRICS, stableJson } from './build';

export const COMPARE_CSV_FILE = 'compare.csv';

type Cell = string | number | boolean | null | undefined;

/** One RFC 4180 field. */
export function csvField(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const paramText = (v: unknown): Cell => (v === undefined ? undefined : typeof v === 'object' && v !== null ? stableJson(v) : (v as Cell));

export function comparisonCsv(c: Comparison): string {
  const paramPaths = [...new Set(c.runs.flatMap((r) => Object.keys(r.params ?? {})).filter((p) => p !== 'seed'))];
  const T = Math.max(0, ...c.runs.map((r) => r.tasks.length), ...c.groups.map((g) => g.forgettingPerTask.length));
  const rows = Math.max(0, ...c.runs.map((r) => r.accuracyMatrix.length), ...c.groups.map((g) => g.accuracyMatrix.length));
  const cols = Math.max(0, ...c.runs.flatMap((r) => r.accuracyMatrix.map((row) => row.length)), ...c.groups.flatMap((g) => g.accuracyMatrix.map((row) => row.length)));
  const cells = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => `R[${i}][${j}]`)).flat();
  const forgetting = Array.from({ length: T }, (_, j) => `forgetting[${j}]`);
  // Each value column has its _sem and _n beside it (empty on run rows).
  const valueColumns = [...COMPARE_METRICS, ...forgetting, ...cells];
  const header = ['kind', 'group', 'label', 'id', 'seed', 'status', 'excluded', 'strategy', 'scenario', 'tasks', 'n', 'missing', ...paramPaths.map((p) => `param:${p}`), ...valueColumns.flatMap((v) => [v, `${v}_sem`, `${v}_n`])];
  const lines: Cell[][] = [header];
  const triple = (m: MeanSemValue | undefined): Cell[] => (m ? [m.mean, m.sem, m.n] : [undefined, undefined, undefined]);
  c.groups.forEach((g, gi) => {
    const first = c.runs[g.members[0]];
    const values: Cell[] = [
      ...COMPARE_METRICS.flatMap((m) => triple(g.metrics[m])),
      ...forgetting.flatMap((_, j) => triple(g.forgettingPerTask[j])),
      ...Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => triple(g.accuracyMatrix[i]?.[j]))).flat(2),
    ];
    const seeds = g.included.map((i) => c.runs[i].seed).join(' ');
    lines.push([
      'group', gi, g.label, '', seeds, '', '',
      first?.strategy, first?.scenario, first?.tasks.join(' → '), g.included.length, g.members.length - g.included.length,
      ...paramPaths.map((p) => paramText(g.params[p] ?? first?.params?.[p])),
      ...values,
    ]);
  });
  for (const r of c.runs) {
    const one = (v: number | null | undefined): Cell[] => [v, undefined, undefined];
    const values: Cell[] = [
      ...COMPARE_METRICS.flatMap((m) => one(r.metrics[m])),
      ...forgetting.flatMap((_, j) => one(r.forgettingPerTask[j])),
      ...Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => one(r.accuracyMatrix[i]?.[j]))).flat(2),
    ];
    lines.push([
      'run', r.group, r.label, r.id, r.seed, r.status, r.excluded, r.strategy, r.scenario, r.tasks.join(' → '), '', '',
      ...paramPaths.map((p) => paramText(r.params?.[p])),
      ...values,
    ]);
  }
  return lines.map((l) => l.map(csvField).join(',')).join('\r\n') + '\r\n';
}
