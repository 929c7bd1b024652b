// Card: the run's warnings and errors (the last 50), folded.
import { h } from '../../dom';
import type { CardDefinition } from '../types';
import type { RunSubject } from './subject';

const notable = (s: RunSubject) => s.state.logs.filter((l) => l.level !== 'info');

export const runLogsCard: CardDefinition<RunSubject> = {
  id: 'logs',
  applies: (s) => notable(s).length > 0,
  create(doc) {
    const el = h(doc, 'details', { class: 'card logs', 'data-testid': 'logs' });
    const summary = h(doc, 'summary');
    const list = h(doc, 'ul');
    el.append(summary, list);
    return {
      el,
      render(ctx) {
        const logs = notable(ctx.subject);
        summary.textContent = `Log: ${logs.length} warning${logs.length === 1 ? '' : 's'} or error${logs.length === 1 ? '' : 's'}`;
        list.replaceChildren(...logs.slice(-50).map((l) => h(doc, 'li', { class: `log-${l.level}` }, `${l.level}: ${l.message}`)));
      },
    };
  },
};
