// `continual-workbench compare RUN_OR_SWEEP...`: the comparison as a table on stdout, and
// compare.html, compare.csv and compare.json written into one folder.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CompareMetric, CompareRun, Comparison, MeanSemValue } from '../protocol/compare';
import { formatPercent, formatPoints, sweepValueLabel } from '../protocol/format';
import { SWEEP_FILE } from '../protocol/sweep';
import { writeFileAtomic } from '../engine/atomicWrite';
import { COMPARE_METRICS } from '../engine/compare/build';
import { loadComparison } from '../engine/compare/load';
import { COMPARE_CSV_FILE, comparisonCsv } from '../engine/compare/csv';
import { COMPARE_REPORT_FILE, writeCompareReport } from '../engine/compare/report';

export const COMPARE_JSON_FILE = 'compare.json';
/** Nothing given could be read: no comparison. */
export const EXIT_NOTHING_READ = 2;

export interface CompareOptions {
  /** Folder for compare.html/.csv/.json (default: the sweep folder when given one sweep, else ./compare-<timestamp>). */
  out?: string;
  /** Print the CSV on stdout instead of the table. */
  csv?: boolean;
  /** Print the Comparison as JSON on stdout instead of the table. */
  json?: boolean;
  /** Folder of the built webview (webview.js, webview.css); default: beside the CLI, else dist/. */
  assetsDir?: string;
  /** Where the text goes (tests); default process.stdout / process.stderr. */
  output?: { stdout(text: string): void; stderr(text: string): void };
}

const METRIC_TITLES: Readonly<Record<CompareMetric, string>> = { acc: 'ACC', bwt: 'BWT', fwt: 'FWT', forgetting: 'Forgetting', learningAccuracy: 'Learning acc.' };
/** Differences of accuracies (percentage points, signed where the sign means something). */
const SIGNED: ReadonlySet<CompareMetric> = new Set(['bwt', 'fwt']);

/** "98.2 ± 0.3" (percent or signed points), "98.2" for one seed, "—" for none. */
export function formatMeanSemCell(m: MeanSemValue | undefined, metric?: CompareMetric): string {
  if (!m || m.mean === null) return '—';
  const mean = metric && SIGNED.has(metric) ? formatPoints(m.mean, true) : formatPercent(m.mean);
  return m.sem === null ? mean : `${mean} ± ${formatPercent(m.sem)}`;
}

const runCell = (v: number | null | undefined, metric: CompareMetric) => (SIGNED.has(metric) ? formatPoints(v, true) : formatPercent(v));

/** The first `textColumns` columns left-aligned, the numbers right-aligned, two spaces apart. */
function table(rows: string[][], textColumns = 1, indent = ''): string[] {
  const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => [...(r[k] ?? '')].length)));
  return rows.map((r) => indent + r.map((cell, k) => (k < textColumns ? cell.padEnd(widths[k]) : cell.padStart(widths[k]))).join('  ').trimEnd());
}

function rowLabels(run: CompareRun | undefined, rows: number): string[] {
  return Array.from({ length: rows }, (_, i) => (run && rows === run.tasks.length ? `after ${run.tasks[i]}` : `after phase ${i}`));
}

