// Card: paths between solutions. Every task's loss along each path the paths job evaluated (the
// straight line θ_A → θ_B, the lines from θ_A to other runs' end weights, the trained Bézier curve
// θ_A → θ_B), one small chart per task on the shared line chart, and the barriers as numbers:
// per task, max over t of loss(t) − [(1 − t) loss(0) + t loss(1)] (Frankle et al. 2020; Mirzadeh
// et al. 2021), and the mean loss's. Test ids: paths-chart-<task>, paths-barriers, paths-row,
// paths-barrier-<path>-<task>, paths-mean-barrier-<path>.
import { appendRichText, h, setChildren } from '../../dom';
import { createTooltip, type Tooltip } from '../../charts/axes';
import { composeSvgs } from '../../charts/chart';
import { lineChart, type LineChartData } from '../../charts/lineChart';
import { barrierRows, compareIndexOf, drawnFolders, normalisedFolder, pathLossDomain, pathLossSeries, runColorMap, tableNumber, type PlaneRunInfo } from '../../charts/planeMap';
import type { ChartExport } from '../../exporting';
import { formatCoordinate, formatTick } from '../../format';
import { formatValue } from '../../../protocol/format';
import type { PathsResult } from '../../../protocol/landscape';
import type { CompareSubject } from '../../compare/subject';
import { taskColor, type Palette } from '../../theme';
import type { CardContext, CardDefinition } from '../types';
import { cardSection } from '../section';
import { chartExportTools, columnsFor } from './common';
import { planeRuns } from './plane';
import { planeStoreFor } from './planeState';

/** Colour and dash of each path: the colour of the run it leads to (A → B and the curve: the reference's), the curve dashed. */
export function pathStyles(paths: PathsResult, colors: Map<string, number>, p: Palette): { color: string; dash?: string }[] {
  return paths.paths.map((path) => ({ color: taskColor(p, colors.get(normalisedFolder(path.to.run)) ?? 0), dash: path.kind === 'bezier' ? '6 3' : undefined }));
}

/** Task `task`'s chart: the loss along every path. */
export function pathsTaskChart(paths: PathsResult, task: number, styles: { color: string; dash?: string }[], labelOf: (path: PathsResult['paths'][number]) => string): LineChartData {
  const name = paths.tasks[task] ?? `task ${task}`;
  return {
    label: `Loss on ${name} along each path between solutions`,
    title: `loss on ${name}`,
    series: pathLossSeries(paths, task).map((s, k) => ({ label: labelOf(paths.paths[k]), color: styles[k].color, dash: styles[k].dash, points: s.points, attrs: { 'data-testid': 'paths-curve', 'data-path': k, 'data-kind': s.kind } })),
    x: { label: 't along the path (0: θ_A, 1: its end)', domain: [0, 1], format: formatTick },
    y: { label: 'loss', domain: pathLossDomain(paths, task), format: formatTick, valueFormat: (v) => formatValue(v) },
    legend: false,
    hoverTitle: (t) => `t = ${formatCoordinate(t)}`,
  };
}

/** "A → B", "A → EWC · seed 1", "Bezier A → B": a line's end named as in the comparison. */
function pathLabel(path: PathsResult['paths'][number], runs: readonly PlaneRunInfo[]): string {
  if (path.kind === 'bezier') return 'Bézier A → B';
  if (path.to.label === 'B') return 'A → B';
  const i = compareIndexOf(path.to.run, runs);
  return `A → ${i >= 0 ? runs[i].label : path.to.label}`;
}

export function barrierTable(doc: Document, paths: PathsResult, runs: readonly PlaneRunInfo[], styles: { color: string; dash?: string }[]): HTMLElement {
  const wrap = h(doc, 'div', { class: 'cmp-table-wrap' });
  const table = h(doc, 'table', { class: 'cmp-metrics', 'data-testid': 'paths-barriers' });
  const head = h(doc, 'tr');
  head.append(
    h(doc, 'th', { class: 'label' }, 'path'),
    h(doc, 'th', { class: 'num', title: 'L2 distance between the path’s ends' }, '|end − start|'),
    ...paths.tasks.map((t) => h(doc, 'th', { class: 'num', title: `Barrier of ${t}'s loss: max over t of loss(t) − the straight interpolation of its end values (0: no barrier)` }, `barrier ${t}`)),
    h(doc, 'th', { class: 'num', title: 'Barrier of the tasks’ mean loss' }, 'mean-loss barrier'),
    h(doc, 'th', { class: 'num', title: 'The highest mean loss strictly inside the path (endpoints excluded): what a trained curve lowers where the straight line has no barrier' }, 'highest mean loss inside'),
  );
  table.append(head);
  for (const row of barrierRows(paths)) {
    const tr = h(doc, 'tr', { 'data-testid': 'paths-row', 'data-path': row.path, 'data-kind': row.kind, class: 'group' });
    const name = h(doc, 'th', { class: 'label' });
    const sw = h(doc, 'span', { class: 'swatch' });
    sw.style.background = styles[row.path].color;
    const text = h(doc, 'span', { class: 'name' });
    appendRichText(text, pathLabel(paths.paths[row.path], runs));
    name.append(sw, text);
    tr.append(
      name,
      h(doc, 'td', { class: 'num' }, tableNumber(row.distance)),
      ...row.barrier.map((b, t) => h(doc, 'td', { class: 'num', 'data-testid': `paths-barrier-${row.path}-${t}`, 'data-value': b, title: Number.isFinite(b) ? `largest at t = ${formatCoordinate(row.barrierT[t])}` : 'not finite' }, tableNumber(b, 4))),
      h(doc, 'td', { class: 'num', 'data-testid': `paths-mean-barrier-${row.path}`, 'data-value': row.meanBarrier }, tableNumber(row.meanBarrier, 4)),
      h(doc, 'td', { class: 'num', 'data-testid': `paths-inner-mean-${row.path}`, 'data-value': row.innerMeanLoss }, tableNumber(row.innerMeanLoss, 3)),
    );
    table.append(tr);
  }
  wrap.append(table);
  return wrap;
}

