// ACC, BWT, FWT and forgetting as cards. The engine computes the metrics; this only displays them.
import type { Metrics } from '../protocol/result';
import { formatPercent, formatPoints } from './format';
import { h } from './dom';

interface MetricDef {
  key: 'acc' | 'bwt' | 'fwt' | 'forgetting';
  name: string;
  unit: '%' | 'pp';
  signed: boolean;
  formula: string;
  meaning: string;
  source?: string;
  /** Why the value can be missing. */
  missing: string;
}

export const METRIC_DEFS: readonly MetricDef[] = [
  {
    key: 'acc',
    name: 'ACC',
    unit: '%',
    signed: false,
    formula: 'ACC = mean_j R[T−1][j]',
    meaning: 'average accuracy over all tasks after the last one',
    missing: 'after the first task',
  },
  {
    key: 'bwt',
    name: 'BWT',
    unit: 'pp',
    signed: true,
    formula: 'BWT = mean_{j<T−1} (R[T−1][j] − R[j][j])',
    meaning: 'backward transfer: negative means earlier tasks were forgotten',
    source: 'Lopez-Paz & Ranzato 2017',
    missing: 'needs two tasks',
  },
  {
    key: 'fwt',
    name: 'FWT',
    unit: 'pp',
    signed: true,
    formula: 'FWT = mean_{j≥1} (R[j−1][j] − b_j)',
    meaning: 'forward transfer: accuracy on a task before training it, over random init',
    source: 'Lopez-Paz & Ranzato 2017',
    missing: 'needs two tasks and the baseline',
  },
  {
    key: 'forgetting',
    name: 'Forgetting',
    unit: 'pp',
    signed: false,
    formula: 'Forgetting = mean_{j<T−1} max_{l<T−1} (R[l][j] − R[T−1][j])',
    meaning: 'average drop from the best accuracy each earlier task ever had',
    source: 'Chaudhry et al. 2018',
    missing: 'needs two tasks',
  },
];

export function formatMetric(def: Pick<MetricDef, 'unit' | 'signed'>, v: number | null | undefined): string {
  return def.unit === '%' ? formatPercent(v) : formatPoints(v, def.signed);
}

export interface MetricCards {
  update(metrics: Metrics, rows: number, tasks: number): void;
}

export function createMetricCards(el: HTMLElement): MetricCards {
  const doc = el.ownerDocument;
  const grid = h(doc, 'div', { class: 'metric-cards' });
  el.append(grid);
  const cards = METRIC_DEFS.map((def) => {
    const title = [def.formula, def.meaning, def.source].filter(Boolean).join(' · ');
    const card = h(doc, 'div', { class: `metric metric-${def.key}`, 'data-testid': `metric-${def.key}`, title, tabindex: 0 });
    const name = h(doc, 'div', { class: 'metric-name' }, def.name);
    const value = h(doc, 'span', { class: 'metric-number' });
    const unit = h(doc, 'span', { class: 'metric-unit' }, def.unit === '%' ? '%' : ' pp');
    const valueRow = h(doc, 'div', { class: 'metric-value' });
    valueRow.append(value, unit);
    const caption = h(doc, 'div', { class: 'metric-caption' });
    // The card already names the metric: the caption shows the right-hand side only.
    caption.append(h(doc, 'span', { class: 'formula' }, def.formula.replace(/^[^=]*=\s*/, '')));
    if (def.source) caption.append(h(doc, 'span', { class: 'source' }, def.source));
    const note = h(doc, 'div', { class: 'metric-note' });
    card.append(name, valueRow, caption, note);
    grid.append(card);
    return { def, card, value, unit, note };
  });
  return {
    update(metrics, rows, tasks) {
      for (const c of cards) {
        const v = metrics[c.def.key];
        const has = typeof v === 'number' && Number.isFinite(v);
        c.value.textContent = formatMetric(c.def, v);
        c.unit.hidden = !has;
        c.card.classList.toggle('empty', !has);
        c.card.classList.toggle('negative', has && c.def.signed && (v as number) < -0.0005);
        c.card.classList.toggle('positive', has && c.def.signed && (v as number) > 0.0005);
        c.note.textContent = !has ? c.def.missing : rows < tasks ? `over the first ${rows} of ${tasks} tasks` : '';
      }
    },
  };
}
