// Card: for a sweep, a metric against each swept hyperparameter (seeds averaged: mean with ± SEM
// error bars and band), one series per combination of the other axes; log x where the values span
// decades. Test ids: cmp-sweep-<path> (each chart), cmp-sweep-metric (the metric picker).
import { h, setChildren } from '../../dom';
import { createTooltip, type Tooltip } from '../../charts/axes';
import { composeSvgs } from '../../charts/chart';
import { lineChart, type LineChartData } from '../../charts/lineChart';
import type { ChartExport } from '../../exporting';
import { formatTick } from '../../format';
import { COMPARE_METRICS, metricSigned, metricTitle, sweepChart } from '../../compare/model';
import type { CompareSubject } from '../../compare/subject';
import type { CompareMetric, SweepSeries } from '../../../protocol/compare';
import { formatPercent, formatPoints } from '../../../protocol/format';
import type { Palette } from '../../theme';
import { taskColor } from '../../theme';
import type { CardContext, CardDefinition } from '../types';
import { cardSection } from '../section';
import { chartExportTools, columnsFor } from './common';

/** A sweep series as line-chart data: error bars and a band where there is a SEM, markers at the values. */
export function sweepLineChart(s: SweepSeries, p: Palette): LineChartData {
  const d = sweepChart(s);
  const signed = metricSigned(s.metric);
  const fmt = (v: number) => (signed ? formatPoints(v, true, 0) : formatPercent(v, 0));
  return {
    label: `${metricTitle(s.metric)} against ${s.path}`,
    title: `${metricTitle(s.metric)} vs ${s.path}`,
    series: d.series.map((q, k) => ({ label: q.label || metricTitle(s.metric), color: taskColor(p, k), points: q.points, markers: true, errorBars: true, noLine: !!d.categories, noBand: !!d.categories, attrs: { 'data-testid': 'sweep-line' } })),
    x: { label: s.path, log: d.log, categories: d.categories ?? undefined, format: formatTick, pad: true },
    y: { label: `${metricTitle(s.metric)} (${signed ? 'pp' : '%'})`, format: fmt, valueFormat: (v) => (signed ? formatPoints(v, true) : formatPercent(v)) },
    legend: d.series.length > 1,
    hoverTitle: (x) => `${s.path} = ${d.categories ? d.categories[Math.round(x)] : String(x)}`,
  };
}

const seriesOf = (s: CompareSubject) => s.comparison.sweepSeries.filter((q) => q.metric === s.sweepMetric);

export const sweepCard: CardDefinition<CompareSubject> = {
  id: 'cmp-sweep',
  applies: (s) => s.comparison.sweepSeries.length > 0,
  create(doc) {
    const sec = cardSection(doc, 'cmp-sweep-card', 'Metric against each swept hyperparameter', 'mean over seeds, error bars and band ± SEM (none for one seed); log x axis where the values span decades', 'cmp-sweep');
    const bar = h(doc, 'div', { class: 'cmp-diff-bar' });
    const label = h(doc, 'label', { class: 'cmp-pick' }, 'Metric ');
    const select = h(doc, 'select', { 'data-testid': 'cmp-sweep-metric' });
    label.append(select);
    bar.append(label);
    const grid = h(doc, 'div', { class: 'cmp-chart-grid' });
    sec.body.append(bar, grid);
    const tips: Tooltip[] = [];
    let ctx: CardContext<CompareSubject> | null = null;
    select.addEventListener('change', () => ctx?.change({ ...ctx.subject, sweepMetric: select.value as CompareMetric }));
    const figure = (): ChartExport | null => {
      if (!ctx) return null;
      const { subject, palette: panel, width: panelWidth } = ctx;
      return {
        part: `sweep-${subject.sweepMetric}`,
        title: `${metricTitle(subject.sweepMetric)} against each swept hyperparameter (mean ± SEM over seeds)`,
        build: (style) => {
          const palette = style?.palette ?? panel;
          const width = style?.width ?? panelWidth;
          const all = seriesOf(subject);
          const cols = columnsFor(width, all.length, 320);
          const w = Math.min(Math.floor((width - (cols - 1) * 12) / cols), Math.max(480, Math.floor((width - 12) / 2)));
          return composeSvgs(
            doc,
            all.map((q) => lineChart(sweepLineChart(q, palette), { width: w, palette, document: doc })),
            cols,
            palette,
          );
        },
      };
    };
    chartExportTools(doc, sec.tools, 'cmp-sweep', 'the sweep charts', figure, () => ctx?.figures ?? null);
    return {
      el: sec.el,
      render(next) {
        ctx = next;
        const metrics = COMPARE_METRICS.filter((m) => next.subject.comparison.sweepSeries.some((q) => q.metric === m));
        select.replaceChildren(...metrics.map((m) => h(doc, 'option', { value: m }, metricTitle(m))));
        select.value = next.subject.sweepMetric;
        tips.splice(0).forEach((t) => t.remove());
        const all = seriesOf(next.subject);
        const cols = columnsFor(next.width - 30, all.length, 320);
        // One chart alone is no wider than a half-width pair: a metric against 3-5 values needs no more.
        const w = Math.min(Math.floor((next.width - 30 - (cols - 1) * 12) / cols), Math.max(480, Math.floor((next.width - 42) / 2)));
        grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, ${w}px))`;
        setChildren(
          grid,
          all.map((q) => {
            const cell = h(doc, 'div', { class: 'chart cmp-chart', 'data-testid': `cmp-sweep-${q.path}` });
            const tooltip = createTooltip(cell);
            tips.push(tooltip);
            cell.prepend(lineChart(sweepLineChart(q, next.palette), { width: w, palette: next.palette, document: doc, tooltip }));
            return cell;
          }),
        );
      },
      dispose() {
        tips.forEach((t) => t.remove());
      },
    };
  },
};
