// Card: the difference B − A of two runs or groups, cell by cell in percentage points, on a
// diverging scale (blue: B higher, vermillion: B lower). Test ids: cmp-diff (the table),
// cmp-diff-cell-<i>-<j>, cmp-diff-a / cmp-diff-b (the pickers).
import { h } from '../../dom';
import { bindMatrixTooltip, matrixChart, matrixTable, type MatrixData } from '../../charts/matrix';
import { divergingColor, divergingExtent } from '../../charts/scales';
import type { ChartExport } from '../../exporting';
import { differenceOf, differenceText, matrixEntities, type Difference } from '../../compare/model';
import type { CompareSubject } from '../../compare/subject';
import { formatPercent, formatPoints } from '../../../protocol/format';
import type { CardContext, CardDefinition } from '../types';
import { cardSection } from '../section';
import { chartExportTools } from './common';

/** The difference as matrix data, its colour scale symmetric around 0 at the largest |B − A|. */
export function differenceMatrix(d: Difference): MatrixData & { maxAbs: number } {
  const maxAbs = divergingExtent(d.rows.flat().map((c) => c.value));
  return {
    label: `Difference of accuracy matrices, B − A: ${d.b.label} minus ${d.a.label}`,
    title: `B − A: ${d.b.label} − ${d.a.label}`,
    subtitle: 'percentage points',
    corner: 'after ↓ / on →',
    rowLabels: d.rows.map((_, i) => `after ${d.tasks[i] ?? `phase ${i}`}`),
    colLabels: d.tasks,
    color: (v, p) => divergingColor(v, maxAbs, p),
    maxAbs,
    cells: d.rows.map((row, i) =>
      row.map((c, j) => ({
        text: differenceText(c),
        value: c.value,
        outlined: i === j,
        title: c.value === null ? 'not measured in both' : `B − A after ${d.tasks[i] ?? `phase ${i}`}, on ${d.tasks[j]}: ${formatPoints(c.value, true)} pp${c.sem !== null ? ` ± ${formatPercent(c.sem)}` : ''}`,
        attrs: { 'data-testid': `cmp-diff-cell-${i}-${j}`, 'data-row': i, 'data-col': j, ...(c.value !== null ? { 'data-value': c.value } : {}) },
      })),
    ),
  };
}

export const differenceCard: CardDefinition<CompareSubject> = {
  id: 'cmp-difference',
  applies: (s) => matrixEntities(s.comparison, s.level).length >= 2,
  create(doc) {
    const sec = cardSection(doc, 'cmp-diff-card', 'Difference B − A', 'each cell of B’s R minus A’s, in percentage points', 'cmp-difference');
    const bar = h(doc, 'div', { class: 'cmp-diff-bar' });
    const pick = (which: 'a' | 'b') => {
      const label = h(doc, 'label', { class: 'cmp-pick' }, which === 'a' ? 'A ' : 'B ');
      const select = h(doc, 'select', { 'data-testid': `cmp-diff-${which}`, 'aria-label': which === 'a' ? 'A: subtracted' : 'B: from which A is subtracted' });
      label.append(select);
      return { label, select };
    };
    const A = pick('a');
    const B = pick('b');
    const swap = h(doc, 'vscode-button', { secondary: true, class: 'tool', 'data-testid': 'cmp-diff-swap', title: 'Swap A and B' }, 'Swap');
    bar.append(A.label, B.label, swap);
    const holder = h(doc, 'div', { class: 'cmp-diff-holder' });
    const legend = h(doc, 'p', { class: 'muted cmp-diff-legend', 'data-testid': 'cmp-diff-legend' });
    const warn = h(doc, 'p', { class: 'notice', 'data-testid': 'cmp-diff-warning' });
    sec.body.append(bar, warn, holder, legend);
    holder.classList.add('heatmap-wrap');
    const tooltip = bindMatrixTooltip(holder);
    let ctx: CardContext<CompareSubject> | null = null;
    const current = () => {
      if (!ctx) return null;
      const es = matrixEntities(ctx.subject.comparison, ctx.subject.level);
      const a = es[ctx.subject.a];
      const b = es[ctx.subject.b];
      return a && b ? differenceOf(a, b) : null;
    };
    A.select.addEventListener('change', () => ctx && ctx.change({ ...ctx.subject, a: Number(A.select.value) }));
    B.select.addEventListener('change', () => ctx && ctx.change({ ...ctx.subject, b: Number(B.select.value) }));
    swap.addEventListener('click', () => ctx && ctx.change({ ...ctx.subject, a: ctx.subject.b, b: ctx.subject.a }));
    const figure = (): ChartExport | null => {
      const d = current();
      if (!d || !ctx) return null;
      const panel = ctx.palette;
      return { part: 'accuracy-difference', title: `Difference of accuracy matrices B − A (percentage points): B = ${d.b.label}, A = ${d.a.label}`, build: (style) => matrixChart(differenceMatrix(d), { width: 0, palette: style?.palette ?? panel, document: doc }) };
    };
    chartExportTools(doc, sec.tools, 'cmp-diff', 'the difference', figure, () => ctx?.figures ?? null);
    return {
      el: sec.el,
      dispose: () => tooltip.remove(),
      render(next) {
        ctx = next;
        const es = matrixEntities(next.subject.comparison, next.subject.level);
        for (const [p, sel] of [
          [A, next.subject.a],
          [B, next.subject.b],
        ] as const) {
          p.select.replaceChildren(...es.map((e, k) => h(doc, 'option', { value: k }, e.label)));
          p.select.value = String(sel);
        }
        const d = current();
        if (!d) {
          holder.querySelector('table')?.remove();
          return;
        }
        const m = differenceMatrix(d);
        holder.querySelector('table')?.remove();
        holder.prepend(matrixTable(doc, m, next.palette, { 'data-testid': 'cmp-diff', 'data-a': d.a.index, 'data-b': d.b.index, 'data-level': d.a.level }));
        warn.textContent = d.sameTasks ? '' : 'A and B were trained on different tasks: the difference is cell by cell, over the rows and columns both have.';
        warn.hidden = d.sameTasks;
        const blue = next.palette.dark ? 'sky blue' : 'blue';
        const red = next.palette.dark ? 'orange' : 'vermillion';
        legend.textContent = `${blue}: B higher · ${red}: B lower · full colour at ±${formatPercent(m.maxAbs)} pp · A = ${d.a.label}, B = ${d.b.label}`;
      },
    };
  },
};
