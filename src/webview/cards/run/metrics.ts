// Card: the run's continual-learning metrics (ACC, BWT, FWT, forgetting) as metric cards.
import { hasMultiTaskPhases, phasesOf } from '../../../protocol/format';
import { createMetricCards } from '../../metricCards';
import { cardSection } from '../section';
import { changeKeys, type CardDefinition } from '../types';
import type { RunSubject } from './subject';

export const runMetricsCard: CardDefinition<RunSubject> = {
  id: 'metrics',
  applies: () => true,
  create(doc) {
    const sec = cardSection(doc, 'metrics', 'Continual-learning metrics', 'computed by the engine from R and b');
    const cards = createMetricCards(sec.body);
    const changed = changeKeys();
    return {
      el: sec.el,
      render(ctx) {
        const r = ctx.subject.state.result;
        const rows = r.accuracyMatrix.filter(Array.isArray).length;
        const scope = { rows, phases: phasesOf(r).length, phaseRows: hasMultiTaskPhases(r) };
        if (changed('metrics', `${JSON.stringify(r.metrics)}|${JSON.stringify(scope)}`)) cards.update(r.metrics, scope);
      },
    };
  },
};
