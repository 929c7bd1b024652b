// Card: the run's accuracy matrix R as a heatmap, with a switch to the other scenario where the run
// scored both, its ACC, and exports (SVG, PNG, CSV).
import type { Scenario } from '../../../protocol/experiment';
import { formatPercent, phaseLabels, scenarioName, taskLabels } from '../../../protocol/format';
import { createHeatmap, heatmapModel, matrixViews, type MatrixView } from '../../charts/heatmap';
import { h, setChildren } from '../../dom';
import { accuracyMatrixCsv, type ChartExport } from '../../exporting';
import { cardSection, toolButton } from '../section';
import { changeKeys, type CardContext, type CardDefinition } from '../types';
import type { RunSubject } from './subject';

/** The content's width from which the matrix and the metrics sit side by side (styles.css, @container workbench). */
export const TWO_COLUMNS_MIN = 780;
/** The metrics column's minimum and the grid gap in the two-column layout (styles.css). */
const METRICS_MIN = 300;
const GRID_GAP = 16;
/** A card's horizontal padding and border, both sides (styles.css .card; less under 480 px). */
const cardChrome = (contentWidth: number) => (contentWidth <= 480 - 16 ? 2 * 10 + 2 : 2 * 14 + 2);

/** The room the heatmap has in its card for a content area `contentWidth` px wide. */
export function matrixRoom(contentWidth: number): number {
  const column = contentWidth >= TWO_COLUMNS_MIN ? contentWidth - METRICS_MIN - GRID_GAP : contentWidth;
  return Math.max(0, column - cardChrome(contentWidth));
}

export const runMatrixCard: CardDefinition<RunSubject> = {
  id: 'matrix',
  applies: () => true,
  create(doc) {
    const sec = cardSection(doc, 'matrix', 'Accuracy matrix R', 'R[i][j]: accuracy (%) on task j after training phase i (task i, unless the strategy trains tasks together)');
    // Where the run scored both task-IL and class-IL: a switch between the two matrices, each with its ACC.
    const bar = h(doc, 'div', { class: 'matrix-bar' });
    const viewSwitch = h(doc, 'div', { class: 'scenario-switch', role: 'group', 'aria-label': 'Scenario of the matrix', 'data-testid': 'scenario-switch' });
    const acc = h(doc, 'span', { class: 'matrix-acc', 'data-testid': 'matrix-acc', title: 'ACC of this matrix: mean accuracy over the tasks trained, after the last phase' });
    bar.append(viewSwitch, acc);
    sec.body.append(bar);
    const heatmap = createHeatmap(sec.body);
    let matrixView: MatrixView = 'primary';
    let ctx: CardContext<RunSubject> | null = null;
    const changed = changeKeys();
    const result = () => ctx!.subject.state.result;
    const figure = (): ChartExport => ({
      part: matrixView === 'primary' ? 'accuracy-matrix' : `accuracy-matrix-${matrixViews(result()).find((v) => v.view === matrixView)?.scenario ?? 'alternate'}`,
      title: 'Accuracy matrix R: test accuracy (%) on task j after training phase i',
      build: (style) => heatmap.exportSvg(style?.palette),
    });
    const exportChart = (format: 'svg' | 'png') => ctx && void ctx.figures.chart(figure(), format).catch((e: unknown) => console.error('export failed', e));
    sec.tools.append(
      toolButton(doc, 'SVG', 'export-matrix-svg', 'Save the matrix as SVG', () => exportChart('svg')),
      toolButton(doc, 'PNG', 'export-matrix-png', 'Save the matrix as PNG', () => exportChart('png')),
      toolButton(doc, 'CSV', 'export-matrix-csv', 'Save R (and the baseline) as CSV', () => ctx && ctx.figures.text('accuracy-matrix', 'csv', accuracyMatrixCsv(result()))),
    );

    /** One switch button per matrix view, made once (focus survives re-renders). */
    const viewButtons = new Map<string, HTMLElement>();
    function viewButton(v: { view: MatrixView; scenario: Scenario }): HTMLElement {
      const key = `${v.view}|${v.scenario}`;
      let b = viewButtons.get(key);
      if (!b) {
        const title = v.view === 'primary' ? `R as trained and scored: ${scenarioName(v.scenario)}` : `The same rows scored ${scenarioName(v.scenario)}: ${v.scenario === 'task-il' ? 'each task on its own output units' : 'every unit seen so far competes'}`;
        b = h(doc, 'vscode-button', { class: 'tool', 'data-testid': `matrix-view-${v.view}`, 'data-scenario': v.scenario, title }, scenarioName(v.scenario));
        b.addEventListener('click', () => {
          if (matrixView === v.view || !ctx) return;
          matrixView = v.view;
          draw(ctx);
        });
        viewButtons.set(key, b);
      }
      const on = v.view === matrixView;
      b.setAttribute('aria-pressed', String(on));
      b.toggleAttribute('secondary', !on);
      return b;
    }

    /** The heatmap in the chosen scenario, and the switch when the run scored the other one too. */
    function draw(c: CardContext<RunSubject>) {
      const r = c.subject.state.result;
      const views = matrixViews(r);
      if (!views.some((v) => v.view === matrixView)) matrixView = 'primary';
      const hm = heatmapModel(r, matrixView);
      // The matrix column is as wide as its table (max-content): size the table from the content's width.
      const width = matrixRoom(c.width);
      const common = `${c.epoch}|${c.width}|${taskLabels(r).join('\u0000')}|${phaseLabels(r).join('\u0000')}`;
      if (changed('heatmap', `${common}|${width}|${JSON.stringify(hm)}`)) heatmap.update(hm, c.palette, width);
      bar.hidden = views.length < 2;
      if (views.length < 2) return;
      setChildren(viewSwitch, views.map(viewButton));
      acc.textContent = `ACC (${scenarioName(hm.scenario)}) ${formatPercent(hm.acc)}%`;
    }

    return {
      el: sec.el,
      render(next) {
        ctx = next;
        draw(next);
      },
      dispose: () => heatmap.dispose(),
    };
  },
};
