// Card: the loss landscape on the plane through θ_A and θ_B, and the 1D curve between them. For a
// finished run that kept its weights, in a panel (not a standalone report), a chooser above it:
// the planes saved beside the result to switch between, and a new plane (any two phases' optima,
// a second axis) computed by a landscape-only job on the host, with progress and Cancel.
import type { LandscapeResult, RunResult } from '../../../protocol/result';
import type { FromWebviewMessage } from '../../../protocol/webview';
import { landscapePlan, phaseLabels, phasesOf, taskLabels } from '../../../protocol/format';
import { createLandscapeView } from '../../charts/landscape';
import { appendRichText, h, measuredWidth, setChildren } from '../../dom';
import type { ChartExport } from '../../exporting';
import { cardSection, toolButton } from '../section';
import { changeKeys, type CardContext, type CardDefinition, type CardInstance } from '../types';
import type { RunSubject } from './subject';
import {
  axisOfChoice,
  chooserModel,
  chooserUnavailable,
  defaultSelection,
  describeLandscapeFile,
  jobProgressText,
  keptPhases,
  parseLandscapeFile,
  planeOf,
  planeText,
  type ChooserOption,
  type LandscapeSelection,
  type RunLandscapes,
} from './landscapeChooser';

function landscapePlaceholder(r: RunResult, computing: boolean): string {
  const plan = landscapePlan(r.experiment, phasesOf(r).length);
  if (plan.reason) return plan.reason;
  if (computing) return 'Computing the loss landscape…';
  if (r.status === 'running') return 'The loss landscape is computed after the last task.';
  return 'No landscape in this result (the run ended before it was computed).';
}

/** What the card needs from a panel to choose planes: its landscapes and a way to ask the host. */
export interface LandscapeCardHost {
  post(m: FromWebviewMessage): void;
  /** undefined until the host has said anything (and always in a standalone report). */
  landscapes(): RunLandscapes | undefined;
  /** Registers the select elements (the bundle's; tests leave them undefined elements). */
  defineControls?(): void;
}

let controlsDefined = false;
/** vscode-single-select and vscode-option, loaded the first time a chooser is built (inlined by the bundler). */
function defineSelectControls(): void {
  if (controlsDefined) return;
  controlsDefined = true;
  void Promise.all([import('@vscode-elements/elements/dist/vscode-single-select/index.js'), import('@vscode-elements/elements/dist/vscode-option/index.js')]).catch((e: unknown) =>
    console.error('the select controls did not load', e),
  );
}

interface Select {
  el: HTMLElement;
  set(options: readonly ChooserOption[], value: string): void;
  value(): string;
}

/** A vscode-single-select whose options are rebuilt only when they change (an open dropdown survives re-renders). */
function createSelect(doc: Document, testid: string, label: string, onChange: (value: string) => void): Select {
  const el = h(doc, 'vscode-single-select', { 'data-testid': testid, 'aria-label': label, class: 'landscape-select' });
  let optionsKey = '';
  const control = el as HTMLElement & { value?: string };
  const value = () => control.value ?? el.querySelector('vscode-option[selected]')?.getAttribute('value') ?? '';
  el.addEventListener('change', () => onChange(value()));
  return {
    el,
    value,
    set(options, v) {
      const key = JSON.stringify(options);
      if (key !== optionsKey) {
        optionsKey = key;
        el.replaceChildren(...options.map((o) => h(doc, 'vscode-option', { value: o.value, disabled: o.disabled === true, selected: o.value === v }, o.label)));
      } else {
        for (const opt of el.querySelectorAll('vscode-option')) opt.toggleAttribute('selected', opt.getAttribute('value') === v);
      }
      if (value() !== v) control.value = v;
    },
  };
}

const labelled = (doc: Document, text: string, control: HTMLElement, cls = '') => {
  const wrap = h(doc, 'label', { class: `landscape-field ${cls}`.trim() });
  const name = h(doc, 'span', { class: 'muted' });
  appendRichText(name, text);
  wrap.append(name, control);
  return wrap;
};

