// What the compare layout shows, computed from a Comparison (pure: no DOM). Cell texts are mean ±
// SEM in percent ("98.2 ± 0.3"), the difference is B − A in percentage points, the metrics table is
// one row per group with its runs under it (excluded runs kept, with their reason), sortable.
import type { CompareMetric, CompareRun, Comparison, MeanSemValue, SweepSeries } from '../../protocol/compare';
import type { SweepValue } from '../../protocol/sweep';
import { formatPercent, formatPoints, sweepValueLabel } from '../../protocol/format';

/** Show each group (mean ± SEM over its seeds) or each run. */
export type CompareLevel = 'group' | 'run';

const single = (v: number | null | undefined): MeanSemValue =>
  typeof v === 'number' && Number.isFinite(v) ? { mean: v, sem: null, n: 1, missing: 0 } : { mean: null, sem: null, n: 0, missing: 1 };

/** The level shown by default: groups, unless every group is one run (then runs read the same, and say more). */
export function defaultLevel(c: Comparison): CompareLevel {
  return c.groups.some((g) => g.members.length > 1) ? 'group' : 'run';
}

/** A percentage with its SEM: "98.2 ± 0.3"; "98.2" without a SEM (one seed); "—" without a value. */
export function meanSemText(v: MeanSemValue | null | undefined, signed = false, decimals = 1): string {
  if (!v || v.mean === null || !Number.isFinite(v.mean)) return '—';
  const m = signed ? formatPoints(v.mean, true, decimals) : formatPercent(v.mean, decimals);
  return v.sem === null || !Number.isFinite(v.sem) ? m : `${m} ± ${formatPercent(v.sem, decimals)}`;
}