export const pathsCard: CardDefinition<CompareSubject> = {
  id: 'cmp-paths',
  applies: (s) => s.comparison.runs.length >= 1,
  create(doc) {
    const store = planeStoreFor(doc);
    const sec = cardSection(doc, 'cmp-paths-card', 'Paths between solutions', '', 'cmp-paths');
    const legend = h(doc, 'div', { class: 'cmp-legend', 'data-testid': 'paths-legend' });
    const grid = h(doc, 'div', { class: 'cmp-chart-grid' });
    const tableHolder = h(doc, 'div', {});
    const note = h(doc, 'p', { class: 'muted cmp-diff-legend' });
    sec.body.append(legend, grid, tableHolder, note);
    const tips: Tooltip[] = [];
    let ctx: CardContext<CompareSubject> | null = null;
    const current = () => {
      const paths = store.outcome?.paths;
      if (!ctx || !paths) return null;
      const runs = planeRuns(ctx.subject);
      const colors = runColorMap(drawnFolders({ paths, plane: store.outcome?.plane }), runs);
      return { paths, runs, colors };
    };
    const figure = (): ChartExport | null => {
      const c = current();
      if (!c || !ctx) return null;
      const { palette: panel, width: panelWidth } = ctx;
      return {
        part: 'paths',
        title: 'Loss of each task along paths between solutions',
        build: (style) => {
          const palette = style?.palette ?? panel;
          const width = style?.width ?? panelWidth;
          const styles = pathStyles(c.paths, c.colors, palette);
          const T = c.paths.tasks.length;
          const cols = columnsFor(width, T, 300);
          const w = Math.floor((width - (cols - 1) * 12) / cols);
          return composeSvgs(doc, c.paths.tasks.map((_, t) => lineChart(pathsTaskChart(c.paths, t, styles, (p) => pathLabel(p, c.runs)), { width: w, palette, document: doc })), cols, palette);
        },
      };
    };
    chartExportTools(doc, sec.tools, 'cmp-paths', 'the paths', figure, () => ctx?.figures ?? null);
    return {
      el: sec.el,
      render(next) {
        ctx = next;
        const c = current();
        sec.setSubtitle('each task’s loss along the straight line θ_A → θ_B, the lines from θ_A to the other runs’ end weights and the trained Bézier curve; the loss barrier of each');
        tips.splice(0).forEach((t) => t.remove());
        if (!c) {
          setChildren(legend, []);
          setChildren(grid, [h(doc, 'div', { class: 'placeholder' }, 'Compute in the card above: the paths come with the plane.')]);
          tableHolder.replaceChildren();
          note.hidden = true;
          return;
        }
        const styles = pathStyles(c.paths, c.colors, next.palette);
        setChildren(
          legend,
          c.paths.paths.map((p, k) => {
            const item = h(doc, 'span', { class: 'cmp-legend-item' });
            const sw = h(doc, 'span', { class: `swatch${styles[k].dash ? ' dashed' : ''}` });
            sw.style.borderColor = styles[k].color;
            item.append(sw);
            appendRichText(item, pathLabel(p, c.runs));
            return item;
          }),
        );
        const T = c.paths.tasks.length;
        const cols = columnsFor(next.width - 30, T, 300);
        const w = Math.floor((next.width - 30 - (cols - 1) * 12) / cols);
        grid.style.gridTemplateColumns = `repeat(${cols}, minmax(0, 1fr))`;
        setChildren(
          grid,
          c.paths.tasks.map((_, t) => {
            const cell = h(doc, 'div', { class: 'chart cmp-chart', 'data-testid': `paths-chart-${t}` });
            const tooltip = createTooltip(cell);
            tips.push(tooltip);
            cell.prepend(lineChart(pathsTaskChart(c.paths, t, styles, (p) => pathLabel(p, c.runs)), { width: w, palette: next.palette, document: doc, tooltip }));
            return cell;
          }),
        );
        tableHolder.replaceChildren(barrierTable(doc, c.paths, c.runs, styles));
        const curve = c.paths.paths.find((p) => p.bezier)?.bezier;
        note.hidden = false;
        note.replaceChildren();
        appendRichText(
          note,
          `Barrier: max over t of loss(t) − [(1 − t) loss(0) + t loss(1)] on ${c.paths.samples} test examples per task (Frankle et al. 2020; Mirzadeh et al. 2021). A = θ_A, B = θ_B of the reference run.` +
            (curve ? ` The Bézier curve was trained ${curve.steps} steps on tasks ${curve.tasks.map((t) => c.paths.tasks[t] ?? t).join(' + ')}; its control point moved ${formatValue(curve.controlShift)} from the line’s midpoint (Garipov et al. 2018).` : ''),
        );
      },
      dispose() {
        tips.forEach((t) => t.remove());
      },
    };
  },
};
