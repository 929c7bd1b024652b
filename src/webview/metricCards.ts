// ACC, BWT, FWT, forgetting (and intransigence where the engine had a joint reference) as cards.
// The engine computes the metrics; this only displays them, and says which definitions they follow.
import type { Metrics } from '../protocol/result';
import { formatPercent, formatPoints, roundHalfAway } from '../protocol/format';
import { h, setChildren } from './dom';
import { bindTooltip, createTooltip, type TooltipLine } from './charts/axes';

/**
 * A signed metric is coloured (green better, red worse) only when |value| reaches this, in the
 * metric's units (fractions): 0.01 = 1 percentage point. Smaller differences are within what one
 * seed's noise gives on these test sets, and stay uncoloured.
 */
export const METRIC_COLOUR_THRESHOLD = 0.01;

type MetricKey = 'acc' | 'bwt' | 'fwt' | 'forgetting' | 'intransigence';

interface MetricDef {
  key: MetricKey;
  name: string;
  unit: '%' | 'pp';
  signed: boolean;
  formula: string;
  meaning: string;
  source?: string;
  /** Which of the published variants this is, where they differ. */
  variant?: string;
  /** Why the value can be missing. */
  missing: string;
  /** Compares rows of R with each other: meaningless when the run has one phase (joint training). */
  needsPhases: boolean;
  /** Shown only when the result carries it. */
  optional?: boolean;
  /** A positive value is the bad direction (colours the sign the other way round). */
  positiveIsWorse?: boolean;
}

export const METRIC_DEFS: readonly MetricDef[] = [
  {
    key: 'acc',
    name: 'ACC',
    unit: '%',
    signed: false,
    formula: 'ACC = mean_j R[T−1][j]',
    meaning: 'average accuracy over the tasks trained, after the last phase',
    missing: 'after the first phase',
    needsPhases: false,
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
    needsPhases: true,
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
    needsPhases: true,
  },
  {
    key: 'forgetting',
    name: 'Forgetting',
    unit: 'pp',
    signed: false,
    formula: 'Forgetting = mean_{j<T−1} max_{l<T−1} (R[l][j] − R[T−1][j])',
    meaning: 'average drop from the best accuracy each earlier task ever had',
    source: 'Chaudhry et al. 2018',
    variant: 'maximum over earlier rows, as Chaudhry et al. and Mammoth; Avalanche subtracts from the first value R[j][j] instead',
    missing: 'needs two tasks',
    needsPhases: true,
  },
  {
    key: 'intransigence',
    name: 'Intransigence',
    unit: 'pp',
    signed: true,
    formula: 'I = mean_j (R*_j − R[j][j])',
    meaning: 'inability to learn new tasks: how far each task falls short of a joint reference run R* when it is learned',
    source: 'Chaudhry et al. 2018',
    missing: 'needs a joint reference run',
    needsPhases: false,
    optional: true,
    positiveIsWorse: true,
  },
];

/** The hover text of a metric card: formula, meaning, the paper, and which variant where they differ. */
export function metricDefinition(def: MetricDef): string {
  return [def.formula, def.meaning, def.source, def.variant].filter(Boolean).join(' · ');
}

/** The colour rule of a signed metric, in words (the tooltip says it). */
export function colourRule(def: Pick<MetricDef, 'signed' | 'positiveIsWorse'>): string | null {
  if (!def.signed) return null;
  const pp = formatPoints(METRIC_COLOUR_THRESHOLD, false);
  return `coloured when |value| ≥ ${pp} pp: ${def.positiveIsWorse ? 'red above, green below' : 'green above, red below'}`;
}

/** -1, 0 or +1: how a value is coloured (0 when within the threshold, unsigned or missing). */
export function metricTone(def: Pick<MetricDef, 'signed' | 'positiveIsWorse'>, v: number | null | undefined): -1 | 0 | 1 {
  // Compared as displayed (one decimal in points), so "-1.0" is never shown uncoloured.
  if (!def.signed || typeof v !== 'number' || !Number.isFinite(v) || roundHalfAway(Math.abs(v) * 100, 1) < roundHalfAway(METRIC_COLOUR_THRESHOLD * 100, 1)) return 0;
  return (Math.sign(v) * (def.positiveIsWorse ? -1 : 1)) as -1 | 1;
}

/** The tooltip of a metric card: name, formula, meaning, source, variant, colour rule. */
export function metricTooltip(def: MetricDef): TooltipLine[] {
  return [
    { text: def.name, strong: true },
    { text: def.formula },
    { text: def.meaning },
    ...(def.source ? [{ text: def.source }] : []),
    ...(def.variant ? [{ text: def.variant }] : []),
    ...(colourRule(def) ? [{ text: colourRule(def)! }] : []),
  ];
}

export function formatMetric(def: Pick<MetricDef, 'unit' | 'signed'>, v: number | null | undefined): string {
  return def.unit === '%' ? formatPercent(v) : formatPoints(v, def.signed);
}

export interface MetricScope {
  /** Rows of R so far. */
  rows: number;
  /** Rows the run will have (phases). */
  phases: number;
  /** Rows are phases, not tasks (joint or cumulative training). */
  phaseRows: boolean;
}

export interface MetricCards {
  update(metrics: Metrics, scope: MetricScope): void;
}

export function createMetricCards(el: HTMLElement): MetricCards {
  const doc = el.ownerDocument;
  const grid = h(doc, 'div', { class: 'metric-cards' });
  el.append(grid);
  const tooltip = createTooltip(el);
  const byKey = new Map(METRIC_DEFS.map((d) => [d.key, d]));
  bindTooltip(el, tooltip, (card) => {
    const def = byKey.get(card.getAttribute('data-tip') as MetricKey);
    return def ? metricTooltip(def) : null;
  });
  const cards = METRIC_DEFS.map((def) => {
    const card = h(doc, 'div', { class: `metric metric-${def.key}`, 'data-testid': `metric-${def.key}`, 'data-tip': def.key, 'aria-description': metricDefinition(def), tabindex: 0 });
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
    return { def, card, value, unit, note };
  });
  return {
    update(metrics, scope) {
      const visible: HTMLElement[] = [];
      for (const c of cards) {
        const raw = metrics[c.def.key];
        if (c.def.optional && raw === undefined) continue;
        visible.push(c.card);
        // One phase (joint training): no earlier row to compare with, whatever the numbers say.
        const onePhase = c.def.needsPhases && scope.phases === 1;
        const v = onePhase ? null : raw;
        const has = typeof v === 'number' && Number.isFinite(v);
        c.value.textContent = onePhase ? 'n/a' : formatMetric(c.def, v);
        c.unit.hidden = !has;
        c.card.classList.toggle('empty', !has);
        const sign = has ? metricTone(c.def, v) : 0;
        c.card.classList.toggle('negative', sign < 0);
        c.card.classList.toggle('positive', sign > 0);
        const unit = scope.phaseRows ? 'phases' : 'tasks';
        c.note.textContent = onePhase ? '— one phase' : !has ? c.def.missing : scope.rows < scope.phases ? `over the first ${scope.rows} of ${scope.phases} ${unit}` : '';
      }
      setChildren(grid, visible);
    },
  };
}