/** One R matrix of the comparison: a group's (mean ± SEM per cell) or a run's. */
export interface MatrixEntity {
  level: CompareLevel;
  /** Index into Comparison.groups or Comparison.runs. */
  index: number;
  label: string;
  /** "3 seeds (1 excluded)", "seed 2", "excluded: failed". */
  detail: string;
  tasks: string[];
  rows: MeanSemValue[][];
  /** The group it belongs to (colour). */
  group: number;
  excluded?: string;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export function groupDetail(c: Comparison, g: number): string {
  const group = c.groups[g];
  const out = group.members.length - group.included.length;
  return `${plural(group.included.length, 'seed')}${out ? ` (${out} excluded)` : ''}`;
}

/** The tasks of a group: those of its first included member (of any member when none is included). */
function groupTasks(c: Comparison, g: number): string[] {
  const group = c.groups[g];
  const first = group.included[0] ?? group.members[0];
  return first === undefined ? [] : (c.runs[first]?.tasks ?? []);
}

/**
 * A run's R as cells; a run that ended early (failed, cancelled) gets its missing rows as missing
 * cells, one row per task, so what it never measured shows as "—" rather than disappearing.
 */
function runRows(r: CompareRun): MeanSemValue[][] {
  const rows = r.accuracyMatrix.map((row) => r.tasks.map((_, j) => single(row[j])));
  if (r.status !== 'completed') while (rows.length < r.tasks.length) rows.push(r.tasks.map(() => single(null)));
  return rows;
}

export function matrixEntities(c: Comparison, level: CompareLevel): MatrixEntity[] {
  if (level === 'group') {
    return c.groups.map((g, index) => ({ level, index, label: g.label, detail: groupDetail(c, index), tasks: groupTasks(c, index), rows: g.accuracyMatrix, group: index }));
  }
  return c.runs.map((r, index) => ({
    level,
    index,
    label: r.label,
    detail: r.excluded ? `excluded: ${r.excluded}` : r.status === 'completed' ? '' : r.status,
    tasks: r.tasks,
    rows: runRows(r),
    group: r.group,
    excluded: r.excluded,
  }));
}

export interface DifferenceCell {
  /** B − A (fractions); null where either is missing. */
  value: number | null;
  /** √(SEM_A² + SEM_B²) where both have one. */
  sem: number | null;
}

export interface Difference {
  a: MatrixEntity;
  b: MatrixEntity;
  tasks: string[];
  rows: DifferenceCell[][];
  /** The two were trained on different tasks: the difference is cell by cell, and says so. */
  sameTasks: boolean;
}

/** B − A cell by cell over the rows and columns both have. */
export function differenceOf(a: MatrixEntity, b: MatrixEntity): Difference {
  const rows = Math.min(a.rows.length, b.rows.length);
  const cols = Math.min(a.tasks.length, b.tasks.length);
  const out: DifferenceCell[][] = [];
  for (let i = 0; i < rows; i++) {
    const row: DifferenceCell[] = [];
    for (let j = 0; j < cols; j++) {
      const va = a.rows[i]?.[j];
      const vb = b.rows[i]?.[j];
      if (!va || !vb || va.mean === null || vb.mean === null) {
        row.push({ value: null, sem: null });
        continue;
      }
      const sem = va.sem !== null && vb.sem !== null ? Math.sqrt(va.sem ** 2 + vb.sem ** 2) : null;
      row.push({ value: vb.mean - va.mean, sem });
    }
    out.push(row);
  }
  const sameTasks = a.tasks.length === b.tasks.length && a.tasks.every((t, j) => t === b.tasks[j]);
  return { a, b, tasks: (sameTasks ? a.tasks : a.tasks.map((t, j) => (t === b.tasks[j] ? t : `${t} / ${b.tasks[j]}`))).slice(0, cols), rows: out, sameTasks };
}

/** A difference cell as shown: "+1.2" percentage points ("−" never hides the sign). */
export function differenceText(d: DifferenceCell): string {
  return d.value === null ? '—' : formatPoints(d.value, true);
}

// ---- the metrics table ----

export interface MetricColumn {
  key: string;
  title: string;
  /** What the column means (header tooltip). */
  description: string;
  /** Differences (BWT, FWT) are signed. */
  signed: boolean;
}

const METRIC_INFO: Record<CompareMetric, { title: string; description: string; signed: boolean }> = {
  acc: { title: 'ACC', description: 'Average accuracy over the tasks after the last phase (%)', signed: false },
  bwt: { title: 'BWT', description: 'Backward transfer: how training later tasks changed earlier ones (pp; negative = forgetting)', signed: true },
  fwt: { title: 'FWT', description: 'Forward transfer: accuracy on a task before training it, over the random-init baseline (pp)', signed: true },
  forgetting: { title: 'Forgetting', description: 'Average over earlier tasks of their best accuracy minus the final one (pp)', signed: false },
  learningAccuracy: { title: 'LA', description: 'Learning accuracy: each task right after training it, averaged (%)', signed: false },
};
export const COMPARE_METRICS: readonly CompareMetric[] = ['acc', 'bwt', 'fwt', 'forgetting', 'learningAccuracy'];
export const metricTitle = (m: CompareMetric) => METRIC_INFO[m].title;
export const metricSigned = (m: CompareMetric) => METRIC_INFO[m].signed;

/** Columns: the metrics, then forgetting per task (F_j) for the tasks any run has. */
export function metricColumns(c: Comparison): MetricColumn[] {
  const cols: MetricColumn[] = COMPARE_METRICS.map((m) => ({ key: m, ...METRIC_INFO[m] }));
  const T = Math.max(0, ...c.runs.map((r) => r.forgettingPerTask.length), ...c.groups.map((g) => g.forgettingPerTask.length));
  const names = c.runs[0]?.tasks ?? [];
  // A task nobody forgot (the last one: nothing trained after it) has no column.
  const measured = (j: number) => c.runs.some((r) => typeof r.forgettingPerTask[j] === 'number') || c.groups.some((g) => g.forgettingPerTask[j]?.mean !== null && g.forgettingPerTask[j] !== undefined);
  for (let j = 0; j < T; j++) if (measured(j)) cols.push({ key: `f${j}`, title: `F${j}`, description: `Forgetting of task ${j}${names[j] ? ` (${names[j]})` : ''}: its best accuracy minus the final one (pp)`, signed: false });
  return cols;
}

export interface MetricsRow {
  key: string;
  level: CompareLevel;
  index: number;
  group: number;
  label: string;
  detail: string;
  excluded?: string;
  values: Record<string, MeanSemValue>;
}

function runRow(r: CompareRun, index: number): MetricsRow {
  const values: Record<string, MeanSemValue> = {};
  for (const m of COMPARE_METRICS) values[m] = single(r.metrics[m]);
  r.forgettingPerTask.forEach((f, j) => (values[`f${j}`] = single(f)));
  // The label already names the seed ("EWC λ=1000 · seed 2"): the detail says only why it is out.
  return { key: `run-${index}`, level: 'run', index, group: r.group, label: r.label, detail: r.excluded ? `excluded: ${r.excluded}` : '', excluded: r.excluded, values };
}

/** One row per group (mean ± SEM), each followed by its runs. */
export function metricsRows(c: Comparison): MetricsRow[] {
  const rows: MetricsRow[] = [];
  c.groups.forEach((g, gi) => {
    const values: Record<string, MeanSemValue> = { ...g.metrics };
    g.forgettingPerTask.forEach((f, j) => (values[`f${j}`] = f));
    rows.push({ key: `group-${gi}`, level: 'group', index: gi, group: gi, label: g.label, detail: groupDetail(c, gi), values });
    for (const r of g.members) if (c.runs[r]) rows.push(runRow(c.runs[r], r));
  });
  return rows;
}

export type SortDirection = 'asc' | 'desc';
export interface SortKey {
  column: string;
  direction: SortDirection;
}

/** The sort value of a row in a column: the label, or the mean (missing values sort last either way). */
function sortValue(row: MetricsRow, column: string): string | number | null {
  if (column === 'label') return row.label;
  const v = row.values[column]?.mean;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function compareBy(column: string, direction: SortDirection) {
  const sign = direction === 'asc' ? 1 : -1;
  return (a: MetricsRow, b: MetricsRow) => {
    const va = sortValue(a, column);
    const vb = sortValue(b, column);
    if (va === null || vb === null) return va === vb ? 0 : va === null ? 1 : -1;
    if (typeof va === 'string' || typeof vb === 'string') return sign * String(va).localeCompare(String(vb), undefined, { numeric: true });
    return sign * (va - vb);
  };
}

/**
 * Rows sorted by a column: groups among themselves, each group's runs under it sorted the same way
 * (excluded runs last); rows with no value in the column go last. Stable.
 */
export function sortMetricsRows(rows: readonly MetricsRow[], key: SortKey | null): MetricsRow[] {
  if (!key) return [...rows];
  const cmp = compareBy(key.column, key.direction);
  const groups = rows.filter((r) => r.level === 'group');
  const runsOf = (g: number) => rows.filter((r) => r.level === 'run' && r.group === g);
  const sortedRuns = (g: number) => {
    const runs = runsOf(g);
    return [...runs.filter((r) => !r.excluded).sort(cmp), ...runs.filter((r) => r.excluded)];
  };
  if (!groups.length) return [...rows].sort(cmp);
  return [...groups].sort(cmp).flatMap((g) => [g, ...sortedRuns(g.group)]);
}

/** A table cell: the value in percent (pp for signed metrics) with ± SEM. */
export function metricCellText(row: MetricsRow, col: MetricColumn): string {
  return meanSemText(row.values[col.key], col.signed);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The metrics table as CSV: fractions (as in result.json), mean, SEM and n per metric; excluded runs with their reason. */
export function metricsCsv(c: Comparison, rows: readonly MetricsRow[] = metricsRows(c)): string {
  const cols = metricColumns(c);
  const head = ['level', 'label', 'group', 'seed', 'status', 'excluded', ...cols.flatMap((k) => [`${k.key}_mean`, `${k.key}_sem`, `${k.key}_n`])];
  const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '');
  const lines = [head.join(',')];
  for (const r of rows) {
    const run = r.level === 'run' ? c.runs[r.index] : undefined;
    const cells = [r.level, r.label, c.groups[r.group]?.label ?? '', run ? String(run.seed) : '', run?.status ?? '', r.excluded ?? ''].map(csvField);
    for (const k of cols) {
      const v = r.values[k.key];
      cells.push(num(v?.mean), num(v?.sem), v ? String(v.n) : '0');
    }
    lines.push(cells.join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

// ---- curves and sweeps as line-chart data (colours chosen by the caller) ----

export interface CurveSeriesData {
  label: string;
  /** Group index (its colour). */
  group: number;
  points: { x: number; y: number | null; lo: number | null; hi: number | null }[];
}

const band = (v: MeanSemValue | undefined) => {
  if (!v || v.mean === null) return { y: null, lo: null, hi: null };
  return v.sem === null ? { y: v.mean, lo: null, hi: null } : { y: v.mean, lo: v.mean - v.sem, hi: v.mean + v.sem };
};

/** Task `task`'s accuracy over training steps: one series per group (mean ± SEM band) or per run. */
export function taskCurves(c: Comparison, level: CompareLevel, task: number): CurveSeriesData[] {
  if (level === 'group') {
    return c.groups.map((g, gi) => ({ label: g.label, group: gi, points: g.curves.map((pt) => ({ x: pt.step, ...band(pt.accuracy[task]) })) }));
  }
  return c.runs
    .map((r) => ({ r, label: r.excluded ? `${r.label} (excluded)` : r.label }))
    .map(({ r, label }) => ({ label, group: r.group, points: r.curves.map((pt) => ({ x: pt.step, y: finiteOrNull(pt.accuracy[task]), lo: null, hi: null })) }));
}

const finiteOrNull = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The task names of the comparison: the longest task list of any run. */
export function compareTasks(c: Comparison): string[] {
  return c.runs.reduce<string[]>((best, r) => (r.tasks.length > best.length ? r.tasks : best), []);
}

/** Task boundaries shared by every group (else none: the runs trained for different lengths). */
export function sharedBoundaries(c: Comparison): number[] {
  const all = c.groups.map((g) => g.taskBoundaries.join(','));
  return all.length && all.every((b) => b === all[0]) ? (c.groups[0]?.taskBoundaries ?? []) : [];
}

export interface SweepChartData {
  path: string;
  metric: CompareMetric;
  log: boolean;
  /** Numeric x (values), or categories (their names, x = index). */
  categories: string[] | null;
  series: { label: string; points: { x: number; y: number | null; lo: number | null; hi: number | null; n: number }[] }[];
}

/** A swept value as text: 1000 -> "1000", "ewc" -> "ewc", objects as JSON. */
/** A swept value as the axis shows it (protocol/format.ts sweepValueLabel). */
export const sweepValueText = (v: SweepValue): string => sweepValueLabel(v);

/** A sweep series as chart data: numeric x where every value is a number, else one category per value. */
export function sweepChart(s: SweepSeries): SweepChartData {
  const values = s.series.flatMap((q) => q.points.map((pt) => pt.x));
  const numeric = values.every((v) => typeof v === 'number' && Number.isFinite(v));
  const categories = numeric ? null : [...new Set(values.map(sweepValueText))];
  return {
    path: s.path,
    metric: s.metric,
    log: numeric && s.log,
    categories,
    series: s.series.map((q) => ({
      label: q.label,
      points: q.points
        .map((pt) => ({ x: numeric ? (pt.x as number) : categories!.indexOf(sweepValueText(pt.x)), ...band(pt.value), n: pt.value.n }))
        .sort((a, b) => a.x - b.x),
    })),
  };
}