/** The landscape card; `host` adds the plane chooser (a panel), without it the card only draws (a report). */
export function createRunLandscapeCard(doc: Document, host?: LandscapeCardHost): CardInstance<RunSubject> {
  const sec = cardSection(doc, 'landscape-card', 'Loss landscape', 'the plane through θ_A (first optimum) and θ_B (second), axes in units of |θ_B − θ_A|');
  // Which plane is drawn, and (in a panel) the chooser, above the maps.
  const planeLine = h(doc, 'div', { class: 'landscape-plane muted', 'data-testid': 'landscape-plane' });
  const chooser = h(doc, 'div', { class: 'landscape-chooser', 'data-testid': 'landscape-chooser' });
  sec.body.append(planeLine, chooser);
  const landscape = createLandscapeView(sec.body);
  const changed = changeKeys();
  let drawn: LandscapeResult | null | undefined;
  let drawnEpoch = -1;
  let ctx: CardContext<RunSubject> | null = null;
  let selection: LandscapeSelection | null = null;
  /** The run the selection was made for (a panel shows one run; a new one resets it). */
  let selectionRun: string | undefined;

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

  // ---- the chooser (built once, filled at each render) ----
  const rerender = () => ctx && render(ctx);
  const select = (a: number, b: number, axis: string) => {
    selection = { a, b, axis };
    rerender();
  };
  const savedSelect = createSelect(doc, 'landscape-saved', 'Landscape shown', (v) => host?.post(v ? { type: 'showLandscape', file: v } : { type: 'showLandscape' }));
  const aSelect = createSelect(doc, 'landscape-a', 'θA: the phase whose end weights sit at (0, 0)', (v) => selection && select(Number(v), selection.b, selection.axis));
  const bSelect = createSelect(doc, 'landscape-b', 'θB: the phase whose end weights sit at (1, 0)', (v) => selection && select(selection.a, Number(v), selection.axis));
  const axisSelect = createSelect(doc, 'landscape-axis', 'Second axis of the plane', (v) => selection && select(selection.a, selection.b, v));
  const computeBtn = h(doc, 'vscode-button', { 'data-testid': 'landscape-compute', title: 'Compute the plane through these optima from the weights the run kept (no retraining)' }, 'Compute');
  const cancelBtn = h(doc, 'vscode-button', { 'data-testid': 'landscape-cancel', secondary: true, title: 'Stop the landscape job (nothing is saved)' }, 'Cancel');
  const savedRow = h(doc, 'div', { class: 'landscape-chooser-row' });
  savedRow.append(labelled(doc, 'Plane shown', savedSelect.el, 'landscape-saved-field'));
  const newRow = h(doc, 'div', { class: 'landscape-chooser-row', role: 'group', 'aria-label': 'A new plane' });
  newRow.append(h(doc, 'span', { class: 'landscape-new' }, 'New plane:'), labelled(doc, 'θ_A', aSelect.el), labelled(doc, 'θ_B', bSelect.el), labelled(doc, 'axis 2', axisSelect.el), computeBtn);
  const hint = h(doc, 'div', { class: 'muted landscape-hint', 'data-testid': 'landscape-hint' });
  const jobRow = h(doc, 'div', { class: 'landscape-job', 'data-testid': 'landscape-job' });
  const jobBar = h(doc, 'div', { class: 'bar landscape-job-bar', role: 'progressbar', 'aria-valuemin': 0 });
  const jobFill = h(doc, 'div', { class: 'fill' });
  jobBar.append(jobFill);
  const jobText = h(doc, 'span', { class: 'muted', 'data-testid': 'landscape-progress' });
  jobRow.append(jobText, cancelBtn);
  const errorLine = h(doc, 'div', { class: 'error', 'data-testid': 'landscape-error', role: 'alert' });
  cancelBtn.addEventListener('click', () => host?.post({ type: 'cancelLandscape' }));
  let computeAction: (() => void) | null = null;
  computeBtn.addEventListener('click', () => computeAction?.());

  function renderChooser(r: RunResult, labels: string[], lands: RunLandscapes | undefined, shown: { file: string | null; land: LandscapeResult | null }) {
    const unavailable = chooserUnavailable(r);
    if (!host || !lands || (unavailable && !lands.files.length)) {
      // No host (a report), nothing said yet, or a run whose plane cannot be chosen and has none saved.
      setChildren(chooser, []);
      chooser.hidden = true;
      return;
    }
    chooser.hidden = false;
    (host.defineControls ?? defineSelectControls)();
    const phases = keptPhases(r);
    if (selectionRun !== r.runId || !selection) {
      selectionRun = r.runId;
      selection = defaultSelection(r, phases);
    }
    const own = r.landscape;
    const savedOptions: ChooserOption[] = [
      ...(own ? [{ value: '', label: `the run’s own: ${plainText(planeText(planeOf(own), labels))}` }] : []),
      ...lands.files.map((f) => ({ value: f, label: plainText(describeLandscapeFile(f, labels)) })),
    ];
    savedSelect.set(savedOptions, shown.file ?? '');
    const running = lands.job?.state === 'running';
    const model = chooserModel(selection, { phases, labels, files: lands.files, own, canCompute: lands.canCompute && !unavailable, blocked: lands.blocked ?? unavailable, running });
    aSelect.set(model.phaseOptions, String(selection.a));
    bSelect.set(model.phaseOptions, String(selection.b));
    axisSelect.set(model.axisOptions, selection.axis);
    const sel = selection;
    const axis = axisOfChoice(sel.axis);
    // A plane already saved (or the run's own) is shown at once; anything else is a job.
    if (!model.problem && model.isOwn) {
      computeBtn.textContent = 'Show';
      computeAction = () => host.post({ type: 'showLandscape' });
    } else if (!model.problem && model.existing) {
      const file = model.existing;
      computeBtn.textContent = 'Show saved';
      computeAction = () => host.post({ type: 'showLandscape', file });
    } else {
      computeBtn.textContent = 'Compute';
      computeAction = axis ? () => host.post({ type: 'computeLandscape', optima: [sel.a, sel.b], secondAxis: axis }) : null;
    }
    computeBtn.toggleAttribute('disabled', !!model.problem);
    hint.textContent = model.problem && !running ? model.problem : '';
    hint.hidden = !hint.textContent;

    const job = lands.job;
    const rows: HTMLElement[] = [];
    if (savedOptions.length > 1 || lands.files.length) rows.push(savedRow);
    if (phases >= 2) rows.push(newRow);
    rows.push(hint);
    if (job?.state === 'running') {
      jobText.textContent = jobProgressText(job);
      jobBar.setAttribute('aria-valuemax', String(job.total));
      jobBar.setAttribute('aria-valuenow', String(job.done));
      jobFill.style.width = `${job.total ? ((100 * Math.min(job.done, job.total)) / job.total).toFixed(1) : 0}%`;
      jobRow.setAttribute('data-state', 'running');
      rows.push(jobBar, jobRow);
    } else if (job?.state === 'cancelled') {
      jobText.textContent = 'The landscape job was cancelled; nothing was saved.';
      jobRow.setAttribute('data-state', 'cancelled');
      rows.push(jobRow);
    }
    cancelBtn.hidden = job?.state !== 'running';
    const error = lands.refusal ?? (job?.state === 'failed' ? `The landscape job failed: ${job.error ?? 'no reason given'}` : '');
    errorLine.textContent = error;
    if (error) rows.push(errorLine);
    setChildren(chooser, rows);
    if (lands.lastProgress) chooser.setAttribute('data-last-progress', `${lands.lastProgress.done} / ${lands.lastProgress.total}`);
  }

  function render(next: CardContext<RunSubject>) {
    ctx = next;
    const r = next.subject.state.result;
    const labels = taskLabels(r);
    const rowLabels = phaseLabels(r);
    const width = measuredWidth(sec.body, next.width - 32);
    const lp = next.subject.state.landscapeProgress;
    const placeholder = landscapePlaceholder(r, !!lp);
    const lands = host?.landscapes();
    // The saved plane the host sent, once it is the one to show; otherwise the run's own.
    const savedShown = lands?.shown && lands.showing?.file === lands.shown ? lands.showing : null;
    const shownLand = savedShown?.landscape ?? r.landscape;
    const shownFile = savedShown?.file ?? null;
    renderChooser(r, rowLabels, lands, { file: shownFile, land: shownLand });
    renderPlaneLine(shownLand, shownFile, rowLabels);
    const key = `${next.epoch}|${next.width}|${labels.join('\u0000')}|${rowLabels.join('\u0000')}|${width}|${lp ? `${lp.done}/${lp.total}/${lp.phase}` : ''}|${placeholder}`;
    // A landscape arrives whole (a new object), so identity tells a new one apart.
    if (changed('landscape', key) || drawn !== shownLand || drawnEpoch !== next.epoch) {
      drawn = shownLand;
      drawnEpoch = next.epoch;
      landscape.update({ landscape: shownLand, labels, phaseLabels: rowLabels, palette: next.palette, width, placeholder, progress: lp });
    }
    setChildren(sec.tools, shownLand ? tools : []);
  }

  function renderPlaneLine(land: LandscapeResult | null, file: string | null, labels: string[]) {
    planeLine.replaceChildren();
    // Said only where there is a choice (the chooser is up): a report shows the run's own plane alone.
    planeLine.hidden = !land || chooser.hidden;
    if (!land) return;
    const plane = (file && parseLandscapeFile(file)) || planeOf(land);
    planeLine.setAttribute('data-file', file ?? '');
    planeLine.setAttribute('data-optima', `${land.optima[0]},${land.optima[1]}`);
    appendRichText(planeLine, `Shown: ${planeText({ ...plane, optima: [land.optima[0], land.optima[1]] }, labels)} — ${file ? `saved as ${file}` : 'the run’s own landscape'}`);
  }

  return { el: sec.el, render, dispose: () => landscape.dispose() };
}

/** θ_A as θA: select options are plain text (no subscripts). */
const plainText = (s: string) => s.replace(/θ_([A-Za-z0-9])/g, 'θ$1');

export const runLandscapeCard: CardDefinition<RunSubject> = {
  id: 'landscape',
  applies: () => true,
  create: (doc) => createRunLandscapeCard(doc),
};
