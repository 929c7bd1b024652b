// Card: the R matrices side by side, one per group (cells "98.2 ± 0.3": mean ± SEM over its seeds)
// or one per run. Cell test ids: cmp-cell-<group or run index>-<i>-<j> (level in data-level).
import { h, setChildren } from '../../dom';
import { heatmapCellColor } from '../../charts/heatmap';
import { bindMatrixTooltip, matrixChart, matrixTable, type MatrixData } from '../../charts/matrix';
import { composeSvgs } from '../../charts/chart';
import type { ChartExport } from '../../exporting';
import { matrixEntities, meanSemText, type MatrixEntity } from '../../compare/model';
import type { CompareSubject } from '../../compare/subject';
import type { CardContext, CardDefinition } from '../types';
import { cardSection } from '../section';
import { chartExportTools, columnsFor, matrixRowLabels } from './common';
import { formatPercent } from '../../../protocol/format';

/** An entity's R as matrix data: texts, values, titles and test ids of every cell. */
export function entityMatrix(e: MatrixEntity): MatrixData {
  const what = e.level === 'group' ? 'mean ± SEM over the seeds' : 'one run';
  return {
    label: `Accuracy matrix of ${e.label} (${what})`,
    title: e.label,
    subtitle: e.detail,
    corner: 'after ↓ / on →',
    rowLabels: matrixRowLabels(e),
    colLabels: e.tasks,
    color: heatmapCellColor,
    cells: e.rows.map((row, i) =>
      e.tasks.map((task, j) => {
        const v = row[j];
        const text = meanSemText(v);
        const sem = v?.sem !== null && v?.sem !== undefined ? ` ± ${formatPercent(v.sem)}` : '';
        const n = v ? `, n = ${v.n}${v.missing ? ` (${v.missing} missing)` : ''}` : '';
        return {
          text,
          value: v?.mean ?? null,
          title: `${e.label}: after ${e.tasks[i] ?? `phase ${i}`}, on ${task}: ${v?.mean === null || !v ? 'not measured' : `${formatPercent(v.mean)}%${sem}${n}`}`,
          outlined: i === j,
          attrs: { 'data-testid': `cmp-cell-${e.index}-${i}-${j}`, 'data-level': e.level, 'data-row': i, 'data-col': j, ...(v?.mean !== null && v ? { 'data-mean': v.mean, 'data-n': v.n } : {}), ...(v?.sem !== null && v?.sem !== undefined ? { 'data-sem': v.sem } : {}) },
        };
      }),
    ),
  };
}

export const matricesCard: CardDefinition<CompareSubject> = {
  id: 'cmp-matrices',
  applies: (s) => s.comparison.runs.length > 0,
  create(doc) {
    const sec = cardSection(doc, 'cmp-matrices-card', 'Accuracy matrices R', '', 'cmp-matrices');
    const grid = h(doc, 'div', { class: 'cmp-matrix-grid' });
    sec.body.append(grid);
    grid.classList.add('heatmap-wrap');
    const tooltip = bindMatrixTooltip(grid);
    let ctx: CardContext<CompareSubject> | null = null;
    const figure = (): ChartExport | null => {
      if (!ctx) return null;
      const { subject, palette: panelPalette } = ctx;
      return {
        part: `accuracy-matrices-${subject.level}s`,
        title: subject.level === 'run' ? 'Accuracy matrix R of each run: test accuracy (%) on task j after phase i' : 'Accuracy matrix R of each group: mean ± SEM over seeds of the test accuracy (%) on task j after phase i',
        build: (style) => {
          const palette = style?.palette ?? panelPalette;
          const parts = matrixEntities(subject.comparison, subject.level).map((e) => matrixChart(entityMatrix(e), { width: 0, palette, document: doc }));
          const w0 = Math.max(1, ...parts.map((s) => Number(s.getAttribute('width'))));
          return composeSvgs(doc, parts, columnsFor(style?.width ?? ctx!.width, parts.length, w0 + 16), palette, 16);
        },
      };
    };
    chartExportTools(doc, sec.tools, 'cmp-matrices', 'the matrices', figure, () => ctx?.figures ?? null);
    return {
      el: sec.el,
      dispose: () => tooltip.remove(),
      render(next) {
        ctx = next;
        const entities = matrixEntities(next.subject.comparison, next.subject.level);
        sec.setSubtitle(
          next.subject.level === 'group'
            ? 'R[i][j]: accuracy (%) on task j after phase i, mean ± SEM over each group’s completed seeds (no ± with one seed)'
            : 'R[i][j]: accuracy (%) on task j after phase i, each run on its own',
        );
        setChildren(grid, [
          ...entities.map((e) =>
            matrixTable(doc, entityMatrix(e), next.palette, { 'data-testid': `cmp-matrix-${e.index}`, 'data-level': e.level, class: `heatmap cmp-matrix${e.excluded ? ' excluded' : ''}` }),
          ),
          ...[...grid.querySelectorAll('.chart-tooltip')],
        ]);
      },
    };
  },
};
