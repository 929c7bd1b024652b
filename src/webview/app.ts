// The workbench: composes header, accuracy matrix, metric cards, curves and landscape, and renders a
// ViewModel into them. Knows nothing about where the state comes from (panel messages or report).
import type { Scenario } from '../protocol/experiment';
import type { RunResult } from '../protocol/result';
import { formatPercent, hasMultiTaskPhases, landscapePlan, phaseLabels, phasesOf, scenarioName, taskLabels } from '../protocol/format';
import { createHeader, type ViewModel } from './header';
import { createHeatmap, heatmapModel, matrixViews, type MatrixView } from './charts/heatmap';
import { createCurvesChart } from './charts/curves';
import { createLandscapeView } from './charts/landscape';
import { createMetricCards } from './metricCards';
import { createExporter, type ChartExport, type ExportStyle } from './exporting';
import { appendRichText, h, measuredWidth, setChildren } from './dom';
import { readPalette, type Palette } from './theme';
import type { Post } from './host';

export type { ViewModel } from './header';

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

export interface WorkbenchOptions {
  /** Width used when the document has no layout (tests). */
  fallbackWidth?: number;
  /** Palette override (tests); otherwise read from the theme. */
  palette?: Palette;
  /** Clock for the time left (tests). */
  now?: () => number;
}

export interface Workbench {
  render(view: ViewModel): void;
  /** Re-reads theme colours; the next render redraws every chart. */
  refreshTheme(): void;
  dispose(): void;
}

function section(doc: Document, cls: string, title: string, subtitle?: string) {
  const el = h(doc, 'section', { class: `card ${cls}` });
  const head = h(doc, 'div', { class: 'card-head' });
  const titles = h(doc, 'div', { class: 'card-titles' });
  titles.append(h(doc, 'h2', {}, title));
  if (subtitle) {
    const sub = h(doc, 'div', { class: 'card-subtitle muted' });
    appendRichText(sub, subtitle);
    titles.append(sub);
  }
  const tools = h(doc, 'div', { class: 'card-tools' });
  head.append(titles, tools);
  const body = h(doc, 'div', { class: 'card-body' });
  el.append(head, body);
  return { el, tools, body };
}

function toolButton(doc: Document, text: string, testid: string, title: string, onClick: () => void): HTMLElement {
  const b = h(doc, 'vscode-button', { secondary: true, 'data-testid': testid, title, class: 'tool' }, text);
  b.addEventListener('click', onClick);
  return b;
}

