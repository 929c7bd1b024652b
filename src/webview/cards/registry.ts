// The registry of cards: a layout is the list of its cards, in order. Adding a card is one file
// and one line here.
import type { CompareSubject } from '../compare/subject';
import type { CardDefinition, CardInstance } from './types';
import { setChildren } from '../dom';
import { matricesCard } from './compare/matrices';
import { differenceCard } from './compare/difference';
import { curvesCard } from './compare/curves';
import { metricsTableCard } from './compare/metrics';
import { sweepCard } from './compare/sweep';
import type { RunSubject } from './run/subject';
import { runMatrixCard } from './run/matrix';
import { runMetricsCard } from './run/metrics';
import { runCurvesCard } from './run/curves';
import { runLandscapeCard } from './run/landscape';
import { runLogsCard } from './run/logs';

/** The single-run layout: one run, live or saved. */
export const RUN_CARDS: readonly CardDefinition<RunSubject>[] = [runMatrixCard, runMetricsCard, runCurvesCard, runLandscapeCard, runLogsCard];

/** The compare layout: several runs or groups of seeds. */
export const COMPARE_CARDS: readonly CardDefinition<CompareSubject>[] = [metricsTableCard, matricesCard, differenceCard, curvesCard, sweepCard];

/**
 * Puts a layout's cards that apply to `subject` into `content`, in order, creating each card once
 * (kept in `cards` by id) and returning them to be rendered: the run panel and the compare panel
 * are two layouts of the same mechanism.
 */
export function mountCards<S>(doc: Document, content: HTMLElement, layout: readonly CardDefinition<S>[], cards: Map<string, CardInstance<S>>, subject: S): CardInstance<S>[] {
  const active = layout.filter((d) => d.applies(subject)).map((d) => {
    let card = cards.get(d.id);
    if (!card) {
      card = d.create(doc);
      cards.set(d.id, card);
    }
    return card;
  });
  setChildren(
    content,
    active.map((c) => c.el),
  );
  return active;
}
