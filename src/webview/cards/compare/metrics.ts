// Card: the metrics table, one row per group (mean ± SEM) with its runs under it; excluded runs
// struck out with their reason. Sorted by clicking a header; exported as CSV. Test ids:
// cmp-metrics (table), cmp-row-group-<k> / cmp-row-run-<r> (rows), cmp-sort-<column> (headers).
import { h } from '../../dom';
import { metricCellText, metricColumns, metricsCsv, metricsRows, sortMetricsRows, type MetricsRow, type SortKey } from '../../compare/model';
import type { CompareSubject } from '../../compare/subject';
import type { Comparison } from '../../../protocol/compare';
import type { CardContext, CardDefinition } from '../types';
import { cardSection, toolButton } from '../section';
import { groupColor } from './common';

/** The rows the table shows: every group; the runs of groups with more than one member (or excluded ones). */
export function visibleRows(c: Comparison, sort: SortKey | null): MetricsRow[] {
  return sortMetricsRows(metricsRows(c), sort).filter((r) => r.level === 'group' || (c.groups[r.group]?.members.length ?? 0) > 1 || !!r.excluded);
}

/** Next sort on clicking `column`: descending first for numbers (best ACC on top), ascending for labels; a third click clears. */
export function nextSort(cur: SortKey | null, column: string): SortKey | null {
  const first: SortKey = { column, direction: column === 'label' ? 'asc' : 'desc' };
  if (!cur || cur.column !== column) return first;
  if (cur.direction === first.direction) return { column, direction: first.direction === 'asc' ? 'desc' : 'asc' };
  return null;
}

export const metricsTableCard: CardDefinition<CompareSubject> = {
  id: 'cmp-metrics',
  applies: (s) => s.comparison.runs.length > 0,
  create(doc) {
    const sec = cardSection(doc, 'cmp-metrics-card', 'Continual-learning metrics', 'per group: mean ± SEM over completed seeds; per run below it. Percent (ACC, LA) and percentage points (BWT, FWT, forgetting). Click a header to sort.', 'cmp-metrics-card');
    const wrap = h(doc, 'div', { class: 'cmp-table-wrap' });
    sec.body.append(wrap);
    let ctx: CardContext<CompareSubject> | null = null;
    sec.tools.append(
      toolButton(doc, 'CSV', 'export-cmp-metrics-csv', 'Save the table as CSV (fractions; mean, SEM and n per metric)', () => {
        if (ctx) ctx.figures.text('metrics', 'csv', metricsCsv(ctx.subject.comparison, visibleRows(ctx.subject.comparison, ctx.subject.sort)));
      }),
    );
    return {
      el: sec.el,
      render(next) {
        ctx = next;
        const c = next.subject.comparison;
        const sort = next.subject.sort;
        const cols = metricColumns(c);
        const table = h(doc, 'table', { class: 'cmp-metrics', 'data-testid': 'cmp-metrics' });
        const head = h(doc, 'tr');
        for (const col of [{ key: 'label', title: 'Run / group', description: 'Click to sort by name' }, ...cols]) {
          const dir = sort?.column === col.key ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none';
          const th = h(doc, 'th', { scope: 'col', 'aria-sort': dir, class: col.key === 'label' ? 'label' : 'num' });
          const b = h(doc, 'button', { type: 'button', class: 'sort', 'data-testid': `cmp-sort-${col.key}`, title: col.description }, `${col.title}${dir === 'ascending' ? ' ▲' : dir === 'descending' ? ' ▼' : ''}`);
          b.addEventListener('click', () => ctx?.change({ ...ctx.subject, sort: nextSort(ctx.subject.sort, col.key) }));
          th.append(b);
          head.append(th);
        }
        const thead = h(doc, 'thead');
        thead.append(head);
        const tbody = h(doc, 'tbody');
        for (const r of visibleRows(c, sort)) {
          const tr = h(doc, 'tr', { class: `${r.level}${r.excluded ? ' excluded' : ''}`, 'data-testid': `cmp-row-${r.level}-${r.index}`, 'data-group': r.group });
          const name = h(doc, 'th', { scope: 'row', class: 'label' });
          const sw = h(doc, 'span', { class: 'swatch' });
          sw.style.backgroundColor = groupColor(next.palette, r.group);
          const label = h(doc, r.excluded ? 's' : 'span', { class: 'name' }, r.label);
          name.append(sw, label, h(doc, 'span', { class: 'muted detail' }, ` ${r.detail}`));
          if (r.excluded) name.title = `Excluded from the group's mean: ${r.excluded}`;
          tr.append(name);
          for (const col of cols) {
            const v = r.values[col.key];
            tr.append(h(doc, 'td', { class: 'num', 'data-col': col.key, ...(v?.mean !== null && v ? { 'data-mean': v.mean } : {}) }, metricCellText(r, col)));
          }
          tbody.append(tr);
        }
        table.append(thead, tbody);
        wrap.replaceChildren(table);
      },
    };
  },
};
