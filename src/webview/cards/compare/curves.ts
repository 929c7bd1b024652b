// Card: per-task accuracy curves of every group (mean ± SEM band) or run, overlaid, one small chart
// per task, all on the shared line chart. Test ids: cmp-curves-<task> (each chart), band (a band).
import { h, setChildren } from '../../dom';
import { createTooltip, type Tooltip } from '../../charts/axes';
import { composeSvgs } from '../../charts/chart';
import { legendChart, lineChart, type LineChartData } from '../../charts/lineChart';
import type { ChartExport } from '../../exporting';
import { formatPercentTick, formatStepTick } from '../../format';
import { compareTasks, sharedBoundaries, taskCurves, type CompareLevel } from '../../compare/model';
import type { CompareSubject } from '../../compare/subject';
import type { Comparison } from '../../../protocol/compare';
import { formatPercent } from '../../../protocol/format';
import type { Palette } from '../../theme';
import type { CardContext, CardDefinition } from '../types';
import { cardSection } from '../section';
import { chartExportTools, columnsFor, groupColor } from './common';

const RUN_DASHES = [undefined, '6 3', '2 3', '8 3 2 3'];

/** Task `task`'s chart: one line per group or run in its group's colour, bands where there is a SEM. */
export function taskCurvesChart(c: Comparison, level: CompareLevel, task: number, p: Palette): LineChartData {
  const tasks = compareTasks(c);
  const seen = new Map<number, number>();
  const series = taskCurves(c, level, task).map((s) => {
    const k = seen.get(s.group) ?? 0;
    seen.set(s.group, k + 1);
    return { label: s.label, color: groupColor(p, s.group), points: s.points, dash: level === 'run' ? RUN_DASHES[k % RUN_DASHES.length] : undefined, attrs: { 'data-testid': 'cmp-curve', 'data-group': s.group } };
  });
  const boundaries = sharedBoundaries(c);
  return {
    label: `Accuracy on ${tasks[task] ?? `task ${task}`} over training steps, ${level === 'group' ? 'each group’s mean ± SEM' : 'each run'}`,
    title: `on ${tasks[task] ?? `task ${task}`}`,
    series,
    x: { label: 'training step', format: formatStepTick },
    y: { label: 'test accuracy', domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1], format: formatPercentTick, valueFormat: (v) => `${formatPercent(v)}%` },
    rules: boundaries.map((b, i) => ({ x: b, label: i === task ? `▸ ${tasks[i] ?? ''}` : undefined, attrs: { 'data-testid': 'boundary', 'data-task': i } })),
    legend: false,
    empty: 'No curve points in these runs.',
    hoverTitle: (s) => `step ${s}`,
  };
}

function legendItems(c: Comparison, level: CompareLevel, p: Palette) {
  return taskCurves(c, level, 0).map((s, k, all) => {
    const before = all.slice(0, k).filter((o) => o.group === s.group).length;
    return { label: s.label, color: groupColor(p, s.group), dash: level === 'run' ? RUN_DASHES[before % RUN_DASHES.length] : undefined };
  });
}

export const curvesCard: CardDefinition<CompareSubject> = {
  id: 'cmp-curves',
  applies: (s) => s.comparison.runs.some((r) => r.curves.length > 0),
  create(doc) {
    const sec = cardSection(doc, 'cmp-curves-card', 'Accuracy during training', '', 'cmp-curves');
    const legend = h(doc, 'div', { class: 'cmp-legend', 'data-testid': 'cmp-curves-legend' });
    const grid = h(doc, 'div', { class: 'cmp-chart-grid' });
    sec.body.append(legend, grid);
    const tips: Tooltip[] = [];
    let ctx: CardContext<CompareSubject> | null = null;
    const figure = (): ChartExport | null => {
      if (!ctx) return null;
      const { subject, palette: panel, width: panelWidth } = ctx;
      return {
        part: `curves-${subject.level}s`,
        title: subject.level === 'group' ? 'Test accuracy of each task during training: mean ± SEM over seeds' : 'Test accuracy of each task during training, per run',
        build: (style) => {
          const palette = style?.palette ?? panel;
          const width = style?.width ?? panelWidth;
          const T = compareTasks(subject.comparison).length;
          const cols = columnsFor(width, T, 300);
          const w = Math.floor((width - (cols - 1) * 12) / cols);
          const parts = Array.from({ length: T }, (_, t) => lineChart(taskCurvesChart(subject.comparison, subject.level, t, palette), { width: w, palette, document: doc }));
          const head = legendChart({ label: 'legend', items: legendItems(subject.comparison, subject.level, palette) }, { width, palette, document: doc });
          return composeSvgs(doc, parts, cols, palette, 12, head);
        },
      };
    };
    chartExportTools(doc, sec.tools, 'cmp-curves', 'the curves', figure, () => ctx?.figures ?? null);
    return {
      el: sec.el,
      render(next) {
        ctx = next;
        const { comparison: c, level } = next.subject;
        sec.setSubtitle(level === 'group' ? 'each task’s test accuracy over training steps: one line per group (mean), the band ± SEM over its seeds' : 'each task’s test accuracy over training steps: one line per run, coloured by group');
        setChildren(
          legend,
          legendItems(c, level, next.palette).map((it) => {
            const item = h(doc, 'span', { class: 'cmp-legend-item' });
            const sw = h(doc, 'span', { class: `swatch${it.dash ? ' dashed' : ''}` });
            sw.style.borderColor = it.color;
            item.append(sw, doc.createTextNode(it.label));
            return item;
          }),
        );
        tips.splice(0).forEach((t) => t.remove());
        const T = compareTasks(c).length;
        const cols = columnsFor(next.width - 30, T, 300);
        const w = Math.floor((next.width - 30 - (cols - 1) * 12) / cols);
        grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
        setChildren(
          grid,
          Array.from({ length: T }, (_, t) => {
            const cell = h(doc, 'div', { class: 'chart cmp-chart', 'data-testid': `cmp-curves-${t}` });
            const tooltip = createTooltip(cell);
            tips.push(tooltip);
            cell.prepend(lineChart(taskCurvesChart(c, level, t, next.palette), { width: w, palette: next.palette, document: doc, tooltip }));
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