export function createWorkbench(root: HTMLElement, post: Post, options: WorkbenchOptions = {}): Workbench {
  const doc = root.ownerDocument;
  const fallbackWidth = options.fallbackWidth ?? 960;
  let palette: Palette = options.palette ?? readPalette(doc.body);
  let view: ViewModel | null = null;
  const result = (): RunResult | null => view?.state?.result ?? null;
  const reportError = (e: unknown) => console.error('export failed', e);
  let exportStyle: ExportStyle = 'publication';
  const exporter = createExporter(doc, result, () => palette, post, () => exportStyle);
  const exportChart = (chart: ChartExport, format: 'svg' | 'png') => void exporter.chart(chart, format).catch(reportError);

  const app = h(doc, 'div', { class: 'clw' });
  root.append(app);
  const header = createHeader(app, { post, runFile: () => post({ type: 'runFile' }), exportJson: () => exporter.json(), now: options.now });
  // How charts export: for a paper (white, black, 300 dpi, titled) or as the panel shows them.
  const styleBar = h(doc, 'div', { class: 'export-style', role: 'group', 'aria-label': 'Export style of the charts', 'data-testid': 'export-style' });
  const styleLabel = h(doc, 'span', { class: 'muted' }, 'Chart exports:');
  const styleButtons = (['publication', 'theme'] as const).map((style) => {
    const b = h(
      doc,
      'vscode-button',
      {
        class: 'tool',
        'data-testid': `export-style-${style}`,
        title: style === 'publication' ? 'White background, black text, titled, PNG at 300 dpi: for papers' : 'The panel’s own colours, as you see them',
      },
      style === 'publication' ? 'Publication' : 'Theme',
    );
    b.addEventListener('click', () => {
      exportStyle = style;
      syncStyle();
    });
    return b;
  });
  const syncStyle = () =>
    styleButtons.forEach((b, i) => {
      const on = (i === 0 ? 'publication' : 'theme') === exportStyle;
      b.setAttribute('aria-pressed', String(on));
      b.toggleAttribute('secondary', !on);
    });
  syncStyle();
  styleBar.append(styleLabel, ...styleButtons);
  const content = h(doc, 'div', { class: 'content' });
  app.append(styleBar, content);

  const matrix = section(doc, 'matrix', 'Accuracy matrix R', 'R[i][j]: accuracy (%) on task j after training phase i (task i, unless the strategy trains tasks together)');
  // Where the run scored both task-IL and class-IL: a switch between the two matrices, each with its ACC.
  const matrixBar = h(doc, 'div', { class: 'matrix-bar' });
  const matrixSwitch = h(doc, 'div', { class: 'scenario-switch', role: 'group', 'aria-label': 'Scenario of the matrix', 'data-testid': 'scenario-switch' });
  const matrixAcc = h(doc, 'span', { class: 'matrix-acc', 'data-testid': 'matrix-acc', title: 'ACC of this matrix: mean accuracy over the tasks trained, after the last phase' });
  matrixBar.append(matrixSwitch, matrixAcc);
  matrix.body.append(matrixBar);
  const heatmap = createHeatmap(matrix.body);
  let matrixView: MatrixView = 'primary';
  const matrixExport = (): ChartExport => ({
    part: matrixView === 'primary' ? 'accuracy-matrix' : `accuracy-matrix-${matrixViews(result()!).find((v) => v.view === matrixView)?.scenario ?? 'alternate'}`,
    title: 'Accuracy matrix R: test accuracy (%) on task j after training phase i',
    build: (style) => heatmap.exportSvg(style?.palette),
  });
  matrix.tools.append(
    toolButton(doc, 'SVG', 'export-matrix-svg', 'Save the matrix as SVG', () => exportChart(matrixExport(), 'svg')),
    toolButton(doc, 'PNG', 'export-matrix-png', 'Save the matrix as PNG', () => exportChart(matrixExport(), 'png')),
    toolButton(doc, 'CSV', 'export-matrix-csv', 'Save R (and the baseline) as CSV', () => exporter.csv()),
  );

  const metricsCard = section(doc, 'metrics', 'Continual-learning metrics', 'computed by the engine from R and b');
  const cards = createMetricCards(metricsCard.body);

  const curvesCard = section(doc, 'curves-card', 'Accuracy during training', 'each task’s test accuracy (evaluation subset) over training steps');
  const curves = createCurvesChart(curvesCard.body);
  const curvesExport: ChartExport = { part: 'curves', title: 'Test accuracy of every task during training', build: (style) => curves.exportSvg(style) };
  curvesCard.tools.append(
    toolButton(doc, 'SVG', 'export-curves-svg', 'Save the curves as SVG', () => exportChart(curvesExport, 'svg')),
    toolButton(doc, 'PNG', 'export-curves-png', 'Save the curves as PNG', () => exportChart(curvesExport, 'png')),
  );

  const landscapeCard = section(doc, 'landscape-card', 'Loss landscape', 'the plane through θ_A (first optimum) and θ_B (second), axes in units of |θ_B − θ_A|');
  const landscape = createLandscapeView(landscapeCard.body);
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
  const landscapeTools = [
    toolButton(doc, 'Maps SVG', 'export-landscape-svg', 'Save the contour maps as SVG', () => exportChart(mapsExport(), 'svg')),
    toolButton(doc, 'Maps PNG', 'export-landscape-png', 'Save the contour maps as PNG', () => exportChart(mapsExport(), 'png')),
    toolButton(doc, 'Line SVG', 'export-line-svg', 'Save the 1D line chart as SVG', () => exportChart(lineExport(), 'svg')),
    toolButton(doc, 'Line PNG', 'export-line-png', 'Save the 1D line chart as PNG', () => exportChart(lineExport(), 'png')),
  ];

  const logs = h(doc, 'details', { class: 'card logs', 'data-testid': 'logs' });
  const logsSummary = h(doc, 'summary');
  const logsList = h(doc, 'ul');
  logs.append(logsSummary, logsList);

  // Keys of what each chart last drew: the fold mutates the state in place, so compare contents.
  let keys: Record<string, string> = {};
  let themeVersion = 0;
  let drawnLandscape: RunResult['landscape'] | undefined;
  const changed = (name: string, key: string) => {
    if (keys[name] === key) return false;
    keys[name] = key;
    return true;
  };

  function landscapePlaceholder(r: RunResult, computing: boolean): string {
    const plan = landscapePlan(r.experiment, phasesOf(r).length);
    if (plan.reason) return plan.reason;
    if (computing) return 'Computing the loss landscape…';
    if (r.status === 'running') return 'The loss landscape is computed after the last task.';
    return 'No landscape in this result (the run ended before it was computed).';
  }

  /** One switch button per matrix view, made once (focus survives re-renders). */
  const viewButtons = new Map<string, HTMLElement>();
  function viewButton(v: { view: MatrixView; scenario: Scenario }): HTMLElement {
    const key = `${v.view}|${v.scenario}`;
    let b = viewButtons.get(key);
    if (!b) {
      const title = v.view === 'primary' ? `R as trained and scored: ${scenarioName(v.scenario)}` : `The same rows scored ${scenarioName(v.scenario)}: ${v.scenario === 'task-il' ? 'each task on its own output units' : 'every unit seen so far competes'}`;
      b = h(doc, 'vscode-button', { class: 'tool', 'data-testid': `matrix-view-${v.view}`, 'data-scenario': v.scenario, title }, scenarioName(v.scenario));
      b.addEventListener('click', () => {
        if (matrixView === v.view || !view?.state) return;
        matrixView = v.view;
        drawMatrix(view.state.result);
      });
      viewButtons.set(key, b);
    }
    const on = v.view === matrixView;
    b.setAttribute('aria-pressed', String(on));
    b.toggleAttribute('secondary', !on);
    return b;
  }

  /** The heatmap in the chosen scenario, and the switch when the run scored the other one too. */
  let matrixKey = '';
  function drawMatrix(r: RunResult, common = matrixKey) {
    matrixKey = common;
    const views = matrixViews(r);
    if (!views.some((v) => v.view === matrixView)) matrixView = 'primary';
    const hm = heatmapModel(r, matrixView);
    // The matrix column is as wide as its table (max-content): size the table from the content's width.
    const width = matrixRoom(measuredWidth(content, fallbackWidth));
    if (changed('heatmap', `${common}|${width}|${JSON.stringify(hm)}`)) heatmap.update(hm, palette, width);
    matrixBar.hidden = views.length < 2;
    if (views.length < 2) return;
    setChildren(matrixSwitch, views.map(viewButton));
    matrixAcc.textContent = `ACC (${scenarioName(hm.scenario)}) ${formatPercent(hm.acc)}%`;
  }

  return {
    render(next) {
      view = next;
      root.removeAttribute('aria-busy'); // the host marks the panel busy until the first render
      header.update(next);
      const state = next.state;
      if (!state) {
        content.hidden = true;
        styleBar.hidden = true;
        return;
      }
      content.hidden = false;
      const r = state.result;
      const labels = taskLabels(r);

      // Attach the sections first so the charts measure their real width.
      const sections: HTMLElement[] = [matrix.el, metricsCard.el, curvesCard.el, landscapeCard.el];
      const notable = state.logs.filter((l) => l.level !== 'info');
      if (notable.length) {
        logsSummary.textContent = `Log: ${notable.length} warning${notable.length === 1 ? '' : 's'} or error${notable.length === 1 ? '' : 's'}`;
        logsList.replaceChildren(...notable.slice(-50).map((l) => h(doc, 'li', { class: `log-${l.level}` }, `${l.level}: ${l.message}`)));
        sections.push(logs);
      }
      setChildren(content, sections);

      const width = measuredWidth(content, fallbackWidth);
      const rowLabels = phaseLabels(r);
      const common = `${themeVersion}|${width}|${labels.join('\u0000')}|${rowLabels.join('\u0000')}`;
      drawMatrix(r, common);
      const rows = r.accuracyMatrix.filter(Array.isArray).length;
      const phases = phasesOf(r);
      const scope = { rows, phases: phases.length, phaseRows: hasMultiTaskPhases(r) };
      if (changed('metrics', `${JSON.stringify(r.metrics)}|${JSON.stringify(scope)}`)) cards.update(r.metrics, scope);

      const curvesWidth = measuredWidth(curvesCard.body, width - 32);
      const last = r.curves[r.curves.length - 1];
      if (changed('curves', `${common}|${curvesWidth}|${r.curves.length}|${last?.step}|${r.taskBoundaries.join()}|${r.totalSteps}`)) {
        const marks = phases.map((tasks, i) => ({ label: rowLabels[i], task: tasks.length === 1 ? tasks[0] : -1 }));
        curves.update({ curves: r.curves, labels, phases: marks, boundaries: r.taskBoundaries, totalSteps: r.totalSteps, palette, width: curvesWidth });
      }

      const landWidth = measuredWidth(landscapeCard.body, width - 32);
      const lp = state.landscapeProgress;
      const placeholder = landscapePlaceholder(r, !!lp);
      const landKey = `${common}|${landWidth}|${lp ? `${lp.done}/${lp.total}/${lp.phase}` : ''}|${placeholder}`;
      if (changed('landscape', landKey) || drawnLandscape !== r.landscape) {
        drawnLandscape = r.landscape;
        landscape.update({ landscape: r.landscape, labels, phaseLabels: rowLabels, palette, width: landWidth, placeholder, progress: lp });
      }
      setChildren(landscapeCard.tools, r.landscape ? landscapeTools : []);
      styleBar.hidden = !r.curves.length && !r.accuracyMatrix.length;
    },
    refreshTheme() {
      if (!options.palette) palette = readPalette(doc.body);
      themeVersion++;
      keys = {};
      drawnLandscape = undefined;
    },
    dispose() {
      curves.dispose();
      landscape.dispose();
      heatmap.dispose();
      app.remove();
    },
  };
}
