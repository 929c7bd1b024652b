// Card: the loss landscape on the plane through θ_A and θ_B, and the 1D curve between them.
import type { RunResult } from '../../../protocol/result';
import { landscapePlan, phaseLabels, phasesOf, taskLabels } from '../../../protocol/format';
import { createLandscapeView } from '../../charts/landscape';
import { measuredWidth, setChildren } from '../../dom';
import type { ChartExport } from '../../exporting';
import { cardSection, toolButton } from '../section';
import { changeKeys, type CardContext, type CardDefinition } from '../types';
import type { RunSubject } from './subject';

function landscapePlaceholder(r: RunResult, computing: boolean): string {
  const plan = landscapePlan(r.experiment, phasesOf(r).length);
  if (plan.reason) return plan.reason;
  if (computing) return 'Computing the loss landscape…';
  if (r.status === 'running') return 'The loss landscape is computed after the last task.';
  return 'No landscape in this result (the run ended before it was computed).';
}

export const runLandscapeCard: CardDefinition<RunSubject> = {
  id: 'landscape',
  applies: () => true,
  create(doc) {
    const sec = cardSection(doc, 'landscape-card', 'Loss landscape', 'the plane through θ_A (first optimum) and θ_B (second), axes in units of |θ_B − θ_A|');
    const landscape = createLandscapeView(sec.body);
    const changed = changeKeys();
    let drawn: RunResult['landscape'] | undefined;
    let drawnEpoch = -1;
    let ctx: CardContext<RunSubject> | null = null;
    const mapsExport = (): ChartExport => ({
      part: `landscape-${landscape.metric()}`,
      title: `Loss landscape: ${landscape.metric()} of each task on the plane through θA and θB`,
      build: (style) => landscape.exportSvgs(style).maps,
    });
    const lineExport = (): ChartExport => ({
      part: `landscape-line-${landscape.metric()}`,
      title: `${landscape.metric() === 'loss' ? 'Loss' : 'Accuracy'} of each task on the straight line from θA to θB`,
      build: (style) => landscape.exportSvgs(style).line,
    });
    const exportChart = (f: () => ChartExport, format: 'svg' | 'png') => ctx && void ctx.figures.chart(f(), format).catch((e: unknown) => console.error('export failed', e));
    const tools = [
      toolButton(doc, 'Maps SVG', 'export-landscape-svg', 'Save the contour maps as SVG', () => exportChart(mapsExport, 'svg')),
      toolButton(doc, 'Maps PNG', 'export-landscape-png', 'Save the contour maps as PNG', () => exportChart(mapsExport, 'png')),
      toolButton(doc, 'Line SVG', 'export-line-svg', 'Save the 1D line chart as SVG', () => exportChart(lineExport, 'svg')),
      toolButton(doc, 'Line PNG', 'export-line-png', 'Save the 1D line chart as PNG', () => exportChart(lineExport, 'png')),
    ];
    return {
      el: sec.el,
      render(next) {
        ctx = next;
        const r = next.subject.state.result;
        const labels = taskLabels(r);
        const rowLabels = phaseLabels(r);
        const width = measuredWidth(sec.body, next.width - 32);
        const lp = next.subject.state.landscapeProgress;
        const placeholder = landscapePlaceholder(r, !!lp);
        const key = `${next.epoch}|${next.width}|${labels.join('\u0000')}|${rowLabels.join('\u0000')}|${width}|${lp ? `${lp.done}/${lp.total}/${lp.phase}` : ''}|${placeholder}`;
        // The landscape arrives whole (a new object), so identity tells a new one apart.
        if (changed('landscape', key) || drawn !== r.landscape || drawnEpoch !== next.epoch) {
          drawn = r.landscape;
          drawnEpoch = next.epoch;
          landscape.update({ landscape: r.landscape, labels, phaseLabels: rowLabels, palette: next.palette, width, placeholder, progress: lp });
        }
        setChildren(sec.tools, r.landscape ? tools : []);
      },
      dispose: () => landscape.dispose(),
    };
  },
};
