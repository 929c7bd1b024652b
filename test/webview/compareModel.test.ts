// The compare layout's maths without a DOM: scales, band paths, the diverging colour, mean ± SEM
// texts, the difference, sorting, sweep chart data.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bandPath, divergingColor, divergingExtent, extentOf, positionScale, semBand, spansDecades } from '../../src/webview/charts/scales';
import { lineXScale, lineYDomain, padDomain } from '../../src/webview/charts/lineChart';
import { defaultLevel, differenceOf, matrixEntities, meanSemText, metricColumns, metricsCsv, metricsRows, sortMetricsRows, sweepChart } from '../../src/webview/compare/model';
import { nextSort } from '../../src/webview/cards/compare/metrics';
import { fallbackPalette } from '../../src/webview/theme';
import { formatPercent, formatPoints } from '../../src/protocol/format';
import { stat, sweepSeries, twoGroups } from './comparison';
import { compareSubject } from '../../src/webview/compare/subject';

const close = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) <= eps * Math.max(1, Math.abs(a), Math.abs(b));

test('log axis only for positive values spanning a decade; equal decades get equal pixels', () => {
  assert.equal(spansDecades([0.001, 0.01, 0.1]), true);
  assert.equal(spansDecades([1, 2, 4, 8]), false);
  assert.equal(spansDecades([0, 10, 100]), false, 'zero has no logarithm');
  assert.equal(spansDecades([5]), false);
  const x = positionScale([0.001, 0.1], [0, 200], true);
  assert.equal(x.log, true);
  assert.ok(close(x(0.01) - x(0.001), x(0.1) - x(0.01)), 'a decade is a decade');
  assert.ok(close(x(0.01), 100));
  assert.deepEqual(x.ticks(5), [0.001, 0.01, 0.1], 'ticks at powers of ten');
  const lin = positionScale([-1, 1], [0, 200], true);
  assert.equal(lin.log, false, 'log over negatives falls back to linear');
  assert.ok(close(lin(0), 100));
  const one = positionScale([3, 3], [0, 100]);
  assert.ok(close(one(3), 50), 'a single value sits in the middle');
  const [p0, p1] = padDomain([10, 1000], true, 0.1);
  assert.ok(close(Math.log10(p1) - 3, 0.2) && close(1 - Math.log10(p0), 0.2), 'log padding in decades');
});

test('band path: mean ± SEM where there is a SEM, gaps where there is none, nothing for one seed', () => {
  const id = (v: number) => v;
  assert.equal(bandPath([{ x: 0, lo: null, hi: null }, { x: 1, lo: null, hi: null }], id, id), '', 'n = 1: no band');
  const d = bandPath(
    [
      { x: 0, lo: 1, hi: 3 },
      { x: 10, lo: 2, hi: 4 },
      { x: 20, lo: null, hi: null },
      { x: 30, lo: 5, hi: 7 },
      { x: 40, lo: 5, hi: 9 },
    ],
    id,
    id,
  );
  assert.equal(d.match(/M/g)?.length, 2, 'two pieces around the gap');
  assert.match(d, /^M0,3L10,4L10,2L0,1Z/, 'upper edge forward, lower edge back');
  assert.deepEqual(semBand(0.5, 0.1), { lo: 0.4, hi: 0.6 });
  assert.deepEqual(semBand(0.5, null), { lo: null, hi: null });
  assert.deepEqual(extentOf([3, null, -1, Number.NaN, 2]), [-1, 3]);
  assert.equal(extentOf([null]), null);
  const y = lineYDomain({ series: [{ label: 'a', color: '#000', points: [{ x: 0, y: 0.5, lo: 0.2, hi: 0.8 }] }], y: { label: '' } });
  assert.ok(y[0] < 0.2 && y[1] > 0.8, 'the y domain holds the band');
});