/** The comparison as plain text: groups (mean ± SEM), their R, the runs, what was left out. */
export function formatComparisonTable(c: Comparison): string {
  const lines: string[] = [];
  const counts = `${c.runs.length} run${c.runs.length === 1 ? '' : 's'} in ${c.groups.length} group${c.groups.length === 1 ? '' : 's'}`;
  lines.push(c.title === `${c.runs.length} runs` || c.title === '1 run' ? counts : `${c.title}: ${counts}`);
  lines.push('Groups: mean ± SEM over the completed seeds (ACC, forgetting, learning accuracy in %; BWT, FWT in points)');
  lines.push('');
  lines.push(
    ...table([
      ['group', 'seeds', ...COMPARE_METRICS.map((m) => METRIC_TITLES[m])],
      ...c.groups.map((g) => [g.label, `${g.included.length}/${g.members.length}`, ...COMPARE_METRICS.map((m) => formatMeanSemCell(g.metrics[m], m))]),
    ]),
  );
  for (const g of c.groups) {
    if (!g.accuracyMatrix.length) continue;
    const first = c.runs[g.included[0] ?? g.members[0]];
    lines.push('', `${g.label}: accuracy matrix R[i][j] (%), row = after training phase i, column = task j`);
    const labels = rowLabels(first, g.accuracyMatrix.length);
    lines.push(...table([['', ...(first?.tasks ?? g.accuracyMatrix[0].map((_, j) => `task ${j}`))], ...g.accuracyMatrix.map((row, i) => [labels[i], ...row.map((m) => formatMeanSemCell(m))])], 1, '  '));
  }
  lines.push('', 'Runs');
  lines.push(
    ...table([
      ['run', 'label', 'status', ...COMPARE_METRICS.map((m) => METRIC_TITLES[m])],
      ...c.runs.map((r) => [r.id, r.label, r.status, ...COMPARE_METRICS.map((m) => runCell(r.metrics[m], m))]),
    ], 3),
  );
  const excluded = c.runs.filter((r) => r.excluded);
  if (excluded.length) {
    lines.push('', 'Excluded from the means (listed, not averaged in):');
    for (const r of excluded) lines.push(`  ${r.id} (${r.label}): ${r.excluded}`);
  }
  const acc = c.sweepSeries.filter((s) => s.metric === 'acc');
  for (const s of acc) {
    lines.push('', `ACC against ${s.path}${s.log ? ' (log axis)' : ''}:`);
    for (const series of s.series) lines.push(`  ${series.label}: ${series.points.map((p) => `${sweepValueLabel(p.x)} → ${formatMeanSemCell(p.value, 'acc')}`).join(', ')}`);
  }
  if (c.unreadable.length) {
    lines.push('', 'Could not be read:');
    for (const u of c.unreadable) lines.push(`  ${u.path}: ${u.reason}`);
  }
  if (c.warnings.length) {
    lines.push('', 'Warnings:');
    for (const w of c.warnings) lines.push(`  ${w}`);
  }
  return lines.join('\n');
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Where the built webview is: beside the bundled CLI (dist/cli.js), or dist/ when run from source. */
function findAssets(given?: string): string | undefined {
  const candidates = given ? [given] : [__dirname, join(__dirname, '..', '..', 'dist')];
  return candidates.find((d) => existsSync(join(d, 'webview.js')) && existsSync(join(d, 'webview.css')));
}

/** Runs `compare`; returns the exit code (0; 1 when a path could not be read or a file not written; 2 when nothing could be read). */
export async function compareCommand(paths: string[], opts: CompareOptions = {}): Promise<number> {
  const out = opts.output ?? { stdout: (t: string) => process.stdout.write(t), stderr: (t: string) => process.stderr.write(t) };
  const c = loadComparison(paths);
  if (!c.runs.length) {
    for (const u of c.unreadable) out.stderr(`${u.path}: ${u.reason}\n`);
    for (const w of c.warnings) out.stderr(`warning: ${w}\n`);
    out.stderr(`error: nothing to compare: none of ${paths.length ? paths.join(', ') : '(no paths given)'} holds a readable result\n`);
    return EXIT_NOTHING_READ;
  }
  // One sweep (its folder or its sweep.json): the comparison lives beside its runs.
  const given = paths.length === 1 ? resolve(paths[0]) : null;
  const sweepDir = given && (basename(given) === SWEEP_FILE ? dirname(given) : given);
  const oneSweep = !!sweepDir && existsSync(join(sweepDir, SWEEP_FILE));
  const dir = resolve(opts.out ?? (oneSweep && sweepDir ? sweepDir : `compare-${timestamp()}`));
  if (opts.json) out.stdout(JSON.stringify(c) + '\n');
  else if (opts.csv) out.stdout(comparisonCsv(c));
  else out.stdout(formatComparisonTable(c) + '\n');
  let code = c.unreadable.length ? 1 : 0;
  const written: string[] = [];
  try {
    writeFileAtomic(join(dir, COMPARE_JSON_FILE), JSON.stringify(c, null, 2) + '\n');
    written.push(COMPARE_JSON_FILE);
    writeFileAtomic(join(dir, COMPARE_CSV_FILE), comparisonCsv(c));
    written.push(COMPARE_CSV_FILE);
    const assets = findAssets(opts.assetsDir);
    if (assets) {
      writeCompareReport(c, dir, assets);
      written.push(COMPARE_REPORT_FILE);
    } else out.stderr(`note: no ${COMPARE_REPORT_FILE}: the built webview (webview.js) is missing (build with 'npm run build')\n`);
  } catch (e) {
    out.stderr(`error: ${(e as Error).message}\n`);
    code = 1;
  }
  if (written.length) out.stderr(`wrote ${written.join(', ')} in ${dir}\n`);
  return code;
}
