// Card: each task's accuracy over training steps (the shared line chart through charts/curves.ts).
import { phaseLabels, phasesOf, taskLabels } from '../../../protocol/format';
import { createCurvesChart } from '../../charts/curves';
import { measuredWidth } from '../../dom';
import type { ChartExport } from '../../exporting';
import { cardSection, toolButton } from '../section';
import { changeKeys, type CardContext, type CardDefinition } from '../types';
import type { RunSubject } from './subject';

export const runCurvesCard: CardDefinition<RunSubject> = {
  id: 'curves',
  applies: () => true,
  create(doc) {
    const sec = cardSection(doc, 'curves-card', 'Accuracy during training', 'each task’s test accuracy (evaluation subset) over training steps');
    const curves = createCurvesChart(sec.body);
    const changed = changeKeys();
    let ctx: CardContext<RunSubject> | null = null;
    const figure: ChartExport = { part: 'curves', title: 'Test accuracy of every task during training', build: (style) => curves.exportSvg(style) };
    const exportChart = (format: 'svg' | 'png') => ctx && void ctx.figures.chart(figure, format).catch((e: unknown) => console.error('export failed', e));
    sec.tools.append(
      toolButton(doc, 'SVG', 'export-curves-svg', 'Save the curves as SVG', () => exportChart('svg')),
      toolButton(doc, 'PNG', 'export-curves-png', 'Save the curves as PNG', () => exportChart('png')),
    );
    return {
      el: sec.el,
      render(next) {
        ctx = next;
        const r = next.subject.state.result;
        const labels = taskLabels(r);
        const rowLabels = phaseLabels(r);
        const width = measuredWidth(sec.body, next.width - 32);
        const last = r.curves[r.curves.length - 1];
        const key = `${next.epoch}|${next.width}|${labels.join('\u0000')}|${rowLabels.join('\u0000')}|${width}|${r.curves.length}|${last?.step}|${r.taskBoundaries.join()}|${r.totalSteps}`;
        if (!changed('curves', key)) return;
        const marks = phasesOf(r).map((tasks, i) => ({ label: rowLabels[i], task: tasks.length === 1 ? tasks[0] : -1 }));
        curves.update({ curves: r.curves, labels, phases: marks, boundaries: r.taskBoundaries, totalSteps: r.totalSteps, palette: next.palette, width });
      },
      dispose: () => curves.dispose(),
    };
  },
};