test('diverging colour: background at 0, opposite hues for ± differences, saturating at the extent', () => {
  const p = fallbackPalette(false);
  assert.equal(divergingColor(0, 0.1, p), divergingColor(0, 0.5, p));
  assert.notEqual(divergingColor(0.05, 0.1, p), divergingColor(-0.05, 0.1, p));
  assert.equal(divergingColor(0.2, 0.1, p), divergingColor(0.1, 0.1, p), 'clamped');
  assert.equal(divergingExtent([0.01, -0.3, null]), 0.3);
  assert.equal(divergingExtent([0, null]), 0.005, 'a floor: equal matrices are not painted full colour');
});

test('mean ± SEM texts; the level shown by default', () => {
  assert.equal(meanSemText({ mean: 0.9823, sem: 0.0031, n: 3, missing: 0 }), '98.2 ± 0.3');
  assert.equal(meanSemText({ mean: 0.9823, sem: null, n: 1, missing: 0 }), '98.2', 'one seed: no ±');
  assert.equal(meanSemText({ mean: null, sem: null, n: 0, missing: 3 }), '—');
  assert.equal(meanSemText({ mean: -0.745, sem: 0.01, n: 2, missing: 0 }, true), '-74.5 ± 1.0');
  assert.equal(meanSemText({ mean: 0.012, sem: null, n: 1, missing: 0 }, true), '+1.2');
  const c = twoGroups();
  assert.equal(defaultLevel(c), 'group');
  const single = { ...c, groups: c.groups.map((g) => ({ ...g, members: g.members.slice(0, 1) })) };
  assert.equal(defaultLevel(single), 'run', 'every group one run: show runs');
});

test('entities and their difference B − A, cell by cell, with the SEMs combined', () => {
  const c = twoGroups();
  const groups = matrixEntities(c, 'group');
  assert.equal(groups.length, 2);
  assert.equal(groups[1].detail, '2 seeds (1 excluded)');
  const d = differenceOf(groups[0], groups[1]);
  assert.equal(d.sameTasks, true);
  const ewc = c.runs.slice(3, 5);
  const naive = c.runs.slice(0, 3);
  for (const [i, j] of [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ]) {
    const a = stat(naive.map((r) => r.accuracyMatrix[i][j]));
    const b = stat(ewc.map((r) => r.accuracyMatrix[i][j]));
    assert.ok(close(d.rows[i][j].value!, b.mean! - a.mean!), `B − A at ${i},${j}`);
    assert.ok(close(d.rows[i][j].sem!, Math.sqrt(a.sem! ** 2 + b.sem! ** 2)));
  }
  const runs = matrixEntities(c, 'run');
  assert.equal(runs.length, 6);
  assert.equal(runs[5].excluded, 'failed: out of memory');
  assert.equal(runs[5].rows.length, 2, 'the failed run keeps a row for the task it never trained');
  assert.deepEqual(runs[5].rows[1].map((v) => v.mean), [null, null]);
  const partial = differenceOf(runs[0], runs[5]);
  assert.deepEqual(partial.rows[1], [{ value: null, sem: null }, { value: null, sem: null }], 'no difference where one is missing');
  assert.ok(partial.rows[0].every((d) => d.value !== null));
});

test('metrics table: groups with their runs, sorted by a column (missing last), CSV with mean, SEM and n', () => {
  const c = twoGroups();
  const rows = metricsRows(c);
  assert.deepEqual(rows.map((r) => r.key), ['group-0', 'run-0', 'run-1', 'run-2', 'group-1', 'run-3', 'run-4', 'run-5']);
  const byAcc = sortMetricsRows(rows, { column: 'acc', direction: 'desc' });
  const accOf = (k: number) => c.runs[k].metrics.acc!;
  // EWC has the higher mean ACC: it comes first; its failed run last among its runs.
  assert.equal(byAcc[0].key, 'group-1');
  assert.deepEqual(byAcc.slice(1, 4).map((r) => r.key), [accOf(3) >= accOf(4) ? 'run-3' : 'run-4', accOf(3) >= accOf(4) ? 'run-4' : 'run-3', 'run-5']);
  const naiveRuns = [0, 1, 2].sort((a, b) => accOf(a) - accOf(b)).map((k) => `run-${k}`);
  const asc = sortMetricsRows(rows, { column: 'acc', direction: 'asc' });
  assert.deepEqual(asc.slice(0, 4).map((r) => r.key), ['group-0', ...naiveRuns]);
  assert.deepEqual(sortMetricsRows(rows, { column: 'label', direction: 'asc' })[0].key, 'group-1', 'EWC before Naive');
  assert.deepEqual(nextSort(null, 'acc'), { column: 'acc', direction: 'desc' });
  assert.deepEqual(nextSort({ column: 'acc', direction: 'desc' }, 'acc'), { column: 'acc', direction: 'asc' });
  assert.equal(nextSort({ column: 'acc', direction: 'asc' }, 'acc'), null);
  assert.deepEqual(nextSort(null, 'label'), { column: 'label', direction: 'asc' });
  const cols = metricColumns(c);
  assert.deepEqual(cols.map((k) => k.key), ['acc', 'bwt', 'fwt', 'forgetting', 'learningAccuracy', 'f0'], 'no column for the last task (nothing to forget)');
  const csv = metricsCsv(c).trim().split('\r\n');
  assert.equal(csv.length, 1 + rows.length);
  const head = csv[0].split(',');
  const g1 = csv[5].split(',');
  const acc = stat([accOf(3), accOf(4)]);
  assert.equal(Number(g1[head.indexOf('acc_mean')]), acc.mean);
  assert.equal(Number(g1[head.indexOf('acc_sem')]), acc.sem);
  assert.equal(g1[head.indexOf('acc_n')], '2');
  const failed = csv[8].split(',');
  assert.equal(failed[head.indexOf('excluded')], 'failed: out of memory');
  assert.equal(failed[head.indexOf('acc_mean')], '');
});

test('sweep chart data: numeric x (sorted) or categories; log only for numbers', () => {
  const s = sweepChart(sweepSeries('strategy.lambda', [1000, 10, 100], true, [3, 3, 1]));
  assert.equal(s.log, true);
  assert.equal(s.categories, null);
  assert.deepEqual(s.series[0].points.map((p) => p.x), [10, 100, 1000]);
  const one = s.series[0].points.find((p) => p.x === 100)!;
  assert.equal(one.lo, null, 'one seed: no error bar');
  const cat = sweepChart({ path: 'strategy.name', log: false, metric: 'acc', series: [{ label: 'x', points: [{ x: 'ewc', value: stat([0.5]) }, { x: 'replay', value: stat([0.6]) }] }] });
  assert.deepEqual(cat.categories, ['ewc', 'replay']);
  assert.deepEqual(cat.series[0].points.map((p) => p.x), [0, 1]);
  const x = lineXScale({ series: [], x: { label: '', categories: ['ewc', 'replay'] } }, [0, 100]);
  assert.ok(close(x(0), 25) && close(x(1), 75), 'categories centred in equal slots');
  assert.equal(formatPercent(0.5), '50.0');
  assert.equal(formatPoints(-0.5, true), '-50.0');
});

test('a comparison that grows (a sweep running) keeps A and B apart once there are two to compare', () => {
  const full = twoGroups();
  const one = { ...full, groups: full.groups.slice(0, 1), runs: full.runs.filter((r) => r.group === 0) };
  const first = compareSubject(one, { level: 'group' });
  assert.equal(first.a, 0);
  assert.equal(first.b, 0, 'one group: A and B are the same');
  const grown = compareSubject(full, first);
  assert.equal(grown.a, 0);
  assert.equal(grown.b, 1, 'two groups: B is the other one');
  // A choice the user made survives an update that still fits it.
  assert.deepEqual([compareSubject(full, { ...grown, a: 1, b: 0 }).a, compareSubject(full, { ...grown, a: 1, b: 0 }).b], [1, 0]);
});
